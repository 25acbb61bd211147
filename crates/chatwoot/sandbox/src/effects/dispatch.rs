//! `Rails.configuration.dispatcher`: the events models dispatch after commit and the listeners
//! that act on them outside the request — account and API-inbox webhooks
//! (`app/listeners/webhook_listener.rb`), automation rules (`automation_rule_listener.rb`), agent
//! notifications (`notification_listener.rb`, `app/builders/notification_builder.rb`) and the
//! CSAT survey (`csat_survey_listener.rb`, `app/services/csat_survey_service.rb`). Everything is
//! recorded in the side-effect log; nothing leaves the sandbox.

use jiff::SignedDuration;
use serde_json::{Map, Value, json};

use crate::auth::Caller;
use crate::render;
use crate::state::{
    AgentNotification, AutomationRuleRun, Conversation, Database, Message, MessageType,
    WebhookDelivery,
};

/// `Webhook::ALLOWED_WEBHOOK_EVENTS` (`app/models/webhook.rb`).
pub const WEBHOOK_EVENTS: [&str; 12] = [
    "conversation_status_changed",
    "conversation_updated",
    "conversation_created",
    "contact_created",
    "contact_updated",
    "message_created",
    "message_updated",
    "webwidget_triggered",
    "inbox_created",
    "inbox_updated",
    "conversation_typing_on",
    "conversation_typing_off",
];

/// An attribute change as `previous_changes` holds it: key, before, after.
pub type Change = (&'static str, Value, Value);

/// One dispatched event (`Events::Types`), with what its listeners need.
#[derive(Debug, Clone)]
pub enum Event {
    /// `CONVERSATION_CREATED` (conversation primary key).
    ConversationCreated(u64),
    /// `CONVERSATION_UPDATED`: some of `Conversation#list_of_keys` changed.
    ConversationUpdated(u64, Vec<Change>),
    /// `CONVERSATION_STATUS_CHANGED`.
    ConversationStatusChanged(u64, Vec<Change>),
    /// `CONVERSATION_OPENED`.
    ConversationOpened(u64),
    /// `CONVERSATION_RESOLVED`.
    ConversationResolved(u64),
    /// `ASSIGNEE_CHANGED`, with `notifiable_assignee_change?`.
    AssigneeChanged(u64, bool),
    /// `MESSAGE_CREATED` (message id).
    MessageCreated(u64),
    /// `MESSAGE_UPDATED` (a status update or a soft delete).
    MessageUpdated(u64),
    /// `CONTACT_CREATED`.
    ContactCreated(u64),
    /// `CONTACT_UPDATED`, with the changed attributes.
    ContactUpdated(u64, Vec<Change>),
}

impl Event {
    /// The event name, as webhooks and automation rules spell it.
    pub fn name(&self) -> &'static str {
        match self {
            Self::ConversationCreated(_) => "conversation_created",
            Self::ConversationUpdated(..) => "conversation_updated",
            Self::ConversationStatusChanged(..) => "conversation_status_changed",
            Self::ConversationOpened(_) => "conversation_opened",
            Self::ConversationResolved(_) => "conversation_resolved",
            Self::AssigneeChanged(..) => "assignee_changed",
            Self::MessageCreated(_) => "message_created",
            Self::MessageUpdated(_) => "message_updated",
            Self::ContactCreated(_) => "contact_created",
            Self::ContactUpdated(..) => "contact_updated",
        }
    }
}

/// `extract_changed_attributes`: `[{key: {previous_value, current_value}}]`.
fn changed_attributes(changes: &[Change]) -> Value {
    changes
        .iter()
        .map(|(k, before, after)| json!({*k: {"previous_value": before, "current_value": after}}))
        .collect()
}

/// `payload.merge(event:)` on an object payload.
fn with_event(mut payload: Value, event: &str, changes: Option<&[Change]>) -> Value {
    payload["event"] = json!(event);
    if let Some(c) = changes {
        payload["changed_attributes"] = changed_attributes(c);
    }
    payload
}

impl Database {
    /// Runs every listener of `event`, in the order the dispatcher calls them.
    pub fn dispatch(&mut self, event: Event, caller: &Caller) {
        self.webhook_listener(&event);
        self.automation_rule_listener(&event);
        self.notification_listener(&event);
        if let Event::ConversationStatusChanged(pk, _) = &event {
            self.csat_survey(*pk, caller);
        }
    }

