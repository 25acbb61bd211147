//! A local Chatwoot that refuses what Chatwoot refuses and does what Chatwoot does behind your
//! back (issue R1.3), so loaders are tested against the real rules rather than a lenient fake.
//!
//! One account, an administrator and its token exist at start; everything else is created through
//! the Application API (`/api/v1/accounts/{id}/…`) or the Platform API (`/platform/api/v1/…`).
//! State is in memory with deterministic ids. `GET /__sandbox/dump` and `GET /__sandbox/stats`
//! expose the whole account and the call counts to out-of-process tests and `verify`.

mod auth;
mod changes;
mod effects;
mod error;
mod json;
mod limits;
mod liquid;
mod model;
mod params;
mod routes;
mod rules;
mod store;
mod table;

use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use axum::Router;
use deskmove_sandbox::{CallStats, FaultInjector, Faults, Server};
use serde_json::Value;

use auth::{Caller, Role};
pub use error::ApiError;
use error::ApiResult;
use http::HeaderMap;
use limits::Limits;
use store::Store;

/// Options of `deskmove sandbox chatwoot`.
#[derive(clap::Args, Debug, Clone)]
pub struct SandboxArgs {
    /// Port to listen on, on 127.0.0.1 only (0 = any free port).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// Requests per minute per client IP, counted in fixed one-minute windows (Chatwoot's
    /// `RACK_ATTACK_LIMIT`, default 3000); 0 turns the limit off.
    #[arg(long, default_value_t = 3000)]
    pub rate_limit: u64,
    /// Fixed delay added before every answer, in milliseconds.
    #[arg(long, default_value_t = 0)]
    pub latency_ms: u64,
    /// Faults to inject, e.g. `5xx=0.05,reset=0.01,storm=0.02,truncate=0.01,slow=0.02` (`none` = off).
    #[arg(long, default_value = "none")]
    pub faults: Faults,
    /// Seed for tokens, uuids and fault decisions: the same seed gives the same sandbox.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Messages per conversation per rolling minute (Chatwoot's
    /// `CONVERSATION_MESSAGE_PER_MINUTE_LIMIT`, default 200); 0 turns the guard off.
    #[arg(long, default_value_t = 200)]
    pub message_limit: usize,
    /// Turns off every limit Chatwoot's rack-attack applies (per IP, `/upload`, contact search),
    /// like `ENABLE_RACK_ATTACK=false`.
    #[arg(long, default_value_t = false)]
    pub no_rack_attack: bool,
    /// Simulates agents who are not signed in to the dashboard: only agents with
    /// `auto_offline: false` are then online, so auto-assignment mostly finds nobody. By default
    /// every agent is present with its `availability` (online unless set otherwise).
    #[arg(long, default_value_t = false)]
    pub agents_absent: bool,
}

impl Default for SandboxArgs {
    fn default() -> Self {
        Self {
            port: 0,
            rate_limit: 3000,
            latency_ms: 0,
            faults: Faults::none(),
            seed: 1,
            message_limit: rules::MESSAGES_PER_CONVERSATION_PER_MINUTE,
            no_rack_attack: false,
            agents_absent: false,
        }
    }
}

/// Why the sandbox could not start.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The port could not be bound.
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Bind {
        /// The requested port.
        port: u16,
        /// The cause.
        source: std::io::Error,
    },
}

/// Shared state of a running sandbox.
#[derive(Debug)]
pub(crate) struct App {
    store: RwLock<Store>,
    limits: Limits,
    stats: Arc<CallStats>,
    faults: Arc<FaultInjector>,
}

impl App {
    fn read(&self) -> RwLockReadGuard<'_, Store> {
        self.store.read().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self) -> RwLockWriteGuard<'_, Store> {
        self.store.write().unwrap_or_else(PoisonError::into_inner)
    }

    /// Locks the store for reading and authorises the call on `account` for `role`; the lock is
    /// held across both so the answer matches the authorisation.
    fn read_as(
        &self,
        headers: &HeaderMap,
        account: u64,
        role: Role,
    ) -> ApiResult<(RwLockReadGuard<'_, Store>, Caller)> {
        let s = self.read();
        let caller = s.authorize(headers, account)?;
        caller.require(role)?;
        Ok((s, caller))
    }

    /// Locks the store for writing and authorises the call on `account` for `role`.
    fn write_as(
        &self,
        headers: &HeaderMap,
        account: u64,
        role: Role,
    ) -> ApiResult<(RwLockWriteGuard<'_, Store>, Caller)> {
        let s = self.write();
        let caller = s.authorize(headers, account)?;
        caller.require(role)?;
        Ok((s, caller))
    }
}

