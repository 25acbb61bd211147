//! Response bodies, field for field as Chatwoot's jbuilder views render them.
//!
//! Sources: `views/api/v1/models/_contact`, `_message`, `_inbox`, `_agent`, `_team`,
//! `conversations/partials/_conversation` and the models' `push_event_data`
//! (`../shared/research/chatwoot.md §2`). Most timestamps are epoch integers; canned responses and
//! custom attribute definitions render raw ISO strings (§1).

use jiff::Timestamp;
use serde_json::{Value, json};

use super::model::{
    CannedResponse, Contact, ContactInbox, Conversation, CustomAttributeDefinition, Inbox, Label,
    Message, Team, User,
};
use super::rules::message_type_int;
use super::store::Store;

mod help_center;
pub use help_center::{article, category, portal};

/// `time.to_i`.
pub fn epoch(t: Timestamp) -> i64 {
    t.as_second()
}

/// `nil.to_i` is 0.
pub fn epoch_or_zero(t: Option<Timestamp>) -> i64 {
    t.map_or(0, epoch)
}

/// ActiveSupport's JSON time: ISO 8601 with milliseconds.
pub fn iso(t: Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// `_contact.json.jbuilder`; `with_inboxes` adds `contact_inboxes` as the `/contacts` routes do.
pub fn contact(s: &Store, c: &Contact, with_inboxes: bool) -> Value {
    let mut v = json!({
        "additional_attributes": c.additional_attributes,
        "availability_status": "offline",
        "email": c.email,
        "id": c.id,
        "name": c.name,
        "phone_number": c.phone_number,
        "blocked": c.blocked,
        "identifier": c.identifier,
        "thumbnail": "",
        "custom_attributes": c.custom_attributes,
    });
    if let Some(t) = c.last_activity_at {
        v["last_activity_at"] = json!(epoch(t));
    }
    v["created_at"] = json!(epoch(c.created_at));
    if with_inboxes {
        let inboxes: Vec<Value> = s
            .contact_inboxes
            .values()
            .filter(|ci| ci.contact_id == c.id)
            .map(|ci| contact_inbox(s, ci))
            .collect();
        v["contact_inboxes"] = json!(inboxes);
    }
    v
}

/// `_contact_inbox.json.jbuilder`: `{source_id, inbox: <slim inbox>}`.
pub fn contact_inbox(s: &Store, ci: &ContactInbox) -> Value {
    json!({
        "source_id": ci.source_id,
        "inbox": s.inboxes.get(&ci.inbox_id).map(inbox_slim),
    })
}

/// `_inbox_slim.json.jbuilder`.
pub fn inbox_slim(i: &Inbox) -> Value {
    json!({
        "id": i.id,
        "avatar_url": "",
        "channel_id": i.channel_id,
        "name": i.name,
        "channel_type": i.channel_type,
        "provider": null,
    })
}

/// `_inbox.json.jbuilder` for an API channel (admin view, so `hmac_token` is included).
pub fn inbox(i: &Inbox) -> Value {
    let working_hours: Vec<Value> = (0..7)
        .map(|d| {
            json!({"day_of_week": d, "closed_all_day": d == 0 || d == 6, "open_hour": 9,
                   "open_minutes": 0, "close_hour": 17, "close_minutes": 0, "open_all_day": false})
        })
        .collect();
    json!({
        "id": i.id,
        "avatar_url": "",
        "channel_id": i.channel_id,
        "name": i.name,
        "channel_type": i.channel_type,
        "greeting_enabled": i.greeting_enabled,
        "greeting_message": i.greeting_message,
        "working_hours_enabled": i.working_hours_enabled,
        "enable_email_collect": i.enable_email_collect,
        "csat_survey_enabled": i.csat_survey_enabled,
        "csat_config": {},
        "enable_auto_assignment": i.enable_auto_assignment,
        "auto_assignment_config": {},
        "out_of_office_message": i.out_of_office_message,
        "working_hours": working_hours,
        "timezone": i.timezone,
        "callback_webhook_url": null,
        "allow_messages_after_resolved": i.allow_messages_after_resolved,
        "lock_to_single_conversation": i.lock_to_single_conversation,
        "sender_name_type": "friendly",
        "business_name": null,
        "hmac_token": i.hmac_token,
        "webhook_url": i.webhook_url,
        "inbox_identifier": i.identifier,
        "additional_attributes": {},
        "provider": null,
    })
}

/// `User#push_event_data` / `AgentBot#push_event_data` / `Contact#push_event_data`.
pub fn sender(s: &Store, m: &Message) -> Option<Value> {
    let id = m.sender_id?;
    match m.sender_type? {
        "User" => s.users.get(&id).map(|u| user_push(s, m.account_id, u)),
        "AgentBot" => s
            .agent_bots
            .get(&id)
            .map(|b| json!({"id": b.id, "name": b.name, "avatar_url": "", "type": "agent_bot"})),
        _ => s.contacts.get(&id).map(contact_push),
    }
}

/// `User#push_event_data`, with the user's availability in `account_id`.
pub fn user_push(s: &Store, account_id: u64, u: &User) -> Value {
    json!({"id": u.id, "name": u.name, "available_name": available_name(u),
           "avatar_url": "", "type": "user",
           "availability_status": s.availability_status(account_id, u.id), "thumbnail": ""})
}

/// `Contact#push_event_data`.
pub fn contact_push(c: &Contact) -> Value {
    json!({"additional_attributes": c.additional_attributes, "custom_attributes": c.custom_attributes,
           "email": c.email, "id": c.id, "identifier": c.identifier, "name": c.name,
           "phone_number": c.phone_number, "thumbnail": "", "blocked": c.blocked, "type": "contact"})
}

/// `User#available_name`: display name, else name.
pub fn available_name(u: &User) -> String {
    u.display_name
        .clone()
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| u.name.clone())
}

