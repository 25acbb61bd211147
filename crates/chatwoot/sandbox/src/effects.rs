//! Message creation and what Chatwoot does behind the caller's back.
//!
//! `../shared/research/chatwoot.md §0.8, §2.3, §2.4`: the flood guard, the incoming-in-API-inbox
//! rule, authorship, Liquid rendering, then the `after_create_commit` chain of `message.rb` —
//! re-opening, `last_activity_at`, `MESSAGE_CREATED` and first reply / `waiting_since`, the
//! customer delivery of `send_reply_job.rb`, greeting templates
//! (`message_templates/hook_execution_service.rb`), contact `last_activity_at` — plus activity
//! messages. The listeners of dispatched events are in `dispatch`; status, assignee and label
//! changes are in `changes`.

mod dispatch;

use jiff::{SignedDuration, Timestamp};
use serde_json::{Map, Value};

pub use dispatch::{Change, Event, WEBHOOK_EVENTS};

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult};
use crate::liquid::{self, Drops};
use crate::render;
use crate::rules::{CONTENT_TYPES, MAX_ATTACHMENTS, MAX_CONTENT_CHARS};
use crate::state::{
    Attachment, CustomerDelivery, Database, Message, MessageStatus, MessageType, TemplateMessage,
};

/// An uploaded file of a multipart message.
#[derive(Debug, Clone)]
pub struct Upload {
    /// The part's file name.
    pub file_name: String,
    /// The part's MIME type.
    pub content_type: String,
    /// How many bytes it had.
    pub byte_size: u64,
    /// ActiveStorage's `checksum`: the base64 MD5 of the bytes.
    pub checksum: String,
    /// The bytes, served back at the attachment's `data_url`.
    pub bytes: bytes::Bytes,
}

