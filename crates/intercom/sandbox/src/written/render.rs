//! Written records as Intercom 2.16 JSON, in the same shapes the read side serves for world
//! records (`contact`, `company`, `conversation`, `conversation_part`, `ticket`, `ticket_reply`,
//! `article`, `collection`, `note`, `tag`, `data_attribute`, `message`).

use deskmove_synth::View;
use serde_json::{Value, json};

use crate::render::{Render, WORKSPACE_ID};
use crate::written::{
    Store, WArticle, WAttachment, WAuthor, WCollection, WCompany, WContact, WConversation,
    WDataAttribute, WNote, WPart, WTicket,
};

/// Items an embedded sub-list shows before `has_more` (as the read side).
const EMBEDDED_MAX: usize = 10;

fn sub_list(kind: &str, ids: &[String], url: String) -> Value {
    let data: Vec<Value> = ids
        .iter()
        .take(EMBEDDED_MAX)
        .map(|id| json!({"type": kind, "id": id, "url": format!("/{kind}s/{id}")}))
        .collect();
    json!({"type": "list", "data": data, "url": url, "total_count": ids.len(), "has_more": ids.len() > EMBEDDED_MAX})
}

/// A written contact.
pub(crate) fn contact(store: &Store, c: &WContact) -> Value {
    let email = c.email.clone().unwrap_or_default();
    let domain = email
        .rsplit_once('@')
        .map(|(_, d)| d.to_string())
        .unwrap_or_default();
    let tags: Vec<String> = store
        .tags_of("contact", &c.id)
        .iter()
        .map(|t| t.tag_id.clone())
        .collect();
    let companies = store.companies_of(&c.id);
    let notes: Vec<String> = store.notes_of(&c.id).iter().map(|n| n.id.clone()).collect();
    json!({
        "type": "contact",
        "id": c.id,
        "workspace_id": WORKSPACE_ID,
        "external_id": c.external_id,
        "role": c.role,
        "email": email,
        "email_domain": domain,
        "phone": c.phone,
        "name": c.name,
        "owner_id": c.owner_id,
        "has_hard_bounced": false,
        "marked_email_as_spam": false,
        "unsubscribed_from_emails": c.unsubscribed_from_emails,
        "created_at": c.created_at,
        "updated_at": c.updated_at,
        "signed_up_at": c.signed_up_at,
        "last_seen_at": c.last_seen_at,
        "last_replied_at": null,
        "last_contacted_at": null,
        "last_email_opened_at": null,
        "last_email_clicked_at": null,
        "language_override": null,
        "browser": null,
        "browser_version": null,
        "browser_language": null,
        "os": null,
        "custom_attributes": c.custom_attributes,
        "avatar": c.avatar,
        "tags": sub_list("tag", &tags, format!("/contacts/{}/tags", c.id)),
        "notes": sub_list("note", &notes, format!("/contacts/{}/notes", c.id)),
        "companies": sub_list("company", &companies, format!("/contacts/{}/companies", c.id)),
        "location": {"type": "location", "country": null, "region": null, "city": null},
        "social_profiles": {"type": "list", "data": []},
    })
}

/// A written company.
pub(crate) fn company(store: &Store, c: &WCompany) -> Value {
    let users = store
        .memberships
        .iter()
        .filter(|m| m.company_id == c.id)
        .count();
    let tags: Vec<Value> = store
        .tags_of("company", &c.id)
        .iter()
        .filter_map(|t| store.tag(&t.tag_id))
        .map(|t| json!({"type": "tag", "id": t.id, "name": t.name}))
        .collect();
    let mut out = json!({
        "type": "company",
        "id": c.id,
        "name": c.name,
        "app_id": WORKSPACE_ID,
        "plan": c.plan.as_ref().map(|p| json!({"type": "plan", "id": format!("plan-{}", p.len()), "name": p})).unwrap_or_else(|| json!({})),
        "company_id": c.company_id,
        "remote_created_at": c.remote_created_at,
        "created_at": c.created_at,
        "updated_at": c.updated_at,
        "last_request_at": null,
        "size": c.size,
        "website": c.website,
        "industry": c.industry,
        "monthly_spend": c.monthly_spend,
        "session_count": 0,
        "user_count": users,
        "custom_attributes": c.custom_attributes,
        "tags": {"type": "tag.list", "tags": tags},
        "segments": {"type": "segment.list", "segments": []},
    });
    // What the client never set is left out (the schema types these fields without null).
    if let Some(o) = out.as_object_mut() {
        o.retain(|_, v| !v.is_null());
    }
    out
}

