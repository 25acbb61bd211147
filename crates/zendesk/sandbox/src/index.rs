//! Per-epoch indexes the exports and lists need: every ticket's status, archive and deletion
//! flags and `generated_timestamp` (from the cheap conversation shapes, no bodies), users and
//! organizations in export order, and — lazily, because it renders every body — the comment and
//! event totals. Each is computed once per world epoch (and, for tickets, per system update).

use std::collections::BTreeMap;
use std::sync::Arc;

use deskmove_synth::View;

use crate::derive::{self, Status};
use crate::ids::{self, UserRef};

/// One ticket's header facts.
#[derive(Debug, Clone, Copy)]
pub(crate) struct TicketRow {
    pub(crate) index: u64,
    pub(crate) updated_at: i64,
    /// Bumped by every change, system updates included; the exports filter on it (§2.3).
    pub(crate) generated: i64,
    pub(crate) status: Status,
    pub(crate) archived: bool,
    pub(crate) deleted: bool,
}

/// Every ticket at one epoch.
#[derive(Debug)]
pub(crate) struct TicketIndex {
    pub(crate) rows: Vec<TicketRow>,
    /// Row indexes by `(generated, id)`: the export order.
    pub(crate) by_generated: Vec<u32>,
    /// Tickets `GET /tickets` and search show: neither archived nor deleted, by id.
    pub(crate) listable: Vec<u32>,
    /// Rated tickets, by id.
    pub(crate) rated: Vec<u32>,
}

impl TicketIndex {
    /// Builds the index; `touched` are system updates (`index → generated_timestamp`) and
    /// `ties` tickets share one timestamp (the tie fault).
    pub(crate) fn build(view: View<'_>, touched: &BTreeMap<u64, i64>, ties: u64) -> Self {
        let seed = view.seed();
        let now = view.now();
        let mut rows = Vec::with_capacity(view.conversation_count() as usize);
        for i in 0..view.conversation_count() {
            let Some(shape) = view.conversation_shape(i) else {
                continue;
            };
            let status = derive::status(seed, &shape, now);
            // Zendesk's automation closes a solved ticket: a change of its own, so it moves
            // the ticket in the exports (and starts the 120 days to archiving).
            let updated_at = match status {
                Status::Closed => shape.updated_at + derive::CLOSE_AFTER_SECS,
                _ => shape.updated_at,
            };
            let deleted = derive::deleted(seed, i);
            let archived = !deleted && derive::archived(status, updated_at, now);
            rows.push(TicketRow {
                index: i,
                updated_at,
                generated: updated_at,
                status,
                archived,
                deleted,
            });
        }
        if ties > 0 {
            let chosen: Vec<usize> = (0..rows.len())
                .filter(|r| !rows[*r].archived && !rows[*r].deleted)
                .take(ties as usize)
                .collect();
            let at = chosen
                .iter()
                .map(|r| rows[*r].updated_at)
                .max()
                .unwrap_or(0)
                + 60;
            for r in chosen {
                rows[r].generated = at;
            }
        }
        for (i, at) in touched {
            if let Some(row) = rows.get_mut(*i as usize) {
                row.generated = row.generated.max(*at);
            }
        }
        let mut by_generated: Vec<u32> = (0..rows.len() as u32).collect();
        by_generated.sort_by_key(|r| (rows[*r as usize].generated, rows[*r as usize].index));
        let listable = (0..rows.len() as u32)
            .filter(|r| !rows[*r as usize].archived && !rows[*r as usize].deleted)
            .collect();
        let rated = (0..rows.len() as u32)
            .filter(|r| {
                let row = &rows[*r as usize];
                !row.deleted && derive::rating(seed, row.index, row.status).is_some()
            })
            .collect();
        Self {
            rows,
            by_generated,
            listable,
            rated,
        }
    }

    /// The row of ticket `id`.
    pub(crate) fn row(&self, id: u64) -> Option<&TicketRow> {
        self.rows.get(ids::ticket_index(id)? as usize)
    }
}

/// One user in export order.
#[derive(Debug, Clone, Copy)]
pub(crate) struct UserRow {
    pub(crate) id: u64,
    pub(crate) who: UserRef,
    pub(crate) updated_at: i64,
}

/// When an agent joined: agents have no times in the world, so one day apart from the start.
pub(crate) fn agent_created_at(a: u64) -> i64 {
    deskmove_synth::HISTORY_START + a as i64 * 86_400
}

/// When an end user last changed, as Zendesk can know it: the world dates some profile changes
/// up to a day after sign-up, beyond its own clock; Zendesk cannot have seen them yet.
pub(crate) fn contact_updated_at(view: View<'_>, c: &deskmove_synth::Contact) -> i64 {
    c.updated_at
        .min(view.now() - crate::routes::incremental::EXPORT_LAG_SECS)
}

/// Every user, sorted by `(updated_at, id)`.
pub(crate) fn users(view: View<'_>) -> Vec<UserRow> {
    let mut out: Vec<UserRow> = (0..view.agent_count())
        .map(|a| UserRow {
            id: ids::agent_user(a),
            who: UserRef::Agent(a),
            updated_at: agent_created_at(a),
        })
        .collect();
    out.push(UserRow {
        id: ids::AUTOMATION_USER,
        who: UserRef::Automation,
        updated_at: deskmove_synth::HISTORY_START,
    });
    out.extend((0..view.contact_count()).filter_map(|j| {
        view.contact(j).map(|c| UserRow {
            id: ids::end_user(j),
            who: UserRef::EndUser(j),
            updated_at: contact_updated_at(view, &c),
        })
    }));
    out.sort_by_key(|u| (u.updated_at, u.id));
    out
}

/// Every organization index, sorted by `(updated_at, id)`.
pub(crate) fn organizations(view: View<'_>) -> Vec<(i64, u64)> {
    let mut out: Vec<(i64, u64)> = (0..view.company_count())
        .filter_map(|k| view.company(k).map(|c| (c.updated_at, k)))
        .collect();
    out.sort_unstable();
    out
}

/// Cached per key (epoch, plus a generation for tickets).
#[derive(Debug)]
pub(crate) struct Cache<T> {
    slot: std::sync::Mutex<Option<(CacheKey, Arc<T>)>>,
}

/// `(world epoch, generation)`.
pub(crate) type CacheKey = (u64, u64);

impl<T> Default for Cache<T> {
    fn default() -> Self {
        Self {
            slot: std::sync::Mutex::new(None),
        }
    }
}

impl<T> Cache<T> {
    /// The cached value for `key`, or `make()` stored for it.
    pub(crate) fn get(&self, key: CacheKey, make: impl FnOnce() -> T) -> Arc<T> {
        if let Ok(slot) = self.slot.lock()
            && let Some((k, v)) = slot.as_ref()
            && *k == key
        {
            return v.clone();
        }
        let v = Arc::new(make());
        if let Ok(mut slot) = self.slot.lock() {
            *slot = Some((key, v.clone()));
        }
        v
    }
}