/// `_message.json.jbuilder`.
pub fn message(s: &Store, m: &Message) -> Value {
    let display_id = s
        .conversations
        .get(&m.conversation_id)
        .map_or(0, |c| c.display_id);
    let mut v = json!({
        "id": m.id,
        "content": m.content,
        "inbox_id": m.inbox_id,
        "conversation_id": display_id,
        "message_type": message_type_int(m.message_type),
        "content_type": m.content_type,
        "status": m.status,
        "content_attributes": m.content_attributes,
        "created_at": epoch(m.created_at),
        "private": m.private,
        "source_id": m.source_id,
    });
    if let Some(e) = &m.echo_id {
        v["echo_id"] = json!(e);
    }
    if let Some(snd) = sender(s, m) {
        v["sender"] = snd;
    }
    if !m.attachments.is_empty() {
        let atts: Vec<Value> = m
            .attachments
            .iter()
            .map(|a| {
                json!({"id": a.id, "message_id": m.id, "file_type": a.file_type, "account_id": m.account_id,
                       "extension": null, "data_url": format!("/rails/active_storage/blobs/{}/{}", a.id, a.file_name),
                       "thumb_url": "", "file_size": a.byte_size, "width": null, "height": null})
            })
            .collect();
        v["attachments"] = json!(atts);
    }
    v
}

/// `_agent.json.jbuilder`.
pub fn agent(s: &Store, account_id: u64, u: &User) -> Value {
    let au = s.account_user(account_id, u.id);
    json!({
        "id": u.id,
        "account_id": account_id,
        "availability_status": s.availability_status(account_id, u.id),
        "auto_offline": au.is_none_or(|a| a.auto_offline),
        "confirmed": u.confirmed,
        "email": u.email,
        "provider": "email",
        "available_name": available_name(u),
        "name": u.name,
        "role": au.map_or("agent", |a| a.role.as_str()),
        "thumbnail": "",
    })
}

/// `_agent` for each of `user_ids` that is a user (the member lists of teams and inboxes).
pub fn agents<'a>(
    s: &Store,
    account_id: u64,
    user_ids: impl IntoIterator<Item = &'a u64>,
) -> Vec<Value> {
    user_ids
        .into_iter()
        .filter_map(|u| s.users.get(u))
        .map(|u| agent(s, account_id, u))
        .collect()
}

/// The number of incoming messages newer than `agent_last_seen_at`, capped at 10
/// (`Conversation#unread_incoming_messages`).
pub fn unread_count(s: &Store, c: &Conversation) -> usize {
    s.conversation_messages.get(&c.id).map_or(0, |ids| {
        ids.iter()
            .filter_map(|id| s.messages.get(id))
            .filter(|m| m.message_type == "incoming")
            .filter(|m| c.agent_last_seen_at.is_none_or(|seen| m.created_at > seen))
            .count()
            .min(10)
    })
}

