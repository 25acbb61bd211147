//! Ticket audits: one per conversation part plus the creation, each with its events — the
//! comment it added, or the status, assignee or group change (research §3.2). The same audits
//! feed `GET /tickets/{id}/audits`, `GET /ticket_audits` and the ticket-events export.

use deskmove_synth::{Author, ConvState, Conversation, PartKind};
use serde_json::{Value, json};

use crate::ids;
use crate::render::comments::{AUDIT_BASE, CommentModel, author_user, via_channel};
use crate::render::{Render, iso};

/// The world's conversation state as the ticket status word an audit records.
fn state_word(s: ConvState) -> &'static str {
    match s {
        ConvState::Open => "open",
        ConvState::Closed => "solved",
        ConvState::Snoozed => "pending",
    }
}

/// One audit before rendering; `comment` indexes the ticket's comment list.
#[derive(Debug, Clone)]
pub(crate) struct AuditModel {
    pub(crate) id: u64,
    pub(crate) at: i64,
    pub(crate) author_id: u64,
    pub(crate) comment: Option<usize>,
    pub(crate) change: Option<(&'static str, Value)>,
}

/// The audits of conversation `c` (whose comments are `list`, in part order), oldest first.
pub(crate) fn audits(c: &Conversation, list: &[CommentModel]) -> Vec<AuditModel> {
    let mut out = Vec::with_capacity(c.parts.len() + 1);
    out.push(AuditModel {
        id: AUDIT_BASE + list.first().map_or(0, |m| m.id),
        at: c.created_at,
        author_id: ids::end_user(c.contact),
        comment: (!list.is_empty()).then_some(0),
        change: Some(("status", json!("new"))),
    });
    let mut next = 1;
    for p in &c.parts {
        let comment = (list.get(next).is_some_and(|m| m.id == p.id)).then(|| {
            next += 1;
            next - 1
        });
        let change = match (p.kind, p.assigned_to) {
            (PartKind::Assignment, Some(Author::Team(t))) => {
                Some(("group_id", json!(ids::group_id(t))))
            }
            (PartKind::Assignment, Some(Author::Agent(a))) => {
                Some(("assignee_id", json!(ids::agent_user(a))))
            }
            (PartKind::Open | PartKind::Close | PartKind::Snoozed | PartKind::Unsnoozed, _) => {
                Some(("status", json!(state_word(p.state))))
            }
            _ => None,
        };
        out.push(AuditModel {
            id: AUDIT_BASE + p.id,
            at: p.created_at,
            author_id: author_user(p.author),
            comment,
            change,
        });
    }
    out
}

impl Render<'_> {
    /// The events of an audit; a comment is rendered in full when `with_comment`.
    fn audit_events(
        &self,
        a: &AuditModel,
        list: &[CommentModel],
        channel: &str,
        with_comment: bool,
    ) -> Vec<Value> {
        let mut events = Vec::new();
        if let (Some(m), true) = (a.comment.and_then(|k| list.get(k)), with_comment) {
            let mut e = self.comment(m, channel, false);
            e["event_type"] = json!("Comment");
            e["via_reference_id"] = Value::Null;
            events.push(e);
        }
        if let Some((field, value)) = &a.change {
            events.push(json!({
                "id": a.id * 2 + 1,
                "type": "Change",
                "event_type": "Change",
                "field_name": field,
                "value": value,
                "previous_value": null,
            }));
        }
        events
    }

    /// A ticket audit object.
    pub(crate) fn audit(
        &self,
        ticket: u64,
        a: &AuditModel,
        list: &[CommentModel],
        channel: &str,
    ) -> Value {
        json!({
            "id": a.id,
            "ticket_id": ids::ticket_id(ticket),
            "created_at": iso(a.at),
            "author_id": a.author_id,
            "via": {"channel": via_channel(channel), "source": {"from": {}, "to": {}, "rel": null}},
            "metadata": {"system": {"client": "deskmove-sandbox"}, "custom": {}},
            "events": self.audit_events(a, list, channel, true),
        })
    }

    /// A ticket-events export row: comments as child events only with `include=comment_events`,
    /// otherwise just the `comment_present`/`comment_public` flags (research §2.2).
    pub(crate) fn ticket_event(
        &self,
        ticket: u64,
        a: &AuditModel,
        list: &[CommentModel],
        channel: &str,
        with_comments: bool,
    ) -> Value {
        let comment = a.comment.and_then(|k| list.get(k));
        let mut e = json!({
            "id": a.id,
            "ticket_id": ids::ticket_id(ticket),
            "timestamp": a.at,
            "created_at": iso(a.at),
            "updater_id": a.author_id,
            "via": "Web form",
            "system": {"client": "deskmove-sandbox", "location": "Dublin, Ireland"},
            "metadata": {},
            "merged_ticket_ids": [],
            "event_type": "Audit",
            "child_events": self.audit_events(a, list, channel, with_comments),
        });
        if !with_comments {
            e["comment_present"] = json!(comment.is_some());
            e["comment_public"] = json!(comment.is_some_and(|m| m.public));
        }
        e
    }
}
