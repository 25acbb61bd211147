//! Unauthenticated, loopback-only inspection endpoints for tests, benchmarks and the SDK
//! conformance run: the world's totals as a Zendesk export must see them
//! (`GET /__sandbox/expected`), call statistics and leaked credentials (`GET /__sandbox/stats`),
//! moving the clocks (`POST /__sandbox/advance?ticks=N&seconds=S`) and a system update on one
//! ticket (`POST /__sandbox/touch?ticket_id=N&ago=S`, which the one-minute lag then hides).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use deskmove_synth::{AttributeModel, View};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::derive;
use crate::ids;
use crate::index::TicketIndex;
use crate::render::comments::{AUDIT_BASE, comments};
use crate::render::directory::{BRANDS, DELETED_GROUPS};
use crate::render::fields::{FORMS, custom_ticket_field_count, ticket_field_count};
use crate::render::tag_word;
use crate::respond;
use crate::state::AppState;

/// What only rendering every comment can tell, once per epoch.
#[derive(Debug, Default)]
pub(crate) struct Deep {
    pub(crate) comments: u64,
    pub(crate) comments_public: u64,
    pub(crate) comments_private: u64,
    pub(crate) voice_comments: u64,
    pub(crate) comments_redacted: u64,
    pub(crate) attachments: u64,
    pub(crate) attachments_redacted: u64,
    pub(crate) inline_images: u64,
    pub(crate) comments_of_deleted_tickets: u64,
    /// Ticket events (audits) by `(timestamp, id)`: `(timestamp, audit id, ticket index)`.
    pub(crate) events: Vec<(i64, u64, u64)>,
    /// Tag word → tickets carrying it.
    pub(crate) tags: BTreeMap<String, u64>,
}

impl Deep {
    /// Renders every ticket's comments once.
    pub(crate) fn compute(view: View<'_>, tickets: &TicketIndex) -> Self {
        let mut d = Deep::default();
        for row in &tickets.rows {
            let Some(c) = view.conversation(row.index) else {
                continue;
            };
            let list = comments(view, &c);
            d.events
                .push((c.created_at, AUDIT_BASE + list[0].id, row.index));
            for p in &c.parts {
                d.events.push((p.created_at, AUDIT_BASE + p.id, row.index));
            }
            if row.deleted {
                d.comments_of_deleted_tickets += list.len() as u64;
                continue;
            }
            for t in c.tags.iter().filter_map(|t| view.tag(*t)) {
                *d.tags.entry(tag_word(&t.name)).or_default() += 1;
            }
            for m in &list {
                d.comments += 1;
                d.comments_public += u64::from(m.public);
                d.comments_private += u64::from(!m.public);
                d.voice_comments += u64::from(m.voice);
                d.comments_redacted += u64::from(m.redacted);
                d.attachments_redacted += u64::from(m.redacted);
                d.attachments += m.files.len() as u64 - u64::from(m.redacted);
                d.inline_images += m.inline.len() as u64;
            }
        }
        d.events.sort_unstable();
        d
    }
}

