//! The vendor-neutral records of the synthetic company. Sandboxes render these
//! into each vendor's wire shape; end-to-end tests compare targets against them.

use serde::Serialize;

/// A support agent. Departed agents still author old parts but can no longer log in.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Agent {
    /// Position in `0..totals.agents`.
    pub index: u64,
    /// Stable vendor-style id (digits).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Work email (departed agents keep theirs).
    pub email: String,
    /// Job title, free text.
    pub job_title: String,
    /// True when the agent has left the company.
    pub departed: bool,
    /// Away mode switched on.
    pub away: bool,
    /// Teams this agent belongs to (team indexes).
    pub team_indexes: Vec<u64>,
}

/// A team of agents.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Team {
    /// Position in `0..totals.teams`.
    pub index: u64,
    /// Stable id (digits).
    pub id: String,
    /// Display name.
    pub name: String,
    /// Member agents (agent indexes).
    pub agent_indexes: Vec<u64>,
}

/// A tag; names include spaces, unicode and near-duplicates on purpose.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tag {
    /// Position in `0..totals.tags`.
    pub index: u64,
    /// Stable id (digits).
    pub id: String,
    /// Name exactly as the vendor stores it (may have trailing spaces).
    pub name: String,
}

/// Which object a custom attribute belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AttributeModel {
    /// People (users and leads).
    Contact,
    /// Companies.
    Company,
}

/// The value type of a custom attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AttributeType {
    /// Free text.
    String,
    /// Whole number.
    Integer,
    /// Decimal number.
    Float,
    /// True/false.
    Boolean,
    /// A date, as UNIX seconds.
    Date,
    /// One of a fixed list of strings (`options`).
    List,
}

/// A custom attribute definition.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AttributeDef {
    /// Position in the attribute table.
    pub index: u64,
    /// Stable id.
    pub id: u64,
    /// Contact or company.
    pub model: AttributeModel,
    /// API name (may contain spaces or unicode).
    pub name: String,
    /// Human label.
    pub label: String,
    /// Value type.
    pub data_type: AttributeType,
    /// Allowed values for `List`.
    pub options: Vec<String>,
    /// Archived definitions still exist but are hidden by default.
    pub archived: bool,
    /// Creation time (UNIX seconds).
    pub created_at: i64,
}

/// A custom attribute value.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum AttrValue {
    /// Text (also list values).
    Str(String),
    /// Integer.
    Int(i64),
    /// Float.
    Float(f64),
    /// Boolean.
    Bool(bool),
}

/// A customer company.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Company {
    /// Position in `0..totals.companies`.
    pub index: u64,
    /// Vendor id (24 hex chars, encodes the index).
    pub id: String,
    /// The customer's own id for the company.
    pub company_id: String,
    /// Name.
    pub name: String,
    /// Plan name.
    pub plan: String,
    /// Headcount.
    pub size: i64,
    /// Website.
    pub website: String,
    /// Industry.
    pub industry: String,
    /// Monthly spend.
    pub monthly_spend: i64,
    /// Users attached (0 for the hidden, user-less companies).
    pub user_count: u64,
    /// Created in the customer's own system.
    pub remote_created_at: i64,
    /// Created in the helpdesk.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
    /// Last activity; lists are sorted by this, newest first.
    pub last_request_at: i64,
    /// Custom attributes (name, value).
    pub custom_attributes: Vec<(String, AttrValue)>,
}

/// User (identified) or lead (anonymous).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// An identified user.
    User,
    /// An anonymous lead.
    Lead,
}

impl Role {
    /// The vendor word.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Lead => "lead",
        }
    }
}

