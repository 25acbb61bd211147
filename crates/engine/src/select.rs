//! Which staged conversations a load takes: the filters of `run` (dates, states, channels,
//! closed before a date) and a sample across the length distribution. The choice is made over
//! the staging store, so it is the same for every source; a conversation chosen brings its
//! messages, their files and the contacts it names, while the directory (agents, teams, labels,
//! attribute definitions, companies, macros) always loads whole. What a selection leaves out
//! stays staged for a later run, which the ledger keeps from loading anything twice.

use std::collections::HashSet;

use deskmove_core::model::{Conversation, ConversationState};
use deskmove_core::{Record, RecordKind, SourceKey};
use deskmove_store::Store;

use crate::{Engine, EngineError};

/// Staged records read per page while choosing.
const PAGE: usize = 500;

/// The rules a conversation must pass to be loaded; every rule set must hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Selection {
    /// Created at or after this UNIX second.
    pub created_after: Option<i64>,
    /// Created before this UNIX second.
    pub created_before: Option<i64>,
    /// Last changed at or after this UNIX second.
    pub updated_after: Option<i64>,
    /// Last changed before this UNIX second.
    pub updated_before: Option<i64>,
    /// In one of these states (empty: any).
    pub states: Vec<ConversationState>,
    /// Came in by one of these channels, as the source names them (empty: any).
    pub channels: Vec<String>,
    /// Closed, and last closed before this UNIX second (the initial run of a delta-date
    /// cutover: what can no longer change moves first).
    pub closed_before: Option<i64>,
    /// At most this many of the conversations that pass, spread evenly over their lengths
    /// (message counts), shortest to longest.
    pub sample: Option<usize>,
    /// Only records of these kinds (empty: every kind): one aspect re-synced, such as the
    /// attachments after a fix.
    pub kinds: Vec<RecordKind>,
}

impl Selection {
    /// Whether no rule is set (everything staged is loaded).
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Whether a rule about conversations is set (else every conversation is taken).
    pub fn picks_conversations(&self) -> bool {
        Self {
            kinds: Vec::new(),
            ..self.clone()
        } != Self::default()
    }

    /// Whether `c` passes every rule but the sample.
    pub fn admits(&self, c: &Conversation) -> bool {
        let created = c.created_at.as_second();
        let updated = c.updated_at.map_or(created, |t| t.as_second());
        let within = |at: i64, after: Option<i64>, before: Option<i64>| {
            after.is_none_or(|a| at >= a) && before.is_none_or(|b| at < b)
        };
        within(created, self.created_after, self.created_before)
            && within(updated, self.updated_after, self.updated_before)
            && (self.states.is_empty() || self.states.contains(&c.state))
            && (self.channels.is_empty() || self.channels.contains(&channel(c)))
            && self
                .closed_before
                .is_none_or(|before| c.state == ConversationState::Closed && closed_at(c) < before)
    }
}

/// The channel a source staged for a conversation (the `channel` its connector puts beside the
/// record), else `conversation`.
pub fn channel(c: &Conversation) -> String {
    c.extra
        .get("channel")
        .and_then(|v| v.as_str())
        .filter(|s| !s.is_empty())
        .unwrap_or("conversation")
        .to_owned()
}

/// When a closed conversation was last closed (the `closed_at` its connector puts beside the
/// record, in UNIX seconds), else its last change.
fn closed_at(c: &Conversation) -> i64 {
    c.extra
        .get("closed_at")
        .and_then(|v| v.as_i64())
        .or_else(|| c.updated_at.map(|t| t.as_second()))
        .unwrap_or_else(|| c.created_at.as_second())
}

/// What a [`Selection`] chose among the staged records.
#[derive(Debug, Clone, Default)]
pub struct Chosen {
    /// No conversation rule: every conversation, message and contact is taken.
    every_conversation: bool,
    kinds: Vec<RecordKind>,
    conversations: HashSet<SourceKey>,
    contacts: HashSet<SourceKey>,
    messages: HashSet<SourceKey>,
    /// Staged conversations the selection passed over.
    pub left_out: u64,
}

impl Chosen {
    /// How many conversations were chosen.
    pub fn conversations(&self) -> usize {
        self.conversations.len()
    }

