//! Tickets (the world's conversations): subject, requester, assignee, group, status, priority,
//! type, tags, custom fields, brand, form and satisfaction rating (research §3.1). Exports show
//! deleted tickets with `status: "deleted"`; the other endpoints never show them.

use std::collections::BTreeSet;

use deskmove_synth::Conversation;
use serde_json::{Map, Value, json};

use crate::derive;
use crate::ids::{self, BRAND_BASE, GROUP_BASE, ORG_BASE, RATING_BASE, TICKET_FORM_BASE};
use crate::index::TicketRow;
use crate::render::comments::via_channel;
use crate::render::{Render, iso, plain, tag_word};

impl Render<'_> {
    /// The world conversation behind a row.
    pub(crate) fn conversation(&self, row: &TicketRow) -> Option<Conversation> {
        self.view.conversation(row.index)
    }

    /// A ticket object.
    pub(crate) fn ticket(&self, row: &TicketRow, c: &Conversation) -> Value {
        let seed = self.seed();
        let i = row.index;
        let id = ids::ticket_id(i);
        let description = plain(&c.source_body);
        let subject = c.title.clone().unwrap_or_else(|| {
            let first = description.lines().next().unwrap_or("").trim();
            first.chars().take(60).collect()
        });
        let contact = self.view.contact(c.contact);
        let tags: Vec<String> = c
            .tags
            .iter()
            .filter_map(|t| self.view.tag(*t))
            .map(|t| tag_word(&t.name))
            .collect();
        let status = if row.deleted {
            "deleted"
        } else {
            row.status.as_str()
        };
        let custom = self.ticket_custom_fields(i);
        let ttype = derive::ticket_type(seed, i);
        let rating = derive::rating(seed, i, row.status).map(|(good, comment)| {
            json!({"id": RATING_BASE + i, "score": if good { "good" } else { "bad" }, "comment": comment})
        });
        json!({
            "id": id,
            "url": self.origin.api(&format!("tickets/{id}")),
            "external_id": null,
            "via": {"channel": via_channel(c.channel), "source": {"from": {}, "to": {}, "rel": null}},
            "created_at": iso(c.created_at),
            "updated_at": iso(row.updated_at),
            "generated_timestamp": row.generated,
            "type": ttype,
            "subject": subject,
            "raw_subject": subject,
            "description": description,
            "priority": derive::priority(c.priority),
            "status": status,
            "recipient": null,
            "requester_id": ids::end_user(c.contact),
            "submitter_id": ids::end_user(c.contact),
            "assignee_id": c.agent_assignee.map(ids::agent_user),
            "organization_id": contact.and_then(|x| x.company).map(ids::org_id),
            "group_id": c.team_assignee.map(ids::group_id),
            "collaborator_ids": [],
            "follower_ids": [],
            "email_cc_ids": [],
            "forum_topic_id": null,
            "problem_id": null,
            "has_incidents": false,
            "is_public": true,
            "due_at": if ttype == Some("task") { json!(iso(row.updated_at + 7 * 86_400)) } else { Value::Null },
            "tags": tags,
            "custom_fields": custom,
            "fields": custom,
            "satisfaction_rating": rating,
            "sharing_agreement_ids": [],
            "followup_ids": [],
            "ticket_form_id": TICKET_FORM_BASE + derive::form(seed, i),
            "brand_id": BRAND_BASE + derive::brand(seed, i),
            "allow_channelback": false,
            "allow_attachments": true,
            "from_messaging_channel": matches!(c.channel, "whatsapp" | "facebook" | "instagram"),
        })
    }

    /// The satisfaction rating of a rated ticket.
    pub(crate) fn rating(&self, row: &TicketRow, c: &Conversation) -> Option<Value> {
        let (good, comment) = derive::rating(self.seed(), row.index, row.status)?;
        let id = RATING_BASE + row.index;
        Some(json!({
            "id": id,
            "url": self.origin.api(&format!("satisfaction_ratings/{id}")),
            "assignee_id": c.agent_assignee.map(ids::agent_user),
            "group_id": c.team_assignee.map(ids::group_id),
            "requester_id": ids::end_user(c.contact),
            "ticket_id": ids::ticket_id(row.index),
            "score": if good { "good" } else { "bad" },
            "comment": comment,
            "reason": if good { Value::Null } else { json!("Issue took too long to resolve") },
            "reason_code": if good { Value::Null } else { json!(6) },
            "created_at": iso(row.updated_at),
            "updated_at": iso(row.updated_at),
        }))
    }
}

impl Render<'_> {
    /// Side-loaded records for `include=users,groups,organizations` on a page of tickets
    /// (research §2.2): each referenced record once, by id.
    pub(crate) fn ticket_sideloads(&self, tickets: &[Value], include: &str) -> Map<String, Value> {
        let ids = |keys: &[&str]| -> BTreeSet<u64> {
            tickets
                .iter()
                .flat_map(|t| keys.iter().filter_map(|k| t[*k].as_u64()))
                .collect()
        };
        let mut out = Map::new();
        for what in include.split(',').map(str::trim) {
            let records: Vec<Value> = match what {
                "users" => ids(&["requester_id", "submitter_id", "assignee_id"])
                    .into_iter()
                    .filter_map(ids::user_ref)
                    .filter_map(|w| self.user(w))
                    .collect(),
                "groups" => ids(&["group_id"])
                    .into_iter()
                    .filter_map(|id| self.group(id.checked_sub(GROUP_BASE)?))
                    .collect(),
                "organizations" => ids(&["organization_id"])
                    .into_iter()
                    .filter_map(|id| self.organization(id.checked_sub(ORG_BASE)?))
                    .collect(),
                _ => continue,
            };
            out.insert(what.to_string(), Value::Array(records));
        }
        out
    }
}
