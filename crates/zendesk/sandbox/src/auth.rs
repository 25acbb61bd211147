//! The front door of every API request: credentials (Basic `email/token:tok` or Bearer; 401
//! `{"error":"Couldn't authenticate you"}` otherwise — research §1.2, §8 item 1), the account
//! bucket, the incremental bucket, then the handler; bare error statuses become Zendesk JSON.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde_json::json;

use crate::error::for_status;
use crate::limits;
use crate::respond;
use crate::state::AppState;

/// Whether the request carries the sandbox's credentials.
pub(crate) fn is_authorized(headers: &HeaderMap, email: &str, token: &str) -> bool {
    let Some((scheme, presented)) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split_once(' '))
    else {
        return false;
    };
    let presented = presented.trim();
    if scheme.eq_ignore_ascii_case("bearer") {
        return presented == token;
    }
    if !scheme.eq_ignore_ascii_case("basic") {
        return false;
    }
    let Some(decoded) = STANDARD
        .decode(presented)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
    else {
        return false;
    };
    decoded
        .split_once("/token:")
        .is_some_and(|(who, tok)| who.eq_ignore_ascii_case(email) && tok == token)
}

/// Zendesk's 401 (body unverified, research §9).
pub(crate) fn unauthorized() -> Response {
    respond::json(
        StatusCode::UNAUTHORIZED,
        json!({"error": "Couldn't authenticate you"}),
    )
}

/// The middleware in front of `/api/v2/…`; other paths (`/__sandbox/`, attachment tokens) pass.
pub(crate) async fn front_door(
    State(s): State<Arc<AppState>>,
    request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path();
    if !path.starts_with("/api/v2/") {
        return next.run(request).await;
    }
    let incremental = path.starts_with("/api/v2/incremental/");
    if !is_authorized(request.headers(), &s.email, &s.token) {
        return unauthorized();
    }
    let decision = limits::count(&s, s.limiter.as_ref());
    if let Some(d) = decision.filter(|d| !d.allowed) {
        let mut r = limits::too_many(s.style, limits::reset_in(&s, &d), false);
        limits::rate_headers(&s, &mut r, &d);
        return r;
    }
    if incremental && let Some(d) = limits::count(&s, s.incremental.as_ref()).filter(|d| !d.allowed)
    {
        let mut r = limits::too_many(s.style, limits::reset_in(&s, &d), true);
        if let Some(d) = &decision {
            limits::rate_headers(&s, &mut r, d);
        }
        return r;
    }
    let mut response = next.run(request).await;
    let status = response.status();
    if status.as_u16() >= 400 && !respond::is_json(&response) {
        // Extractor rejections and unknown routes: still Zendesk-shaped.
        response = for_status(status).into_response();
    }
    if let Some(d) = &decision {
        limits::rate_headers(&s, &mut response, d);
    }
    response
}
