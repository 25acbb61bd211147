//! The API host's routes, one file per resource, behind the front door (`auth`), plus the
//! sandbox's own `/__sandbox/*` endpoints (`inspect`).

pub(crate) mod companies;
pub(crate) mod contacts;
pub(crate) mod conversations;
pub(crate) mod directory;
pub(crate) mod help_center;
pub(crate) mod macros;
pub(crate) mod tickets;

use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{get, post};

use crate::render::Render;
use crate::state::AppState;
use crate::{auth, inspect};

/// Every route of the API host.
pub(crate) fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/me", get(directory::me))
        .route("/admins", get(directory::admins))
        .route("/admins/{admin_id}", get(directory::admin))
        .route("/teams", get(directory::teams))
        .route("/teams/{team_id}", get(directory::team))
        .route("/tags", get(directory::tags))
        .route("/tags/{tag_id}", get(directory::tag))
        .route("/data_attributes", get(directory::data_attributes))
        .route("/contacts", get(contacts::contacts))
        .route("/contacts/search", post(contacts::search_contacts))
        .route("/contacts/{contact_id}", get(contacts::contact))
        .route("/contacts/{contact_id}/notes", get(contacts::contact_notes))
        .route("/contacts/{contact_id}/tags", get(contacts::contact_tags))
        .route(
            "/contacts/{contact_id}/companies",
            get(contacts::contact_companies),
        )
        .route("/notes/{note_id}", get(contacts::note))
        .route("/companies", get(companies::companies_get))
        .route("/companies/list", post(companies::companies_list))
        .route("/companies/scroll", get(companies::companies_scroll))
        .route("/companies/{company_id}", get(companies::company))
        .route("/conversations", get(conversations::conversations))
        .route(
            "/conversations/search",
            post(conversations::search_conversations),
        )
        .route(
            "/conversations/{conversation_id}",
            get(conversations::conversation),
        )
        .route("/tickets/search", post(tickets::search_tickets))
        .route("/tickets/{ticket_id}", get(tickets::ticket))
        .route("/macros", get(macros::macros))
        .route("/macros/{id}", get(macros::macro_one))
        .route("/articles", get(help_center::articles))
        .route("/articles/{article_id}", get(help_center::article))
        .route("/help_center/collections", get(help_center::collections))
        .route(
            "/help_center/collections/{collection_id}",
            get(help_center::collection),
        )
        .route("/__sandbox/expected", get(inspect::get_expected))
        .route("/__sandbox/stats", get(inspect::get_stats))
        .route("/__sandbox/advance", post(inspect::post_advance))
        .fallback(|| async { StatusCode::NOT_FOUND })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::front_door,
        ))
        .with_state(state)
}

/// The rendering context of one request: the world now, URLs signed at the sandbox's clock.
pub(crate) fn renderer(s: &AppState, plaintext: bool) -> Render<'_> {
    Render::new(s.world.view(), &s.signer, s.clock.now_secs(), plaintext)
}
