//! A local Intercom: a real HTTP server on 127.0.0.1 that behaves like Intercom's REST API
//! 2.16 — pagination styles, caps, rate-limit windows, expiring signed file URLs on a second
//! host, error bodies — while serving the synthetic world of `deskmove-synth`, so tests and
//! users can practise a migration end to end and compare the result with the world itself.
//! Facts: `../shared/research/intercom-api.md` (§10 is the checklist this module follows).

mod args;
mod clock;
mod error;
mod files;
mod gate;
mod observe;
mod paging;
mod plaintext;
mod render;
mod render_conv;
mod routes_conv;
mod routes_directory;
mod routes_people;
mod search;
mod search_page;
mod state;
mod wire;

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::routing::{get, post};
use deskmove_sandbox::stats::RouteStats;
use deskmove_sandbox::{
    CallStats, FaultInjector, FixedWindow, InjectedFault, Server, serve_on, with_call_stats,
    with_faults,
};
use deskmove_synth::{World, WorldConfig};
use url::Url;

pub use args::{SandboxArgs, parse_ttl};
pub use error::{ApiError, error_body};
pub use files::LeakedCredential;
pub use observe::expected_json;
pub use plaintext::to_plaintext;
pub use routes_people::{COMPANY_LIST_CAP, SCROLL_IDLE_MS, SEARCH_LAG_SECS};
pub use search::WORKSPACE_TZ;

use clock::SandboxClock;
use files::{FilesState, Signer};
use state::AppState;

/// Why the sandbox could not start.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// A port could not be bound on 127.0.0.1.
    #[error("could not listen on 127.0.0.1:{port}: {source}")]
    Bind {
        /// The requested port (0 = any).
        port: u16,
        /// The cause.
        source: std::io::Error,
    },
}

/// The Intercom sandbox.
#[derive(Debug)]
pub struct IntercomSandbox;

impl IntercomSandbox {
    /// Builds the world (O(1)) and starts the API and file servers.
    pub async fn start(args: SandboxArgs) -> Result<RunningSandbox, SandboxError> {
        let world = Arc::new(World::new(WorldConfig::new(
            args.seed,
            args.conversations,
            args.contacts,
        )));
        let clock = Arc::new(SandboxClock::new(args.frozen_clock));
        let token = format!(
            "dm_sbx_{}",
            &blake3::hash(format!("intercom-token:{}", args.seed).as_bytes()).to_hex()[..32]
        );
        let leaks = Arc::new(Mutex::new(Vec::new()));

        // The file host first: attachment URLs embed its address.
        let signer = Arc::new(Signer::new(args.seed, args.attachment_ttl.as_secs() as i64));
        let files_state = Arc::new(FilesState {
            world: world.clone(),
            signer: signer.clone(),
            clock: clock.clone(),
            token: token.clone(),
            leaks: leaks.clone(),
        });
        let files_stats = Arc::new(CallStats::new());
        let files_router = with_call_stats(files::router(files_state), files_stats.clone());
        let files = serve_on(args.files_port, files_router)
            .await
            .map_err(|source| SandboxError::Bind {
                port: args.files_port,
                source,
            })?;
        signer.set_base(files.base_url());

        // ../shared/research/intercom-api.md §3: the per-minute limit is split into 10 s windows.
        let limiter = (args.rate_limit > 0)
            .then(|| FixedWindow::new((args.rate_limit * 10 + 30) / 60, Duration::from_secs(10)));
        let stats = Arc::new(CallStats::new());
        let state = Arc::new(AppState {
            world,
            token,
            clock,
            limiter,
            signer,
            stats: stats.clone(),
            leaks,
            scroll: Mutex::new(None),
            scroll_seq: AtomicU64::new(0),
            request_seq: AtomicU64::new(0),
            searches: Mutex::new(VecDeque::new()),
        });
        let fault_state = state.clone();
        let injector = Arc::new(FaultInjector::new(
            args.faults,
            Duration::from_millis(args.latency_ms),
            args.seed,
            move |fault| fault_response(&fault_state, fault),
        ));
        let router = with_call_stats(with_faults(api_router(state.clone()), injector), stats);
        let api = serve_on(args.port, router)
            .await
            .map_err(|source| SandboxError::Bind {
                port: args.port,
                source,
            })?;
        tracing::info!(message = "Intercom sandbox ready.", base_url = %api.base_url(), files_url = %files.base_url());
        Ok(RunningSandbox {
            api,
            files,
            state,
            files_stats,
        })
    }
}

