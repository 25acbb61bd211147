//! The front door of every API request: bearer auth (401 without rate headers), then the rate
//! limit (`limits`), then the handler, and error bodies always in `error.list` shape
//! (`../shared/research/intercom-api.md` §1, §3, §4). Any `Intercom-Version` (or none) is
//! accepted: python-intercom sends none, the Node SDK sends 2.14.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::error::{PendingError, code_for, error_body};
use crate::limits;
use crate::respond;
use crate::state::AppState;

/// Whether the request carries `Authorization: Bearer <the sandbox's token>`.
fn is_authorized(headers: &HeaderMap, token: &str) -> bool {
    headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .is_some_and(|(scheme, presented)| {
            scheme.eq_ignore_ascii_case("bearer") && presented.trim() == token
        })
}

/// The middleware in front of every route; the `/__sandbox/` endpoints pass unchecked.
pub(crate) async fn front_door(
    State(s): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    if request.uri().path().starts_with("/__sandbox/") {
        return next.run(request).await;
    }
    let request_id = s.next_request_id();
    if !is_authorized(request.headers(), &s.token) {
        // No X-RateLimit headers without valid credentials (§3).
        return respond::json(
            StatusCode::UNAUTHORIZED,
            error_body(&request_id, "unauthorized", "Access Token Invalid"),
        );
    }
    let decision = limits::count(&s);
    if let Some(refused) = decision.filter(|d| !d.allowed) {
        return limits::too_many_requests(&request_id, &refused);
    }
    let mut response = next.run(request).await;
    let status = response.status();
    if let Some(PendingError(e)) = response.extensions_mut().remove::<PendingError>() {
        response = respond::json(e.status, error_body(&request_id, e.code, &e.message));
    } else if status.as_u16() >= 400 && !respond::is_json(&response) {
        // Extractor rejections and unknown routes: still Intercom-shaped.
        let (code, msg) = code_for(status);
        response = respond::json(status, error_body(&request_id, code, msg));
    }
    if let Some(d) = decision {
        limits::rate_headers(&mut response, &d);
    }
    response
}
