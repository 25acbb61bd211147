//! The route table: Application API, Platform API and the sandbox's own inspection endpoints.

mod admin;
mod attributes;
mod contact_inboxes;
mod contact_search;
mod contacts;
mod conversation_actions;
mod conversations;
mod filter;
mod help_center;
mod inboxes;
mod messages;
mod people;
mod platform;
mod resource;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post};
use serde_json::json;

use super::App;
use super::model::{Article, CannedResponse, Category, CustomAttributeDefinition, Label, Team};

/// Every route the sandbox serves.
pub fn router(app: Arc<App>) -> Router {
    let acct = Router::new()
        .route("/", get(people::account_show))
        .route(
            "/contacts",
            get(contact_search::index).post(contacts::create),
        )
        .route("/contacts/search", get(contact_search::search))
        .route("/contacts/filter", post(contact_search::filter))
        .route(
            "/contacts/{id}",
            get(contacts::show)
                .put(contacts::update)
                .patch(contacts::update)
                .delete(contacts::destroy),
        )
        .route(
            "/contacts/{id}/labels",
            get(contacts::labels_index).post(contacts::labels_create),
        )
        .route(
            "/contacts/{id}/conversations",
            get(contact_inboxes::conversations),
        )
        .route(
            "/contacts/{id}/contactable_inboxes",
            get(contact_inboxes::contactable_inboxes),
        )
        .route(
            "/contacts/{id}/contact_inboxes",
            post(contact_inboxes::contact_inbox_create),
        )
        .route(
            "/contact_inboxes/filter",
            post(contact_inboxes::contact_inbox_filter),
        )
        .route(
            "/conversations",
            get(conversations::index).post(conversations::create),
        )
        .route("/conversations/meta", get(conversations::meta))
        .route("/conversations/filter", post(conversations::filter))
        .route(
            "/conversations/{id}",
            get(conversations::show)
                .patch(conversation_actions::update)
                .delete(conversations::destroy),
        )
        .route(
            "/conversations/{id}/toggle_status",
            post(conversation_actions::toggle_status),
        )
        .route(
            "/conversations/{id}/toggle_priority",
            post(conversation_actions::toggle_priority),
        )
        .route(
            "/conversations/{id}/custom_attributes",
            post(conversation_actions::custom_attributes),
        )
        .route(
            "/conversations/{id}/assignments",
            post(conversation_actions::assignments),
        )
        .route(
            "/conversations/{id}/labels",
            get(conversation_actions::labels_index).post(conversation_actions::labels_create),
        )
        .route(
            "/conversations/{id}/update_last_seen",
            post(conversation_actions::update_last_seen),
        )
        .route(
            "/conversations/{id}/messages",
            get(messages::index).post(messages::create),
        )
        .route(
            "/conversations/{id}/messages/{message_id}",
            delete(messages::destroy).patch(messages::update),
        )
        .route(
            "/labels",
            get(resource::index::<Label>).post(resource::create::<Label>),
        )
        .route(
            "/labels/{id}",
            get(resource::show::<Label>)
                .patch(resource::update::<Label>)
                .put(resource::update::<Label>)
                .delete(resource::destroy::<Label>),
        )
        .route(
            "/canned_responses",
            get(resource::index::<CannedResponse>).post(resource::create::<CannedResponse>),
        )
        .route(
            "/canned_responses/{id}",
            patch(resource::update::<CannedResponse>)
                .put(resource::update::<CannedResponse>)
                .delete(resource::destroy::<CannedResponse>),
        )
        .route(
            "/custom_attribute_definitions",
            get(resource::index::<CustomAttributeDefinition>)
                .post(resource::create::<CustomAttributeDefinition>),
        )
        .route(
            "/custom_attribute_definitions/{id}",
            get(resource::show::<CustomAttributeDefinition>)
                .patch(resource::update::<CustomAttributeDefinition>)
                .put(resource::update::<CustomAttributeDefinition>)
                .delete(resource::destroy::<CustomAttributeDefinition>),
        )
        .route("/upload", post(admin::upload))
        .route(
            "/agents",
            get(people::agents_index).post(people::agents_create),
        )
        .route(
            "/agents/{id}",
            patch(people::agents_update)
                .put(people::agents_update)
                .delete(people::agents_destroy),
        )
        .route(
            "/agent_bots",
            get(people::agent_bots_index).post(people::agent_bots_create),
        )
        .route(
            "/teams",
            get(resource::index::<Team>).post(resource::create::<Team>),
        )
        .route(
            "/teams/{id}",
            get(resource::show::<Team>)
                .patch(resource::update::<Team>)
                .put(resource::update::<Team>)
                .delete(resource::destroy::<Team>),
        )
        .route(
            "/teams/{id}/team_members",
            get(people::team_members)
                .post(people::team_members)
                .patch(people::team_members)
                .delete(people::team_members),
        )
        .route(
            "/inboxes",
            get(inboxes::inboxes_index).post(inboxes::inboxes_create),
        )
        .route(
            "/inboxes/{id}",
            get(inboxes::inboxes_show)
                .patch(inboxes::inboxes_update)
                .delete(inboxes::inboxes_destroy),
        )
        .route(
            "/inbox_members",
            post(inboxes::inbox_members)
                .patch(inboxes::inbox_members)
                .delete(inboxes::inbox_members),
        )
        .route("/inbox_members/{id}", get(inboxes::inbox_members_show))
        .route(
            "/portals",
            get(help_center::portals_index).post(help_center::portals_create),
        )
        .route(
            "/portals/{slug}",
            get(help_center::portals_show).patch(help_center::portals_update),
        )
        .route(
            "/portals/{slug}/categories",
            get(help_center::portal_index::<Category>).post(help_center::categories_create),
        )
        .route(
            "/portals/{slug}/articles",
            get(help_center::portal_index::<Article>).post(help_center::articles_create),
        );
    let platform = Router::new()
        .route("/accounts", post(platform::accounts_create))
        .route("/accounts/{id}", get(platform::accounts_show))
        .route(
            "/accounts/{id}/account_users",
            get(platform::account_users)
                .post(platform::account_users)
                .delete(platform::account_users),
        )
        .route("/users", post(platform::users_create))
        .route(
            "/users/{id}",
            get(platform::users_show)
                .patch(platform::users_update)
                .delete(platform::users_destroy),
        )
        .route("/users/{id}/token", post(platform::users_token))
        .route("/users/{id}/login", get(platform::users_login));
    Router::new()
        .nest("/api/v1/accounts/{account_id}", acct)
        .route("/api/v1/accounts/{account_id}/", get(people::account_show))
        .route("/api/v1/profile", get(people::profile))
        .nest("/platform/api/v1", platform)
        .route("/__sandbox/dump", get(dump))
        .route("/__sandbox/stats", get(stats))
        .fallback(not_found)
        .with_state(app)
}

/// The whole state of an account, `?account_id=` (default: the starting account);
/// unauthenticated, as the server is loopback-only.
async fn dump(
    State(app): State<Arc<App>>,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Response {
    let account = q
        .get("account_id")
        .and_then(|a| a.parse().ok())
        .unwrap_or(1);
    axum::Json(app.read().dump(account)).into_response()
}

/// Calls per route and faults injected so far.
async fn stats(State(app): State<Arc<App>>) -> Response {
    axum::Json(
        json!({"routes": app.stats.snapshot(), "total_calls": app.stats.total_calls(),
                      "faults_injected": app.faults.injected()}),
    )
    .into_response()
}

/// Rails' `ActionController::RoutingError` in production.
async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({"status": 404, "error": "Not Found"})),
    )
        .into_response()
}