    /// `WebhookListener`: the payload of each event, to the account webhooks subscribed to it and,
    /// for conversation and message events, to the inbox's API-channel `webhook_url`.
    fn webhook_listener(&mut self, event: &Event) {
        let name = event.name();
        // Who the event belongs to; the payload is only built when someone would receive it.
        let (account_id, inbox_id) = match event {
            Event::ConversationCreated(pk)
            | Event::ConversationUpdated(pk, _)
            | Event::ConversationStatusChanged(pk, _) => match self.conversations.get(pk) {
                Some(c) => (c.account_id, Some(c.inbox_id)),
                None => return,
            },
            // `message.webhook_sendable?`: not for activity messages.
            Event::MessageCreated(id) | Event::MessageUpdated(id) => match self.messages.get(id) {
                Some(m) if m.message_type != MessageType::Activity => {
                    (m.account_id, Some(m.inbox_id))
                }
                _ => return,
            },
            Event::ContactCreated(id) => match self.contacts.get(id) {
                Some(c) => (c.account_id, None),
                None => return,
            },
            Event::ContactUpdated(id, ch) if !ch.is_empty() => match self.contacts.get(id) {
                Some(c) => (c.account_id, None),
                None => return,
            },
            _ => return,
        };
        let mut targets: Vec<(Option<u64>, String)> = self
            .webhooks
            .values()
            .filter(|w| w.account_id == account_id && w.subscriptions.iter().any(|s| s == name))
            .map(|w| (Some(w.id), w.url.clone()))
            .collect();
        // deliver_api_inbox_webhooks: contact events only go to account webhooks.
        let api_url = inbox_id
            .and_then(|i| self.inboxes.get(&i))
            .filter(|i| i.channel_type == "Channel::Api")
            .and_then(|i| i.webhook_url.clone())
            .filter(|u| !u.is_empty());
        targets.extend(api_url.map(|u| (None, u)));
        if targets.is_empty() {
            return;
        }
        let payload = match event {
            Event::ConversationCreated(pk) => self
                .conversations
                .get(pk)
                .map(|c| with_event(render::conversation(self, c), name, None)),
            Event::ConversationUpdated(pk, ch) | Event::ConversationStatusChanged(pk, ch) => self
                .conversations
                .get(pk)
                .map(|c| with_event(render::conversation(self, c), name, Some(ch))),
            Event::MessageCreated(id) | Event::MessageUpdated(id) => self
                .messages
                .get(id)
                .map(|m| with_event(self.message_webhook_data(m), name, None)),
            Event::ContactCreated(id) => self
                .contacts
                .get(id)
                .map(|c| with_event(render::contact(self, c, false), name, None)),
            Event::ContactUpdated(id, ch) => self
                .contacts
                .get(id)
                .map(|c| with_event(render::contact(self, c, false), name, Some(ch))),
            _ => None,
        };
        let Some(payload) = payload else {
            return;
        };
        let now = self.now();
        for (webhook_id, url) in targets {
            self.webhook_deliveries.push(WebhookDelivery {
                account_id,
                inbox_id,
                webhook_id,
                event: name.to_owned(),
                url,
                payload: payload.clone(),
                at: now,
            });
        }
    }

    /// `Message#webhook_data`: the message with its conversation, inbox, account and sender;
    /// `message_type` by name and `created_at` as an ISO string.
    pub fn message_webhook_data(&self, m: &Message) -> Value {
        let conversation = self
            .conversations
            .get(&m.conversation_id)
            .map(|c| render::conversation(self, c));
        json!({
            "account": self.accounts.get(&m.account_id).map(|a| json!({"id": a.id, "name": a.name})),
            "additional_attributes": {},
            "content_attributes": m.content_attributes,
            "content_type": m.content_type,
            "content": m.content,
            "conversation": conversation,
            "created_at": render::iso(m.created_at),
            "id": m.id,
            "inbox": self.inboxes.get(&m.inbox_id).map(|i| json!({"id": i.id, "name": i.name})),
            "message_type": m.message_type.name(),
            "private": m.private,
            "sender": render::sender(self, m),
            "source_id": m.source_id,
        })
    }