/// The Chatwoot sandbox.
#[derive(Debug)]
pub struct ChatwootSandbox;

impl ChatwootSandbox {
    /// Starts the sandbox on 127.0.0.1 with one account, its administrator and the platform app.
    pub async fn start(args: SandboxArgs) -> Result<RunningSandbox, SandboxError> {
        let store = Store::new(args.seed, args.message_limit, !args.agents_absent);
        let account_id = 1;
        let admin = store
            .users
            .get(&1)
            .map(|u| u.access_token.clone())
            .unwrap_or_default();
        let platform_token = store.platform_token.clone();
        let faults = Arc::new(FaultInjector::new(
            args.faults,
            Duration::from_millis(args.latency_ms),
            args.seed,
            limits::fault_response,
        ));
        let app = Arc::new(App {
            store: RwLock::new(store),
            limits: Limits::new(&args),
            stats: Arc::new(CallStats::new()),
            faults: Arc::clone(&faults),
        });
        let router = build_router(Arc::clone(&app));
        let server = deskmove_sandbox::serve_on(args.port, router)
            .await
            .map_err(|source| SandboxError::Bind {
                port: args.port,
                source,
            })?;
        tracing::info!(message = "Chatwoot sandbox listening.", base_url = %server.base_url());
        Ok(RunningSandbox {
            server,
            app,
            account_id,
            token: admin,
            platform_token,
        })
    }
}

/// Routes with their layers, outermost last: call stats, faults and latency, the per-IP limit.
fn build_router(app: Arc<App>) -> Router {
    let router = routes::router(Arc::clone(&app));
    let router = limits::with_rack_attack(router, Arc::clone(&app));
    let router = deskmove_sandbox::with_faults(router, Arc::clone(&app.faults));
    deskmove_sandbox::with_call_stats(router, Arc::clone(&app.stats))
}

/// A sandbox serving on loopback.
#[derive(Debug)]
pub struct RunningSandbox {
    server: Server,
    app: Arc<App>,
    account_id: u64,
    token: String,
    platform_token: String,
}

impl RunningSandbox {
    /// `http://127.0.0.1:<port>/`.
    pub fn base_url(&self) -> url::Url {
        self.server.base_url()
    }

    /// The account that exists at start.
    pub fn account_id(&self) -> u64 {
        self.account_id
    }

    /// The administrator's `api_access_token`.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The platform app's `api_access_token` (Platform API).
    pub fn platform_token(&self) -> &str {
        &self.platform_token
    }

    /// `base_url=… account_id=… token=…`, the line the CLI prints when ready.
    pub fn ready_line(&self) -> String {
        format!(
            "base_url={} account_id={} token={}",
            self.base_url(),
            self.account_id,
            self.token
        )
    }

    /// The whole account state as JSON (read-only).
    pub fn dump(&self) -> Value {
        self.app.read().dump(self.account_id)
    }

    /// Calls per route so far.
    pub fn stats(&self) -> Value {
        serde_json::to_value(self.app.stats.snapshot()).unwrap_or(Value::Null)
    }

    /// Stops the server.
    pub async fn shutdown(self) {
        self.server.shutdown().await;
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::SandboxArgs;

    #[derive(Parser, Debug)]
    struct Cli {
        #[command(flatten)]
        args: SandboxArgs,
    }

    #[test]
    fn arguments_parse_with_defaults_and_faults() {
        let cli = Cli::try_parse_from(["sandbox"]).unwrap();
        assert_eq!(cli.args.rate_limit, 3000);
        assert_eq!(cli.args.message_limit, 200);
        assert!(cli.args.faults.is_none());
        let cli = Cli::try_parse_from([
            "sandbox",
            "--port",
            "4000",
            "--rate-limit",
            "0",
            "--faults",
            "5xx=0.05,storm=0.02",
            "--latency-ms",
            "20",
        ])
        .unwrap();
        assert_eq!(
            (cli.args.port, cli.args.rate_limit, cli.args.latency_ms),
            (4000, 0, 20)
        );
        assert!((cli.args.faults.server_error - 0.05).abs() < f64::EPSILON);
        assert!(Cli::try_parse_from(["sandbox", "--faults", "bogus=1"]).is_err());
    }
}
