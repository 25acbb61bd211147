//! `GET /deleted_tickets`: soft-deleted tickets (an agent deleted them; not archived, not yet
//! scrubbed), so a migration can record deletions without fetching comments that 404
//! (research §2.3).

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Query, State};
use serde_json::json;

use crate::ids;
use crate::origin::Origin;
use crate::paging::Params;
use crate::render::iso;
use crate::respond::ApiResult;
use crate::routes::{list as paged, renderer};
use crate::state::AppState;

pub(crate) async fn list(
    State(s): State<Arc<AppState>>,
    Extension(o): Extension<Origin>,
    Query(p): Query<Params>,
) -> ApiResult {
    let t = s.tickets(s.view());
    let r = renderer(&s, &o);
    let deleted: Vec<u32> = (0..t.rows.len() as u32)
        .filter(|k| t.rows[*k as usize].deleted)
        .collect();
    paged("deleted_tickets", deleted.len() as u64, 100, &o, &p, |k| {
        let row = &t.rows[deleted[k as usize] as usize];
        let c = r.conversation(row)?;
        let ticket = r.ticket(row, &c);
        let actor = c.agent_assignee.unwrap_or(0);
        Some(json!({
            "id": ids::ticket_id(row.index),
            "subject": ticket["subject"],
            "actor": {"id": ids::agent_user(actor), "name": r.view.agent(actor).map(|a| a.name)},
            "deleted_at": iso(row.updated_at),
            "previous_state": row.status.as_str(),
        }))
    })
}