/// A person who writes to support.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Contact {
    /// Position in `0..totals.contacts` (new contacts from the clock come last).
    pub index: u64,
    /// Vendor id (24 hex chars, encodes the index).
    pub id: String,
    /// The customer's own user id (users only).
    pub external_id: Option<String>,
    /// User or lead.
    pub role: Role,
    /// Email exactly as stored: may be missing, differ from another only by case, or be invalid.
    pub email: Option<String>,
    /// Phone exactly as typed, in assorted formats.
    pub phone: Option<String>,
    /// Name (leads often have none).
    pub name: Option<String>,
    /// Owner agent (agent index).
    pub owner: Option<u64>,
    /// Creation time.
    pub created_at: i64,
    /// Last change (moves when the clock edits the contact).
    pub updated_at: i64,
    /// Sign-up time (users).
    pub signed_up_at: Option<i64>,
    /// Last seen.
    pub last_seen_at: Option<i64>,
    /// Company (index), if any.
    pub company: Option<u64>,
    /// Further companies (indexes) beyond `company`: empty except for the few contacts with
    /// long sub-lists (`View::long_list_contact`).
    pub more_companies: Vec<u64>,
    /// Tag indexes.
    pub tags: Vec<u64>,
    /// Number of notes on this contact.
    pub notes: u64,
    /// Custom attributes (name, value).
    pub custom_attributes: Vec<(String, AttrValue)>,
    /// City, country.
    pub location: (String, String),
}

/// A note an agent left on a contact.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Note {
    /// Stable id.
    pub id: u64,
    /// The contact (index).
    pub contact: u64,
    /// Author (agent index).
    pub author: u64,
    /// HTML body.
    pub body: String,
    /// Creation time.
    pub created_at: i64,
}

/// Conversation state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ConvState {
    /// Waiting on the team.
    Open,
    /// Done.
    Closed,
    /// Snoozed until a time.
    Snoozed,
}

impl ConvState {
    /// The vendor word.
    pub fn as_str(self) -> &'static str {
        match self {
            ConvState::Open => "open",
            ConvState::Closed => "closed",
            ConvState::Snoozed => "snoozed",
        }
    }
}

/// Who wrote a part.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "type", content = "index", rename_all = "lowercase")]
pub enum Author {
    /// The customer (contact index).
    Contact(u64),
    /// A human agent (agent index).
    Agent(u64),
    /// An AI bot answering customers in the team's name.
    Bot(u64),
    /// A rule-driven automation (a workflow): canned messages and assignments, no AI.
    Automation(u64),
    /// A team (team index).
    Team(u64),
}

/// What a part is. `Future` is a part type the vendor may add tomorrow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PartKind {
    /// A message from the contact.
    ContactReply,
    /// A reply from an agent.
    AgentReply,
    /// Agent quick reply.
    QuickReply,
    /// Internal note.
    Note,
    /// Assignment to an agent or a team.
    Assignment,
    /// Reopened.
    Open,
    /// Closed.
    Close,
    /// Snoozed.
    Snoozed,
    /// Woken from snooze.
    Unsnoozed,
    /// A canned message sent by an automation.
    AutomatedReply,
    /// An answer from the AI bot.
    BotReply,
    /// An attribute was changed.
    AttributeUpdated,
    /// A participant was added.
    ParticipantAdded,
    /// A part type unknown today.
    Future,
}

impl PartKind {
    /// Whether this part carries a message body (and may carry attachments).
    pub fn is_message(self) -> bool {
        matches!(
            self,
            PartKind::ContactReply
                | PartKind::AgentReply
                | PartKind::QuickReply
                | PartKind::Note
                | PartKind::AutomatedReply
                | PartKind::BotReply
        )
    }
}

/// A file attached to a part (or embedded inline in a body).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Attachment {
    /// Stable id; its bytes are a pure function of `(seed, id)`.
    pub id: u64,
    /// File name as uploaded (spaces, unicode, odd characters).
    pub name: String,
    /// MIME type.
    pub content_type: &'static str,
    /// Size in bytes.
    pub size: u64,
    /// Pixel size for images.
    pub dimensions: Option<(u32, u32)>,
}