/// An author as a conversation part names it.
fn author(view: &View<'_>, store: &Store, a: &WAuthor) -> Value {
    match a.kind.as_str() {
        "admin" => {
            let agent = view.agent_by_id(&a.id);
            json!({
                "type": "admin",
                "id": a.id,
                "name": agent.as_ref().map(|x| x.name.clone()),
                "email": agent.map(|x| x.email).unwrap_or_default(),
                "from_ai_agent": false,
                "is_ai_answer": false,
            })
        }
        kind => {
            let c = store.contact(&a.id);
            let world = view.contact_by_id(&a.id);
            let name = c
                .and_then(|c| c.name.clone())
                .or_else(|| world.as_ref().and_then(|w| w.name.clone()));
            let email = c
                .and_then(|c| c.email.clone())
                .or_else(|| world.and_then(|w| w.email))
                .unwrap_or_default();
            json!({"type": kind, "id": a.id, "name": name, "email": email, "from_ai_agent": false, "is_ai_answer": false})
        }
    }
}

/// A body as served: as written, or as text with `display_as=plaintext`.
fn served(r: &Render<'_>, html: &str) -> String {
    if r.plaintext {
        crate::plaintext::to_plaintext(html)
    } else {
        html.to_string()
    }
}

/// An attachment; an uploaded file's URL is the file host's, signed at the time of the read.
fn attachment(r: &Render<'_>, a: &WAttachment) -> Value {
    let url = match a.upload_id {
        Some(id) => r.signer.url(id, &a.name, r.now),
        None => a.url.clone(),
    };
    json!({"type": "upload", "name": a.name, "url": url, "content_type": a.content_type, "filesize": a.filesize})
}

/// A conversation part.
pub(crate) fn part(r: &Render<'_>, store: &Store, p: &WPart) -> Value {
    let view = &r.view;
    json!({
        "type": "conversation_part",
        "id": p.id,
        "part_type": p.part_type,
        "body": p.body.as_deref().map(|b| served(r, b)),
        "created_at": p.created_at,
        "updated_at": p.created_at,
        "notified_at": p.created_at,
        "assigned_to": p.assigned_to.as_ref().map(|t| json!({"type": t.kind, "id": t.id})),
        "author": author(view, store, &p.author),
        "attachments": p.attachments.iter().map(|a| attachment(r, a)).collect::<Vec<_>>(),
        "external_id": null,
        "redacted": false,
        "state": "open",
        "tags": [],
        "app_package_code": null,
    })
}

