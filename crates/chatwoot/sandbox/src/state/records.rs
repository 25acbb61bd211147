//! The records the sandbox keeps, shaped after Chatwoot's tables.
//!
//! Field names and defaults follow `../shared/specs/chatwoot/schema.sql`, so the dump reads like the
//! rows a real Chatwoot would hold. Timestamps are UTC `jiff::Timestamp`s; enum columns keep their
//! Rails names (the integers are applied when rendering, `../shared/research/chatwoot.md §6`).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// A JSON object (the `jsonb` columns).
pub type JsonObject = Map<String, Value>;

/// `accounts` row.
#[derive(Debug, Clone, Serialize)]
pub struct Account {
    pub id: u64,
    pub name: String,
    pub status: &'static str,
    pub created_at: Timestamp,
}

/// `users` row plus its `access_tokens.token`.
#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: u64,
    pub name: String,
    pub display_name: Option<String>,
    pub email: String,
    pub access_token: String,
    pub custom_attributes: JsonObject,
    pub confirmed: bool,
    pub created_at: Timestamp,
}

/// `agent_bots` row plus its token.
#[derive(Debug, Clone, Serialize)]
pub struct AgentBot {
    pub id: u64,
    pub name: String,
    pub account_id: Option<u64>,
    pub access_token: String,
}

/// `account_users` row.
#[derive(Debug, Clone, Serialize)]
pub struct AccountUser {
    pub id: u64,
    pub account_id: u64,
    pub user_id: u64,
    /// `agent` or `administrator`.
    pub role: String,
    pub availability: String,
    pub auto_offline: bool,
}

/// `contacts` row.
#[derive(Debug, Clone, Serialize)]
pub struct Contact {
    pub id: u64,
    pub account_id: u64,
    pub name: String,
    pub email: Option<String>,
    pub phone_number: Option<String>,
    pub identifier: Option<String>,
    pub additional_attributes: JsonObject,
    pub custom_attributes: JsonObject,
    pub blocked: bool,
    /// visitor / lead (`Contacts::SyncAttributes`).
    pub contact_type: &'static str,
    pub location: String,
    pub country_code: String,
    pub labels: Vec<String>,
    pub last_activity_at: Option<Timestamp>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// `contact_inboxes` row.
#[derive(Debug, Clone, Serialize)]
pub struct ContactInbox {
    pub id: u64,
    pub contact_id: u64,
    pub inbox_id: u64,
    pub source_id: String,
    pub hmac_verified: bool,
}

/// `inboxes` row joined with its `channel_api` row.
#[derive(Debug, Clone, Serialize)]
pub struct Inbox {
    pub id: u64,
    pub account_id: u64,
    pub channel_id: u64,
    pub name: String,
    /// Rails class name, e.g. `Channel::Api`.
    pub channel_type: String,
    pub enable_auto_assignment: bool,
    pub greeting_enabled: bool,
    pub greeting_message: Option<String>,
    pub working_hours_enabled: bool,
    pub enable_email_collect: bool,
    pub csat_survey_enabled: bool,
    pub allow_messages_after_resolved: bool,
    pub lock_to_single_conversation: bool,
    pub out_of_office_message: Option<String>,
    pub timezone: String,
    pub webhook_url: Option<String>,
    pub identifier: String,
    pub hmac_token: String,
    pub member_ids: Vec<u64>,
    pub created_at: Timestamp,
}

/// `conversations` row.
#[derive(Debug, Clone, Serialize)]
pub struct Conversation {
    pub id: u64,
    pub display_id: u64,
    pub account_id: u64,
    pub inbox_id: u64,
    pub contact_id: u64,
    pub contact_inbox_id: u64,
    pub uuid: String,
    /// open / resolved / pending / snoozed.
    pub status: String,
    pub priority: Option<String>,
    pub assignee_id: Option<u64>,
    pub team_id: Option<u64>,
    pub additional_attributes: JsonObject,
    pub custom_attributes: JsonObject,
    pub labels: Vec<String>,
    pub snoozed_until: Option<Timestamp>,
    pub agent_last_seen_at: Option<Timestamp>,
    pub assignee_last_seen_at: Option<Timestamp>,
    pub contact_last_seen_at: Option<Timestamp>,
    pub first_reply_created_at: Option<Timestamp>,
    pub waiting_since: Option<Timestamp>,
    pub last_activity_at: Timestamp,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// `attachments` row, with the file's bytes (kept so `data_url` serves them; not dumped).
#[derive(Debug, Clone, Serialize)]
pub struct Attachment {
    pub id: u64,
    pub file_type: &'static str,
    pub file_name: String,
    pub content_type: String,
    pub byte_size: u64,
    /// `active_storage_blobs.checksum` (base64 MD5), so tests can compare the bytes received.
    pub checksum: String,
    /// The stored file.
    #[serde(skip)]
    pub bytes: bytes::Bytes,
}

/// `active_storage_blobs` row of a direct upload (bytes are counted, not kept).
#[derive(Debug, Clone, Serialize)]
pub struct Blob {
    pub id: u64,
    pub account_id: u64,
    pub file_name: String,
    pub byte_size: u64,
}

/// `messages.message_type` (§6): stored and dumped by its Rails name, rendered as the integer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageType {
    /// From the contact.
    Incoming = 0,
    /// From an agent or a bot.
    Outgoing = 1,
    /// Written by Chatwoot itself (status, assignment, label changes).
    Activity = 2,
    /// A template message.
    Template = 3,
}

impl MessageType {
    /// A `message_type` parameter as the Rails enum casts it (`ActiveRecord::Enum::EnumType`):
    /// a string must be one of the names (`"outgoing"`; `"1"` is `ArgumentError`), while a JSON
    /// integer matches the stored value. Multipart values are always strings.
    pub fn from_param(raw: &Value) -> Option<Self> {
        let all = [
            Self::Incoming,
            Self::Outgoing,
            Self::Activity,
            Self::Template,
        ];
        match raw {
            Value::String(_) => serde_json::from_value(raw.clone()).ok(),
            Value::Number(n) => all.into_iter().find(|t| n.as_u64() == Some(*t as u64)),
            _ => None,
        }
    }

