//! A local Chatwoot that refuses what Chatwoot refuses and does what Chatwoot does behind your
//! back, so loaders are tested against the real rules rather than a lenient fake
//! (`../shared/research/chatwoot.md`).
//!
//! One account, an administrator and its token exist at start; everything else is created through
//! the Application API (`/api/v1/accounts/{id}/…`) or the Platform API (`/platform/api/v1/…`).
//! State is in memory with deterministic ids and tokens; "now" comes from one
//! [`SandboxClock`](deskmove_sandbox::SandboxClock), so a frozen clock makes two runs
//! byte-identical. The unauthenticated `/__sandbox/*` endpoints (`inspect`) expose the account, the
//! call counts and the side-effect log (webhook deliveries, customer deliveries, agent
//! notifications, automation rule runs, template messages — recorded, never performed) to
//! out-of-process tests and `verify`.
//!
//! The crate follows the layout every vendor sandbox shares: `args`, `state`, `auth`, `limits`,
//! `error`, `inspect`, `routes/<resource>`, `render/<resource>`; Chatwoot's own behaviour lives in
//! `rules` (field rules), `params` (Rails parameters), `liquid` (content rendering), `effects`
//! (message creation and its callbacks; `effects::dispatch`, the listeners of dispatched events)
//! and `changes` (status, assignee, team and label changes).
#![deny(missing_docs)]

mod args;
mod auth;
mod changes;
mod effects;
mod error;
mod inspect;
mod limits;
mod liquid;
mod params;
mod render;
mod routes;
mod rules;
mod state;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use deskmove_sandbox::{
    CallStats, FaultInjector, Sandbox, SandboxClock, SandboxError, SandboxStats, Server,
};
use url::Url;

pub use args::SandboxArgs;
use limits::Limits;
use state::{AppState, Database};

/// The account that exists at start.
const STARTING_ACCOUNT: u64 = 1;

/// A Chatwoot sandbox serving on loopback; started and observed through [`Sandbox`].
#[derive(Debug)]
pub struct RunningSandbox {
    server: Server,
    app: Arc<AppState>,
    account_id: u64,
    token: String,
    platform_token: String,
}

impl Sandbox for RunningSandbox {
    type Args = SandboxArgs;

    /// Starts the sandbox on 127.0.0.1 with one account, its administrator and the platform app.
    async fn start(args: SandboxArgs) -> Result<Self, SandboxError> {
        let clock = Arc::new(SandboxClock::new(args.frozen_clock));
        let database = Database::new(
            args.seed,
            args.message_limit,
            !args.agents_absent,
            Arc::clone(&clock),
        );
        let token = database
            .users
            .get(&1)
            .map(|u| u.access_token.clone())
            .unwrap_or_default();
        let platform_token = database.platform_token.clone();
        let faults = Arc::new(FaultInjector::new(
            args.faults,
            Duration::from_millis(args.latency_ms),
            args.seed,
            limits::fault_response,
        ));
        let app = Arc::new(AppState::new(
            database,
            clock,
            Limits::new(&args),
            Arc::new(CallStats::new()),
            faults,
        ));
        let server = deskmove_sandbox::serve_on(args.port, build_router(Arc::clone(&app)))
            .await
            .map_err(|source| SandboxError::Bind {
                port: args.port,
                source,
            })?;
        tracing::info!(message = "Chatwoot sandbox listening.", base_url = %server.base_url());
        Ok(Self {
            server,
            app,
            account_id: STARTING_ACCOUNT,
            token,
            platform_token,
        })
    }

    /// `http://127.0.0.1:<port>/`.
    fn base_url(&self) -> Url {
        self.server.base_url()
    }

    /// The administrator's `api_access_token`.
    fn token(&self) -> &str {
        &self.token
    }

    fn ready_extras(&self) -> Vec<(&'static str, String)> {
        vec![
            ("account_id", self.account_id.to_string()),
            ("platform_token", self.platform_token.clone()),
        ]
    }

    fn stats(&self) -> SandboxStats {
        self.app.stats.snapshot()
    }

    /// The starting account's whole state, as `GET /__sandbox/dump` answers it.
    fn inspect(&self) -> serde_json::Value {
        self.app.read().dump(self.account_id)
    }

    async fn shutdown(self) {
        self.server.shutdown().await;
    }
}

impl RunningSandbox {
    /// The account that exists at start.
    pub fn account_id(&self) -> u64 {
        self.account_id
    }

    /// The platform app's `api_access_token` (Platform API).
    pub fn platform_token(&self) -> &str {
        &self.platform_token
    }

    /// Moves the sandbox's clock forward (past the flood guard's minute or a rate window
    /// without waiting); the same as `POST /__sandbox/advance`.
    pub fn advance_clock(&self, by: Duration) {
        self.app.clock.advance(by);
    }
}

/// Routes with their layers, outermost last: call stats, faults and latency, the per-IP limit.
fn build_router(app: Arc<AppState>) -> Router {
    let router = routes::router(Arc::clone(&app));
    let router = limits::with_rack_attack(router, Arc::clone(&app));
    let router = deskmove_sandbox::with_faults(router, Arc::clone(&app.faults));
    deskmove_sandbox::with_call_stats(router, Arc::clone(&app.stats))
}