/// A written conversation, with its parts when retrieved (`with_parts`; written conversations
/// are far below the 500 cap) and without them as listed or searched.
pub(crate) fn conversation(
    r: &Render<'_>,
    store: &Store,
    c: &WConversation,
    with_parts: bool,
) -> Value {
    let view = &r.view;
    let tags: Vec<Value> = store
        .tags_of("conversation", &c.id)
        .iter()
        .filter_map(|t| {
            let name = store
                .tag(&t.tag_id)
                .map(|x| x.name.clone())
                .or_else(|| view.tag_by_id(&t.tag_id).map(|x| x.name))?;
            Some(
                json!({"type": "tag", "id": t.tag_id, "name": name, "applied_at": t.applied_at,
                "applied_by": {"type": "admin", "id": t.admin_id}}),
            )
        })
        .collect();
    let contact = store
        .contact(&c.contact_id)
        .map(|x| x.external_id.clone())
        .unwrap_or_else(|| {
            view.contact_by_id(&c.contact_id)
                .and_then(|w| w.external_id)
        });
    let mut teammates: Vec<String> = c
        .parts
        .iter()
        .filter(|p| p.author.kind == "admin")
        .map(|p| p.author.id.clone())
        .collect();
    teammates.sort();
    teammates.dedup();
    let count = |t: &str| c.parts.iter().filter(|p| p.part_type == t).count();
    let src = &c.source;
    let mut out = json!({
        "type": "conversation",
        "id": c.id,
        "title": c.title,
        "created_at": c.created_at,
        "updated_at": c.updated_at,
        "waiting_since": null,
        "snoozed_until": c.snoozed_until,
        "open": c.state != "closed",
        "state": c.state,
        "read": false,
        "priority": "none",
        "admin_assignee_id": c.admin_assignee_id,
        "team_assignee_id": c.team_assignee_id,
        "company": null,
        "tags": {"type": "tag.list", "tags": tags},
        "conversation_rating": null,
        "source": {
            "type": c.channel,
            "id": src.id,
            "delivered_as": c.delivered_as,
            "subject": c.subject.clone().unwrap_or_default(),
            "body": served(r, src.body.as_deref().unwrap_or_default()),
            "author": {"type": src.author.kind, "id": src.author.id,
                "name": author(view, store, &src.author)["name"], "email": author(view, store, &src.author)["email"]},
            "attachments": src.attachments.iter().map(|a| attachment(r, a)).collect::<Vec<_>>(),
            "url": null,
            "redacted": false,
        },
        "contacts": {"type": "contact.list", "contacts": [{"type": "contact", "id": c.contact_id, "external_id": contact}]},
        "teammates": {"type": "admin.list", "teammates": teammates.iter().map(|id| json!({"type": "admin", "id": id})).collect::<Vec<_>>()},
        "custom_attributes": c.custom_attributes,
        "first_contact_reply": {"created_at": c.created_at, "type": c.channel, "url": null},
        "statistics": {"type": "conversation_statistics", "count_reopens": count("open"),
            "count_assignments": count("assignment"), "count_conversation_parts": c.parts.len() + 1},
        "linked_objects": {"type": "list", "data": [], "total_count": 0, "has_more": false},
        "ai_agent_participated": false,
    });
    out["read"] = json!(c.read);
    out["waiting_since"] = json!(waiting_since(&c.parts));
    if with_parts {
        out["conversation_parts"] = json!({"type": "conversation_part.list", "total_count": c.parts.len(),
            "conversation_parts": c.parts.iter().map(|p| part(r, store, p)).collect::<Vec<_>>()});
    }
    out
}

/// When the contact started waiting: the last part, if a contact wrote it (null after an
/// admin's, as Intercom documents `waiting_since`).
pub(crate) fn waiting_since(parts: &[WPart]) -> Option<i64> {
    parts
        .iter()
        .rev()
        .find(|p| {
            !matches!(
                p.part_type.as_str(),
                "close" | "open" | "snoozed" | "assignment"
            )
        })
        .filter(|p| p.author.kind != "admin" && p.author.kind != "team")
        .map(|p| p.created_at)
}

/// A ticket part (`ticket_reply`, also the items of `ticket_parts`).
pub(crate) fn ticket_part(r: &Render<'_>, store: &Store, p: &WPart) -> Value {
    let mut a = author(&r.view, store, &p.author);
    if let Some(o) = a.as_object_mut() {
        o.remove("from_ai_agent");
        o.remove("is_ai_answer");
    }
    json!({
        "type": "ticket_part",
        "id": p.id,
        "part_type": p.part_type,
        "body": p.body,
        "created_at": p.created_at,
        "updated_at": p.created_at,
        "author": a,
        "attachments": p.attachments.iter().map(|a| attachment(r, a)).collect::<Vec<_>>(),
        "redacted": false,
    })
}

