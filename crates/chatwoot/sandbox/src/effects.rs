//! Message creation and what Chatwoot does behind the caller's back.
//!
//! `../shared/research/chatwoot.md §0.8, §2.3, §2.4`: the flood guard, the incoming-in-API-inbox
//! rule, authorship, Liquid rendering, then the `after_create_commit` chain — re-opening,
//! `last_activity_at`, first reply / `waiting_since`, webhook deliveries (recorded, not sent),
//! contact `last_activity_at` — plus activity messages. Status, assignee and label changes, which
//! write those activity messages, are in `changes`.

use jiff::{SignedDuration, Timestamp};
use serde_json::{Map, Value, json};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::liquid::{self, Drops};
use crate::render;
use crate::rules::{CONTENT_TYPES, MAX_ATTACHMENTS, MAX_CONTENT_CHARS};
use crate::state::{Attachment, Database, Message, MessageStatus, MessageType, WebhookDelivery};

/// An uploaded file of a multipart message.
#[derive(Debug, Clone)]
pub struct Upload {
    pub file_name: String,
    pub content_type: String,
    pub byte_size: u64,
}

/// The parameters `Messages::MessageBuilder` reads.
#[derive(Debug, Clone, Default)]
pub struct NewMessage {
    pub content: Option<String>,
    pub message_type: Option<String>,
    pub private: bool,
    pub content_type: Option<String>,
    pub content_attributes: Map<String, Value>,
    pub source_id: Option<String>,
    pub echo_id: Option<String>,
    pub external_created_at: Option<Value>,
    pub sender_type: Option<String>,
    pub sender_id: Option<u64>,
    pub attachments: Vec<Upload>,
}

impl Database {
    /// `MessageBuilder#perform` + `Message` callbacks. Errors are what `messages#create` renders
    /// (everything rescued to 422 `{"error": ...}`, §2.4).
    pub fn create_message(
        &mut self,
        conv_pk: u64,
        p: NewMessage,
        caller: &Caller,
    ) -> ApiResult<u64> {
        let now = self.now();
        let conv = self
            .conversations
            .get(&conv_pk)
            .ok_or(ApiError::NotFound)?
            .clone();
        let inbox = self
            .inboxes
            .get(&conv.inbox_id)
            .ok_or(ApiError::NotFound)?
            .clone();
        let raw_type = p.message_type.as_deref().unwrap_or("outgoing");
        let message_type = MessageType::from_param(raw_type).ok_or_else(|| {
            ApiError::Unprocessable(format!("'{raw_type}' is not a valid message_type"))
        })?;
        // message_builder.rb L98-104.
        if message_type == MessageType::Incoming && inbox.channel_type != "Channel::Api" {
            return Err(ApiError::Unprocessable(
                "Incoming messages are only allowed in Api inboxes".into(),
            ));
        }
        let content_type = p.content_type.clone().unwrap_or_else(|| "text".into());
        if !CONTENT_TYPES.contains(&content_type.as_str()) {
            return Err(ApiError::Unprocessable(format!(
                "'{content_type}' is not a valid content_type"
            )));
        }
        // Sender (L106-108, L126-130): outgoing = AgentBot named by sender_type/sender_id, else the
        // token owner; every other type is the conversation's contact.
        let (sender_type, sender_id) = if message_type == MessageType::Outgoing {
            let bot = (p.sender_type.as_deref() == Some("AgentBot"))
                .then_some(p.sender_id)
                .flatten()
                .filter(|id| {
                    self.agent_bots
                        .get(id)
                        .is_some_and(|b| b.account_id.is_none_or(|a| a == conv.account_id))
                });
            match (bot, caller.user_id, caller.bot_id) {
                (Some(b), _, _) => (Some("AgentBot"), Some(b)),
                (None, Some(u), _) => (Some("User"), Some(u)),
                (None, None, b) => (Some("AgentBot"), b),
            }
        } else {
            (Some("Contact"), Some(conv.contact_id))
        };
        // before_validation prevent_message_flooding (message.rb L274-284), then validations.
        self.check_flood(conv_pk, now)
            .map_err(ApiError::into_rescued)?;
        if p.content
            .as_ref()
            .is_some_and(|c| c.chars().count() > MAX_CONTENT_CHARS)
        {
            return Err(ApiError::Unprocessable(
                "Validation failed: Content is too long (maximum is 150000 characters)".into(),
            ));
        }
        if p.attachments.len() > MAX_ATTACHMENTS {
            return Err(ApiError::Unprocessable(
                "Validation failed: Attachments exceeded maximum allowed".into(),
            ));
        }
        let mut content_attributes = p.content_attributes.clone();
        if let Some(at) = p.external_created_at.clone() {
            content_attributes.insert("external_created_at".into(), at);
        }
        // before_create process_liquid_in_content (liquidable.rb).
        let content = match (&p.content, message_type) {
            (Some(c), MessageType::Outgoing | MessageType::Template) if !c.trim().is_empty() => {
                Some(liquid::render(
                    c,
                    &self.drops(conv_pk, sender_type, sender_id),
                ))
            }
            (c, _) => c.clone(),
        };
        let mut attachments = Vec::new();
        for a in &p.attachments {
            let id = self.next_id("attachments");
            attachments.push(Attachment {
                id,
                file_type: crate::rules::file_type_for(&a.content_type),
                file_name: a.file_name.clone(),
                content_type: a.content_type.clone(),
                byte_size: a.byte_size,
            });
        }
        let id = self.next_id("messages");
        let msg = Message {
            id,
            account_id: conv.account_id,
            inbox_id: conv.inbox_id,
            conversation_id: conv_pk,
            message_type,
            processed_message_content: content
                .as_ref()
                .map(|c| c.chars().take(MAX_CONTENT_CHARS).collect()),
            content,
            content_type,
            content_attributes,
            private: p.private,
            status: MessageStatus::Sent,
            external_error: None,
            source_id: p.source_id.clone(),
            sender_type,
            sender_id,
            attachments,
            echo_id: p.echo_id.clone(),
            created_at: now,
        };
        self.insert_message(msg);
        self.after_message_created(id, caller, now);
        Ok(id)
    }

