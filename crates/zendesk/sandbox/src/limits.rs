//! Zendesk's rate limits (research §1.4, §8 item 7): an account-wide bucket per minute with
//! `X-Rate-Limit`/`X-Rate-Limit-Remaining` and `ratelimit-limit/remaining/reset` on every
//! authenticated answer, a separate 10-per-minute bucket for the incremental exports, and 429s
//! in whichever of Zendesk's observed shapes `--too-many-style` picks. Injected faults are
//! rendered here too, so a storm looks like one of Zendesk's own.

use std::time::Duration;

use axum::body::Body;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use deskmove_sandbox::{FixedWindow, InjectedFault, WindowDecision};
use serde_json::json;

use crate::args::TooManyStyle;
use crate::error::error_body;
use crate::respond;
use crate::state::AppState;

/// A limiter of `limit` calls per window of `secs` (Zendesk counts per minute), or `None` when
/// `limit == 0`.
pub(crate) fn window(limit: u64, secs: u64) -> Option<FixedWindow> {
    (limit > 0).then(|| FixedWindow::new(limit, Duration::from_secs(secs.max(1))))
}

/// Counts one call against `limiter` at the sandbox's clock.
pub(crate) fn count(s: &AppState, limiter: Option<&FixedWindow>) -> Option<WindowDecision> {
    Some(limiter?.hit_at(&s.token, s.clock.since_epoch()))
}

/// Seconds until `d`'s window resets, by the sandbox's clock (at least 1).
pub(crate) fn reset_in(s: &AppState, d: &WindowDecision) -> u64 {
    d.reset_at
        .saturating_sub(s.clock.now_secs().max(0) as u64)
        .max(1)
}

/// The account bucket's headers.
pub(crate) fn rate_headers(s: &AppState, r: &mut Response, d: &WindowDecision) {
    let h = r.headers_mut();
    h.insert("x-rate-limit", HeaderValue::from(d.limit));
    h.insert("x-rate-limit-remaining", HeaderValue::from(d.remaining));
    h.insert("ratelimit-limit", HeaderValue::from(d.limit));
    h.insert("ratelimit-remaining", HeaderValue::from(d.remaining));
    h.insert("ratelimit-reset", HeaderValue::from(reset_in(s, d)));
}

/// A 429 in the configured shape. `incremental` picks the export bucket's wording.
pub(crate) fn too_many(style: TooManyStyle, retry_after: u64, incremental: bool) -> Response {
    let text = |body: &'static str| {
        let mut r = (StatusCode::TOO_MANY_REQUESTS, Body::from(body)).into_response();
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; charset=utf-8"),
        );
        r
    };
    let mut r = match style {
        TooManyStyle::Json => {
            let description = if incremental {
                "Number of allowed incremental export API requests per minute exceeded"
            } else {
                "Number of allowed API requests per minute exceeded"
            };
            respond::json(
                StatusCode::TOO_MANY_REQUESTS,
                error_body("APIRateLimitExceeded", description),
            )
        }
        TooManyStyle::Text => text("Number of allowed API requests per minute exceeded"),
        TooManyStyle::Edge => respond::json(
            StatusCode::TOO_MANY_REQUESTS,
            json!({"detail": "Rate limited by Zendesk edge protection", "status": "429", "title": "Automated response"}),
        ),
        // The per-user update limit's answer: no Retry-After at all (research §1.4).
        TooManyStyle::NoRetryAfter => {
            return text(
                "You have exceeded the rate limit for this account. Please try again later.",
            );
        }
    };
    r.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from(retry_after));
    r
}

/// Injected faults in Zendesk's shapes; a storm's 429 says in `Retry-After` when it ends.
pub(crate) fn fault_response(s: &AppState, fault: InjectedFault) -> Response {
    match fault {
        InjectedFault::ServerError(status) => {
            let (error, description) = match status.as_u16() {
                503 => ("ServiceUnavailable", "Service temporarily unavailable"),
                502 => ("BadGateway", "Bad gateway"),
                _ => ("InternalError", "Internal server error"),
            };
            respond::json(status, error_body(error, description))
        }
        InjectedFault::TooManyRequests { retry_after } => {
            let secs = retry_after.as_millis().div_ceil(1_000).max(1) as u64;
            too_many(s.style, secs, false)
        }
    }
}