/// A written ticket; `ticket_type` and `ticket_state` are the derived ones `GET /ticket_types`
/// lists.
pub(crate) fn ticket(
    r: &Render<'_>,
    store: &Store,
    t: &WTicket,
    ticket_type: Value,
    ticket_state: Value,
) -> Value {
    let view = &r.view;
    let external = store
        .contact(&t.contact_id)
        .map(|x| x.external_id.clone())
        .unwrap_or_else(|| {
            view.contact_by_id(&t.contact_id)
                .and_then(|w| w.external_id)
        });
    let mut attributes = t.attributes.clone();
    attributes.insert("_default_title_".into(), json!(t.title));
    attributes.insert("_default_description_".into(), json!(t.description));
    json!({
        "type": "ticket",
        "id": t.id,
        "ticket_id": (t.id.parse::<u64>().unwrap_or(0) % 1_000_000).to_string(),
        "category": ticket_type["category"],
        "ticket_attributes": attributes,
        "ticket_state": ticket_state,
        "ticket_type": ticket_type,
        "contacts": {"type": "contact.list", "contacts": [{"type": "contact", "id": t.contact_id, "external_id": external}]},
        "admin_assignee_id": t.admin_assignee_id,
        "team_assignee_id": t.team_assignee_id,
        "created_at": t.created_at,
        "updated_at": t.updated_at,
        "open": true,
        "linked_objects": {"type": "list", "data": [], "total_count": 0, "has_more": false},
        "ticket_parts": {"type": "ticket_part.list", "ticket_parts": t.parts.iter().map(|p| ticket_part(r, store, p)).collect::<Vec<_>>(), "total_count": t.parts.len()},
        "is_shared": true,
    })
}

/// A written article.
pub(crate) fn article(a: &WArticle) -> Value {
    json!({
        "type": "article",
        "id": a.id,
        "workspace_id": WORKSPACE_ID,
        "title": a.title,
        "description": a.description,
        "body": a.body,
        "author_id": a.author_id,
        "state": a.state,
        "created_at": a.created_at,
        "updated_at": a.created_at,
        "url": (a.state == "published").then(|| format!("https://help.example.com/en/articles/{}", a.id)),
        "parent_id": a.parent_id,
        "parent_ids": a.parent_id.into_iter().collect::<Vec<_>>(),
        "parent_type": a.parent_type,
        "default_locale": "en",
    })
}

/// A written collection.
pub(crate) fn collection(c: &WCollection) -> Value {
    json!({
        "type": "collection",
        "id": c.id,
        "workspace_id": WORKSPACE_ID,
        "name": c.name,
        "description": c.description,
        "created_at": c.created_at,
        "updated_at": c.created_at,
        "url": format!("https://help.example.com/en/collections/{}", c.id),
        "icon": null,
        "order": 1,
        "default_locale": "en",
        "parent_id": c.parent_id,
        "help_center_id": c.help_center_id.unwrap_or(1),
    })
}

/// A written contact note.
pub(crate) fn note(view: &View<'_>, n: &WNote) -> Value {
    let admin = n.admin_id.as_deref().and_then(|id| view.agent_by_id(id));
    json!({
        "type": "note",
        "id": n.id,
        "created_at": n.created_at,
        "contact": {"type": "contact", "id": n.contact_id},
        "author": admin.map(|a| json!({"type": "admin", "id": a.id, "name": a.name, "email": a.email,
            "job_title": a.job_title, "away_mode_enabled": a.away, "away_mode_reassign": false,
            "has_inbox_seat": true, "team_ids": [], "avatar": null})),
        "body": n.body,
    })
}

/// A data attribute.
pub(crate) fn data_attribute(a: &WDataAttribute) -> Value {
    let mut v = json!({
        "type": "data_attribute",
        "id": a.id,
        "model": a.model,
        "name": a.name,
        "full_name": format!("custom_attributes.{}", a.name),
        "label": a.name,
        "description": a.description.clone().unwrap_or_default(),
        "data_type": a.data_type,
        "api_writable": true,
        "ui_writable": true,
        "messenger_writable": a.messenger_writable,
        "custom": true,
        "archived": false,
        "created_at": a.created_at,
        "updated_at": a.created_at,
    });
    if a.data_type == "options" {
        v["options"] = json!(a.options);
    }
    v
}

