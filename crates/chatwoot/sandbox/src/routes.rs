//! The route table: Application API, Platform API and the sandbox's own inspection endpoints.
//! One file per resource; `resource` holds the handlers the simple account resources share and
//! `filter` the payload language of the filter endpoints.

mod accounts;
mod agent_bots;
mod agents;
mod attribute_definitions;
mod automation_rules;
mod canned_responses;
mod contact_inboxes;
mod contact_listing;
mod contacts;
mod conversation_actions;
mod conversations;
mod filter;
mod help_center;
mod inboxes;
mod labels;
mod messages;
mod platform;
mod resource;
mod teams;
mod uploads;
mod webhooks;

use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch, post};
use serde_json::json;

use crate::inspect;
use crate::state::{
    AppState, Article, CannedResponse, Category, CustomAttributeDefinition, Label, Team,
};

/// Largest message create body: `Message::NUMBER_OF_PERMITTED_ATTACHMENTS` (15) files of
/// Chatwoot's 40 MB upload limit, plus the text fields.
const MESSAGE_BODY_LIMIT: usize = 15 * 40 * 1024 * 1024 + 1024 * 1024;

/// Every route the sandbox serves.
pub fn router(app: Arc<AppState>) -> Router {
    let account = Router::new()
        .route("/", get(accounts::show))
        .route(
            "/contacts",
            get(contact_listing::index).post(contacts::create),
        )
        .route("/contacts/search", get(contact_listing::search))
        .route("/contacts/filter", post(contact_listing::filter))
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
            get(messages::index)
                .post(messages::create)
                // Rails takes the whole multipart body (15 files of up to 40 MB each), not
                // axum's 2 MB default.
                .layer(axum::extract::DefaultBodyLimit::max(MESSAGE_BODY_LIMIT)),
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
        .route("/upload", post(uploads::upload))
        .route("/webhooks", get(webhooks::index).post(webhooks::create))
        .route(
            "/webhooks/{id}",
            patch(webhooks::update)
                .put(webhooks::update)
                .delete(webhooks::destroy),
        )
        .route(
            "/automation_rules",
            get(automation_rules::index).post(automation_rules::create),
        )
        .route(
            "/automation_rules/{id}",
            get(automation_rules::show)
                .patch(automation_rules::update)
                .put(automation_rules::update)
                .delete(automation_rules::destroy),
        )
        .route("/agents", get(agents::index).post(agents::create))
        .route(
            "/agents/{id}",
            patch(agents::update)
                .put(agents::update)
                .delete(agents::destroy),
        )
        .route(
            "/agent_bots",
            get(agent_bots::index).post(agent_bots::create),
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
            get(teams::members)
                .post(teams::members)
                .patch(teams::members)
                .delete(teams::members),
        )
        .route("/inboxes", get(inboxes::index).post(inboxes::create))
        .route(
            "/inboxes/{id}",
            get(inboxes::show)
                .patch(inboxes::update)
                .delete(inboxes::destroy),
        )
        .route(
            "/inbox_members",
            post(inboxes::members)
                .patch(inboxes::members)
                .delete(inboxes::members),
        )
        .route("/inbox_members/{id}", get(inboxes::members_show))
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
        .nest("/api/v1/accounts/{account_id}", account)
        .route("/api/v1/accounts/{account_id}/", get(accounts::show))
        .route("/api/v1/profile", get(accounts::profile))
        .route(
            "/rails/active_storage/blobs/{id}/{name}",
            get(uploads::attachment_file),
        )
        .nest("/platform/api/v1", platform)
        .merge(inspect::router())
        .fallback(not_found)
        .with_state(app)
}

/// Rails' `ActionController::RoutingError` in production.
async fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({"status": 404, "error": "Not Found"})),
    )
        .into_response()
}
