//! Call statistics per route, so tests can assert call efficiency (not just completeness) and
//! benchmarks can report what a run cost in API calls.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use serde::Serialize;

/// Calls and answers per `METHOD /route/{template}`.
#[derive(Debug, Default)]
pub struct CallStats {
    routes: Mutex<BTreeMap<String, RouteStats>>,
}

/// What one route saw.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct RouteStats {
    /// Requests received.
    pub calls: u64,
    /// Answers by status code.
    pub statuses: BTreeMap<u16, u64>,
}

impl CallStats {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// Records one answered call.
    pub fn record(&self, route: String, status: u16) {
        let mut routes = match self.routes.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        let entry = routes.entry(route).or_default();
        entry.calls += 1;
        *entry.statuses.entry(status).or_default() += 1;
    }

    /// A copy of the table.
    pub fn snapshot(&self) -> BTreeMap<String, RouteStats> {
        match self.routes.lock() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Calls to routes other than the sandbox's own `/__sandbox/` endpoints.
    pub fn total_calls(&self) -> u64 {
        self.snapshot()
            .iter()
            .filter(|(route, _)| !route.contains(" /__sandbox/"))
            .map(|(_, s)| s.calls)
            .sum()
    }
}

/// Records every call to `router` in `stats`, keyed by method and matched route template
/// (`GET /contacts/{id}`); unmatched paths are counted under `METHOD <unmatched>`.
pub fn with_call_stats(router: Router, stats: Arc<CallStats>) -> Router {
    router.layer(axum::middleware::from_fn_with_state(stats, count))
}

async fn count(State(stats): State<Arc<CallStats>>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "<unmatched>".to_owned());
    let key = format!("{} {}", request.method(), route);
    let response = next.run(request).await;
    stats.record(key, response.status().as_u16());
    response
}
