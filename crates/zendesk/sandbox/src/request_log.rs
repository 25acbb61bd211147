//! The optional log of API requests (`--log-requests`), for tests that count pages fetched
//! twice across interrupted runs.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;

use crate::state::AppState;

/// Appends the request to the log when it is on; inspection calls are not logged. It runs
/// inside the fault layer, so requests a fault answered are not logged either.
pub(crate) async fn log_request(
    State(s): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
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