    /// The Rails name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Incoming => "incoming",
            Self::Outgoing => "outgoing",
            Self::Activity => "activity",
            Self::Template => "template",
        }
    }
}

/// `messages.status`, by its Rails name.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageStatus {
    /// Accepted by Chatwoot.
    Sent,
    /// Reported delivered by the channel.
    Delivered,
    /// Reported read by the channel.
    Read,
    /// Reported failed by the channel, with `external_error`.
    Failed,
}

/// `messages` row.
#[derive(Debug, Clone, Serialize)]
pub struct Message {
    pub id: u64,
    pub account_id: u64,
    pub inbox_id: u64,
    /// The conversation's primary key (not its display id).
    pub conversation_id: u64,
    pub message_type: MessageType,
    pub content: Option<String>,
    pub processed_message_content: Option<String>,
    pub content_type: String,
    pub content_attributes: JsonObject,
    pub private: bool,
    pub status: MessageStatus,
    /// Set with `status: failed` (`Messages::StatusUpdateService`).
    pub external_error: Option<String>,
    pub source_id: Option<String>,
    /// `Contact`, `User` or `AgentBot`; none for activity messages.
    pub sender_type: Option<&'static str>,
    pub sender_id: Option<u64>,
    pub attachments: Vec<Attachment>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// `labels` row (account labels).
#[derive(Debug, Clone, Serialize)]
pub struct Label {
    pub id: u64,
    pub account_id: u64,
    pub title: String,
    pub description: Option<String>,
    pub color: String,
    pub show_on_sidebar: Option<bool>,
}

/// `teams` row with its members.
#[derive(Debug, Clone, Serialize)]
pub struct Team {
    pub id: u64,
    pub account_id: u64,
    pub name: String,
    pub description: Option<String>,
    pub allow_auto_assign: bool,
    pub member_ids: Vec<u64>,
}

/// `canned_responses` row.
#[derive(Debug, Clone, Serialize)]
pub struct CannedResponse {
    pub id: u64,
    pub account_id: u64,
    pub short_code: String,
    pub content: String,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// `custom_attribute_definitions` row.
#[derive(Debug, Clone, Serialize)]
pub struct CustomAttributeDefinition {
    pub id: u64,
    pub account_id: u64,
    pub attribute_display_name: Option<String>,
    pub attribute_key: String,
    pub attribute_display_type: String,
    pub attribute_model: String,
    pub attribute_description: Option<String>,
    pub attribute_values: Vec<Value>,
    pub regex_pattern: Option<String>,
    pub regex_cue: Option<String>,
    pub default_value: Option<Value>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// `portals` row.
#[derive(Debug, Clone, Serialize)]
pub struct Portal {
    pub id: u64,
    pub account_id: u64,
    pub name: String,
    pub slug: String,
    pub custom_domain: Option<String>,
    pub color: Option<String>,
    pub header_text: Option<String>,
    pub homepage_link: Option<String>,
    pub page_title: Option<String>,
    pub archived: bool,
    pub config: JsonObject,
}

/// `categories` row.
#[derive(Debug, Clone, Serialize)]
pub struct Category {
    pub id: u64,
    pub account_id: u64,
    pub portal_id: u64,
    pub name: Option<String>,
    pub description: Option<String>,
    pub position: Option<i64>,
    pub slug: String,
    pub locale: String,
    pub icon: String,
    pub parent_category_id: Option<u64>,
    pub associated_category_id: Option<u64>,
}

/// `articles` row.
#[derive(Debug, Clone, Serialize)]
pub struct Article {
    pub id: u64,
    pub account_id: u64,
    pub portal_id: u64,
    pub category_id: Option<u64>,
    pub title: String,
    pub description: Option<String>,
    pub content: String,
    pub status: String,
    pub slug: String,
    pub position: i64,
    pub locale: String,
    pub author_id: u64,
    pub associated_article_id: Option<u64>,
    pub meta: JsonObject,
    pub views: i64,
}

/// `webhooks` row: an account webhook and the events it subscribes to.
#[derive(Debug, Clone, Serialize)]
pub struct Webhook {
    pub id: u64,
    pub account_id: u64,
    pub inbox_id: Option<u64>,
    pub name: Option<String>,
    pub url: String,
    pub subscriptions: Vec<String>,
    pub created_at: Timestamp,
}

/// `automation_rules` row.
#[derive(Debug, Clone, Serialize)]
pub struct AutomationRule {
    pub id: u64,
    pub account_id: u64,
    pub name: String,
    pub description: Option<String>,
    pub event_name: String,
    pub conditions: Vec<Value>,
    pub actions: Vec<Value>,
    pub active: bool,
    pub created_at: Timestamp,
}

/// A webhook delivery Chatwoot would have made (`WebhookJob`): recorded, never sent.
#[derive(Debug, Clone, Serialize)]
pub struct WebhookDelivery {
    pub account_id: u64,
    /// The inbox of the event, when it has one.
    pub inbox_id: Option<u64>,
    /// The account webhook, or none for an API inbox's own `webhook_url`.
    pub webhook_id: Option<u64>,
    pub event: String,
    /// Where it would have gone.
    pub url: String,
    pub payload: Value,
    pub at: Timestamp,
}

/// A message Chatwoot would have sent to the customer outside Chatwoot (`SendReplyJob`).
#[derive(Debug, Clone, Serialize)]
pub struct CustomerDelivery {
    pub account_id: u64,
    pub inbox_id: u64,
    /// The conversation's display id.
    pub conversation_id: u64,
    pub message_id: u64,
    /// The inbox's channel class.
    pub channel: String,
    /// The service that would have sent it, e.g. `Email::SendOnEmailService`.
    pub via: &'static str,
    /// The contact's address on that channel (email, phone or source id).
    pub to: Option<String>,
    pub at: Timestamp,
}

/// A `notifications` row for an agent, with the deliveries its notification settings allow.
#[derive(Debug, Clone, Serialize)]
pub struct AgentNotification {
    pub account_id: u64,
    pub user_id: u64,
    /// `conversation_assignment`, `assigned_conversation_new_message`, ...
    pub notification_type: &'static str,
    /// The conversation's display id.
    pub conversation_id: u64,
    /// `email` / `push` as the default `notification_settings` flags allow (in-app only if none).
    pub deliveries: Vec<&'static str>,
    pub at: Timestamp,
}

/// An automation rule whose event fired and whose conditions matched (its actions are recorded,
/// not performed).
#[derive(Debug, Clone, Serialize)]
pub struct AutomationRuleRun {
    pub account_id: u64,
    pub automation_rule_id: u64,
    pub event: String,
    /// The conversation's display id.
    pub conversation_id: u64,
    pub message_id: Option<u64>,
    pub actions: Vec<Value>,
    pub at: Timestamp,
}

/// A template message Chatwoot wrote on its own (greeting, CSAT survey).
#[derive(Debug, Clone, Serialize)]
pub struct TemplateMessage {
    pub account_id: u64,
    /// `greeting` or `csat_survey`.
    pub kind: &'static str,
    /// The conversation's display id.
    pub conversation_id: u64,
    pub message_id: u64,
    pub at: Timestamp,
}

#[cfg(test)]
mod tests {
    use super::MessageType;

    #[test]
    fn message_types_read_by_name_or_json_integer_and_dump_by_name() {
        let p = |v: serde_json::Value| MessageType::from_param(&v);
        assert_eq!(p("outgoing".into()), Some(MessageType::Outgoing));
        assert_eq!(p(2.into()), Some(MessageType::Activity));
        assert_eq!(p("2".into()), None);
        assert_eq!(p(4.into()), None);
        assert_eq!(p("Outgoing".into()), None);
        assert_eq!(MessageType::Template as u8, 3);
        assert_eq!(
            serde_json::to_value(MessageType::Incoming).unwrap(),
            "incoming"
        );
    }
}
