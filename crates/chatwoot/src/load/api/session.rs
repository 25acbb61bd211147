//! What one process has learnt about the account while loading: looked-up directories (so a
//! batch does not list them again) and the conversations it created itself (so their messages
//! need no listing before writing: nothing else can have written them).

use std::collections::{HashMap, HashSet, VecDeque};
use std::time::Instant;

use super::conversations::Standing;

/// The final state a conversation is given once its messages are in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Finish {
    /// Chatwoot status.
    pub status: String,
    /// For `snoozed`: epoch seconds.
    pub snoozed_until: Option<i64>,
    /// The agent to assign (while still pending, so nobody is notified).
    pub assignee: Option<u64>,
}

/// A conversation this process knows the messages of.
#[derive(Debug, Clone, Default)]
pub(crate) struct Known {
    /// `source_id` → message id, of the messages in it.
    pub source_ids: HashMap<String, u64>,
    /// Message id → `message_type` name and `private`.
    pub kinds: HashMap<u64, (String, bool)>,
    /// Attachment `source_id` → the id of the message that carries it.
    pub files: HashMap<String, u64>,
}

/// The session's caches.
#[derive(Debug, Default)]
pub(crate) struct Session {
    /// Agent email (lower-case) → user id, once listed.
    pub agents: Option<HashMap<String, u64>>,
    /// Label title (lower-case) → id, once listed.
    pub labels: Option<HashMap<String, u64>>,
    /// Inbox name → id, once listed.
    pub inboxes: Option<HashMap<String, u64>>,
    /// Display id → the messages known to be in it.
    pub known: HashMap<u64, Known>,
    /// Display id → how to finish it, set by the conversation phase of this process.
    pub finish: HashMap<u64, Finish>,
    /// Display id → where it stands, as this process last left it.
    pub standing: HashMap<u64, Standing>,
    /// Contacts this process created: they have no conversations it does not know of.
    pub fresh_contacts: HashSet<u64>,
    /// Conversation marker → display id, of the conversations this process created (a batch
    /// tried again finds them without the ledger).
    pub written: HashMap<String, u64>,
    /// Display id → when this process wrote its recent messages (the flood guard's window).
    pub window: HashMap<u64, VecDeque<Instant>>,
    /// Conversations that reached the flood guard in this run: their later messages wait for
    /// the next run, so the order is kept.
    pub blocked: HashSet<u64>,
}

impl Session {
    /// A new run: what was blocked may go again.
    pub(crate) fn new_run(&mut self) {
        self.blocked.clear();
        // Chatwoot's own 422 stops a conversation that is still full.
        self.window.clear();
    }
}
