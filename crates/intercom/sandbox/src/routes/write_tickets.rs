//! Ticket writes (`../shared/research/intercom-api.md` §7): `POST /tickets` with
//! `ticket_type_id`, exactly one contact (`id`, `external_id` or `email`; an unknown email
//! creates a contact), the original `created_at`, `ticket_attributes` and `assignment`;
//! `POST /tickets/{id}/reply` as a conversation reply, with `created_at`. Both take
//! `skip_notifications`; without it the contact is told (`written::notify`).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use serde_json::{Map, Value};

use crate::body::{Body, missing};
use crate::derived;
use crate::error::ApiError;
use crate::respond::{ApiResult, ok};
use crate::routes::renderer;
use crate::routes::write_replies::{ReplyTo, parse_reply};
use crate::routes::write_support::{
    contact_with_external_id, current_contact, plausible_email, request, require_admin,
    resource_not_found, team_exists, user_not_found,
};
use crate::state::AppState;
use crate::written::notify::{Notification, admin_reply_delivers};
use crate::written::{Store, WContact, WPart, WTicket, base, render};

/// The derived type and first ("submitted") state as JSON, for rendering a written ticket.
pub(crate) fn type_and_state(s: &AppState, ticket_type_id: &str) -> (Value, Value) {
    let seed = s.world.config().seed;
    let r = renderer(s, false);
    let ty = derived::ticket_types(seed)
        .into_iter()
        .find(|t| t.id == ticket_type_id)
        .map(|t| r.ticket_type(&t))
        .unwrap_or(Value::Null);
    let st = derived::ticket_state_for(seed, "submitted")
        .map(|st| r.ticket_state(&st))
        .unwrap_or(Value::Null);
    (ty, st)
}

/// The one contact of a create request.
fn ticket_contact(s: &AppState, store: &mut Store, b: &Body) -> Result<String, ApiError> {
    let contacts = b.array("contacts", None)?;
    if !b.has("contacts") {
        return Err(missing("contacts"));
    }
    // "Only one contact allowed" (create_ticket_request).
    let [only] = contacts.as_slice() else {
        return Err(ApiError::invalid("contacts must name exactly one contact"));
    };
    let Value::Object(m) = only else {
        return Err(ApiError::invalid("contacts items must be objects"));
    };
    let item = Body(m.clone());
    let view = s.world.view();
    if let Some(id) = item.str("id")? {
        return current_contact(store, &view, &id)
            .map(|c| c.id)
            .ok_or_else(user_not_found);
    }
    if let Some(x) = item.str("external_id")? {
        return contact_with_external_id(store, &view, &x).ok_or_else(user_not_found);
    }
    let email = item.required_str("email")?;
    if !plausible_email(&email) {
        return Err(ApiError::invalid("Invalid email address"));
    }
    let found = store
        .contacts
        .iter()
        .find(|c| {
            c.merged_into.is_none()
                && c.email
                    .as_deref()
                    .is_some_and(|e| e.eq_ignore_ascii_case(&email))
        })
        .map(|c| c.id.clone())
        .or_else(|| {
            (0..view.contact_count())
                .filter_map(|j| view.contact(j))
                .find(|c| {
                    c.email
                        .as_deref()
                        .is_some_and(|e| e.eq_ignore_ascii_case(&email))
                })
                .map(|c| c.id)
        });
    if let Some(id) = found {
        return Ok(id);
    }
    // An unknown email creates a contact (a lead: nothing identifies a user).
    let now = s.clock.now_secs();
    let id = store.hex_id(s.world.config().seed, "contact");
    store.contacts.push(WContact {
        id: id.clone(),
        role: "lead".into(),
        external_id: None,
        email: Some(email),
        email_verified: None,
        phone: None,
        name: None,
        avatar: None,
        owner_id: None,
        unsubscribed_from_emails: false,
        custom_attributes: Map::new(),
        created_at: now,
        updated_at: now,
        signed_up_at: None,
        last_seen_at: None,
        merged_into: None,
    });
    Ok(id)
}