/// The totals a complete Zendesk export of this world must reach. Tickets count archived and
/// deleted ones (only the incremental export shows them all); comments and files count the
/// tickets that are not deleted (a deleted ticket's comments answer 404).
pub(crate) fn expected(s: &AppState) -> Value {
    let view = s.view();
    let t = s.tickets(view);
    let deep = s.deep(view);
    let users = s.users(view);
    let agents = view.agent_count();
    let departed = (0..agents)
        .filter_map(|a| view.agent(a))
        .filter(|a| a.departed)
        .count() as u64;
    let contacts = view.contact_count();
    let end_users_deleted = (0..contacts)
        .filter(|j| derive::contact_deleted(*j))
        .count() as u64;
    let memberships = (0..contacts)
        .filter_map(|j| view.contact(j))
        .filter(|c| c.company.is_some())
        .count() as u64;
    let group_memberships: u64 = (0..agents)
        .filter_map(|a| view.agent(a))
        .map(|a| a.team_indexes.len() as u64)
        .sum();
    let count = |f: &dyn Fn(&crate::index::TicketRow) -> bool| {
        t.rows.iter().filter(|r| f(r)).count() as u64
    };
    let by_status: BTreeMap<&str, u64> =
        t.rows
            .iter()
            .filter(|r| !r.deleted)
            .fold(BTreeMap::new(), |mut m, r| {
                *m.entry(r.status.as_str()).or_default() += 1;
                m
            });
    let articles = view.article_count();
    let translated = (0..articles)
        .filter(|i| derive::translated(view.seed(), *i))
        .count() as u64;
    let article_images: u64 = (0..articles)
        .filter_map(|i| view.article(i))
        .map(|a| a.images.len() as u64)
        .sum();
    let roots = (0..view.collection_count())
        .filter_map(|i| view.collection(i))
        .filter(|c| c.parent.is_none())
        .count() as u64;
    let attributes = |m| view.attributes_of(m).len() as u64;
    json!({
        "epoch": view.epoch(),
        "seed": view.seed(),
        "world_now": view.now(),
        "tickets": t.rows.len(),
        "tickets_archived": count(&|r| r.archived),
        "tickets_deleted": count(&|r| r.deleted),
        "tickets_listable": t.listable.len(),
        "tickets_by_status": by_status,
        "comments": deep.comments,
        "comments_public": deep.comments_public,
        "comments_private": deep.comments_private,
        "voice_comments": deep.voice_comments,
        "comments_redacted": deep.comments_redacted,
        "comments_of_deleted_tickets": deep.comments_of_deleted_tickets,
        "attachments": deep.attachments,
        "attachments_redacted": deep.attachments_redacted,
        "inline_images": deep.inline_images,
        "ticket_events": deep.events.len(),
        "users": users.len(),
        "agents": agents,
        "agents_deleted": departed,
        "automation_users": 1,
        "end_users": contacts,
        "end_users_deleted": end_users_deleted,
        "users_deleted": departed + end_users_deleted,
        "organizations": view.company_count(),
        "organization_memberships": memberships,
        "groups": view.team_count() + DELETED_GROUPS,
        "groups_deleted": DELETED_GROUPS,
        "group_memberships": group_memberships,
        "tags": deep.tags.len(),
        "ticket_fields": ticket_field_count(),
        "ticket_fields_custom": custom_ticket_field_count(),
        "ticket_forms": FORMS.len(),
        "user_fields": attributes(AttributeModel::Contact),
        "organization_fields": attributes(AttributeModel::Company),
        "macros": view.macro_count(),
        "satisfaction_ratings": t.rated.len(),
        "brands": BRANDS.len(),
        "hc_categories": roots,
        "hc_sections": view.collection_count(),
        "articles": articles,
        "article_translations": articles + translated,
        "article_attachments": article_images,
    })
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
            "file_calls": s.files_stats.snapshot(),
            "leaked_credentials": leaks.len(),
            "leaks": leaks,
        }),
    )
}

#[derive(Debug, Deserialize)]
pub(crate) struct AdvanceQuery {
    ticks: Option<u64>,
    seconds: Option<u64>,
}

pub(crate) async fn post_advance(
    State(s): State<Arc<AppState>>,
    Query(q): Query<AdvanceQuery>,
) -> Response {
    let epoch = match q.ticks {
        Some(n) => s.world.advance(n),
        None if q.seconds.is_some() => s.world.epoch(),
        None => s.world.advance(1),
    };
    if let Some(secs) = q.seconds {
        s.clock.advance(Duration::from_secs(secs));
    }
    respond::json(
        StatusCode::OK,
        json!({"epoch": epoch, "world_now": s.world.view().now(), "clock_now": s.clock.now_secs()}),
    )
}

#[derive(Debug, Deserialize)]
pub(crate) struct TouchQuery {
    ticket_id: u64,
    ago: Option<i64>,
}

pub(crate) async fn post_touch(
    State(s): State<Arc<AppState>>,
    Query(q): Query<TouchQuery>,
) -> Response {
    let view = s.view();
    let Some(index) = ids::ticket_index(q.ticket_id).filter(|i| *i < view.conversation_count())
    else {
        return respond::json(StatusCode::NOT_FOUND, json!({"error": "RecordNotFound"}));
    };
    let at = view.now() - q.ago.unwrap_or(10);
    s.touch(index, at);
    respond::json(
        StatusCode::OK,
        json!({"ticket_id": q.ticket_id, "generated_timestamp": at}),
    )
}
