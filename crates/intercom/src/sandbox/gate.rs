//! The front door of every API request: bearer auth (401 without rate headers),
//! Intercom's fixed-window rate limit with `X-RateLimit-*` headers on every
//! authenticated answer, and error bodies always in `error.list` shape
//! (`../shared/research/intercom-api.md` §1, §3, §4). Any `Intercom-Version`
//! (or none) is accepted: python-intercom sends none, the Node SDK sends 2.14.

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use deskmove_sandbox::WindowDecision;

use super::error::{PendingError, code_for, error_body};
use super::state::AppState;

pub(crate) async fn gate(State(s): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    if request.uri().path().starts_with("/__sandbox/") {
        return next.run(request).await;
    }
    let request_id = s.next_request_id();
    let authorized = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
        .is_some_and(|(scheme, token)| {
            scheme.eq_ignore_ascii_case("bearer") && token.trim() == s.token
        });
    if !authorized {
        // No X-RateLimit headers without valid credentials (§3).
        return json(
            StatusCode::UNAUTHORIZED,
            error_body(&request_id, "unauthorized", "Access Token Invalid"),
        );
    }
    let decision = s
        .limiter
        .as_ref()
        .map(|l| l.hit_at(&s.token, s.clock.since_epoch()));
    if let Some(d) = decision.filter(|d| !d.allowed) {
        let msg = format!("Exceeded rate limit of {} in 10_seconds", d.limit);
        let mut r = json(
            StatusCode::TOO_MANY_REQUESTS,
            error_body(&request_id, "rate_limit_exceeded", &msg),
        );
        rate_headers(&mut r, &d);
        return r;
    }
    let mut response = next.run(request).await;
    let status = response.status();
    if let Some(PendingError(e)) = response.extensions_mut().remove::<PendingError>() {
        response = json(e.status, error_body(&request_id, e.code, &e.message));
    } else if status.as_u16() >= 400 && !is_json(&response) {
        // Extractor rejections and unknown routes: still Intercom-shaped.
        let (code, msg) = code_for(status);
        response = json(status, error_body(&request_id, code, msg));
    }
    if let Some(d) = decision {
        rate_headers(&mut response, &d);
    }
    response
}

fn is_json(r: &Response) -> bool {
    r.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

pub(crate) fn json(status: StatusCode, body: serde_json::Value) -> Response {
    json_bytes(status, serde_json::to_vec(&body).unwrap_or_default())
}

/// An already serialised JSON body.
pub(crate) fn json_bytes(status: StatusCode, bytes: Vec<u8>) -> Response {
    let mut r = (status, Body::from(bytes)).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    r
}

/// `X-RateLimit-Limit` = calls per current 10 s window, `Remaining`, `Reset` = window end (UNIX s).
pub(crate) fn rate_headers(r: &mut Response, d: &WindowDecision) {
    let h = r.headers_mut();
    h.insert("x-ratelimit-limit", HeaderValue::from(d.limit));
    h.insert("x-ratelimit-remaining", HeaderValue::from(d.remaining));
    h.insert("x-ratelimit-reset", HeaderValue::from(d.reset_at));
}