fn api_router(state: Arc<AppState>) -> Router {
    use routes_conv as c;
    use routes_directory as d;
    use routes_people as p;
    Router::new()
        .route("/me", get(d::me))
        .route("/admins", get(d::admins))
        .route("/admins/{admin_id}", get(d::admin))
        .route("/teams", get(d::teams))
        .route("/teams/{team_id}", get(d::team))
        .route("/tags", get(d::tags))
        .route("/tags/{tag_id}", get(d::tag))
        .route("/data_attributes", get(d::data_attributes))
        .route("/contacts", get(p::contacts))
        .route("/contacts/search", post(p::search_contacts))
        .route("/contacts/{contact_id}", get(p::contact))
        .route("/contacts/{contact_id}/notes", get(p::contact_notes))
        .route("/contacts/{contact_id}/tags", get(p::contact_tags))
        .route(
            "/contacts/{contact_id}/companies",
            get(p::contact_companies),
        )
        .route("/notes/{note_id}", get(p::note))
        .route("/companies", get(p::companies_get))
        .route("/companies/list", post(p::companies_list))
        .route("/companies/scroll", get(p::companies_scroll))
        .route("/companies/{company_id}", get(p::company))
        .route("/conversations", get(c::conversations))
        .route("/conversations/search", post(c::search_conversations))
        .route("/conversations/{conversation_id}", get(c::conversation))
        .route("/tickets/search", post(c::search_tickets))
        .route("/tickets/{ticket_id}", get(c::ticket))
        .route("/macros", get(c::macros))
        .route("/macros/{id}", get(c::macro_one))
        .route("/articles", get(c::articles))
        .route("/articles/{article_id}", get(c::article))
        .route("/help_center/collections", get(c::collections))
        .route(
            "/help_center/collections/{collection_id}",
            get(c::collection),
        )
        .route("/__sandbox/expected", get(observe::expected))
        .route("/__sandbox/stats", get(observe::stats))
        .route("/__sandbox/advance", post(observe::advance))
        .fallback(|| async { StatusCode::NOT_FOUND })
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            gate::gate,
        ))
        .with_state(state)
}

/// Injected faults look like Intercom's own answers.
fn fault_response(s: &AppState, fault: InjectedFault) -> axum::response::Response {
    let rid = s.next_request_id();
    match fault {
        InjectedFault::ServerError(status) => {
            let (code, msg) = error::code_for(status);
            gate::json(status, error_body(&rid, code, msg))
        }
        InjectedFault::TooManyRequests => {
            let limit = s.limiter.as_ref().map_or(1_667, FixedWindow::limit);
            let mut r = gate::json(
                StatusCode::TOO_MANY_REQUESTS,
                error_body(
                    &rid,
                    "rate_limit_exceeded",
                    &format!("Exceeded rate limit of {limit} in 10_seconds"),
                ),
            );
            let now = s.clock.now_secs().max(0) as u64;
            let d = deskmove_sandbox::WindowDecision {
                allowed: false,
                limit,
                remaining: 0,
                reset_at: (now / 10 + 1) * 10,
            };
            gate::rate_headers(&mut r, &d);
            r
        }
    }
}

/// A started sandbox. Serves until [`RunningSandbox::shutdown`].
#[derive(Debug)]
pub struct RunningSandbox {
    api: Server,
    files: Server,
    state: Arc<AppState>,
    files_stats: Arc<CallStats>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("seed", &self.world.config().seed)
            .finish_non_exhaustive()
    }
}

impl RunningSandbox {
    /// The API base URL (`http://127.0.0.1:<port>/`).
    pub fn base_url(&self) -> Url {
        self.api.base_url()
    }

    /// The attachment file host (a different port: credentials must never go there).
    pub fn files_url(&self) -> Url {
        self.files.base_url()
    }

    /// The bearer token the sandbox accepts.
    pub fn token(&self) -> &str {
        &self.state.token
    }

    /// The one line printed when ready: `base_url=… token=…`.
    pub fn ready_line(&self) -> String {
        format!(
            "base_url={} token={}",
            self.base_url().as_str().trim_end_matches('/'),
            self.token()
        )
    }

    /// The world being served (the oracle; `world().advance(n)` moves its clock).
    pub fn world(&self) -> &World {
        &self.state.world
    }

    /// Calls per `METHOD /route` on the API host.
    pub fn stats(&self) -> BTreeMap<String, RouteStats> {
        self.state.stats.snapshot()
    }

    /// Calls per route on the file host.
    pub fn file_stats(&self) -> BTreeMap<String, RouteStats> {
        self.files_stats.snapshot()
    }

    /// File requests that arrived with an `Authorization` header.
    pub fn leaked_credentials(&self) -> Vec<LeakedCredential> {
        self.state
            .leaks
            .lock()
            .map(|l| l.clone())
            .unwrap_or_default()
    }

    /// Moves the sandbox's wall clock forward (expire URLs and scrolls without waiting).
    pub fn advance_clock(&self, by: Duration) {
        self.state.clock.advance(by);
    }

    /// Stops both servers.
    pub async fn shutdown(self) {
        self.api.shutdown().await;
        self.files.shutdown().await;
    }
}
