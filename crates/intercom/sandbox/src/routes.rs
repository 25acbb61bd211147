//! The API host's routes, one file per resource, behind the front door (`auth`) and the fault
//! injector, plus the sandbox's own `/__sandbox/*` endpoints (`inspect`, never faulted).

pub(crate) mod companies;
pub(crate) mod contacts;
pub(crate) mod conversations;
pub(crate) mod directory;
pub(crate) mod help_center;
pub(crate) mod macros;
pub(crate) mod tickets;
pub(crate) mod write_contacts;
pub(crate) mod write_conversation_update;
pub(crate) mod write_conversations;
pub(crate) mod write_deletes;
pub(crate) mod write_directory;
pub(crate) mod write_help_center;
pub(crate) mod write_replies;
pub(crate) mod write_support;
pub(crate) mod write_tickets;
pub(crate) mod writes;

use std::sync::Arc;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{get, post};
use deskmove_sandbox::{FaultInjector, with_faults};

use crate::render::Render;
use crate::state::AppState;
use crate::{auth, inspect};

/// Every route of the API host. Order of layers, outermost first: the front door (auth, then
/// the rate window), then injected faults and latency, then the handler, so a bad token is 401
/// before any fault and a fault's answer gets the window's headers (R2.1 item 10).
pub(crate) fn router(state: Arc<AppState>, faults: Arc<FaultInjector>) -> Router {
    let api = Router::new()
        .route("/me", get(directory::me))
        .route("/admins", get(directory::admins))
        // A literal segment wins over `{admin_id}` in the router, so this is not an admin lookup.
        .route("/admins/activity_logs", get(directory::activity_logs))
        .route("/admins/{admin_id}", get(directory::admin))
        .route("/teams", get(directory::teams))
        .route("/teams/{team_id}", get(directory::team))
        .route("/tags", get(directory::tags))
        .route("/tags/{tag_id}", get(directory::tag))
        .route("/segments", get(directory::segments))
        .route("/segments/{segment_id}", get(directory::segment))
        .route("/data_attributes", get(directory::data_attributes))
        .route("/contacts", get(contacts::contacts))
        .route("/contacts/search", post(contacts::search_contacts))
        .route(
            "/contacts/find_by_external_id/{external_id}",
            get(contacts::contact_by_external_id),
        )
        .route("/contacts/{contact_id}", get(contacts::contact))
        .route(
            "/contacts/{contact_id}/merge_history",
            get(contacts::contact_merge_history),
        )
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
        .route(
            "/companies/{company_id}/contacts",
            get(companies::company_contacts),
        )
        .route(
            "/companies/{company_id}/segments",
            get(companies::company_segments),
        )
        .route("/conversations", get(conversations::conversations))
        .route(
            "/conversations/search",
            post(conversations::search_conversations),
        )
        .route(
            "/conversations/attributes",
            get(conversations::conversation_attributes),
        )
        .route(
            "/conversations/{conversation_id}",
            get(conversations::conversation),
        )
        .route("/tickets/search", post(tickets::search_tickets))
        .route("/tickets/{ticket_id}", get(tickets::ticket))
        .route("/ticket_types", get(tickets::ticket_types))
        .route("/ticket_states", get(tickets::ticket_states))
        .route("/macros", get(macros::macros))
        .route("/macros/{id}", get(macros::macro_one))
        .route("/articles", get(help_center::articles))
        .route("/articles/{article_id}", get(help_center::article))
        .route("/help_center/collections", get(help_center::collections))
        .route(
            "/help_center/collections/{collection_id}",
            get(help_center::collection),
        )
        .route("/help_center/help_centers", get(help_center::help_centers))
        .route(
            "/help_center/help_centers/{help_center_id}",
            get(help_center::help_center),
        );
    let api = writes::add(api)
        .fallback(|| async { StatusCode::NOT_FOUND })
        .with_state(state.clone());
    let inspection = Router::new()
        .route("/__sandbox/expected", get(inspect::get_expected))
        .route("/__sandbox/stats", get(inspect::get_stats))
        .route("/__sandbox/advance", post(inspect::post_advance))
        .route("/__sandbox/dump", get(inspect::get_dump))
        .with_state(state.clone());
    with_faults(api, faults)
        .merge(inspection)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::front_door,
        ))
        .layer(axum::middleware::from_fn_with_state(state, log_request))
}

/// Appends the request to the request log when it is on (`--log-requests`); inspection calls
/// are not logged.
async fn log_request(
    axum::extract::State(s): axum::extract::State<Arc<AppState>>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let uri = request.uri();
    if !uri.path().starts_with("/__sandbox/")
        && let Ok(mut log) = s.requests.lock()
        && let Some(log) = log.as_mut()
    {
        let target = uri.path_and_query().map_or(uri.path(), |p| p.as_str());
        log.push(format!("{} {target}", request.method()));
    }
    next.run(request).await
}

/// The rendering context of one request: the world now, URLs signed at the sandbox's clock.
pub(crate) fn renderer(s: &AppState, plaintext: bool) -> Render<'_> {
    Render::new(s.world.view(), &s.signer, s.clock.now_secs(), plaintext)
}