/// `POST /tickets`.
pub(crate) async fn create_ticket(
    State(s): State<Arc<AppState>>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult {
    let (_, b) = request(&headers, &bytes)?;
    let ticket_type_id = b.required_str("ticket_type_id")?;
    if !derived::ticket_types(s.world.config().seed)
        .iter()
        .any(|t| t.id == ticket_type_id)
    {
        return Err(resource_not_found());
    }
    let created_at = b.int("created_at")?;
    let company_id = b.str("company_id")?;
    let skip = b.bool("skip_notifications")?;
    let attributes = b.object("ticket_attributes")?.unwrap_or_default();
    let title = attributes
        .get("_default_title_")
        .and_then(Value::as_str)
        .map(str::to_string);
    let description = attributes
        .get("_default_description_")
        .and_then(Value::as_str)
        .map(str::to_string);
    // The default types require a title to create (`required_to_create` on `_default_title_`).
    if title.as_deref().is_none_or(|t| t.trim().is_empty()) {
        return Err(missing("ticket_attributes._default_title_"));
    }
    let view = s.world.view();
    let (mut admin_assignee_id, mut team_assignee_id) = (0, 0);
    if let Some(a) = b.nested("assignment")? {
        if let Some(id) = a.str("admin_assignee_id")? {
            require_admin(&view, &id)?;
            admin_assignee_id = id.parse().unwrap_or(0);
        }
        if let Some(id) = a.str("team_assignee_id")? {
            if !team_exists(&view, &id) {
                return Err(resource_not_found());
            }
            team_assignee_id = id.parse().unwrap_or(0);
        }
    }
    let now = s.clock.now_secs();
    let mut store = s.written.lock();
    if let Some(c) = company_id.as_deref()
        && store.company(c).is_none()
    {
        return Err(resource_not_found());
    }
    let contact_id = ticket_contact(&s, &mut store, &b)?;
    let id = store.numeric_id(base::TICKET);
    let mut other = attributes.clone();
    other.remove("_default_title_");
    other.remove("_default_description_");
    let at = created_at.unwrap_or(now);
    let t = WTicket {
        id: id.clone(),
        ticket_type_id: ticket_type_id.clone(),
        contact_id: contact_id.clone(),
        title,
        description,
        attributes: other,
        company_id,
        admin_assignee_id,
        team_assignee_id,
        created_at: at,
        updated_at: at,
        parts: Vec::new(),
    };
    if skip != Some(true) {
        store.notifications.push(Notification {
            at: now,
            kind: "ticket_created",
            channel: "email".into(),
            contact_id,
            object_id: id.clone(),
            part_id: id,
            admin_id: admin_assignee_id.to_string(),
        });
    }
    let (ty, st) = type_and_state(&s, &ticket_type_id);
    let out = render::ticket(&renderer(&s, false), &store, &t, ty, st);
    store.tickets.push(t);
    ok(out)
}

/// `POST /tickets/{id}/reply`: answers the new part (`ticket_reply`).
pub(crate) async fn reply_ticket(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult {
    let (v, b) = request(&headers, &bytes)?;
    let view = s.world.view();
    let now = s.clock.now_secs();
    let mut store = s.written.lock();
    let mut r = parse_reply(v, &b, ReplyTo::Ticket, &store, &view)?;
    let contact_id = store
        .ticket(&id)
        .map(|t| t.contact_id.clone())
        .ok_or_else(resource_not_found)?;
    if r.author.kind != "admin" && r.author.id != contact_id {
        return Err(resource_not_found());
    }
    r.store_files(&mut store, &s.uploads);
    let part_id = store.numeric_id(base::PART);
    let t = store.ticket_mut(&id).ok_or_else(resource_not_found)?;
    let delivers =
        r.author.kind == "admin" && admin_reply_delivers(&r.message_type, r.skip_notifications);
    let at = r.created_at.unwrap_or(now);
    let part = WPart {
        id: part_id.clone(),
        part_type: r.message_type,
        body: r.body,
        created_at: at,
        author: r.author,
        attachments: r.attachments,
        assigned_to: None,
        notified: delivers,
    };
    t.parts.push(part.clone());
    t.updated_at = t.updated_at.max(at);
    let contact_id = t.contact_id.clone();
    if delivers {
        store.notifications.push(Notification {
            at: now,
            kind: "ticket_reply",
            channel: "email".into(),
            contact_id,
            object_id: id,
            part_id,
            admin_id: part.author.id.clone(),
        });
    }
    ok(render::ticket_part(&renderer(&s, false), &store, &part))
}
