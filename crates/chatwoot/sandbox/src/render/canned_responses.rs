//! Canned responses.

use serde_json::{Value, json};

use super::iso;
use crate::state::CannedResponse;

/// Canned responses render the raw model (ISO timestamps, ../shared/research/chatwoot.md §1).
pub fn canned_response(c: &CannedResponse) -> Value {
    json!({"id": c.id, "account_id": c.account_id, "short_code": c.short_code, "content": c.content,
           "created_at": iso(c.created_at), "updated_at": iso(c.updated_at)})
}
