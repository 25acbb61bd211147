//! A local Intercom: a real HTTP server on 127.0.0.1 that behaves like Intercom's REST API
//! 2.16 — pagination styles, caps, rate-limit windows, expiring signed file URLs on a second
//! host, error bodies — while serving the synthetic world of `deskmove-synth`, so tests and
//! users can practise a migration end to end and compare the result with the world itself.
//! Facts: `../shared/research/intercom-api.md` (§10 is the checklist this crate follows).
//!
//! The crate follows the layout every vendor sandbox shares: `args`, `state`, `auth`, `limits`,
//! `error`, `inspect` (the unauthenticated `/__sandbox/*` endpoints), `routes/<resource>` and
//! `render/<resource>`. Intercom's own machinery lives beside them: `files` (the signed-URL file
//! host), `derived` (what a workspace has that the world does not model: segments, ticket types
//! and states, activity logs, merged contacts), `paging` (its three pagination styles), `search` and `search_page` (its query language),
//! `wire` (typed conversation shapes), `plaintext` (`display_as=plaintext`) and `respond` (JSON
//! answers).
//!
//! The write side — Intercom as a migration target — keeps what clients write beside the world
//! (`written`), checks each request with the shapes of the `Intercom-Version` it names
//! (`version`, `body`), answers in the same shapes as the reads, and logs every delivery the
//! real Intercom would make to a customer (`written::notify`); `GET /__sandbox/dump` shows it all.
//!
//! The world speaks vendor-neutral words; what is Intercom's — admins, `data_attributes`, the
//! Operator (Fin), the 500-part retrieval cap — is decided here, in rendering and `inspect`.
#![deny(missing_docs)]

mod args;
mod auth;
mod body;
mod derived;
mod error;
mod files;
mod inspect;
mod limits;
mod paging;
mod plaintext;
mod render;
mod respond;
mod routes;
mod search;
mod search_page;
mod state;
mod version;
mod wire;
mod written;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use deskmove_sandbox::{
    CallStats, FaultInjector, SandboxClock, SandboxError, SandboxStats, Server, serve_on,
    with_call_stats,
};
use deskmove_synth::{World, WorldConfig};
use url::Url;

pub use args::{SandboxArgs, parse_ttl};
pub use derived::MergedContact;
/// The trait every vendor sandbox implements, re-exported so callers need not name the kit.
pub use deskmove_sandbox::Sandbox;
pub use error::{ApiError, error_body};
pub use files::LeakedCredential;
pub use plaintext::to_plaintext;
pub use render::conversations::RECENT_PART_CAP;
pub use routes::companies::{COMPANY_LIST_CAP, SCROLL_IDLE_MS};
pub use routes::contacts::SEARCH_LAG_SECS;
pub use search::WORKSPACE_TZ;

use files::{FilesState, Signer};

/// Folded into the seed for the file host's faults, so they do not fall on the same request
/// numbers as the API host's.
const FILE_FAULT_SALT: u64 = 0x6669_6c65;
use state::AppState;

/// A started Intercom sandbox: the API host and the attachment file host. Started, observed and
/// stopped through [`Sandbox`]; serves until [`Sandbox::shutdown`].
#[derive(Debug)]
pub struct RunningSandbox {
    api: Server,
    files: Server,
    state: Arc<AppState>,
    files_stats: Arc<CallStats>,
}

impl Sandbox for RunningSandbox {
    type Args = SandboxArgs;

    /// Builds the world (O(1)) and starts the file host, then the API.
    async fn start(args: SandboxArgs) -> Result<Self, SandboxError> {
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
        let uploads = Arc::new(written::Uploads::default());

        // The file host first: attachment URLs embed its address.
        let signer = Arc::new(Signer::new(args.seed, args.attachment_ttl.as_secs() as i64));
        let files_state = Arc::new(FilesState {
            world: world.clone(),
            signer: signer.clone(),
            clock: clock.clone(),
            token: token.clone(),
            leaks: leaks.clone(),
            uploads: uploads.clone(),
        });
        let files_stats = Arc::new(CallStats::new());
        // The file host misbehaves on its own schedule (`--file-faults`), shaped like a CDN's
        // errors, not Intercom's (R2.1 item 10: faults on the file host too).
        let files_faults = Arc::new(FaultInjector::new(
            args.file_faults,
            Duration::ZERO,
            args.seed ^ FILE_FAULT_SALT,
            files::fault_response,
        ));
        let files_router = with_call_stats(
            files::router(files_state, files_faults),
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
        let mut state = AppState::new(
            world,
            token,
            clock,
            limits::window(args.rate_limit),
            signer,
            stats.clone(),
            leaks,
        );
        state.uploads = uploads;
        if args.log_requests {
            state
                .requests
                .lock()
                .map(|mut r| *r = Some(Vec::new()))
                .ok();
        }
        let state = Arc::new(state);
        let fault_state = state.clone();
        let injector = Arc::new(FaultInjector::new(
            args.faults,
            Duration::from_millis(args.latency_ms),
            args.seed,
            move |fault| limits::fault_response(&fault_state, fault),
        ));
        let router = with_call_stats(routes::router(state.clone(), injector), stats);
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

    fn base_url(&self) -> Url {
        self.api.base_url()
    }

    fn token(&self) -> &str {
        &self.state.token
    }

    /// The attachment file host, a different port: credentials must never go there.
    fn ready_extras(&self) -> Vec<(&'static str, String)> {
        vec![(
            "files_url",
            self.files_url().as_str().trim_end_matches('/').to_owned(),
        )]
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
    /// The attachment file host (`http://127.0.0.1:<port>/`).
    pub fn files_url(&self) -> Url {
        self.files.base_url()
    }

    /// The world being served (the oracle; `world().advance(n)` moves its clock).
    pub fn world(&self) -> &World {
        &self.state.world
    }

    /// Calls per route on the file host.
    pub fn file_stats(&self) -> SandboxStats {
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

    /// Contacts merged away into world contacts: their old ids answer 410 Gone with a `Link` to
    /// the canonical contact; lists and search never show them.
    pub fn merged_contacts(&self) -> Vec<MergedContact> {
        derived::merged_contacts(self.state.world.view(), self.state.world.config().contacts)
    }

    /// Every API request so far as `METHOD /path?query`, in arrival order; empty unless started
    /// with `log_requests`.
    pub fn requests(&self) -> Vec<String> {
        self.state
            .requests
            .lock()
            .ok()
            .and_then(|r| r.clone())
            .unwrap_or_default()
    }

    /// Moves the sandbox's wall clock forward (expire URLs and scrolls without waiting).
    pub fn advance_clock(&self, by: Duration) {
        self.state.clock.advance(by);
    }
}
