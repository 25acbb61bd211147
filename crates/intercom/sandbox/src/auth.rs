//! The front door of every API request: bearer auth (401 without rate headers), then the rate
//! limit (`limits`), then injected faults and the handler, and error bodies always in
//! `error.list` shape
//! (`../shared/research/intercom-api.md` §1, §3, §4). Any `Intercom-Version` (or none) is
//! accepted: python-intercom sends none, the Node SDK sends 2.14.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use crate::error::{Injected, PendingError, code_for, error_body};
use crate::limits;
use crate::respond;
use crate::routes::companies;
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

/// The 500 a broken scroll answers (spec L6834ff).
const SCROLL_500: &str =
    "Request failed due to an internal network error. Please restart the scroll operation.";

/// The middleware in front of every route; the `/__sandbox/` endpoints pass unchecked. Injected
/// faults sit behind it, so a bad token is 401 before any fault, and an injected 5xx carries the
/// window's `X-RateLimit-*` headers like a real gateway error (R2.1 item 10).
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
    let scroll = request.uri().path() == "/companies/scroll";
    let mut response = next.run(request).await;
    let status = response.status();
    let injected = response.extensions_mut().remove::<Injected>();
    if let Some(PendingError(mut e)) = response.extensions_mut().remove::<PendingError>() {
        if scroll && injected.is_some() && e.status == StatusCode::INTERNAL_SERVER_ERROR {
            // A 500 mid-scroll ends the scroll: the client must restart it, and the old
            // scroll_param is gone (404), as the spec says (L6834ff; research §2, §9).
            companies::end_scroll(&s);
            e.message = SCROLL_500.to_string();
        }
        let mut fresh = respond::json(e.status, error_body(&request_id, e.code, &e.message));
        for (name, value) in &e.headers {
            if let Ok(v) = HeaderValue::from_str(value) {
                fresh.headers_mut().insert(*name, v);
            }
        }
        response = fresh;
    } else if status.as_u16() >= 400 && !respond::is_json(&response) {
        // Extractor rejections and unknown routes: still Intercom-shaped.
        let (code, msg) = code_for(status);
        response = respond::json(status, error_body(&request_id, code, msg));
    }
    match injected.and_then(|i| i.storm_reset_at) {
        Some(reset_at) => {
            limits::rate_headers(&mut response, &limits::storm_decision(&s, reset_at))
        }
        None => {
            if let Some(d) = decision {
                limits::rate_headers(&mut response, &d);
            }
        }
    }
    response
}
