//! Teams: `_team`.

use serde_json::{Value, json};

use crate::state::Team;

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
