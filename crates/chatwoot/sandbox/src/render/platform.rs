//! Platform API views: users, accounts and account users.

use serde_json::{Value, json};

use super::{available_name, iso};
use crate::state::{Account, AccountUser, Database, User};

/// Platform API user view (`platform/api/v1/models/_user.json.jbuilder`).
pub fn platform_user(s: &Database, u: &User) -> Value {
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

/// Platform API account view.
pub fn platform_account(a: &Account) -> Value {
    json!({"id": a.id, "name": a.name, "locale": "en", "domain": null, "support_email": null,
           "status": a.status, "created_at": iso(a.created_at), "custom_attributes": {},
           "features": {}, "limits": {}})
}

/// Platform API account-user view.
pub fn platform_account_user(au: &AccountUser) -> Value {
    json!({"id": au.id, "account_id": au.account_id, "user_id": au.user_id, "role": au.role,
           "inviter_id": null, "active_at": null, "availability": au.availability,
           "auto_offline": au.auto_offline, "custom_role_id": null})
}
