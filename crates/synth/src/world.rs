//! The world: configuration, derived sizes, the clock, and `View`, a snapshot
//! of the world at one epoch on which every record generator lives.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::totals::Totals;

/// World time at epoch 0 (2025-06-15T15:06:40Z). Fixed so every run of a seed is identical.
pub const T0: i64 = 1_750_000_000;
/// Oldest history: six years before `T0`.
pub const HISTORY_START: i64 = T0 - 6 * 365 * 86_400;
/// World time one clock tick covers.
pub const TICK_SECS: i64 = 3_600;

/// The knobs of a world.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WorldConfig {
    /// Seed: same seed and sizes, same world, byte for byte.
    pub seed: u64,
    /// Conversations at epoch 0.
    pub conversations: u64,
    /// Contacts at epoch 0 (at least 8).
    pub contacts: u64,
}

impl WorldConfig {
    /// A config; `contacts` is raised to 8 so every company rule can hold.
    pub fn new(seed: u64, conversations: u64, contacts: u64) -> Self {
        Self {
            seed,
            conversations,
            contacts: contacts.max(8),
        }
    }
}

/// Sizes derived from the config; all O(1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Core {
    pub(crate) seed: u64,
    pub(crate) conversations0: u64,
    pub(crate) contacts0: u64,
    pub(crate) companies: u64,
    /// Companies `0..populated` have users; the rest have none (hidden from lists).
    pub(crate) populated: u64,
    pub(crate) agents: u64,
    pub(crate) teams: u64,
    pub(crate) tickets0: u64,
    pub(crate) new_conversations_per_tick: u64,
    pub(crate) new_contacts_per_tick: u64,
    /// Mask folded into hex ids so ids look random yet decode to an index.
    pub(crate) id_mask: u32,
}

impl Core {
    fn new(cfg: WorldConfig) -> Self {
        let contacts0 = cfg.contacts.max(8);
        let companies = (contacts0 / 8).max(4);
        let empty = (companies * 15 / 100).max(1);
        let agents = (6 + contacts0 / 5_000).clamp(8, 120);
        Self {
            seed: cfg.seed,
            conversations0: cfg.conversations,
            contacts0,
            companies,
            populated: companies - empty,
            agents,
            teams: (agents / 4).clamp(3, 25),
            tickets0: (cfg.conversations / 25).max(3),
            new_conversations_per_tick: (cfg.conversations / 200).max(1),
            new_contacts_per_tick: (contacts0 / 400).max(1),
            id_mask: (crate::rng::mix(cfg.seed ^ 0x1d5) & 0xffff_ffff) as u32,
        }
    }
}

/// A synthetic company. Construction is O(1); every record is computed on demand.
#[derive(Debug)]
pub struct World {
    core: Core,
    epoch: AtomicU64,
    totals: Mutex<Option<(u64, Totals)>>,
}

impl World {
    /// A world at epoch 0.
    pub fn new(cfg: WorldConfig) -> Self {
        Self::at_epoch(cfg, 0)
    }

    /// A world whose clock already shows `epoch` ticks.
    pub fn at_epoch(cfg: WorldConfig, epoch: u64) -> Self {
        Self {
            core: Core::new(cfg),
            epoch: AtomicU64::new(epoch),
            totals: Mutex::new(None),
        }
    }

    /// The config this world was built from (contacts already clamped).
    pub fn config(&self) -> WorldConfig {
        WorldConfig {
            seed: self.core.seed,
            conversations: self.core.conversations0,
            contacts: self.core.contacts0,
        }
    }

    /// Current epoch (clock ticks since creation).
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::SeqCst)
    }

    /// Move the clock forward: new conversations, new parts on old ones, state
    /// changes and contact edits appear. Returns the new epoch.
    pub fn advance(&self, ticks: u64) -> u64 {
        self.epoch.fetch_add(ticks, Ordering::SeqCst) + ticks
    }

    /// A consistent snapshot at the current epoch.
    pub fn view(&self) -> View<'_> {
        self.view_at(self.epoch())
    }

    /// A snapshot at any epoch (past or future).
    pub fn view_at(&self, epoch: u64) -> View<'_> {
        View {
            core: &self.core,
            epoch,
        }
    }

    /// Totals at the current epoch (computed once per epoch by streaming over
    /// records, in constant memory, then cached).
    pub fn totals(&self) -> Totals {
        let epoch = self.epoch();
        if let Ok(guard) = self.totals.lock()
            && let Some((e, t)) = guard.as_ref()
            && *e == epoch
        {
            return t.clone();
        }
        let t = self.view_at(epoch).compute_totals();
        if let Ok(mut guard) = self.totals.lock() {
            *guard = Some((epoch, t.clone()));
        }
        t
    }
}

/// The world frozen at one epoch. Cheap to copy; every generator lives here.
#[derive(Debug, Clone, Copy)]
pub struct View<'w> {
    pub(crate) core: &'w Core,
    pub(crate) epoch: u64,
}

impl View<'_> {
    /// The epoch of this snapshot.
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// World time "now" at this epoch (UNIX seconds).
    pub fn now(&self) -> i64 {
        T0 + self.epoch as i64 * TICK_SECS
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.core.seed
    }

    /// Start of tick `t` (ticks are 1-based: tick 1 is the first after `T0`).
    pub(crate) fn tick_start(t: u64) -> i64 {
        T0 + (t as i64 - 1) * TICK_SECS
    }

    /// Conversations existing at this epoch.
    pub fn conversation_count(&self) -> u64 {
        self.conversations_at(self.epoch)
    }

    pub(crate) fn conversations_at(&self, epoch: u64) -> u64 {
        self.core.conversations0 + epoch * self.core.new_conversations_per_tick
    }

    /// Contacts existing at this epoch.
    pub fn contact_count(&self) -> u64 {
        self.contacts_at(self.epoch)
    }

    pub(crate) fn contacts_at(&self, epoch: u64) -> u64 {
        self.core.contacts0 + epoch * self.core.new_contacts_per_tick
    }

    /// Companies (fixed over time).
    pub fn company_count(&self) -> u64 {
        self.core.companies
    }

    /// Companies that have at least one user (the only ones lists show).
    pub fn populated_company_count(&self) -> u64 {
        self.core.populated
    }

    /// Agents.
    pub fn agent_count(&self) -> u64 {
        self.core.agents
    }

    /// Teams.
    pub fn team_count(&self) -> u64 {
        self.core.teams
    }

    /// Tickets (fixed over time).
    pub fn ticket_count(&self) -> u64 {
        self.core.tickets0
    }

    /// Which tick created conversation `i` (0 = part of the initial history).
    pub(crate) fn conversation_birth_tick(&self, i: u64) -> u64 {
        if i < self.core.conversations0 {
            0
        } else {
            (i - self.core.conversations0) / self.core.new_conversations_per_tick + 1
        }
    }

    /// Which tick created contact `j` (0 = initial).
    pub(crate) fn contact_birth_tick(&self, j: u64) -> u64 {
        if j < self.core.contacts0 {
            0
        } else {
            (j - self.core.contacts0) / self.core.new_contacts_per_tick + 1
        }
    }
}
