//! Zendesk's JSON as it arrives (Support REST API v2, `../shared/specs/zendesk/support-oas.yaml`;
//! ../shared/research/zendesk-freshdesk-helpscout.md §2, §3). Only the fields deskmove reads are
//! typed; every other field lands in `extra`, so nothing is dropped. List bodies are read as a
//! map of raw values, so each item can be stored exactly as received whatever its list calls it.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// Fields without a typed home, kept as received.
pub type Extra = Map<String, Value>;

/// Any answer's top-level keys, their values unparsed.
#[derive(Debug, Deserialize)]
#[serde(transparent)]
pub struct Body(pub BTreeMap<String, Box<RawValue>>);

impl Body {
    /// The raw items of the list under `key` (empty when absent or `null`).
    pub fn items(&self, key: &str) -> Vec<Box<RawValue>> {
        self.0
            .get(key)
            .and_then(|r| serde_json::from_str::<Option<Vec<Box<RawValue>>>>(r.get()).ok())
            .flatten()
            .unwrap_or_default()
    }

    /// The value under `key`, parsed, when present and readable.
    pub fn get<T: serde::de::DeserializeOwned>(&self, key: &str) -> Option<T> {
        self.0
            .get(key)
            .and_then(|r| serde_json::from_str::<Option<T>>(r.get()).ok())
            .flatten()
    }

    /// CBP: whether another page follows (`meta.has_more`).
    pub fn has_more(&self) -> bool {
        self.get::<Meta>("meta").is_some_and(|m| m.has_more)
    }

    /// CBP: the cursor of the next page (`meta.after_cursor`).
    pub fn after_cursor(&self) -> Option<String> {
        self.get::<Meta>("meta").and_then(|m| m.after_cursor)
    }
}

/// CBP paging facts (research §1.3).
#[derive(Debug, Deserialize)]
pub struct Meta {
    /// Whether another page follows (an exactly full last page still says true).
    #[serde(default)]
    pub has_more: bool,
    /// The cursor of the next page.
    #[serde(default)]
    pub after_cursor: Option<String>,
}

