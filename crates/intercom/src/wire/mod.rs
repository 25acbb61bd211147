//! Intercom's JSON as it arrives (API 2.16; ../shared/research/intercom-api.md §5, §6). Only the
//! fields deskmove reads are typed; every other field lands in `extra`, so nothing is dropped.
//! Ids are read from strings or numbers alike (admins are strings, `team_ids` numbers).

use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

/// Fields without a typed home, kept as received.
pub type Extra = Map<String, Value>;

/// An id Intercom sends as a string or a number, as a string.
pub fn id_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(match Value::deserialize(d)? {
        Value::String(s) => s,
        Value::Null => String::new(),
        other => other.to_string(),
    })
}

/// An optional id: `null`, absent, `0` (2.16's "unassigned", §0) and `""` are all none.
pub fn opt_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::String(s)) if !s.is_empty() && s != "0" => Some(s),
        Some(Value::Number(n)) if n.as_i64() != Some(0) => Some(n.to_string()),
        _ => None,
    })
}

fn ids<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(Option::<Vec<Value>>::deserialize(d)?
        .unwrap_or_default()
        .into_iter()
        .map(|v| match v {
            Value::String(s) => s,
            other => other.to_string(),
        })
        .collect())
}

/// One page of any list: the items stay raw so each can be stored exactly as received.
/// Intercom names the items key per resource (`data`, `conversations`, `tickets`, `admins`,
/// `teams`, `segments`).
#[derive(Debug, Deserialize)]
pub struct ListPage {
    /// The items, unparsed.
    #[serde(
        default,
        alias = "conversations",
        alias = "tickets",
        alias = "admins",
        alias = "teams",
        alias = "segments"
    )]
    pub data: Vec<Box<RawValue>>,
    /// Paging facts (`null` on scroll pages).
    #[serde(default)]
    pub pages: Option<Pages>,
    /// The list's total, when Intercom says.
    #[serde(default)]
    pub total_count: Option<u64>,
    /// The scroll's parameter (companies scroll only).
    #[serde(default)]
    pub scroll_param: Option<String>,
}

impl ListPage {
    /// The cursor of the next page, when there is one (`pages.next` is absent on the last, §2).
    pub fn next_cursor(&self) -> Option<String> {
        let next = self.pages.as_ref()?.next.as_ref()?;
        next.get("starting_after")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
    }

    /// The number of pages of a page-based list, when given.
    pub fn total_pages(&self) -> Option<u64> {
        self.pages.as_ref()?.total_pages
    }
}

/// `pages` of a list.
#[derive(Debug, Deserialize)]
pub struct Pages {
    /// Page number.
    #[serde(default)]
    pub page: Option<u64>,
    /// Pages in all.
    #[serde(default)]
    pub total_pages: Option<u64>,
    /// `{page, starting_after}` when there is more (a URL for segments).
    #[serde(default)]
    pub next: Option<Value>,
}

