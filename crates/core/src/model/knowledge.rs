//! Saved replies and the help center.

use serde::{Deserialize, Serialize};

use super::{Extra, SourceKey, Timestamp};

/// A saved reply (a macro or canned response).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Macro {
    /// Source identity.
    pub key: SourceKey,
    /// Display name.
    pub name: String,
    /// The body as the source holds it (HTML, with the source's placeholder markup).
    pub body_html: Option<String>,
    /// The body as Markdown, placeholders kept in the source's syntax.
    pub body_markdown: Option<String>,
    /// When the source created it.
    pub created_at: Option<Timestamp>,
    /// When the source last changed it.
    pub updated_at: Option<Timestamp>,
    /// Vendor fields with no canonical home.
    pub extra: Extra,
}

/// A help-center collection (category). Collections nest through `parent`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Collection {
    /// Source identity.
    pub key: SourceKey,
    /// Display name.
    pub name: String,
    /// Description.
    pub description: Option<String>,
    /// The enclosing collection, if nested.
    pub parent: Option<SourceKey>,
    /// When the source created it.
    pub created_at: Option<Timestamp>,
    /// When the source last changed it.
    pub updated_at: Option<Timestamp>,
    /// Vendor fields with no canonical home.
    pub extra: Extra,
}

/// Whether an article is visible to customers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ArticleState {
    /// Visible in the help center.
    Published,
    /// Not visible.
    Draft,
}

/// A help-center article.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Article {
    /// Source identity.
    pub key: SourceKey,
    /// Title.
    pub title: String,
    /// Short description.
    pub description: Option<String>,
    /// The body as received.
    pub body_html: Option<String>,
    /// The body as Markdown.
    pub body_markdown: Option<String>,
    /// The agent who wrote it.
    pub author: Option<SourceKey>,
    /// The collection it sits in.
    pub collection: Option<SourceKey>,
    /// Published or draft.
    pub state: ArticleState,
    /// When the source created it.
    pub created_at: Timestamp,
    /// When the source last changed it.
    pub updated_at: Option<Timestamp>,
    /// Vendor fields with no canonical home.
    pub extra: Extra,
}
