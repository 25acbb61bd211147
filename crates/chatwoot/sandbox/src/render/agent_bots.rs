//! Agent bots.

use serde_json::{Value, json};

use crate::state::AgentBot;

/// Agent bot view, with its access token (the admin creating it needs it).
pub fn agent_bot(b: &AgentBot) -> Value {
    json!({"id": b.id, "name": b.name, "description": null, "thumbnail": "", "outgoing_url": null,
           "bot_type": "webhook", "bot_config": {}, "account_id": b.account_id, "access_token": b.access_token})
}
