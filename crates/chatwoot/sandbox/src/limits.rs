//! Chatwoot's rack-attack throttles and the shape of its failures.
//!
//! `../shared/research/chatwoot.md §3` (`config/initializers/rack_attack.rb`): 3000 requests per
//! minute per client IP, `/upload` 60 per hour per account, `contacts/search` 100 per minute per
//! account, all fixed windows (`epoch / period`). A throttled request gets 429 `text/plain`
//! `Retry later\n` with **no** `Retry-After`.
//!
//! Real Chatwoot safelists `127.0.0.1` and `::1`; the sandbox deliberately does not, since it
//! exists to reproduce the limit for clients that all run on loopback.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::{ConnectInfo, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use deskmove_sandbox::{FixedWindow, InjectedFault};

use crate::SandboxArgs;
use crate::state::AppState;

/// The throttles of one sandbox; `None` = off.
#[derive(Debug)]
pub struct Limits {
    per_ip: Option<FixedWindow>,
    upload: Option<FixedWindow>,
    search: Option<FixedWindow>,
}

impl Limits {
    /// From the command line: `--rate-limit 0` turns off the per-IP limit only,
    /// `--no-rack-attack` all three.
    pub fn new(args: &SandboxArgs) -> Self {
        let on = !args.no_rack_attack;
        Self {
            per_ip: (on && args.rate_limit > 0)
                .then(|| FixedWindow::new(args.rate_limit, Duration::from_secs(60))),
            upload: on.then(|| FixedWindow::new(60, Duration::from_secs(3600))),
            search: on.then(|| FixedWindow::new(100, Duration::from_secs(60))),
        }
    }
}

/// rack-attack's default throttled response.
pub fn retry_later() -> Response {
    (
        StatusCode::TOO_MANY_REQUESTS,
        [(header::CONTENT_TYPE, "text/plain")],
        "Retry later\n",
    )
        .into_response()
}

/// Responses for injected faults: a 429 storm looks like rack-attack; a 500 like Rails'
/// `PublicExceptions` JSON; 502/503 like the reverse proxy in front of Puma.
pub fn fault_response(fault: InjectedFault) -> Response {
    match fault {
        // rack-attack says nothing about when to come back.
        InjectedFault::TooManyRequests { .. } => retry_later(),
        InjectedFault::ServerError(StatusCode::INTERNAL_SERVER_ERROR) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            axum::Json(serde_json::json!({"status": 500, "error": "Internal Server Error"})),
        )
            .into_response(),
        InjectedFault::ServerError(status) => (
            status,
            [(header::CONTENT_TYPE, "text/html")],
            format!(
                "<html><head><title>{status}</title></head><body><center><h1>{status}</h1></center><hr><center>nginx</center></body></html>\n"
            ),
        )
            .into_response(),
    }
}

/// Applies the throttles in rack-attack's order (`any?` stops at the first that trips).
pub fn with_rack_attack(router: Router, app: Arc<AppState>) -> Router {
    router.layer(axum::middleware::from_fn_with_state(app, throttle))
}

async fn throttle(State(app): State<Arc<AppState>>, request: Request, next: Next) -> Response {
    let path = request.uri().path().to_owned();
    if path.starts_with("/__sandbox/") {
        return next.run(request).await;
    }
    let now = app.clock.since_epoch();
    if let Some(window) = &app.limits.per_ip {
        // `req.ip`: the TCP peer (no proxy in front of the sandbox).
        let ip = request
            .extensions()
            .get::<ConnectInfo<SocketAddr>>()
            .map_or_else(|| "unknown".to_owned(), |c| c.0.ip().to_string());
        if !window.hit_at(&ip, now).allowed {
            return retry_later();
        }
    }
    if let Some(account) = account_of(&path) {
        let rule = if path.ends_with("/upload") {
            app.limits.upload.as_ref()
        } else if path.ends_with("/contacts/search") {
            app.limits.search.as_ref()
        } else {
            None
        };
        if let Some(window) = rule
            && !window.hit_at(account, now).allowed
        {
            return retry_later();
        }
    }
    next.run(request).await
}

/// `/api/v1/accounts/<id>/...` → `<id>`.
fn account_of(path: &str) -> Option<&str> {
    let rest = path.strip_prefix("/api/v1/accounts/")?;
    rest.split('/').next().filter(|s| !s.is_empty())
}