/// A ticket (`TicketObject`, research §3.1).
#[derive(Debug, Clone, Deserialize)]
pub struct Ticket {
    /// Ticket id.
    pub id: u64,
    /// Subject.
    #[serde(default)]
    pub subject: Option<String>,
    /// `new|open|pending|hold|solved|closed`, or `deleted` in the exports (§2.3).
    #[serde(default)]
    pub status: Option<String>,
    /// `urgent|high|normal|low`.
    #[serde(default)]
    pub priority: Option<String>,
    /// `problem|incident|question|task`.
    #[serde(default, rename = "type")]
    pub ticket_type: Option<String>,
    /// The end user who asked.
    #[serde(default)]
    pub requester_id: Option<u64>,
    /// The agent it is assigned to.
    #[serde(default)]
    pub assignee_id: Option<u64>,
    /// The group it is assigned to.
    #[serde(default)]
    pub group_id: Option<u64>,
    /// Tags (words).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Custom field values `[{id, value}]`.
    #[serde(default)]
    pub custom_fields: Vec<FieldValue>,
    /// Every change bumps it, system updates included; the exports order by it (§2.3).
    #[serde(default)]
    pub generated_timestamp: Option<i64>,
    /// ISO 8601.
    #[serde(default)]
    pub created_at: Option<String>,
    /// ISO 8601.
    #[serde(default)]
    pub updated_at: Option<String>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One custom field value of a ticket.
#[derive(Debug, Clone, Deserialize)]
pub struct FieldValue {
    /// The ticket field.
    pub id: u64,
    /// String, number, bool, array or null, by field type (§3.1).
    #[serde(default)]
    pub value: Value,
}

/// A comment (`TicketCommentObject`, research §3.2).
#[derive(Debug, Clone, Deserialize)]
pub struct Comment {
    /// Comment id.
    pub id: u64,
    /// `Comment` or `VoiceComment`.
    #[serde(default, rename = "type")]
    pub comment_type: Option<String>,
    /// Who wrote it.
    #[serde(default)]
    pub author_id: Option<u64>,
    /// The body as HTML; inline images live only here (§7.12).
    #[serde(default)]
    pub html_body: Option<String>,
    /// The body as text.
    #[serde(default)]
    pub plain_body: Option<String>,
    /// The body as text (older field).
    #[serde(default)]
    pub body: Option<String>,
    /// False for an internal note.
    #[serde(default = "yes")]
    pub public: bool,
    /// Files, and inline images when `include_inline_images=true`.
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    /// ISO 8601.
    #[serde(default)]
    pub created_at: Option<String>,
    /// Everything else (`via`, `metadata`, a voice comment's `data`, ...).
    #[serde(flatten)]
    pub extra: Extra,
}

fn yes() -> bool {
    true
}

/// An attachment (`AttachmentObject`, research §3.3).
#[derive(Debug, Clone, Deserialize)]
pub struct Attachment {
    /// Attachment id.
    pub id: u64,
    /// File name.
    #[serde(default)]
    pub file_name: Option<String>,
    /// `https://{subdomain}.zendesk.com/attachments/token/{token}/?name=…`.
    #[serde(default)]
    pub content_url: Option<String>,
    /// MIME type.
    #[serde(default)]
    pub content_type: Option<String>,
    /// Bytes.
    #[serde(default)]
    pub size: Option<u64>,
    /// True for an image shown inside the body.
    #[serde(default)]
    pub inline: bool,
    /// Everything else (`malware_scan_result`, `thumbnails`, ...).
    #[serde(flatten)]
    pub extra: Extra,
}

/// A user (`UserObject`, research §3.5).
#[derive(Debug, Clone, Deserialize)]
pub struct User {
    /// User id.
    pub id: u64,
    /// Display name.
    #[serde(default)]
    pub name: Option<String>,
    /// Primary email.
    #[serde(default)]
    pub email: Option<String>,
    /// Phone as typed.
    #[serde(default)]
    pub phone: Option<String>,
    /// `end-user`, `agent` or `admin`.
    #[serde(default)]
    pub role: Option<String>,
    /// False once deleted (§2.3).
    #[serde(default = "yes")]
    pub active: bool,
    /// The customer's own id.
    #[serde(default)]
    pub external_id: Option<String>,
    /// Default organization.
    #[serde(default)]
    pub organization_id: Option<u64>,
    /// Tags (words).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Custom values by field key.
    #[serde(default)]
    pub user_fields: Option<Map<String, Value>>,
    /// Avatar.
    #[serde(default)]
    pub photo: Option<Value>,
    /// ISO 8601.
    #[serde(default)]
    pub created_at: Option<String>,
    /// ISO 8601.
    #[serde(default)]
    pub updated_at: Option<String>,
    /// ISO 8601.
    #[serde(default)]
    pub last_login_at: Option<String>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

impl User {
    /// Whether the user is an agent or admin (anyone but an end user).
    pub fn is_agent(&self) -> bool {
        matches!(self.role.as_deref(), Some("agent" | "admin"))
    }
}

/// An organization (research §3.5).
#[derive(Debug, Clone, Deserialize)]
pub struct Organization {
    /// Organization id.
    pub id: u64,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// The customer's own id.
    #[serde(default)]
    pub external_id: Option<String>,
    /// Email domains.
    #[serde(default)]
    pub domain_names: Vec<String>,
    /// Tags (words).
    #[serde(default)]
    pub tags: Vec<String>,
    /// Custom values by field key.
    #[serde(default)]
    pub organization_fields: Option<Map<String, Value>>,
    /// ISO 8601.
    #[serde(default)]
    pub created_at: Option<String>,
    /// ISO 8601.
    #[serde(default)]
    pub updated_at: Option<String>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A group (research §3.5; deleted ones are listed unless excluded).
#[derive(Debug, Clone, Deserialize)]
pub struct Group {
    /// Group id.
    pub id: u64,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Deleted groups stay listed.
    #[serde(default)]
    pub deleted: bool,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// An agent's membership of a group.
#[derive(Debug, Clone, Deserialize)]
pub struct GroupMembership {
    /// The agent.
    pub user_id: u64,
    /// The group.
    pub group_id: u64,
}

/// A ticket, user or organization field (research §3.4).
#[derive(Debug, Clone, Deserialize)]
pub struct Field {
    /// Field id.
    pub id: u64,
    /// The field type (`text`, `checkbox`, `tagger`, `dropdown`, ...).
    #[serde(rename = "type")]
    pub field_type: String,
    /// Label.
    #[serde(default)]
    pub title: Option<String>,
    /// Help text.
    #[serde(default)]
    pub description: Option<String>,
    /// The key values are stored under (user and organization fields).
    #[serde(default)]
    pub key: Option<String>,
    /// False for a system ticket field.
    #[serde(default = "yes")]
    pub removable: bool,
    /// False once deactivated.
    #[serde(default = "yes")]
    pub active: bool,
    /// Options of list fields.
    #[serde(default)]
    pub custom_field_options: Vec<FieldOption>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One option of a list field.
#[derive(Debug, Clone, Deserialize)]
pub struct FieldOption {
    /// The label.
    #[serde(default)]
    pub name: Option<String>,
    /// The tag value stored on records.
    #[serde(default)]
    pub value: Option<String>,
}

/// A macro (research §3.5).
#[derive(Debug, Clone, Deserialize)]
pub struct Macro {
    /// Macro id.
    pub id: u64,
    /// Title.
    #[serde(default)]
    pub title: Option<String>,
    /// What applying it does; the comment is `comment_value_html` or `comment_value`.
    #[serde(default)]
    pub actions: Vec<MacroAction>,
    /// ISO 8601.
    #[serde(default)]
    pub created_at: Option<String>,
    /// ISO 8601.
    #[serde(default)]
    pub updated_at: Option<String>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// One action of a macro.
#[derive(Debug, Clone, Deserialize)]
pub struct MacroAction {
    /// The ticket field it sets.
    pub field: String,
    /// The value (a string, or a list for some fields).
    #[serde(default)]
    pub value: Value,
}

/// A Help Center category or section (research §3.6).
#[derive(Debug, Clone, Deserialize)]
pub struct HcContainer {
    /// Id.
    pub id: u64,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// A section's category.
    #[serde(default)]
    pub category_id: Option<u64>,
    /// A nested section's parent.
    #[serde(default)]
    pub parent_section_id: Option<u64>,
    /// ISO 8601.
    #[serde(default)]
    pub created_at: Option<String>,
    /// ISO 8601.
    #[serde(default)]
    pub updated_at: Option<String>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A Help Center article (research §3.6).
#[derive(Debug, Clone, Deserialize)]
pub struct Article {
    /// Id.
    pub id: u64,
    /// Title.
    #[serde(default)]
    pub title: Option<String>,
    /// HTML body.
    #[serde(default)]
    pub body: Option<String>,
    /// The agent who wrote it.
    #[serde(default)]
    pub author_id: Option<u64>,
    /// Its section.
    #[serde(default)]
    pub section_id: Option<u64>,
    /// True when not published.
    #[serde(default)]
    pub draft: bool,
    /// ISO 8601.
    #[serde(default)]
    pub created_at: Option<String>,
    /// ISO 8601.
    #[serde(default)]
    pub updated_at: Option<String>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A Help Center article attachment.
#[derive(Debug, Clone, Deserialize)]
pub struct ArticleAttachment {
    /// Id.
    pub id: u64,
    /// File name.
    #[serde(default)]
    pub file_name: Option<String>,
    /// Where its bytes are.
    #[serde(default)]
    pub content_url: Option<String>,
    /// MIME type.
    #[serde(default)]
    pub content_type: Option<String>,
    /// Bytes.
    #[serde(default)]
    pub size: Option<u64>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// The `id` of a raw item, when it has a readable one.
pub fn item_id(raw: &RawValue) -> Option<u64> {
    #[derive(Deserialize)]
    struct Id {
        id: u64,
    }
    serde_json::from_str::<Id>(raw.get()).ok().map(|i| i.id)
}
