//! The API host's routes, one file per resource, behind the front door (`auth`), plus the
//! attachment-token first hop and the sandbox's own `/__sandbox/*` endpoints (`inspect`).

pub(crate) mod attachments;
pub(crate) mod audits;
pub(crate) mod comments;
pub(crate) mod content;
pub(crate) mod deleted;
pub(crate) mod directory;
pub(crate) mod incremental;
pub(crate) mod tickets;
pub(crate) mod users;

use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{get, post};
use serde_json::Value;

use crate::origin::Origin;
use crate::paging::{self, Params};
use crate::render::Render;
use crate::respond::{ApiResult, ok};
use crate::state::AppState;
use crate::{auth, inspect};

/// Every route of the API host (paths without `.json`; `origin::strip_json` runs first).
pub(crate) fn router(state: Arc<AppState>) -> Router {
    let api = |p: &str| format!("/api/v2{p}");
    Router::new()
        .route(&api("/users/me"), get(users::me))
        .route(&api("/users"), get(users::list))
        .route(&api("/users/show_many"), get(users::show_many))
        .route(&api("/users/{id}"), get(users::show))
        .route(&api("/users/{id}/identities"), get(users::identities))
        .route(&api("/organizations"), get(directory::organizations))
        .route(&api("/organizations/{id}"), get(directory::organization))
        .route(
            &api("/organization_memberships"),
            get(directory::organization_memberships),
        )
        .route(&api("/groups"), get(directory::groups))
        .route(&api("/groups/{id}"), get(directory::group))
        .route(
            &api("/group_memberships"),
            get(directory::group_memberships),
        )
        .route(&api("/brands"), get(directory::brands))
        .route(&api("/tags"), get(directory::tags))
        .route(&api("/tickets"), get(tickets::list))
        .route(&api("/tickets/count"), get(tickets::count))
        .route(&api("/tickets/show_many"), get(tickets::show_many))
        .route(&api("/tickets/{id}"), get(tickets::show))
        .route(&api("/tickets/{id}/comments"), get(comments::list))
        .route(&api("/tickets/{id}/audits"), get(audits::for_ticket))
        .route(&api("/ticket_audits"), get(audits::all))
        .route(&api("/deleted_tickets"), get(deleted::list))
        .route(&api("/search"), get(tickets::search))
        .route(&api("/satisfaction_ratings"), get(tickets::ratings))
        .route(
            &api("/incremental/tickets/cursor"),
            get(incremental::tickets_cursor),
        )
        .route(
            &api("/incremental/users/cursor"),
            get(incremental::users_cursor),
        )
        .route(&api("/incremental/tickets"), get(incremental::tickets_time))
        .route(&api("/incremental/users"), get(incremental::users_time))
        .route(
            &api("/incremental/organizations"),
            get(incremental::organizations_time),
        )
        .route(
            &api("/incremental/ticket_events"),
            get(incremental::ticket_events),
        )
        .route(&api("/attachments/{id}"), get(attachments::show))
        .route("/attachments/token/{token}/", get(attachments::first_hop))
        .route("/attachments/token/{token}", get(attachments::first_hop))
        .route(&api("/ticket_fields"), get(content::ticket_fields))
        .route(&api("/ticket_fields/{id}"), get(content::ticket_field))
        .route(&api("/ticket_forms"), get(content::ticket_forms))
        .route(&api("/user_fields"), get(content::user_fields))
        .route(
            &api("/organization_fields"),
            get(content::organization_fields),
        )
        .route(&api("/macros"), get(content::macros))
        .route(&api("/macros/{id}"), get(content::macro_one))
        .route(&api("/help_center/categories"), get(content::categories))
        .route(&api("/help_center/sections"), get(content::sections))
        .route(&api("/help_center/articles"), get(content::articles))
        .route(
            &api("/help_center/{locale}/articles"),
            get(content::articles_in),
        )
        .route(&api("/help_center/articles/{id}"), get(content::article))
        .route(
            &api("/help_center/articles/{id}/translations"),
            get(content::translations),
        )
        .route(
            &api("/help_center/articles/{id}/attachments"),
            get(content::article_attachments),
        )
        .route("/__sandbox/expected", get(inspect::get_expected))
        .route("/__sandbox/stats", get(inspect::get_stats))
        .route("/__sandbox/advance", post(inspect::post_advance))
        .route("/__sandbox/touch", post(inspect::post_touch))
        .fallback(|| async { StatusCode::NOT_FOUND })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::front_door,
        ))
        .with_state(state)
}

/// The rendering context of one request.
pub(crate) fn renderer<'a>(s: &'a AppState, origin: &'a Origin) -> Render<'a> {
    Render {
        view: s.view(),
        origin,
        signer: &s.signer,
    }
}

/// A paginated list of `total` items (CBP or OBP by the query), rendered by `get`.
pub(crate) fn list(
    key: &str,
    total: u64,
    default_page: u64,
    origin: &Origin,
    params: &Params,
    get: impl Fn(u64) -> Option<Value>,
) -> ApiResult {
    let page = paging::parse(params, default_page)?;
    let (range, meta) = paging::slice(page, total, origin, params);
    let items = range.filter_map(get).collect();
    ok(paging::body(key, items, meta))
}
