//! Unauthenticated, loopback-only inspection endpoints for tests, benchmarks and the SDK
//! conformance run: the world's totals as an Intercom export must see them
//! (`GET /__sandbox/expected`), call statistics and leaked credentials (`GET /__sandbox/stats`),
//! moving the world's clock from another process (`POST /__sandbox/advance?ticks=N`, or the
//! sandbox's wall clock with `?secs=N`), and what clients wrote (`GET /__sandbox/dump`).
//!
//! The world counts in neutral words; the expected totals are in Intercom's (admins,
//! `data_attributes`) and say what Intercom lets an export see: current teammates only,
//! unarchived attributes by default, the capped companies list and the 500 most recent parts.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use deskmove_synth::View;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::derived::{self, CONVERSATION_ATTRIBUTES};
use crate::render::conversations::RECENT_PART_CAP;
use crate::respond;
use crate::routes::companies::COMPANY_LIST_CAP;
use crate::state::AppState;

/// What the 500-part retrieval cap hides from an export, at one epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PartCapTotals {
    /// Conversations with more than [`RECENT_PART_CAP`] parts.
    conversations_over_part_cap: u64,
    /// Parts a retrieval can see: the most recent [`RECENT_PART_CAP`] of each conversation.
    conversation_parts_within_cap: u64,
    /// Attached files a retrieval can see (first messages are always visible).
    attachments_within_cap: u64,
}

impl PartCapTotals {
    /// Walks every conversation's part count; only the few over the cap are generated in full.
    fn compute(view: View<'_>, parts: u64, attachments: u64) -> Self {
        let mut t = Self {
            conversations_over_part_cap: 0,
            conversation_parts_within_cap: parts,
            attachments_within_cap: attachments,
        };
        for i in 0..view.conversation_count() {
            let Some(shape) = view.conversation_shape(i) else {
                continue;
            };
            if shape.parts <= RECENT_PART_CAP {
                continue;
            }
            let hidden = shape.parts - RECENT_PART_CAP;
            t.conversations_over_part_cap += 1;
            t.conversation_parts_within_cap -= hidden;
            if let Some(c) = view.conversation(i) {
                let hidden_files: usize = c.parts[..hidden as usize]
                    .iter()
                    .map(|p| p.attachments.len())
                    .sum();
                t.attachments_within_cap -= hidden_files as u64;
            }
        }
        t
    }
}

/// The totals a complete Intercom export of this world must reach, plus the seed and the world's
/// clock. The keys are what `conformance/sdk/compare.py` and `deskmove demo` read.
pub(crate) fn expected(s: &AppState) -> Value {
    let t = s.world.totals();
    let view = s.world.view_at(t.epoch);
    let cap = part_cap_totals(s, view, t.conversation_parts, t.attachments);
    let mut out = json!({
        "epoch": t.epoch,
        // GET /admins lists current teammates only; departed ones still author parts.
        "admins": t.agents - t.agents_departed,
        "admins_departed": t.agents_departed,
        "teams": t.teams,
        "tags": t.tags,
        // GET /data_attributes hides archived ones unless asked.
        "data_attributes": t.attribute_definitions - t.attribute_definitions_archived,
        "data_attributes_archived": t.attribute_definitions_archived,
        "contacts": t.contacts,
        "users": t.users,
        "leads": t.leads,
        "contacts_without_email": t.contacts_without_email,
        "notes": t.notes,
        "companies": t.companies,
        "companies_with_users": t.companies_with_users,
        "conversations": t.conversations,
        "conversations_open": t.conversations_open,
        "conversations_closed": t.conversations_closed,
        "conversations_snoozed": t.conversations_snoozed,
        "conversation_parts": t.conversation_parts,
        "conversations_over_part_cap": cap.conversations_over_part_cap,
        "conversation_parts_within_cap": cap.conversation_parts_within_cap,
        "attachments": t.attachments,
        "attachments_within_cap": cap.attachments_within_cap,
        "inline_images": t.inline_images,
        "macros": t.macros,
        "collections": t.collections,
        "articles": t.articles,
        "article_images": t.article_images,
        "tickets": t.tickets,
        "ticket_parts": t.ticket_parts,
        "admins_including_departed": t.agents,
        "data_attributes_including_archived": t.attribute_definitions,
        "companies_visible_in_list": t.companies_with_users.min(COMPANY_LIST_CAP),
        "conversation_parts_retrievable": cap.conversation_parts_within_cap,
        "attachments_retrievable": cap.attachments_within_cap,
        "seed": s.world.config().seed,
        "world_now": view.now(),
    });
    // Derived in the sandbox (`derived.rs`): what a workspace has that the world does not model.
    // Readers ignore keys they do not know (`conformance/sdk/compare.py` looks keys up).
    let derived_totals = json!({
        "segments": derived::segments(view.seed()).len(),
        "ticket_types": derived::ticket_types(view.seed()).len(),
        "ticket_states": derived::ticket_states(view.seed()).len(),
        "help_centers": 1,
        "conversation_attributes": CONVERSATION_ATTRIBUTES.iter().filter(|a| !a.4).count(),
        "conversation_attributes_including_archived": CONVERSATION_ATTRIBUTES.len(),
        "activity_logs": derived::activity_logs(view).len(),
        "contacts_merged": derived::merged_contacts(view, s.world.config().contacts).len(),
    });
    if let (Some(o), Value::Object(extra)) = (out.as_object_mut(), derived_totals) {
        o.extend(extra);
    }
    out
}

/// [`PartCapTotals`] at `view`'s epoch, computed once per epoch.
fn part_cap_totals(s: &AppState, view: View<'_>, parts: u64, attachments: u64) -> PartCapTotals {
    let epoch = view.epoch();
    if let Ok(cache) = s.part_cap_totals.lock()
        && let Some((at, totals)) = *cache
        && at == epoch
    {
        return totals;
    }
    let totals = PartCapTotals::compute(view, parts, attachments);
    if let Ok(mut cache) = s.part_cap_totals.lock() {
        *cache = Some((epoch, totals));
    }
    totals
}

pub(crate) async fn get_expected(State(s): State<Arc<AppState>>) -> Response {
    respond::json(StatusCode::OK, expected(&s))
}

pub(crate) async fn get_stats(State(s): State<Arc<AppState>>) -> Response {
    let leaks = s.leaks.lock().map(|l| l.clone()).unwrap_or_default();
    respond::json(
        StatusCode::OK,
        json!({
            "calls": s.stats.snapshot(),
            "total_calls": s.stats.total_calls(),
            "leaked_credentials": leaks,
        }),
    )
}

#[derive(Debug, Deserialize)]
pub(crate) struct AdvanceQuery {
    ticks: Option<u64>,
    /// Seconds to move the sandbox's wall clock (search lag, URL expiry) instead of the world.
    secs: Option<u64>,
}

pub(crate) async fn post_advance(
    State(s): State<Arc<AppState>>,
    Query(q): Query<AdvanceQuery>,
) -> Response {
    if let Some(secs) = q.secs {
        s.clock.advance(std::time::Duration::from_secs(secs));
        return respond::json(StatusCode::OK, json!({"now": s.clock.now_secs()}));
    }
    let epoch = s.world.advance(q.ticks.unwrap_or(1));
    respond::json(
        StatusCode::OK,
        json!({"epoch": epoch, "world_now": s.world.view().now()}),
    )
}

/// `GET /__sandbox/dump`: everything written so far, with the notification log.
pub(crate) async fn get_dump(State(s): State<Arc<AppState>>) -> Response {
    let store = s.written.lock();
    respond::json(StatusCode::OK, crate::written::dump::dump(&store))
}
