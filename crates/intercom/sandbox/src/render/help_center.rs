//! Help-center articles, collections and the help center as Intercom 2.16 JSON
//! (`article_list_item`, `collection`, `help_center`).

use deskmove_synth::{Article, Collection};
use serde_json::{Value, json};

use crate::render::{Render, WORKSPACE_ID, admin_id};

impl Render<'_> {
    /// A help-center article (`article_list_item`).
    pub(crate) fn article(&self, a: &Article) -> Value {
        let parent = self
            .view
            .collection(a.collection)
            .and_then(|c| c.id.parse::<u64>().ok());
        json!({
            "type": "article",
            "id": a.id,
            "workspace_id": WORKSPACE_ID,
            "title": a.title,
            "description": a.description,
            "body": self.body(&a.body),
            "author_id": admin_id(a.author),
            "state": if a.published { "published" } else { "draft" },
            "created_at": a.created_at,
            "updated_at": a.updated_at,
            "url": a.published.then(|| format!("https://help.example.com/en/articles/{}", a.id)),
            "parent_id": parent,
            "parent_ids": parent.into_iter().collect::<Vec<_>>(),
            "parent_type": "collection",
            "default_locale": "en",
        })
    }

    /// A help-center collection.
    pub(crate) fn collection(&self, c: &Collection) -> Value {
        json!({
            "type": "collection",
            "id": c.id,
            "workspace_id": WORKSPACE_ID,
            "name": c.name,
            "description": c.description,
            "created_at": c.created_at,
            "updated_at": c.updated_at,
            "url": format!("https://help.example.com/en/collections/{}", c.id),
            "icon": null,
            "order": c.index + 1,
            "default_locale": "en",
            "parent_id": c.parent.and_then(|p| self.view.collection(p)).map(|p| p.id),
            "help_center_id": HELP_CENTER_ID.parse::<u64>().unwrap_or(1),
        })
    }
}

/// The workspace's one help center; collections name it by `help_center_id: 1`.
pub(crate) const HELP_CENTER_ID: &str = "1";

impl Render<'_> {
    /// The help center (`help_center`).
    pub(crate) fn help_center(&self) -> Value {
        json!({
            "id": HELP_CENTER_ID,
            "workspace_id": WORKSPACE_ID,
            "created_at": deskmove_synth::HISTORY_START,
            "updated_at": deskmove_synth::HISTORY_START + 86_400,
            "identifier": WORKSPACE_ID,
            "website_turned_on": true,
            "display_name": "deskmove sandbox Help Center",
            "url": "https://help.example.com",
            "custom_domain": "help.example.com",
            "default": true,
            "locales": ["en"],
        })
    }
}
