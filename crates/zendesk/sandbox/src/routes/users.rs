//! Users: the signed-in admin, the list (CBP/OBP; deleted users are left out, as Zendesk lists
//! them under `deleted_users`), show (deleted users answer with `active:false`), `show_many`
//! and identities (research §3.5).

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, Query, RawQuery, State};
use serde_json::json;

use crate::derive;
use crate::error::ApiError;
use crate::ids::{UserRef, user_ref};
use crate::origin::Origin;
use crate::paging::Params;
use crate::render::Render;
use crate::respond::{ApiResult, ok};
use crate::routes::{list as paged, renderer};
use crate::state::AppState;

pub(crate) async fn me(
    State(s): State<Arc<AppState>>,
    Extension(o): Extension<Origin>,
) -> ApiResult {
    let r = renderer(&s, &o);
    ok(json!({"user": r.user(UserRef::Agent(0))}))
}

/// Whether a user shows in `GET /users` with this role filter.
fn listed(r: &Render<'_>, who: UserRef, roles: &[String]) -> bool {
    let (role, active) = match who {
        UserRef::Agent(a) => (
            if Render::is_admin(a) {
                "admin"
            } else {
                "agent"
            },
            r.view.agent(a).is_some_and(|x| !x.departed),
        ),
        UserRef::Automation => ("agent", true),
        UserRef::EndUser(j) => ("end-user", !derive::contact_deleted(j)),
    };
    active && (roles.is_empty() || roles.iter().any(|x| x == role))
}

/// Every `role` and `role[]` value of a query: `role[]` repeats (`role[]=agent&role[]=admin`),
/// so the raw query is read, not the last-value-wins map (research §3.5).
fn roles_of(query: Option<&str>) -> Vec<String> {
    url::form_urlencoded::parse(query.unwrap_or("").as_bytes())
        .filter(|(k, _)| k == "role" || k == "role[]")
        .flat_map(|(_, v)| v.split(',').map(str::to_owned).collect::<Vec<_>>())
        .filter(|v| !v.is_empty())
        .collect()
}

pub(crate) async fn list(
    State(s): State<Arc<AppState>>,
    Extension(o): Extension<Origin>,
    Query(p): Query<Params>,
    RawQuery(query): RawQuery,
) -> ApiResult {
    let r = renderer(&s, &o);
    let roles = roles_of(query.as_deref());
    let all: Vec<UserRef> = (0..r.view.agent_count())
        .map(UserRef::Agent)
        .chain([UserRef::Automation])
        .chain((0..r.view.contact_count()).map(UserRef::EndUser))
        .filter(|w| listed(&r, *w, &roles))
        .collect();
    paged("users", all.len() as u64, 100, &o, &p, |k| {
        r.user(all[k as usize])
    })
}

pub(crate) async fn show(
    State(s): State<Arc<AppState>>,
    Extension(o): Extension<Origin>,
    Path(id): Path<String>,
) -> ApiResult {
    let r = renderer(&s, &o);
    let user = id
        .parse()
        .ok()
        .and_then(user_ref)
        .and_then(|w| r.user(w))
        .ok_or_else(ApiError::not_found)?;
    ok(json!({ "user": user }))
}

pub(crate) async fn show_many(
    State(s): State<Arc<AppState>>,
    Extension(o): Extension<Origin>,
    Query(p): Query<Params>,
) -> ApiResult {
    let r = renderer(&s, &o);
    let users: Vec<_> = p
        .get("ids")
        .map(String::as_str)
        .unwrap_or("")
        .split(',')
        .filter_map(|x| x.trim().parse().ok())
        .filter_map(user_ref)
        .filter_map(|w| r.user(w))
        .collect();
    ok(json!({ "users": users, "next_page": null, "previous_page": null, "count": users.len() }))
}

pub(crate) async fn identities(
    State(s): State<Arc<AppState>>,
    Extension(o): Extension<Origin>,
    Path(id): Path<String>,
) -> ApiResult {
    let r = renderer(&s, &o);
    let list = id
        .parse()
        .ok()
        .and_then(user_ref)
        .and_then(|w| r.identities(w))
        .ok_or_else(ApiError::not_found)?;
    let n = list.len();
    ok(json!({ "identities": list, "next_page": null, "previous_page": null, "count": n }))
}

#[cfg(test)]
mod tests {
    use super::roles_of;

    #[test]
    fn repeated_role_keys_are_all_kept() {
        assert_eq!(
            roles_of(Some("role%5B%5D=agent&role%5B%5D=admin&per_page=1")),
            ["agent", "admin"]
        );
        assert_eq!(
            roles_of(Some("role[]=agent&role[]=admin")),
            ["agent", "admin"]
        );
        assert_eq!(roles_of(Some("role=end-user")), ["end-user"]);
        assert!(roles_of(None).is_empty());
    }
}