    /// Stores a message and appends it to its conversation's list.
    fn insert_message(&mut self, m: Message) {
        self.conversation_messages
            .entry(m.conversation_id)
            .or_default()
            .push(m.id);
        self.messages.insert(m.id, m);
    }

    /// `Too many messages` when the conversation already has the limit within the last minute.
    fn check_flood(&self, conv_pk: u64, now: Timestamp) -> ApiResult<()> {
        if self.message_flood_limit == 0 {
            return Ok(());
        }
        let since = now - SignedDuration::from_secs(60);
        let recent = self.conversation_messages.get(&conv_pk).map_or(0, |ids| {
            ids.iter()
                .rev()
                .map_while(|id| self.messages.get(id).filter(|m| m.created_at >= since))
                .count()
        });
        if recent >= self.message_flood_limit {
            return Err(ApiError::invalid("base", "Too many messages"));
        }
        Ok(())
    }

    fn drops(&self, conv_pk: u64, sender_type: Option<&str>, sender_id: Option<u64>) -> Drops {
        let mut d = Drops::default();
        if let Some(c) = self.conversations.get(&conv_pk) {
            d.conversation_id = c.id;
            d.display_id = c.display_id;
            d.conversation_custom = c.custom_attributes.clone();
            d.inbox_id = c.inbox_id;
            d.account_id = c.account_id;
            if let Some(ct) = self.contacts.get(&c.contact_id) {
                d.contact_id = ct.id;
                d.contact_name = ct.name.clone();
                d.contact_email = ct.email.clone();
                d.contact_phone = ct.phone_number.clone();
                d.contact_custom = ct.custom_attributes.clone();
            }
            if let Some(i) = self.inboxes.get(&c.inbox_id) {
                d.inbox_name = i.name.clone();
            }
            if let Some(a) = self.accounts.get(&c.account_id) {
                d.account_name = a.name.clone();
            }
        }
        match (sender_type, sender_id) {
            (Some("User"), Some(id)) => {
                if let Some(u) = self.users.get(&id) {
                    d.agent_id = Some(u.id);
                    d.agent_name = Some(u.name.clone());
                    d.agent_available_name = Some(render::available_name(u));
                }
            }
            (Some("AgentBot"), Some(id)) => {
                if let Some(b) = self.agent_bots.get(&id) {
                    d.agent_id = Some(b.id);
                    d.agent_name = Some(b.name.clone());
                }
            }
            _ => {}
        }
        d
    }

