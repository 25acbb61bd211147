//! Messages: replies, notes and events.

use deskmove_core::model::{AuthorKind, Message, MessageKind, Timestamp};
use deskmove_core::{ErrorKind, Problem, SourceKey, Stage};
use serde_json::{Map, Value, json};

/// Who a message is from in Chatwoot: `sender_type` and `sender_id`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender {
    /// `Contact` and `contacts.id`.
    Contact(i64),
    /// `User` (an agent) and `users.id`.
    User(i64),
    /// `AgentBot` and `agent_bots.id`.
    AgentBot(i64),
    /// No sender: Chatwoot shows such outgoing messages as the system's.
    None,
}

impl Sender {
    /// `sender_type`, the Rails class name.
    pub fn sender_type(self) -> Option<&'static str> {
        match self {
            Self::Contact(_) => Some("Contact"),
            Self::User(_) => Some("User"),
            Self::AgentBot(_) => Some("AgentBot"),
            Self::None => None,
        }
    }

    /// `sender_id`.
    pub fn sender_id(self) -> Option<i64> {
        match self {
            Self::Contact(id) | Self::User(id) | Self::AgentBot(id) => Some(id),
            Self::None => None,
        }
    }
}

/// A `messages` row, without the conversation, account and inbox ids the loader adds.
#[derive(Debug, Clone, PartialEq)]
pub struct MessageRow {
    /// `content`: the Markdown body (Chatwoot renders Markdown; the database path runs no
    /// Liquid, so nothing needs escaping here).
    pub content: Option<String>,
    /// `processed_message_content`: the content, at most 150,000 characters (`message.rb`).
    pub processed_message_content: Option<String>,
    /// `message_type`: incoming 0, outgoing 1, activity 2.
    pub message_type: i32,
    /// `content_type`: text 0.
    pub content_type: i32,
    /// `private`: notes.
    pub private: bool,
    /// `sender_type` / `sender_id`.
    pub sender: Sender,
    /// `source_id`: `<system>:<id>` of the source part.
    pub source_id: String,
    /// `content_attributes` (a `json` column): the event, and the author when no Chatwoot
    /// record stands for them.
    pub content_attributes: Value,
    /// `created_at`, exact.
    pub created_at: Timestamp,
    /// `updated_at`.
    pub updated_at: Timestamp,
}

/// `source_id` of a message: `<system>:<id>`.
pub fn source_id(key: &SourceKey) -> String {
    format!("{}:{}", key.system, key.id)
}

/// `message_type` for a canonical message.
pub fn message_type(m: &Message) -> i32 {
    match (m.kind, m.author.kind) {
        (MessageKind::Event, _) => 2,
        (MessageKind::Reply, AuthorKind::Contact) => 0,
        _ => 1,
    }
}

/// `content_type`: always text (0) for history.
pub fn content_type(_m: &Message) -> i32 {
    0
}

const PROCESSED_MAX: usize = 150_000;

/// The row for `m` sent by `sender` (resolved by the loader); a problem when the author could
/// not be matched and is kept in `content_attributes` instead.
pub fn message(m: &Message, sender: Sender) -> (MessageRow, Option<Problem>) {
    let mut attrs = Map::new();
    let content = m
        .body_markdown
        .clone()
        .or_else(|| m.body_html.clone())
        .or_else(|| {
            m.event
                .as_ref()
                .map(|e| format!("Conversation event: {}", e.action))
        });
    if let Some(e) = &m.event {
        let mut ev = Map::new();
        ev.insert("action".into(), json!(e.action));
        if let Some(a) = &e.assigned_to {
            ev.insert("assigned_to".into(), json!(a.to_string()));
        }
        if !e.detail.is_empty() {
            ev.insert("detail".into(), Value::Object(e.detail.clone()));
        }
        attrs.insert("deskmove_event".into(), Value::Object(ev));
    }
    let wanted = match m.author.kind {
        AuthorKind::Contact => matches!(sender, Sender::Contact(_)),
        AuthorKind::Agent => matches!(sender, Sender::User(_)),
        AuthorKind::Bot => matches!(sender, Sender::AgentBot(_) | Sender::None),
        AuthorKind::System => true,
    };
    let mut problem = None;
    if !wanted || (m.author.kind == AuthorKind::Bot && sender == Sender::None) {
        let mut a = Map::new();
        a.insert(
            "kind".into(),
            json!(format!("{:?}", m.author.kind).to_lowercase()),
        );
        if let Some(k) = &m.author.key {
            a.insert("source".into(), json!(k.to_string()));
        }
        if let Some(n) = &m.author.name {
            a.insert("name".into(), json!(n));
        }
        if let Some(e) = &m.author.email {
            a.insert("email".into(), json!(e));
        }
        attrs.insert("original_author".into(), Value::Object(a));
        if !wanted {
            problem = Some(Problem::new(
                m.key.clone(),
                Stage::Map,
                ErrorKind::NotFound,
                "author_not_matched",
                "The author has no matching Chatwoot record; the message is kept without a sender and the author is in content_attributes.original_author.",
            ));
        }
    }
    let processed = content
        .as_ref()
        .map(|c| c.chars().take(PROCESSED_MAX).collect::<String>());
    let row = MessageRow {
        processed_message_content: processed,
        content,
        message_type: message_type(m),
        content_type: content_type(m),
        private: m.kind == MessageKind::Note,
        sender,
        source_id: source_id(&m.key),
        content_attributes: Value::Object(attrs),
        created_at: m.created_at,
        updated_at: m.updated_at.unwrap_or(m.created_at).max(m.created_at),
    };
    (row, problem)
}
