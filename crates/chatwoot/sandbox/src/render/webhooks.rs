//! Webhooks and automation rules: `webhooks/_webhook` and `automation_rules/_automation_rule`.

use serde_json::{Value, json};

use super::epoch;
use crate::state::{AutomationRule, Database, Webhook};

/// `_webhook.json.jbuilder`.
pub fn webhook(s: &Database, w: &Webhook) -> Value {
    let mut v = json!({"id": w.id, "name": w.name, "url": w.url, "account_id": w.account_id,
                       "subscriptions": w.subscriptions});
    if let Some(i) = w.inbox_id.and_then(|i| s.inboxes.get(&i)) {
        v["inbox"] = json!({"id": i.id, "name": i.name});
    }
    v
}

/// `_automation_rule.json.jbuilder` (`created_on` is epoch seconds).
pub fn automation_rule(r: &AutomationRule) -> Value {
    json!({"id": r.id, "account_id": r.account_id, "name": r.name, "description": r.description,
           "event_name": r.event_name, "conditions": r.conditions, "actions": r.actions,
           "created_on": epoch(r.created_at), "active": r.active})
}