/// The parameters `Messages::MessageBuilder` reads (`app/builders/messages/message_builder.rb`).
#[derive(Debug, Clone, Default)]
pub struct NewMessage {
    /// `content`.
    pub content: Option<String>,
    /// The raw value: the builder compares it as a string before the enum casts it.
    pub message_type: Option<Value>,
    /// `private` (a note).
    pub private: bool,
    /// `content_type` (default `text`).
    pub content_type: Option<String>,
    /// `content_attributes`, an object or a JSON string.
    pub content_attributes: Map<String, Value>,
    /// `source_id`, stored.
    pub source_id: Option<String>,
    /// `external_created_at`, into `content_attributes` unless those are sent too.
    pub external_created_at: Option<Value>,
    /// `sender_type` (`AgentBot` only counts).
    pub sender_type: Option<String>,
    /// `sender_id` of that agent bot.
    pub sender_id: Option<u64>,
    /// The `attachments[]` files.
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
        let raw_type = p
            .message_type
            .clone()
            .unwrap_or_else(|| Value::String("outgoing".into()));
        let message_type = MessageType::from_param(&raw_type).ok_or_else(|| {
            let shown = raw_type
                .as_str()
                .map_or_else(|| raw_type.to_string(), str::to_owned);
            ApiError::Unprocessable(format!("'{shown}' is not a valid message_type"))
        })?;
        // The builder compares the raw parameter with strings (L98-108): a JSON integer passes
        // the enum but neither comparison.
        let named = |n: &str| raw_type.as_str() == Some(n);
        // message_builder.rb L98-104.
        if named("incoming") && inbox.channel_type != "Channel::Api" {
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
        let (sender_type, sender_id) = if named("outgoing") {
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
        // `message_params` passes `content_attributes: hash.presence` and `external_created_at:`
        // as separate keys; `assign_attributes` assigns hash values after the scalars, so a
        // non-empty `content_attributes` replaces the store that already holds
        // `external_created_at` (message_builder.rb `message_params`).
        let mut content_attributes = p.content_attributes.clone();
        let external = p
            .external_created_at
            .clone()
            .filter(|v| !v.is_null() && v.as_str().is_none_or(|s| !crate::rules::is_blank(s)));
        if let Some(at) = external.filter(|_| content_attributes.is_empty()) {
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
                checksum: a.checksum.clone(),
                bytes: a.bytes.clone(),
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
            created_at: now,
            updated_at: now,
        };
        self.insert_message(msg);
        self.after_message_created(id, caller, now);
        Ok(id)
    }

    /// A template message Chatwoot writes itself (`conversation.messages.create!`): no sender,
    /// Liquid-rendered, logged as `kind`, then the usual callbacks. A flooded conversation makes
    /// the create fail, so nothing is written.
    pub fn template_message(
        &mut self,
        conv_pk: u64,
        kind: &'static str,
        content: &str,
        content_type: &str,
        content_attributes: Map<String, Value>,
        caller: &Caller,
    ) {
        let now = self.now();
        if self.check_flood(conv_pk, now).is_err() {
            return;
        }
        let Some(c) = self.conversations.get(&conv_pk) else {
            return;
        };
        let (account_id, inbox_id, display_id) = (c.account_id, c.inbox_id, c.display_id);
        let content = liquid::render(content, &self.drops(conv_pk, None, None));
        let id = self.next_id("messages");
        self.insert_message(Message {
            id,
            account_id,
            inbox_id,
            conversation_id: conv_pk,
            message_type: MessageType::Template,
            processed_message_content: Some(content.clone()),
            content: Some(content),
            content_type: content_type.to_owned(),
            content_attributes,
            private: false,
            status: MessageStatus::Sent,
            external_error: None,
            source_id: None,
            sender_type: None,
            sender_id: None,
            attachments: Vec::new(),
            created_at: now,
            updated_at: now,
        });
        self.template_messages.push(TemplateMessage {
            account_id,
            kind,
            conversation_id: display_id,
            message_id: id,
            at: now,
        });
        self.after_message_created(id, caller, now);
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
        let mut changes: Vec<Change> = Vec::new();
        if let Some(c) = self.conversations.get_mut(&conv_pk) {
            c.last_activity_at = m.created_at;
            c.updated_at = now;
            let human_reply = m.message_type == MessageType::Outgoing
                && !m.private
                && m.sender_type == Some("User");
            let bot_reply = m.message_type == MessageType::Outgoing
                && !m.private
                && m.sender_type == Some("AgentBot");
            let stamp = |t: Option<Timestamp>| t.map_or(Value::Null, |t| render::iso(t).into());
            if human_reply && c.first_reply_created_at.is_none() {
                // FIRST_REPLY_CREATED: first_reply_created_at, and waiting_since cleared.
                changes.push((
                    "first_reply_created_at",
                    Value::Null,
                    stamp(Some(m.created_at)),
                ));
                c.first_reply_created_at = Some(m.created_at);
                if c.waiting_since.is_some() {
                    changes.push(("waiting_since", stamp(c.waiting_since), Value::Null));
                }
                c.waiting_since = None;
            } else if (human_reply || bot_reply) && c.waiting_since.is_some() {
                // update_waiting_since: a human or bot reply clears it.
                changes.push(("waiting_since", stamp(c.waiting_since), Value::Null));
                c.waiting_since = None;
            } else if m.message_type == MessageType::Incoming && c.waiting_since.is_none() {
                changes.push(("waiting_since", Value::Null, stamp(Some(m.created_at))));
                c.waiting_since = Some(m.created_at);
            }
        }
        // dispatch_create_events: MESSAGE_CREATED, then the conversation update it caused.
        self.dispatch(Event::MessageCreated(id), caller);
        if !changes.is_empty() {
            self.dispatch(Event::ConversationUpdated(conv_pk, changes), caller);
        }
        self.send_reply(&m, now);
        if m.message_type != MessageType::Activity {
            self.message_template_hooks(conv_pk, caller);
        }
        // update_contact_activity.
        if m.sender_type == Some("Contact")
            && let Some(ct) = m.sender_id.and_then(|id| self.contacts.get_mut(&id))
        {
            ct.last_activity_at = Some(now);
        }
    }

    /// `SendReplyJob` (`app/jobs/send_reply_job.rb`): what would reach the customer outside
    /// Chatwoot. API inboxes: nothing (`email_continuity_on_api_channel` is off by default).
    /// Web widget: `Messages::SendEmailNotificationService` emails a contact with an email, one
    /// email per conversation while the previous one is queued (two minutes). Other channels
    /// (`Base::SendOnChannelService`): every outgoing or template message that is not private and
    /// has no `source_id`; Email inboxes only for text/CSAT templates.
    fn send_reply(&mut self, m: &Message, now: Timestamp) {
        let Some(c) = self.conversations.get(&m.conversation_id) else {
            return;
        };
        let Some(inbox) = self.inboxes.get(&m.inbox_id) else {
            return;
        };
        let contact = self.contacts.get(&c.contact_id);
        let email = contact.and_then(|ct| ct.email.clone());
        // Message#email_notifiable_message?
        let email_notifiable = !m.private
            && match m.message_type {
                MessageType::Outgoing => true,
                MessageType::Template => matches!(m.content_type.as_str(), "input_csat" | "text"),
                _ => false,
            };
        let sendable = matches!(
            m.message_type,
            MessageType::Outgoing | MessageType::Template
        ) && !m.private
            && m.source_id.as_deref().is_none_or(str::is_empty);
        let (via, to): (&'static str, Option<String>) = match inbox.channel_type.as_str() {
            "Channel::Api" => return,
            "Channel::WebWidget" => {
                let queued = self
                    .reply_email_queued
                    .get(&c.id)
                    .is_some_and(|at| now < *at + SignedDuration::from_mins(2));
                if !email_notifiable || email.is_none() || queued {
                    return;
                }
                self.reply_email_queued.insert(c.id, now);
                ("Messages::SendEmailNotificationService", email)
            }
            "Channel::Email" if sendable && email_notifiable => {
                ("Email::SendOnEmailService", email)
            }
            "Channel::Email" => return,
            other if sendable => {
                let via = match other {
                    "Channel::Whatsapp" => "Whatsapp::SendOnWhatsappService",
                    "Channel::Sms" => "Sms::SendOnSmsService",
                    "Channel::Line" => "Line::SendOnLineService",
                    "Channel::Telegram" => "Telegram::SendOnTelegramService",
                    _ => "SendReplyJob",
                };
                let source = self
                    .contact_inboxes
                    .get(&c.contact_inbox_id)
                    .map(|ci| ci.source_id.clone());
                (via, source)
            }
            _ => return,
        };
        self.customer_deliveries.push(CustomerDelivery {
            account_id: m.account_id,
            inbox_id: m.inbox_id,
            conversation_id: c.display_id,
            message_id: m.id,
            channel: inbox.channel_type.clone(),
            via,
            to,
            at: now,
        });
    }

    /// `MessageTemplates::HookExecutionService`: once the conversation has an incoming message,
    /// an inbox with `greeting_enabled` and a `greeting_message` answers it with a template
    /// message while no outgoing or template message exists yet. (Out-of-office and email-collect
    /// templates need working hours and web widgets, which the sandbox does not model.)
    fn message_template_hooks(&mut self, conv_pk: u64, caller: &Caller) {
        let Some(c) = self.conversations.get(&conv_pk) else {
            return;
        };
        let greeting = self
            .inboxes
            .get(&c.inbox_id)
            .filter(|i| i.greeting_enabled)
            .and_then(|i| i.greeting_message.clone())
            .filter(|g| !crate::rules::is_blank(g));
        let Some(greeting) = greeting else {
            return;
        };
        let messages: Vec<&Message> = self
            .conversation_messages
            .get(&conv_pk)
            .map(|ids| ids.iter().filter_map(|id| self.messages.get(id)).collect())
            .unwrap_or_default();
        let has = |t: MessageType| messages.iter().any(|x| x.message_type == t);
        if has(MessageType::Incoming) && !has(MessageType::Outgoing) && !has(MessageType::Template)
        {
            self.template_message(conv_pk, "greeting", &greeting, "text", Map::new(), caller);
        }
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
            created_at: now,
            updated_at: now,
        });
        if let Some(c) = self.conversations.get_mut(&conv_pk) {
            c.last_activity_at = now;
        }
    }
}
