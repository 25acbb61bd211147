//! Inboxes: `_inbox`, `_inbox_slim` and the raw model.

use serde_json::{Value, json};

use super::iso;
use crate::state::Inbox;

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

/// The inbox model's own `as_json`, which contact create renders under `contact_inbox.inbox`.
pub fn inbox_record(i: &Inbox) -> Value {
    json!({"id": i.id, "channel_id": i.channel_id, "account_id": i.account_id, "name": i.name,
           "created_at": iso(i.created_at), "updated_at": iso(i.created_at),
           "channel_type": i.channel_type, "enable_auto_assignment": i.enable_auto_assignment,
           "greeting_enabled": i.greeting_enabled, "greeting_message": i.greeting_message,
           "email_address": null, "working_hours_enabled": i.working_hours_enabled,
           "out_of_office_message": i.out_of_office_message, "timezone": i.timezone,
           "enable_email_collect": i.enable_email_collect, "csat_survey_enabled": i.csat_survey_enabled,
           "allow_messages_after_resolved": i.allow_messages_after_resolved,
           "auto_assignment_config": {}, "lock_to_single_conversation": i.lock_to_single_conversation,
           "portal_id": null, "sender_name_type": "friendly", "business_name": null, "csat_config": {}})
}
