//! A local Zendesk Support: a real HTTP server on 127.0.0.1 that behaves like Zendesk's REST API
//! v2 — `.json` or not, Basic `email/token:…` and Bearer auth, cursor and offset pagination with
//! their limits, the cursor and time-based incremental exports with their lag, boundary
//! duplicates and deleted tickets, archived tickets missing from lists and search, attachment
//! downloads redirected to a pre-signed second host, and Zendesk's rate limits and 429 shapes —
//! while serving the synthetic world of `deskmove-synth`, so a migration can be practised end to
//! end and compared with the world itself. Facts: `../shared/research/zendesk-freshdesk-helpscout.md`
//! (§8 is the checklist this crate follows).
//!
//! The crate follows the layout every vendor sandbox shares: `args`, `state`, `auth`, `limits`,
//! `error`, `inspect` (the unauthenticated `/__sandbox/*` endpoints), `routes/<resource>` and
//! `render/<resource>`, plus `files` (the pre-signed file host). Zendesk's own machinery lives
//! beside them: `origin` (links on the caller's host, `.json`), `paging` (CBP and OBP), `index`
//! (per-epoch export order), `derive` (Zendesk-only facts from the seed), `ids` and `respond`.
#![deny(missing_docs)]
#![recursion_limit = "256"]

mod args;
mod auth;
mod derive;
mod error;
mod files;
mod ids;
mod index;
mod inspect;
mod limits;
mod origin;
mod paging;
mod render;
mod request_log;
mod respond;
mod routes;
mod state;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use deskmove_sandbox::{
    CallStats, FaultInjector, SandboxClock, SandboxError, SandboxStats, Server, serve_on,
    with_call_stats, with_faults,
};
use deskmove_synth::{World, WorldConfig};
use url::Url;

pub use args::{SandboxArgs, TooManyStyle};
/// The trait every vendor sandbox implements, re-exported so callers need not name the kit.
pub use deskmove_sandbox::Sandbox;
pub use error::{ApiError, error_body};
pub use files::LeakedCredential;
pub use routes::incremental::{EXPORT_LAG_SECS, EXPORT_PAGE_MAX};

use files::{FilesState, Signer};
use state::AppState;

/// A started Zendesk sandbox: the API host and the pre-signed file host. Started, observed and
/// stopped through [`Sandbox`]; serves until [`Sandbox::shutdown`].
#[derive(Debug)]
pub struct RunningSandbox {
    api: Server,
    files: Server,
    state: Arc<AppState>,
}

impl Sandbox for RunningSandbox {
    type Args = SandboxArgs;

