//! Agents: `_agent`, `User#push_event_data` and `User#available_name`.

use serde_json::{Value, json};

use crate::state::{Database, User};

/// `User#push_event_data`, with the user's availability in `account_id`.
pub fn user_push(s: &Database, account_id: u64, u: &User) -> Value {
    json!({"id": u.id, "name": u.name, "available_name": available_name(u),
           "avatar_url": "", "type": "user",
           "availability_status": s.availability_status(account_id, u.id), "thumbnail": ""})
}

/// `User#available_name`: display name, else name.
pub fn available_name(u: &User) -> String {
    u.display_name
        .clone()
        .filter(|d| !d.is_empty())
        .unwrap_or_else(|| u.name.clone())
}

/// `_agent.json.jbuilder`.
pub fn agent(s: &Database, account_id: u64, u: &User) -> Value {
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
    s: &Database,
    account_id: u64,
    user_ids: impl IntoIterator<Item = &'a u64>,
) -> Vec<Value> {
    user_ids
        .into_iter()
        .filter_map(|u| s.users.get(u))
        .map(|u| agent(s, account_id, u))
        .collect()
}
