//! Accounts: the Application API view.

use serde_json::{Value, json};

use super::iso;
use crate::state::Account;

/// `_account.json.jbuilder` + `show.json.jbuilder`; `features` is `enabled_features`, a hash.
pub fn account(a: &Account) -> Value {
    json!({"settings": {}, "created_at": iso(a.created_at), "domain": null,
           "features": {"help_center": true, "agent_bots": true, "inbound_emails": true},
           "id": a.id, "locale": "en", "name": a.name, "support_email": null, "status": a.status,
           "cache_keys": {"label": 0, "inbox": 0, "team": 0}, "latest_chatwoot_version": "4.10.0"})
}