    /// The `after_create_commit` chain of `Message` (message.rb L310-318).
    fn after_message_created(&mut self, id: u64, caller: &Caller, now: Timestamp) {
        let Some(m) = self.messages.get(&id).cloned() else {
            return;
        };
        let conv_pk = m.conversation_id;
        // reopen_conversation: API inbox + incoming from the contact → executed_by = contact.
        if m.message_type == MessageType::Incoming {
            let status = self.conversations.get(&conv_pk).map(|c| c.status.clone());
            match status.as_deref() {
                Some("resolved") => self.set_status(
                    conv_pk,
                    "open",
                    None,
                    Some("System reopened the conversation due to a new incoming message.".into()),
                    caller,
                ),
                Some("snoozed") => self.set_status(conv_pk, "open", None, None, caller),
                _ => {}
            }
        }
        if let Some(c) = self.conversations.get_mut(&conv_pk) {
            c.last_activity_at = m.created_at;
            c.updated_at = now;
            let human_reply = m.message_type == MessageType::Outgoing
                && !m.private
                && m.sender_type == Some("User");
            if human_reply {
                // FIRST_REPLY_CREATED, and a human reply clears waiting_since.
                c.first_reply_created_at.get_or_insert(m.created_at);
                c.waiting_since = None;
            } else if m.message_type == MessageType::Incoming && c.waiting_since.is_none() {
                c.waiting_since = Some(m.created_at);
            }
        }
        if m.message_type != MessageType::Activity && self.has_webhook(m.inbox_id) {
            let payload = json!({"event": "message_created", "message": render::message(self, &m)});
            self.record_webhook(m.inbox_id, "message_created", payload, now);
        }
        // update_contact_activity.
        if m.sender_type == Some("Contact")
            && let Some(ct) = m.sender_id.and_then(|id| self.contacts.get_mut(&id))
        {
            ct.last_activity_at = Some(now);
        }
    }

    /// Whether the inbox's API channel has a `webhook_url` (payloads are only built then).
    pub fn has_webhook(&self, inbox_id: u64) -> bool {
        self.inboxes
            .get(&inbox_id)
            .is_some_and(|i| i.webhook_url.as_deref().is_some_and(|u| !u.is_empty()))
    }

    /// Records a delivery to the inbox's API-channel `webhook_url` (webhook_listener.rb L118-123).
    pub fn record_webhook(&mut self, inbox_id: u64, event: &str, payload: Value, at: Timestamp) {
        let Some(url) = self
            .inboxes
            .get(&inbox_id)
            .and_then(|i| i.webhook_url.clone())
            .filter(|u| !u.is_empty())
        else {
            return;
        };
        self.webhook_deliveries.push(WebhookDelivery {
            inbox_id,
            event: event.to_owned(),
            url,
            payload,
            at,
        });
    }

    /// `Conversations::ActivityMessageJob`: an activity message (no sender). A flooded
    /// conversation makes the job fail, so the message is then silently missing.
    pub fn activity(&mut self, conv_pk: u64, content: String) {
        let now = self.now();
        if self.check_flood(conv_pk, now).is_err() {
            return;
        }
        let Some(c) = self.conversations.get(&conv_pk) else {
            return;
        };
        let (account_id, inbox_id) = (c.account_id, c.inbox_id);
        let id = self.next_id("messages");
        self.insert_message(Message {
            id,
            account_id,
            inbox_id,
            conversation_id: conv_pk,
            message_type: MessageType::Activity,
            processed_message_content: Some(content.clone()),
            content: Some(content),
            content_type: "text".into(),
            content_attributes: Map::new(),
            private: false,
            status: MessageStatus::Sent,
            external_error: None,
            source_id: None,
            sender_type: None,
            sender_id: None,
            attachments: Vec::new(),
            echo_id: None,
            created_at: now,
        });
        if let Some(c) = self.conversations.get_mut(&conv_pk) {
            c.last_activity_at = now;
        }
    }
}
