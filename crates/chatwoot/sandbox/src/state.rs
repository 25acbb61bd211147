//! What a running sandbox keeps: the in-memory database of every account ([`Database`], with its
//! rows in `records` and the account-scoped table helpers in `account_scoped`) and what requests
//! share ([`AppState`]: the database lock, the one clock, the throttles, call stats and faults).

mod account_scoped;
mod database;
mod records;

use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use axum::http::HeaderMap;
use deskmove_sandbox::{CallStats, FaultInjector, SandboxClock};

pub use account_scoped::AccountScoped;
pub use database::Database;
pub use records::{
    Account, AccountUser, AgentBot, AgentNotification, Article, Attachment, AutomationRule,
    AutomationRuleRun, Blob, CannedResponse, Category, Contact, ContactInbox, Conversation,
    CustomAttributeDefinition, CustomerDelivery, Inbox, Label, Message, MessageStatus, MessageType,
    Portal, Team, TemplateMessage, User, Webhook, WebhookDelivery,
};

use crate::auth::{Caller, Role};
use crate::error::ApiResult;
use crate::limits::Limits;

/// Shared state of a running sandbox.
#[derive(Debug)]
pub struct AppState {
    database: RwLock<Database>,
    /// The sandbox's only source of "now" (the database holds the same clock).
    pub clock: Arc<SandboxClock>,
    /// rack-attack's throttles.
    pub limits: Limits,
    /// Calls per route.
    pub stats: Arc<CallStats>,
    /// Injected faults and latency.
    pub faults: Arc<FaultInjector>,
}

impl AppState {
    /// The state of a sandbox about to serve `database`.
    pub fn new(
        database: Database,
        clock: Arc<SandboxClock>,
        limits: Limits,
        stats: Arc<CallStats>,
        faults: Arc<FaultInjector>,
    ) -> Self {
        Self {
            database: RwLock::new(database),
            clock,
            limits,
            stats,
            faults,
        }
    }

    /// Locks the database for reading.
    pub fn read(&self) -> RwLockReadGuard<'_, Database> {
        self.database.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Locks the database for writing.
    pub fn write(&self) -> RwLockWriteGuard<'_, Database> {
        self.database
            .write()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Locks the database for reading and authorises the call on `account` for `role`; the lock
    /// is held across both so the answer matches the authorisation.
    pub fn read_as(
        &self,
        headers: &HeaderMap,
        account: u64,
        role: Role,
    ) -> ApiResult<(RwLockReadGuard<'_, Database>, Caller)> {
        let s = self.read();
        let caller = s.authorize(headers, account)?;
        caller.require(role)?;
        Ok((s, caller))
    }

    /// Locks the database for writing and authorises the call on `account` for `role`.
    pub fn write_as(
        &self,
        headers: &HeaderMap,
        account: u64,
        role: Role,
    ) -> ApiResult<(RwLockWriteGuard<'_, Database>, Caller)> {
        let s = self.write();
        let caller = s.authorize(headers, account)?;
        caller.require(role)?;
        Ok((s, caller))
    }
}
