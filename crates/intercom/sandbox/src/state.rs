//! Shared state of one running Intercom sandbox.

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use deskmove_sandbox::{CallStats, FixedWindow, SandboxClock};
use deskmove_synth::World;

use crate::files::{LeakedCredential, Signer};
use crate::inspect::PartCapTotals;
use crate::written::{Uploads, Written};

/// One open companies scroll (Intercom allows one per app).
#[derive(Debug, Clone)]
pub(crate) struct Scroll {
    pub(crate) param: String,
    /// Next company index to serve.
    pub(crate) next: u64,
    /// Sandbox clock (ms) of the last use.
    pub(crate) last_used_ms: i64,
}

/// A cached search result: matching record indexes in answer order.
#[derive(Debug)]
pub(crate) struct CachedSearch {
    pub(crate) key: String,
    pub(crate) hits: Arc<Vec<u64>>,
}

/// Everything the API host's handlers share.
pub(crate) struct AppState {
    pub(crate) world: Arc<World>,
    pub(crate) token: String,
    pub(crate) clock: Arc<SandboxClock>,
    /// `None` when rate limits are off.
    pub(crate) limiter: Option<FixedWindow>,
    pub(crate) signer: Arc<Signer>,
    pub(crate) stats: Arc<CallStats>,
    pub(crate) leaks: Arc<Mutex<Vec<LeakedCredential>>>,
    pub(crate) scroll: Mutex<Option<Scroll>>,
    pub(crate) scroll_seq: AtomicU64,
    pub(crate) request_seq: AtomicU64,
    pub(crate) searches: Mutex<VecDeque<CachedSearch>>,
    /// What the 500-part cap hides, per epoch: a walk over every conversation, done once.
    pub(crate) part_cap_totals: Mutex<Option<(u64, PartCapTotals)>>,
    /// Every API request as `METHOD /path?query`, in arrival order, when `--log-requests`.
    pub(crate) requests: Mutex<Option<Vec<String>>>,
    /// What clients wrote (`written`), beside the read-only world.
    pub(crate) written: Written,
    /// Files uploaded with `attachment_files`, served by the file host (which holds the same
    /// `Arc`; set once, before serving).
    pub(crate) uploads: Arc<Uploads>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("seed", &self.world.config().seed)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// Fresh state: no scroll open, no request served yet.
    pub(crate) fn new(
        world: Arc<World>,
        token: String,
        clock: Arc<SandboxClock>,
        limiter: Option<FixedWindow>,
        signer: Arc<Signer>,
        stats: Arc<CallStats>,
        leaks: Arc<Mutex<Vec<LeakedCredential>>>,
    ) -> Self {
        Self {
            world,
            token,
            clock,
            limiter,
            signer,
            stats,
            leaks,
            scroll: Mutex::new(None),
            scroll_seq: AtomicU64::new(0),
            request_seq: AtomicU64::new(0),
            searches: Mutex::new(VecDeque::new()),
            part_cap_totals: Mutex::new(None),
            requests: Mutex::new(None),
            written: Written::default(),
            uploads: Arc::default(),
        }
    }

    /// A deterministic, uuid-shaped request id (same request order, same ids).
    pub(crate) fn next_request_id(&self) -> String {
        let n = self.request_seq.fetch_add(1, Ordering::SeqCst);
        let h = blake3::hash(format!("{}:{n}", self.world.config().seed).as_bytes()).to_hex();
        format!(
            "{}-{}-4{}-a{}-{}",
            &h[0..8],
            &h[8..12],
            &h[13..16],
            &h[17..20],
            &h[20..32]
        )
    }

    /// A search result from the cache, or computed and cached (the last few are kept).
    pub(crate) fn cached_search(
        &self,
        key: String,
        compute: impl FnOnce() -> Vec<u64>,
    ) -> Arc<Vec<u64>> {
        if let Ok(cache) = self.searches.lock()
            && let Some(hit) = cache.iter().find(|c| c.key == key)
        {
            return hit.hits.clone();
        }
        let hits = Arc::new(compute());
        if let Ok(mut cache) = self.searches.lock() {
            if cache.len() >= 8 {
                cache.pop_front();
            }
            cache.push_back(CachedSearch {
                key,
                hits: hits.clone(),
            });
        }
        hits
    }
}