/// One entry of a conversation's history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Part {
    /// Stable id, unique in the world.
    pub id: u64,
    /// Position in the conversation (0-based).
    pub position: u32,
    /// Kind.
    pub kind: PartKind,
    /// Author.
    pub author: Author,
    /// Creation time.
    pub created_at: i64,
    /// HTML body for messages; `None` for pure events.
    pub body: Option<String>,
    /// Attached files.
    pub attachments: Vec<Attachment>,
    /// Conversation state right after this part.
    pub state: ConvState,
    /// For assignments: the new assignee.
    pub assigned_to: Option<Author>,
}

/// A conversation with its full history (no cap: caps are the sandbox's business).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Conversation {
    /// Position in `0..totals.conversations`.
    pub index: u64,
    /// Vendor id (digits).
    pub id: String,
    /// Subject/title, sometimes empty.
    pub title: Option<String>,
    /// The customer (contact index).
    pub contact: u64,
    /// Channel of the first message.
    pub channel: &'static str,
    /// The first message body (HTML).
    pub source_body: String,
    /// Attachments on the first message.
    pub source_attachments: Vec<Attachment>,
    /// Creation time.
    pub created_at: i64,
    /// Time of the last part (or creation).
    pub updated_at: i64,
    /// Current state.
    pub state: ConvState,
    /// Snoozed until (when snoozed).
    pub snoozed_until: Option<i64>,
    /// Read by an agent.
    pub read: bool,
    /// Priority word.
    pub priority: &'static str,
    /// Current agent assignee (agent index).
    pub agent_assignee: Option<u64>,
    /// Current team assignee (team index).
    pub team_assignee: Option<u64>,
    /// Tag indexes.
    pub tags: Vec<u64>,
    /// Every part, oldest first.
    pub parts: Vec<Part>,
}

/// Header facts of a conversation, computed without generating bodies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConversationShape {
    /// Index.
    pub index: u64,
    /// Parts at the current epoch.
    pub parts: u64,
    /// Creation time.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
    /// State.
    pub state: ConvState,
}

/// A saved reply with vendor placeholders such as `{{user.name | fallback: 'there'}}`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Macro {
    /// Position.
    pub index: u64,
    /// Stable id.
    pub id: String,
    /// Name.
    pub name: String,
    /// HTML body with `{{…}}` placeholders as the agent typed them.
    pub body_template: String,
    /// Creation time.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
    /// Restricted to these teams (indexes); empty = everyone.
    pub team_indexes: Vec<u64>,
}

/// A help-center collection (nested through `parent`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Collection {
    /// Position.
    pub index: u64,
    /// Stable id.
    pub id: String,
    /// Name.
    pub name: String,
    /// Description.
    pub description: String,
    /// Parent collection index.
    pub parent: Option<u64>,
    /// Creation time.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
}

/// A help-center article.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Article {
    /// Position.
    pub index: u64,
    /// Stable id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Short description.
    pub description: String,
    /// HTML body; images reference attachments with `deskmove-attachment://<id>`.
    pub body: String,
    /// Images embedded in the body.
    pub images: Vec<Attachment>,
    /// Author (agent index).
    pub author: u64,
    /// Published or draft.
    pub published: bool,
    /// Parent collection index.
    pub collection: u64,
    /// Creation time.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
}

/// A ticket (a conversation-like record with ticket states).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Ticket {
    /// Position.
    pub index: u64,
    /// Stable id (digits).
    pub id: String,
    /// Human ticket number.
    pub ticket_number: u64,
    /// Title.
    pub title: String,
    /// Description (HTML).
    pub description: String,
    /// Category word.
    pub category: &'static str,
    /// State word (`submitted`, `in_progress`, `waiting_on_customer`, `resolved`).
    pub state: &'static str,
    /// The customer (contact index).
    pub contact: u64,
    /// Assignee (agent index).
    pub agent_assignee: Option<u64>,
    /// Creation time.
    pub created_at: i64,
    /// Last change.
    pub updated_at: i64,
    /// Comments (author, time, HTML body).
    pub parts: Vec<(Author, i64, String)>,
}