    /// Builds the world (O(1)) and starts the file host, then the API.
    async fn start(args: SandboxArgs) -> Result<Self, SandboxError> {
        let world = Arc::new(World::new(WorldConfig::new(
            args.seed,
            args.tickets,
            args.contacts,
        )));
        let email = world
            .view()
            .agent(0)
            .map(|a| a.email)
            .unwrap_or_else(|| "agent0@support.example.com".into());
        let clock = Arc::new(SandboxClock::new(args.frozen_clock));
        let token = format!(
            "dm_sbx_{}",
            &blake3::hash(format!("zendesk-token:{}", args.seed).as_bytes()).to_hex()[..32]
        );
        let leaks = Arc::new(Mutex::new(Vec::new()));
        let signer = Arc::new(Signer::new(args.seed));
        let files_stats = Arc::new(CallStats::new());
        let files_router = with_call_stats(
            files::router(Arc::new(FilesState {
                world: world.clone(),
                signer: signer.clone(),
                clock: clock.clone(),
                leaks: leaks.clone(),
            })),
            files_stats.clone(),
        );
        let files = serve_on(args.files_port, files_router)
            .await
            .map_err(|source| SandboxError::Bind {
                port: args.files_port,
                source,
            })?;
        signer.set_base(files.base_url());

        let stats = Arc::new(CallStats::new());
        let state = Arc::new(AppState {
            world,
            token,
            email,
            clock,
            limiter: limits::window(args.rate_limit, args.rate_window_secs),
            incremental: limits::window(args.incremental_rate_limit, args.rate_window_secs),
            style: args.too_many_style,
            secure_downloads: args.secure_downloads,
            ties: args.time_export_ties,
            signer,
            stats: stats.clone(),
            files_stats,
            leaks,
            touched: Mutex::new(Default::default()),
            touch_generation: Default::default(),
            tickets: Default::default(),
            users: Default::default(),
            organizations: Default::default(),
            deep: Default::default(),
            requests: Mutex::new(args.log_requests.then(Vec::new)),
        });
        let fault_state = state.clone();
        let injector = Arc::new(FaultInjector::new(
            args.faults,
            Duration::from_millis(args.latency_ms),
            args.seed,
            move |fault| limits::fault_response(&fault_state, fault),
        ));
        let logged = routes::router(state.clone()).layer(axum::middleware::from_fn_with_state(
            state.clone(),
            request_log::log_request,
        ));
        let inner = with_call_stats(with_faults(logged, injector), stats);
        // `.json` is dropped before routing, so it must wrap the whole router.
        let router = Router::new().fallback_service(
            tower::ServiceBuilder::new()
                .map_request(origin::strip_json)
                .service(inner),
        );
        let api = serve_on(args.port, router)
            .await
            .map_err(|source| SandboxError::Bind {
                port: args.port,
                source,
            })?;
        tracing::info!(message = "Zendesk sandbox ready.", base_url = %api.base_url(), files_url = %files.base_url());
        Ok(RunningSandbox { api, files, state })
    }

    fn base_url(&self) -> Url {
        self.api.base_url()
    }

    fn token(&self) -> &str {
        &self.state.token
    }

    /// The admin email of the Basic credentials, and the file host (credentials never go there).
    fn ready_extras(&self) -> Vec<(&'static str, String)> {
        vec![
            ("email", self.state.email.clone()),
            (
                "files_url",
                self.files_url().as_str().trim_end_matches('/').to_owned(),
            ),
        ]
    }

    fn stats(&self) -> SandboxStats {
        self.state.stats.snapshot()
    }

    /// What `GET /__sandbox/expected` answers: the totals a complete export must reach.
    fn inspect(&self) -> serde_json::Value {
        inspect::expected(&self.state)
    }

    async fn shutdown(self) {
        self.api.shutdown().await;
        self.files.shutdown().await;
    }
}

impl RunningSandbox {
    /// The pre-signed file host (`http://127.0.0.1:<port>/`).
    pub fn files_url(&self) -> Url {
        self.files.base_url()
    }

    /// The admin email for Basic `email/token:…` credentials.
    pub fn email(&self) -> &str {
        &self.state.email
    }

    /// The world being served (the oracle; `world().advance(n)` moves its clock).
    pub fn world(&self) -> &World {
        &self.state.world
    }

    /// Calls per route on the file host.
    pub fn file_stats(&self) -> SandboxStats {
        self.state.files_stats.snapshot()
    }

    /// File-host requests that arrived with an `Authorization` header.
    pub fn leaked_credentials(&self) -> Vec<LeakedCredential> {
        self.state
            .leaks
            .lock()
            .map(|l| l.clone())
            .unwrap_or_default()
    }

    /// Every API request so far as `METHOD /path?query` (the path without `.json`), in arrival
    /// order; empty unless started with `log_requests`.
    pub fn requests(&self) -> Vec<String> {
        self.state
            .requests
            .lock()
            .ok()
            .and_then(|r| r.clone())
            .unwrap_or_default()
    }

    /// Moves the sandbox's wall clock forward (rate windows, signed URLs).
    pub fn advance_clock(&self, by: Duration) {
        self.state.clock.advance(by);
    }
}