/// `conversations/partials/_conversation.json.jbuilder`.
pub fn conversation(s: &Store, c: &Conversation) -> Value {
    let ids = s.conversation_messages.get(&c.id);
    let last = ids
        .and_then(|ids| ids.last())
        .and_then(|id| s.messages.get(id));
    let last_non_activity = ids.and_then(|ids| {
        ids.iter()
            .rev()
            .filter_map(|id| s.messages.get(id))
            .find(|m| m.message_type != "activity")
    });
    let mut meta = json!({
        "sender": s.contacts.get(&c.contact_id).map(|ct| contact(s, ct, false)),
        "channel": s.inboxes.get(&c.inbox_id).map(|i| i.channel_type.clone()),
        "hmac_verified": s.contact_inboxes.get(&c.contact_inbox_id).map(|ci| ci.hmac_verified),
    });
    if let Some(u) = c.assignee_id.and_then(|id| s.users.get(&id)) {
        meta["assignee"] = agent(s, c.account_id, u);
        meta["assignee_type"] = json!("User");
    }
    if let Some(t) = c.team_id.and_then(|id| s.teams.get(&id)) {
        meta["team"] = team(t, None);
    }
    json!({
        "meta": meta,
        "id": c.display_id,
        "messages": last.map(|m| vec![message(s, m)]).unwrap_or_default(),
        "account_id": c.account_id,
        "uuid": c.uuid,
        "additional_attributes": c.additional_attributes,
        "agent_last_seen_at": epoch_or_zero(c.agent_last_seen_at),
        "assignee_last_seen_at": epoch_or_zero(c.assignee_last_seen_at),
        "can_reply": true,
        "contact_last_seen_at": epoch_or_zero(c.contact_last_seen_at),
        "custom_attributes": c.custom_attributes,
        "inbox_id": c.inbox_id,
        "labels": c.labels,
        "muted": false,
        "snoozed_until": c.snoozed_until.map(epoch),
        "status": c.status,
        "created_at": epoch(c.created_at),
        "updated_at": c.updated_at.as_millisecond() as f64 / 1000.0,
        "timestamp": epoch(c.last_activity_at),
        "first_reply_created_at": epoch_or_zero(c.first_reply_created_at),
        "unread_count": unread_count(s, c),
        "last_non_activity_message": last_non_activity.map(|m| message(s, m)),
        "last_activity_at": epoch(c.last_activity_at),
        "priority": c.priority,
        "waiting_since": epoch_or_zero(c.waiting_since),
        "sla_policy_id": null,
    })
}

/// `_team.json.jbuilder`; `is_member` for the calling user.
pub fn team(t: &Team, caller: Option<u64>) -> Value {
    json!({
        "id": t.id,
        "name": t.name,
        "description": t.description,
        "allow_auto_assign": t.allow_auto_assign,
        "account_id": t.account_id,
        "is_member": caller.is_some_and(|u| t.member_ids.contains(&u)),
    })
}

/// `labels/_label` view.
pub fn label(l: &Label) -> Value {
    json!({"id": l.id, "title": l.title, "description": l.description, "color": l.color,
           "show_on_sidebar": l.show_on_sidebar})
}

/// Canned responses render the raw model (ISO timestamps, issue #4827).
pub fn canned(c: &CannedResponse) -> Value {
    json!({"id": c.id, "account_id": c.account_id, "short_code": c.short_code, "content": c.content,
           "created_at": iso(c.created_at), "updated_at": iso(c.updated_at)})
}

/// Custom attribute definitions render the raw model (ISO timestamps).
pub fn attribute_definition(d: &CustomAttributeDefinition) -> Value {
    json!({
        "id": d.id,
        "attribute_display_name": d.attribute_display_name,
        "attribute_display_type": d.attribute_display_type,
        "attribute_description": d.attribute_description,
        "attribute_key": d.attribute_key,
        "regex_pattern": d.regex_pattern,
        "regex_cue": d.regex_cue,
        "attribute_values": d.attribute_values,
        "attribute_model": d.attribute_model,
        "default_value": d.default_value,
        "created_at": iso(d.created_at),
        "updated_at": iso(d.updated_at),
    })
}

/// Platform API user view (`platform/api/v1/models/_user.json.jbuilder`).
pub fn platform_user(s: &Store, u: &User) -> Value {
    let account_users: Vec<_> = s
        .account_users
        .values()
        .filter(|au| au.user_id == u.id)
        .collect();
    let accounts: Vec<Value> = account_users
        .iter()
        .filter_map(|au| {
            s.accounts
                .get(&au.account_id)
                .map(|a| json!({"id": a.id, "name": a.name, "active_at": null, "role": au.role}))
        })
        .collect();
    let active = account_users.first();
    let mut v = json!({
        "access_token": u.access_token,
        "account_id": active.map(|au| au.account_id),
        "available_name": available_name(u),
        "avatar_url": "",
        "confirmed": u.confirmed,
        "display_name": u.display_name,
        "message_signature": null,
        "email": u.email,
        "id": u.id,
        "name": u.name,
        "provider": "email",
        "pubsub_token": s.secure_token("pubsub", u.id),
        "role": active.map(|au| au.role.clone()),
        "ui_settings": {},
        "uid": u.email,
        "accounts": accounts,
    });
    if !u.custom_attributes.is_empty() {
        v["custom_attributes"] = json!(u.custom_attributes);
    }
    v
}
