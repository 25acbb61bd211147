//! Shared state of one running Zendesk sandbox.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use deskmove_sandbox::{CallStats, FixedWindow, SandboxClock};
use deskmove_synth::{View, World};

use crate::args::TooManyStyle;
use crate::files::{LeakedCredential, Signer};
use crate::index::{self, Cache, TicketIndex, UserRow};
use crate::inspect::Deep;

/// Everything the API host's handlers share.
pub(crate) struct AppState {
    pub(crate) world: Arc<World>,
    pub(crate) token: String,
    /// The admin whose `email/token:…` Basic credentials are accepted.
    pub(crate) email: String,
    pub(crate) clock: Arc<SandboxClock>,
    /// The account-wide bucket; `None` when limits are off.
    pub(crate) limiter: Option<FixedWindow>,
    /// The incremental-export bucket; `None` when off.
    pub(crate) incremental: Option<FixedWindow>,
    pub(crate) style: TooManyStyle,
    pub(crate) secure_downloads: bool,
    pub(crate) ties: u64,
    pub(crate) signer: Arc<Signer>,
    pub(crate) stats: Arc<CallStats>,
    pub(crate) files_stats: Arc<CallStats>,
    pub(crate) leaks: Arc<Mutex<Vec<LeakedCredential>>>,
    /// System updates made through `/__sandbox/touch`: ticket index → `generated_timestamp`.
    pub(crate) touched: Mutex<BTreeMap<u64, i64>>,
    pub(crate) touch_generation: AtomicU64,
    pub(crate) tickets: Cache<TicketIndex>,
    pub(crate) users: Cache<Vec<UserRow>>,
    pub(crate) organizations: Cache<Vec<(i64, u64)>>,
    pub(crate) deep: Cache<Deep>,
    /// Every API request as `METHOD /path?query`, when logging is on (`--log-requests`).
    pub(crate) requests: Mutex<Option<Vec<String>>>,
}

impl std::fmt::Debug for AppState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppState")
            .field("seed", &self.world.config().seed)
            .finish_non_exhaustive()
    }
}

impl AppState {
    /// The world now.
    pub(crate) fn view(&self) -> View<'_> {
        self.world.view()
    }

    fn ticket_key(&self, view: View<'_>) -> (u64, u64) {
        (view.epoch(), self.touch_generation.load(Ordering::SeqCst))
    }

    /// Every ticket's header facts at `view`'s epoch.
    pub(crate) fn tickets(&self, view: View<'_>) -> Arc<TicketIndex> {
        self.tickets.get(self.ticket_key(view), || {
            let touched = self.touched.lock().map(|t| t.clone()).unwrap_or_default();
            TicketIndex::build(view, &touched, self.ties)
        })
    }

    /// Every user in export order.
    pub(crate) fn users(&self, view: View<'_>) -> Arc<Vec<UserRow>> {
        self.users.get((view.epoch(), 0), || index::users(view))
    }

    /// Every organization in export order.
    pub(crate) fn organizations(&self, view: View<'_>) -> Arc<Vec<(i64, u64)>> {
        self.organizations
            .get((view.epoch(), 0), || index::organizations(view))
    }

    /// Comment and event totals (renders every body once per epoch).
    pub(crate) fn deep(&self, view: View<'_>) -> Arc<Deep> {
        let tickets = self.tickets(view);
        self.deep
            .get(self.ticket_key(view), || Deep::compute(view, &tickets))
    }

    /// Records a system update on ticket `index` at `at` (it moves in the exports).
    pub(crate) fn touch(&self, index: u64, at: i64) {
        if let Ok(mut t) = self.touched.lock() {
            t.insert(index, at);
        }
        self.touch_generation.fetch_add(1, Ordering::SeqCst);
    }
}