    /// `AutomationRuleListener`: active rules of the event whose conditions match are recorded
    /// as fired, with their actions (not performed). Activity messages never fire
    /// `message_created` rules; conversations with `additional_attributes.auto_reply` skip
    /// `conversation_created`/`conversation_opened`.
    fn automation_rule_listener(&mut self, event: &Event) {
        let name = event.name();
        if !self
            .automation_rules
            .values()
            .any(|r| r.active && r.event_name == name)
        {
            return;
        }
        let (pk, message) = match event {
            Event::ConversationCreated(pk)
            | Event::ConversationUpdated(pk, _)
            | Event::ConversationOpened(pk)
            | Event::ConversationResolved(pk) => (*pk, None),
            Event::MessageCreated(id) => match self.messages.get(id) {
                Some(m) if m.message_type != MessageType::Activity => {
                    (m.conversation_id, Some(m.clone()))
                }
                _ => return,
            },
            _ => return,
        };
        let Some(c) = self.conversations.get(&pk).cloned() else {
            return;
        };
        let auto_reply = c
            .additional_attributes
            .get("auto_reply")
            .is_some_and(|v| !v.is_null() && v != "" && v != &json!(false));
        if auto_reply && matches!(name, "conversation_created" | "conversation_opened") {
            return;
        }
        let now = self.now();
        let runs: Vec<AutomationRuleRun> = self
            .automation_rules
            .values()
            .filter(|r| r.account_id == c.account_id && r.active && r.event_name == name)
            .filter(|r| self.conditions_match(&r.conditions, &c, message.as_ref()))
            .map(|r| AutomationRuleRun {
                account_id: c.account_id,
                automation_rule_id: r.id,
                event: name.to_owned(),
                conversation_id: c.display_id,
                message_id: message.as_ref().map(|m| m.id),
                actions: r.actions.clone(),
                at: now,
            })
            .collect();
        self.automation_rule_runs.extend(runs);
    }

    /// A reading of `AutomationRules::ConditionsFilterService`: conditions joined left to right by
    /// each one's `query_operator` (AND by default). An attribute the sandbox does not model counts
    /// as matching, so the log errs towards showing a firing; no conditions always match.
    fn conditions_match(
        &self,
        conditions: &[Value],
        c: &Conversation,
        m: Option<&Message>,
    ) -> bool {
        let contact = self.contacts.get(&c.contact_id);
        let mut result: Option<bool> = None;
        let mut joiner = "AND".to_owned();
        for cond in conditions {
            let key = cond["attribute_key"].as_str().unwrap_or_default();
            let actual: Option<Value> = match key {
                "status" => Some(json!(c.status)),
                "assignee_id" => Some(json!(c.assignee_id)),
                "team_id" => Some(json!(c.team_id)),
                "inbox_id" => Some(json!(c.inbox_id)),
                "priority" => Some(json!(c.priority)),
                "labels" => Some(json!(c.labels)),
                "message_type" => m.map(|m| json!(m.message_type.name())),
                "content" => m.map(|m| json!(m.content)),
                "email" => contact.map(|ct| json!(ct.email)),
                "phone_number" => contact.map(|ct| json!(ct.phone_number)),
                k => c
                    .additional_attributes
                    .get(k)
                    .or_else(|| c.custom_attributes.get(k))
                    .or_else(|| contact.and_then(|ct| ct.custom_attributes.get(k)))
                    .cloned(),
            };
            let ok = actual.is_none_or(|a| condition_holds(&a, cond));
            result = Some(match (result, joiner.as_str()) {
                (None, _) => ok,
                (Some(r), "OR") => r || ok,
                (Some(r), _) => r && ok,
            });
            joiner = cond["query_operator"]
                .as_str()
                .unwrap_or("AND")
                .to_uppercase();
        }
        result.unwrap_or(true)
    }