/// What was written into a seeded conversation, applied to its rendered JSON: tags applied or
/// removed, parts appended (the 500-most-recent cap still holds), state, assignees, title, read
/// and custom attributes, and the statistics those parts move.
pub(crate) fn apply_overlay(
    r: &Render<'_>,
    store: &Store,
    v: &mut Value,
    id: &str,
    with_parts: bool,
) {
    let written_tags = store.tags_of("conversation", id);
    let o = store.overlay(id);
    if written_tags.is_empty() && o.is_none() {
        return;
    }
    if let Some(tags) = v["tags"]["tags"].as_array_mut() {
        if let Some(o) = o {
            tags.retain(|t| {
                t["id"]
                    .as_str()
                    .is_none_or(|tid| !o.untagged.iter().any(|u| u == tid))
            });
        }
        for t in written_tags {
            let name = store
                .tag(&t.tag_id)
                .map(|x| x.name.clone())
                .or_else(|| r.view.tag_by_id(&t.tag_id).map(|x| x.name));
            if let Some(name) = name
                && !tags.iter().any(|x| x["id"] == t.tag_id.as_str())
            {
                tags.push(json!({"type": "tag", "id": t.tag_id, "name": name,
                    "applied_at": t.applied_at, "applied_by": {"type": "admin", "id": t.admin_id}}));
            }
        }
    }
    let Some(o) = o else { return };
    if let Some(st) = &o.state {
        v["state"] = json!(st);
        v["open"] = json!(st != "closed");
        v["snoozed_until"] = json!(o.snoozed_until);
    }
    if let Some(n) = o.admin_assignee_id {
        v["admin_assignee_id"] = json!(n);
    }
    if let Some(n) = o.team_assignee_id {
        v["team_assignee_id"] = json!(n);
    }
    if let Some(t) = &o.title {
        v["title"] = json!(t);
    }
    if let Some(read) = o.read {
        v["read"] = json!(read);
    }
    if let Some(at) = o.updated_at {
        let before = v["updated_at"].as_i64().unwrap_or(0);
        v["updated_at"] = json!(before.max(at));
    }
    if !o.custom_attributes.is_empty() {
        let mut attrs = v["custom_attributes"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        attrs.extend(o.custom_attributes.clone());
        v["custom_attributes"] = Value::Object(attrs);
    }
    if o.parts.is_empty() {
        return;
    }
    if let Some(w) = o
        .parts
        .iter()
        .rev()
        .find(|p| matches!(p.part_type.as_str(), "comment" | "note" | "quick_reply"))
    {
        v["waiting_since"] = json!((w.author.kind != "admin").then_some(w.created_at));
    }
    let stats = &mut v["statistics"];
    let bump = |stats: &mut Value, key: &str, n: usize| {
        let before = stats[key].as_u64().unwrap_or(0);
        stats[key] = json!(before + n as u64);
    };
    let count = |t: &str| o.parts.iter().filter(|p| p.part_type == t).count();
    bump(stats, "count_conversation_parts", o.parts.len());
    bump(stats, "count_reopens", count("open"));
    bump(stats, "count_assignments", count("assignment"));
    if let Some(mates) = v["teammates"]["teammates"].as_array_mut() {
        for p in o.parts.iter().filter(|p| p.author.kind == "admin") {
            if !mates.iter().any(|m| m["id"] == p.author.id.as_str()) {
                mates.push(json!({"type": "admin", "id": p.author.id}));
            }
        }
    }
    if with_parts && let Some(list) = v["conversation_parts"]["conversation_parts"].as_array_mut() {
        list.extend(o.parts.iter().map(|p| part(r, store, p)));
        // Retrieval keeps the 500 most recent parts (spec L10994), written ones included.
        let cap = crate::RECENT_PART_CAP as usize;
        if list.len() > cap {
            list.drain(..list.len() - cap);
        }
        let n = list.len();
        v["conversation_parts"]["total_count"] = json!(n);
    }
}