/// A teammate (`admin`).
#[derive(Debug, Deserialize)]
pub struct Admin {
    /// Id.
    #[serde(deserialize_with = "id_string")]
    pub id: String,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Email.
    #[serde(default)]
    pub email: Option<String>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A team.
#[derive(Debug, Deserialize)]
pub struct Team {
    /// Id.
    #[serde(deserialize_with = "id_string")]
    pub id: String,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Members.
    #[serde(default, deserialize_with = "ids")]
    pub admin_ids: Vec<String>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A tag.
#[derive(Debug, Deserialize)]
pub struct Tag {
    /// Id.
    #[serde(deserialize_with = "id_string")]
    pub id: String,
    /// Name, exactly as stored.
    #[serde(default)]
    pub name: String,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A `data_attribute`.
#[derive(Debug, Deserialize)]
pub struct DataAttribute {
    /// Id (custom attributes only).
    #[serde(default, deserialize_with = "opt_id")]
    pub id: Option<String>,
    /// `contact`, `company` or `conversation`.
    #[serde(default)]
    pub model: Option<String>,
    /// API name.
    #[serde(default)]
    pub name: String,
    /// Label.
    #[serde(default)]
    pub label: Option<String>,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// `string|integer|float|boolean|date` (and others on conversations).
    #[serde(default)]
    pub data_type: Option<String>,
    /// Options of a list attribute.
    #[serde(default)]
    pub options: Option<Vec<Value>>,
    /// Archived.
    #[serde(default)]
    pub archived: Option<bool>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A `{type, id}` reference inside a sub-list.
#[derive(Debug, Deserialize)]
pub struct Ref {
    /// Id.
    #[serde(deserialize_with = "id_string")]
    pub id: String,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A contact's addressable sub-list (tags, companies, notes): at most 10 inline, then
/// `has_more` and `url` (§6).
#[derive(Debug, Default, Deserialize)]
pub struct SubList {
    /// The first items.
    #[serde(default)]
    pub data: Vec<Ref>,
    /// Where the whole list is.
    #[serde(default)]
    pub url: Option<String>,
    /// Items in all.
    #[serde(default)]
    pub total_count: Option<u64>,
    /// More than `data` holds.
    #[serde(default)]
    pub has_more: Option<bool>,
}

impl SubList {
    /// Whether `data` is not the whole list.
    pub fn incomplete(&self) -> bool {
        self.has_more == Some(true) || self.total_count.is_some_and(|n| n > self.data.len() as u64)
    }
}

/// A `tag.list` embedded in a company, conversation or ticket.
#[derive(Debug, Default, Deserialize)]
pub struct TagList {
    /// The tags.
    #[serde(default)]
    pub tags: Vec<Ref>,
}

/// A company.
#[derive(Debug, Deserialize)]
pub struct Company {
    /// Intercom's id.
    #[serde(deserialize_with = "id_string")]
    pub id: String,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// The customer's own id.
    #[serde(default)]
    pub company_id: Option<String>,
    /// Website.
    #[serde(default)]
    pub website: Option<String>,
    /// Industry.
    #[serde(default)]
    pub industry: Option<String>,
    /// Headcount.
    #[serde(default)]
    pub size: Option<i64>,
    /// Custom attributes.
    #[serde(default)]
    pub custom_attributes: Option<Map<String, Value>>,
    /// Tags.
    #[serde(default)]
    pub tags: Option<TagList>,
    /// Created in Intercom.
    #[serde(default)]
    pub created_at: Option<i64>,
    /// Last change.
    #[serde(default)]
    pub updated_at: Option<i64>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A contact (user or lead).
#[derive(Debug, Deserialize)]
pub struct Contact {
    /// Id (24 hex).
    #[serde(deserialize_with = "id_string")]
    pub id: String,
    /// `user` or `lead`.
    #[serde(default)]
    pub role: Option<String>,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Email as stored.
    #[serde(default)]
    pub email: Option<String>,
    /// Phone as typed.
    #[serde(default)]
    pub phone: Option<String>,
    /// The customer's own id.
    #[serde(default)]
    pub external_id: Option<String>,
    /// Custom attributes.
    #[serde(default)]
    pub custom_attributes: Option<Map<String, Value>>,
    /// `{type: avatar, image_url}`.
    #[serde(default)]
    pub avatar: Option<Value>,
    /// Created.
    #[serde(default)]
    pub created_at: Option<i64>,
    /// Last change.
    #[serde(default)]
    pub updated_at: Option<i64>,
    /// Last seen.
    #[serde(default)]
    pub last_seen_at: Option<i64>,
    /// Tags (first 10).
    #[serde(default)]
    pub tags: Option<SubList>,
    /// Companies (first 10).
    #[serde(default)]
    pub companies: Option<SubList>,
    /// Notes (first 10).
    #[serde(default)]
    pub notes: Option<SubList>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// Who wrote a part or a first message.
#[derive(Debug, Default, Deserialize)]
pub struct Author {
    /// `user`, `lead`, `contact`, `admin`, `bot`, `team`, ...
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// Id.
    #[serde(default, deserialize_with = "opt_id")]
    pub id: Option<String>,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
    /// Email.
    #[serde(default)]
    pub email: Option<String>,
    /// Fin / Operator flags (§5).
    #[serde(default)]
    pub from_ai_agent: Option<bool>,
    /// Fin / Operator flags (§5).
    #[serde(default)]
    pub is_ai_answer: Option<bool>,
}

/// A `part_attachment` (`upload`) with its signed, expiring URL.
#[derive(Debug, Deserialize)]
pub struct Attachment {
    /// File name.
    #[serde(default)]
    pub name: Option<String>,
    /// Signed URL.
    #[serde(default)]
    pub url: Option<String>,
    /// MIME type.
    #[serde(default)]
    pub content_type: Option<String>,
    /// Bytes.
    #[serde(default)]
    pub filesize: Option<u64>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A conversation's first message.
#[derive(Debug, Default, Deserialize)]
pub struct ConversationSource {
    /// Id.
    #[serde(default, deserialize_with = "opt_id")]
    pub id: Option<String>,
    /// Subject (`""` for non-email).
    #[serde(default)]
    pub subject: Option<String>,
    /// HTML body.
    #[serde(default)]
    pub body: Option<String>,
    /// Author.
    #[serde(default)]
    pub author: Option<Author>,
    /// Files.
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    /// Everything else (type, delivered_as, url, redacted, recipients...).
    #[serde(flatten)]
    pub extra: Extra,
}

/// A conversation or ticket part.
#[derive(Debug, Deserialize)]
pub struct Part {
    /// Id.
    #[serde(deserialize_with = "id_string")]
    pub id: String,
    /// An open set of types (§5).
    #[serde(default)]
    pub part_type: Option<String>,
    /// HTML body.
    #[serde(default)]
    pub body: Option<String>,
    /// Created.
    #[serde(default)]
    pub created_at: Option<i64>,
    /// Changed.
    #[serde(default)]
    pub updated_at: Option<i64>,
    /// Author.
    #[serde(default)]
    pub author: Option<Author>,
    /// New assignee, for assignments.
    #[serde(default)]
    pub assigned_to: Option<Value>,
    /// Files.
    #[serde(default)]
    pub attachments: Vec<Attachment>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// `conversation_statistics`.
#[derive(Debug, Default, Deserialize)]
pub struct Statistics {
    /// The true number of parts, even when retrieval returns only the 500 most recent (§2).
    #[serde(default)]
    pub count_conversation_parts: Option<u64>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A `contact.list` reference list.
#[derive(Debug, Default, Deserialize)]
pub struct ContactList {
    /// The contacts.
    #[serde(default)]
    pub contacts: Vec<Ref>,
}

/// `conversation_part.list` / `ticket_part.list`.
#[derive(Debug, Default, Deserialize)]
pub struct PartList {
    /// The parts.
    #[serde(default, alias = "ticket_parts")]
    pub conversation_parts: Vec<Part>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A conversation (retrieved, with parts) or a ticket (with `ticket_parts`).
#[derive(Debug, Deserialize)]
pub struct Conversation {
    /// Id.
    #[serde(deserialize_with = "id_string")]
    pub id: String,
    /// Title.
    #[serde(default)]
    pub title: Option<String>,
    /// Created.
    #[serde(default)]
    pub created_at: Option<i64>,
    /// Last change.
    #[serde(default)]
    pub updated_at: Option<i64>,
    /// `open|closed|snoozed`.
    #[serde(default)]
    pub state: Option<String>,
    /// Open flag (tickets have no `state` word).
    #[serde(default)]
    pub open: Option<bool>,
    /// Snoozed until.
    #[serde(default)]
    pub snoozed_until: Option<i64>,
    /// A word in 2.16, a flag before (§0).
    #[serde(default)]
    pub priority: Option<Value>,
    /// Assigned admin (0 = none in 2.16).
    #[serde(default, deserialize_with = "opt_id")]
    pub admin_assignee_id: Option<String>,
    /// Assigned team.
    #[serde(default, deserialize_with = "opt_id")]
    pub team_assignee_id: Option<String>,
    /// Tags.
    #[serde(default)]
    pub tags: Option<TagList>,
    /// First message.
    #[serde(default)]
    pub source: Option<ConversationSource>,
    /// Customers taking part.
    #[serde(default)]
    pub contacts: Option<ContactList>,
    /// Custom attributes.
    #[serde(default)]
    pub custom_attributes: Option<Map<String, Value>>,
    /// Statistics.
    #[serde(default)]
    pub statistics: Option<Statistics>,
    /// Parts (retrieve only; at most 500).
    #[serde(default)]
    pub conversation_parts: Option<PartList>,
    /// Ticket parts.
    #[serde(default)]
    pub ticket_parts: Option<PartList>,
    /// Ticket title and description, among custom ticket attributes.
    #[serde(default)]
    pub ticket_attributes: Option<Map<String, Value>>,
    /// Ticket state `{category, ...}`.
    #[serde(default)]
    pub ticket_state: Option<Value>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A macro (saved reply, 2.16), with ISO-8601 times (§2).
#[derive(Debug, Deserialize)]
pub struct Macro {
    /// Id.
    #[serde(deserialize_with = "id_string")]
    pub id: String,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// HTML with `<attribute>` placeholders.
    #[serde(default)]
    pub body: Option<String>,
    /// ISO time.
    #[serde(default)]
    pub created_at: Option<Value>,
    /// ISO time.
    #[serde(default)]
    pub updated_at: Option<Value>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A help-center collection.
#[derive(Debug, Deserialize)]
pub struct Collection {
    /// Id.
    #[serde(deserialize_with = "id_string")]
    pub id: String,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Enclosing collection.
    #[serde(default, deserialize_with = "opt_id")]
    pub parent_id: Option<String>,
    /// Created.
    #[serde(default)]
    pub created_at: Option<i64>,
    /// Changed.
    #[serde(default)]
    pub updated_at: Option<i64>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}

/// A help-center article.
#[derive(Debug, Deserialize)]
pub struct Article {
    /// Id.
    #[serde(deserialize_with = "id_string")]
    pub id: String,
    /// Title.
    #[serde(default)]
    pub title: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// HTML body.
    #[serde(default)]
    pub body: Option<String>,
    /// Author (teammate id).
    #[serde(default, deserialize_with = "opt_id")]
    pub author_id: Option<String>,
    /// `published|draft`.
    #[serde(default)]
    pub state: Option<String>,
    /// Enclosing collection (older versions; 2.16 adds `parent_ids`).
    #[serde(default, deserialize_with = "opt_id")]
    pub parent_id: Option<String>,
    /// Created.
    #[serde(default)]
    pub created_at: Option<i64>,
    /// Changed.
    #[serde(default)]
    pub updated_at: Option<i64>,
    /// Everything else.
    #[serde(flatten)]
    pub extra: Extra,
}