    /// `NotificationListener`: an assignment notifies the new assignee (email and push by the
    /// default `notification_settings`, `account_user.rb#create_notification_setting`); a new
    /// message notifies the assignee in-app (no email or push flag by default).
    fn notification_listener(&mut self, event: &Event) {
        let now = self.now();
        let (pk, user, kind, deliveries) = match event {
            Event::AssigneeChanged(pk, notifiable) => {
                let Some(c) = self.conversations.get(pk) else {
                    return;
                };
                match c.assignee_id {
                    Some(u) if *notifiable && c.status != "pending" => {
                        (*pk, u, "conversation_assignment", vec!["email", "push"])
                    }
                    _ => return,
                }
            }
            // Messages::NewMessageNotificationService (incoming or outgoing only).
            Event::MessageCreated(id) => {
                let Some(m) = self.messages.get(id) else {
                    return;
                };
                if !matches!(
                    m.message_type,
                    MessageType::Incoming | MessageType::Outgoing
                ) {
                    return;
                }
                let Some(c) = self.conversations.get(&m.conversation_id) else {
                    return;
                };
                match c.assignee_id {
                    Some(u) if !(m.sender_type == Some("User") && m.sender_id == Some(u)) => {
                        (c.id, u, "assigned_conversation_new_message", Vec::new())
                    }
                    _ => return,
                }
            }
            _ => return,
        };
        let Some(c) = self.conversations.get(&pk) else {
            return;
        };
        // NotificationBuilder: nothing for a blocked contact's conversation.
        if self
            .contacts
            .get(&c.contact_id)
            .is_some_and(|ct| ct.blocked)
        {
            return;
        }
        self.agent_notifications.push(AgentNotification {
            account_id: c.account_id,
            user_id: user,
            notification_type: kind,
            conversation_id: c.display_id,
            deliveries,
            at: now,
        });
    }

    /// `CsatSurveyService`: a conversation resolved in an inbox with `csat_survey_enabled` gets
    /// one `input_csat` template message, unless one was already sent; a WhatsApp conversation
    /// outside its 24-hour window gets an activity message instead.
    fn csat_survey(&mut self, pk: u64, caller: &Caller) {
        let Some(c) = self.conversations.get(&pk) else {
            return;
        };
        let Some(inbox) = self.inboxes.get(&c.inbox_id) else {
            return;
        };
        if c.status != "resolved" || !inbox.csat_survey_enabled {
            return;
        }
        let messages: Vec<&Message> = self
            .conversation_messages
            .get(&pk)
            .map(|ids| ids.iter().filter_map(|id| self.messages.get(id)).collect())
            .unwrap_or_default();
        if messages.iter().any(|m| m.content_type == "input_csat") {
            return;
        }
        // Conversations::MessageWindowService: only WhatsApp has a window without configuration.
        let window_open = inbox.channel_type != "Channel::Whatsapp"
            || messages
                .iter()
                .rev()
                .find(|m| m.message_type == MessageType::Incoming)
                .is_some_and(|m| self.now() < m.created_at + SignedDuration::from_hours(24));
        if !window_open {
            self.activity(
                pk,
                "CSAT survey not sent due to outgoing message restrictions".into(),
            );
            return;
        }
        let attrs = Map::from_iter([("display_type".to_owned(), json!("emoji"))]);
        self.template_message(
            pk,
            "csat_survey",
            "Please rate the conversation",
            "input_csat",
            attrs,
            caller,
        );
    }
}

/// One condition of an automation rule against the attribute's value.
fn condition_holds(actual: &Value, cond: &Value) -> bool {
    let values: Vec<Value> = match &cond["values"] {
        Value::Array(v) => v.clone(),
        Value::Null => Vec::new(),
        other => vec![other.clone()],
    };
    let text = |v: &Value| match v {
        Value::String(s) => s.to_lowercase(),
        Value::Null => String::new(),
        other => other.to_string().to_lowercase(),
    };
    let listed = |a: &Value| match a {
        Value::Array(items) => items.iter().map(text).collect::<Vec<_>>(),
        other => vec![text(other)],
    };
    let wanted: Vec<String> = values
        .iter()
        .map(|v| v.get("id").map_or_else(|| text(v), text))
        .collect();
    let have = listed(actual);
    let present = have.iter().any(|h| !h.is_empty());
    match cond["filter_operator"].as_str().unwrap_or_default() {
        "equal_to" => have.iter().any(|h| wanted.contains(h)),
        "not_equal_to" => !have.iter().any(|h| wanted.contains(h)),
        "contains" => have
            .iter()
            .any(|h| wanted.iter().any(|w| h.contains(w.as_str()))),
        "does_not_contain" => !have
            .iter()
            .any(|h| wanted.iter().any(|w| h.contains(w.as_str()))),
        "starts_with" => have
            .iter()
            .any(|h| wanted.iter().any(|w| h.starts_with(w.as_str()))),
        "is_present" => present,
        "is_not_present" => !present,
        // attribute_changed, dates, numbers: not modelled, so treated as matching.
        _ => true,
    }
}
