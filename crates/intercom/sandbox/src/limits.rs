//! Intercom's rate limit: the per-minute app limit split into 10-second windows, with
//! `X-RateLimit-Limit/Remaining/Reset` on every authenticated answer and the documented 429 body
//! (`../shared/research/intercom-api.md` §3). Injected faults are rendered here too, so a 5xx or
//! a 429 storm looks like one of Intercom's own.

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use deskmove_sandbox::{FixedWindow, InjectedFault, WindowDecision};

use crate::error::{ApiError, Injected, code_for, error_body};
use crate::respond;
use crate::state::AppState;

/// Intercom counts in windows of this length.
const WINDOW: Duration = Duration::from_secs(10);

/// The limiter for `per_minute` calls (rounded to the nearest per-window count), or `None` when
/// limits are off (`per_minute == 0`, which also drops the headers).
pub(crate) fn window(per_minute: u64) -> Option<FixedWindow> {
    (per_minute > 0).then(|| FixedWindow::new((per_minute * 10 + 30) / 60, WINDOW))
}

/// Counts the call against the app's window; `None` when limits are off.
pub(crate) fn count(s: &AppState) -> Option<WindowDecision> {
    let limiter = s.limiter.as_ref()?;
    Some(limiter.hit_at(&s.token, s.clock.since_epoch()))
}

/// The documented 429 body with the window's headers.
pub(crate) fn too_many_requests(request_id: &str, d: &WindowDecision) -> Response {
    let message = format!("Exceeded rate limit of {} in 10_seconds", d.limit);
    let mut r = respond::json(
        StatusCode::TOO_MANY_REQUESTS,
        error_body(request_id, "rate_limit_exceeded", &message),
    );
    rate_headers(&mut r, d);
    r
}

/// `X-RateLimit-Limit` = calls per current 10 s window, `Remaining`, `Reset` = window end (UNIX s).
pub(crate) fn rate_headers(r: &mut Response, d: &WindowDecision) {
    let h = r.headers_mut();
    h.insert("x-ratelimit-limit", HeaderValue::from(d.limit));
    h.insert("x-ratelimit-remaining", HeaderValue::from(d.remaining));
    h.insert("x-ratelimit-reset", HeaderValue::from(d.reset_at));
}

/// Injected faults look like Intercom's own answers. They run inside the front door (after auth
/// and the rate window), which renders the body with its request id and adds the window's
/// headers, as a real gateway error carries them; a storm's 429 advertises the storm's end as
/// `X-RateLimit-Reset`, so a client that waits for the reset gets through.
pub(crate) fn fault_response(s: &AppState, fault: InjectedFault) -> Response {
    let (error, storm_reset_at) = match fault {
        InjectedFault::ServerError(status) => {
            let (code, message) = code_for(status);
            (ApiError::new(status, code, message), None)
        }
        InjectedFault::TooManyRequests { retry_after } => {
            let storm_end_ms = s.clock.now_ms().max(0) as u64 + retry_after.as_millis() as u64;
            let limit = s.limiter.as_ref().map_or(1_667, FixedWindow::limit);
            (
                ApiError::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    "rate_limit_exceeded",
                    format!("Exceeded rate limit of {limit} in 10_seconds"),
                ),
                Some(storm_end_ms.div_ceil(1_000)),
            )
        }
    };
    let mut r = error.into_response();
    r.extensions_mut().insert(Injected { storm_reset_at });
    r
}

/// The window's headers for an injected storm: nothing left until the storm's end.
pub(crate) fn storm_decision(s: &AppState, reset_at: u64) -> WindowDecision {
    WindowDecision {
        allowed: false,
        limit: s.limiter.as_ref().map_or(1_667, FixedWindow::limit),
        remaining: 0,
        reset_at,
    }
}