    /// Whether `record` is part of the choice. Messages are remembered as they pass, so
    /// their files follow them (the load goes kind by kind, messages before attachments).
    pub(crate) fn takes(&mut self, record: &Record) -> bool {
        if !self.kinds.is_empty() && !self.kinds.contains(&record.kind()) {
            return false;
        }
        if self.every_conversation {
            return true;
        }
        match record {
            Record::Conversation(c) => self.conversations.contains(&c.key),
            Record::Message(m) => {
                let keep = self.conversations.contains(&m.conversation);
                if keep {
                    self.messages.insert(m.key.clone());
                }
                keep
            }
            Record::Contact(c) => self.contacts.contains(&c.key),
            Record::Attachment(a) => {
                self.messages.contains(&a.owner)
                    || self.conversations.contains(&a.owner)
                    || self.contacts.contains(&a.owner)
            }
            // The help center is no part of a conversation; it waits for a full run.
            Record::Collection(_) | Record::Article(_) => false,
            _ => true,
        }
    }
}

impl<St: Store> Engine<'_, St> {
    /// Chooses the staged conversations `selection` admits (and, with a sample, which of
    /// them), with the contacts they name. Deterministic: the same staged records give the
    /// same choice.
    pub async fn choose(&self, selection: &Selection) -> Result<Chosen, EngineError> {
        if !selection.picks_conversations() {
            return Ok(Chosen {
                every_conversation: true,
                kinds: selection.kinds.clone(),
                ..Chosen::default()
            });
        }
        let mut admitted: Vec<(u64, SourceKey, Vec<SourceKey>)> = Vec::new();
        let mut left_out = 0;
        let mut after: Option<SourceKey> = None;
        loop {
            let page = self
                .store
                .records(RecordKind::Conversation, after.as_ref(), PAGE)
                .await?;
            let Some(last) = page.last() else { break };
            after = Some(last.record.key().clone());
            for stored in page {
                let Record::Conversation(c) = stored.record else {
                    continue;
                };
                if selection.admits(&c) {
                    admitted.push((c.source_message_count.unwrap_or(0), c.key, c.contacts));
                } else {
                    left_out += 1;
                }
            }
        }
        if let Some(n) = selection.sample
            && n < admitted.len()
        {
            if admitted.iter().any(|(count, ..)| *count == 0) {
                self.count_messages(&mut admitted).await?;
            }
            admitted.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
            // Evenly spaced ranks over the sorted lengths: the shortest, the longest and
            // the spread between.
            let len = admitted.len();
            let picks: HashSet<usize> = (0..n)
                .map(|i| if n == 1 { 0 } else { i * (len - 1) / (n - 1) })
                .collect();
            left_out += (len - picks.len()) as u64;
            admitted = admitted
                .into_iter()
                .enumerate()
                .filter(|(i, _)| picks.contains(i))
                .map(|(_, a)| a)
                .collect();
        }
        let mut chosen = Chosen {
            kinds: selection.kinds.clone(),
            left_out,
            ..Chosen::default()
        };
        for (_, key, contacts) in admitted {
            chosen.conversations.insert(key);
            chosen.contacts.extend(contacts);
        }
        Ok(chosen)
    }

    /// Fills in message counts from the staged messages where the source gave none.
    async fn count_messages(
        &self,
        admitted: &mut [(u64, SourceKey, Vec<SourceKey>)],
    ) -> Result<(), EngineError> {
        let mut counts: std::collections::HashMap<SourceKey, u64> = Default::default();
        let mut after: Option<SourceKey> = None;
        loop {
            let page = self
                .store
                .records(RecordKind::Message, after.as_ref(), PAGE)
                .await?;
            let Some(last) = page.last() else { break };
            after = Some(last.record.key().clone());
            for stored in page {
                if let Record::Message(m) = stored.record {
                    *counts.entry(m.conversation).or_default() += 1;
                }
            }
        }
        for (count, key, _) in admitted.iter_mut() {
            if *count == 0 {
                *count = counts.get(key).copied().unwrap_or(0);
            }
        }
        Ok(())
    }
}
