//! Contacts: validation, create/show/update/destroy, labels (`../shared/research/chatwoot.md §2.1`).
//! Listing, search and filter are in `contact_listing`.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use crate::auth::Role;
use crate::effects::{Change, Event};
use crate::error::{ApiError, ApiResult, Errors};
use crate::params::Params;
use crate::render;
use crate::rules;
use crate::state::{AppState, Contact, Database, Inbox};

/// The contact columns whose changes `contact_updated` reports.
const CONTACT_FIELDS: [&str; 8] = [
    "name",
    "email",
    "phone_number",
    "identifier",
    "additional_attributes",
    "custom_attributes",
    "blocked",
    "contact_type",
];

/// `Contact` model validations (contact.rb L51-56), run on the normalised record.
fn validate(s: &Database, c: &Contact) -> ApiResult<()> {
    let mut e = Errors::default();
    let others = || {
        s.contacts
            .values()
            .filter(|o| o.account_id == c.account_id && o.id != c.id)
    };
    if let Some(email) = &c.email {
        if others().any(|o| {
            o.email
                .as_deref()
                .is_some_and(|x| x.eq_ignore_ascii_case(email))
        }) {
            e.add("email", "Email has already been taken");
        }
        if !rules::email_is_valid(email) {
            e.add("email", "Email Invalid email");
        }
    }
    if let Some(id) = &c.identifier
        && others().any(|o| o.identifier.as_deref() == Some(id.as_str()))
    {
        e.add("identifier", "Identifier has already been taken");
    }
    if let Some(phone) = c.phone_number.as_deref().filter(|p| !rules::is_blank(p)) {
        if others().any(|o| o.phone_number.as_deref() == Some(phone)) {
            e.add("phone_number", "Phone number has already been taken");
        }
        if !rules::phone_is_valid(phone) {
            e.add("phone_number", "Phone number should be in e164 format");
        }
    }
    // No JsonbAttributesLengthValidator here: `contact.rb` does not declare it (only
    // `conversation.rb` does), so long attribute values are stored.
    e.into_result()
}

/// `Contacts::SyncAttributes` (before_save): location/country_code from additional attributes,
/// visitor → lead once an email, phone or social profile is known.
fn sync_attributes(c: &mut Contact) {
    let text = |k: &str| {
        c.additional_attributes
            .get(k)
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    if let Some(city) = text("city") {
        c.location = city;
    }
    if let Some(country) = text("country") {
        c.country_code = country;
    }
    let social = c
        .additional_attributes
        .keys()
        .any(|k| k.starts_with("social_"));
    if c.contact_type == "visitor" && (c.email.is_some() || c.phone_number.is_some() || social) {
        c.contact_type = "lead";
    }
}

/// Applies the permitted params (`name, identifier, email, phone_number, blocked,
/// additional_attributes, custom_attributes`); attributes are shallow-merged on update.
fn apply(c: &mut Contact, p: &Params) {
    p.assign_text("name", &mut c.name);
    if p.has("email") {
        c.email = rules::normalize_email(p.str("email").as_deref());
    }
    if p.has("phone_number") {
        c.phone_number = p.str("phone_number").filter(|s| !s.is_empty());
    }
    if p.has("identifier") {
        c.identifier = p.str("identifier").filter(|s| !s.is_empty());
    }
    p.assign_bool("blocked", &mut c.blocked);
    for (key, target) in [
        ("custom_attributes", &mut c.custom_attributes),
        ("additional_attributes", &mut c.additional_attributes),
    ] {
        if p.has(key) {
            target.extend(p.object(key));
        }
    }
}

/// Merges the parameters, validates, runs `Contacts::SyncAttributes` and saves.
fn save(s: &mut Database, mut c: Contact, p: &Params) -> ApiResult<Contact> {
    apply(&mut c, p);
    validate(s, &c)?;
    sync_attributes(&mut c);
    Ok(s.save(c))
}

pub async fn create(
    State(app): State<Arc<AppState>>,
    Path(account): Path<u64>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let (mut s, caller) = app.write_as(&headers, account, Role::User)?;
    // `params.permit(...)` at the top level: `{"contact": {...}}` creates a blank contact.
    let p = Params::top_level(&body)?;
    let inbox_id = p.u64("inbox_id");
    if let Some(i) = inbox_id {
        s.scoped::<Inbox>(account, i)?;
    }
    let now = s.now();
    let c = Contact {
        id: 0,
        account_id: account,
        name: String::new(),
        email: None,
        phone_number: None,
        identifier: None,
        additional_attributes: Map::new(),
        custom_attributes: Map::new(),
        blocked: false,
        contact_type: "visitor",
        location: String::new(),
        country_code: String::new(),
        labels: Vec::new(),
        last_activity_at: None,
        created_at: now,
        updated_at: now,
    };
    let id = save(&mut s, c, &p)?.id;
    let ci = match inbox_id {
        Some(i) => {
            match super::contact_inboxes::build_contact_inbox(&mut s, id, i, p.str("source_id")) {
                Ok(ci) => Some(ci),
                Err(()) => {
                    // RecordNotUnique is not rescued here: the transaction rolls back and Rails answers 500.
                    s.contacts.remove(&id);
                    return Err(ApiError::Internal("source_id should be unique".into()));
                }
            }
        }
        None => None,
    };
    // after_create_commit dispatch_create_event (contact.rb).
    s.dispatch(Event::ContactCreated(id), &caller);
    let contact = s.contacts.get(&id).ok_or(ApiError::NotFound)?;
    let ci = ci.and_then(|ci| s.contact_inboxes.get(&ci));
    let inbox = ci
        .and_then(|ci| s.inboxes.get(&ci.inbox_id))
        .map(render::inbox_record);
    Ok(Json(json!({"payload": {
        "contact": render::contact(&s, contact, true),
        "contact_inbox": {"inbox": inbox, "source_id": ci.map(|c| c.source_id.clone())},
    }})))
}

pub async fn show(
    State(app): State<Arc<AppState>>,
    Path((account, id)): Path<(u64, u64)>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let (s, _) = app.read_as(&headers, account, Role::User)?;
    let c = s.scoped::<Contact>(account, id)?;
    Ok(Json(json!({"payload": render::contact(&s, c, true)})))
}

pub async fn update(
    State(app): State<Arc<AppState>>,
    Path((account, id)): Path<(u64, u64)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let (mut s, caller) = app.write_as(&headers, account, Role::User)?;
    let before = s.scoped::<Contact>(account, id)?.clone();
    let mut c = before.clone();
    c.updated_at = s.now();
    let c = save(&mut s, c, &Params::top_level(&body)?)?;
    // after_update_commit dispatch_update_event, with what changed.
    let (old, new) = (json!(before), json!(c));
    let changes: Vec<Change> = CONTACT_FIELDS
        .iter()
        .filter(|k| old[**k] != new[**k])
        .map(|k| (*k, old[*k].clone(), new[*k].clone()))
        .collect();
    s.dispatch(Event::ContactUpdated(id, changes), &caller);
    Ok(Json(json!({"payload": render::contact(&s, &c, true)})))
}

pub async fn destroy(
    State(app): State<Arc<AppState>>,
    Path((account, id)): Path<(u64, u64)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let (mut s, _) = app.write_as(&headers, account, Role::Admin)?;
    s.remove_scoped::<Contact>(account, id)?;
    // dependent: :destroy_async — conversations, contact_inboxes and their messages go too.
    super::conversations::remove_conversations(&mut s, |c| c.contact_id == id);
    s.contact_inboxes.retain(|_, ci| ci.contact_id != id);
    Ok(StatusCode::OK.into_response())
}

pub async fn labels_index(
    State(app): State<Arc<AppState>>,
    Path((account, id)): Path<(u64, u64)>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let (s, _) = app.read_as(&headers, account, Role::User)?;
    Ok(Json(
        json!({"payload": s.scoped::<Contact>(account, id)?.labels}),
    ))
}

pub async fn labels_create(
    State(app): State<Arc<AppState>>,
    Path((account, id)): Path<(u64, u64)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let (mut s, _) = app.write_as(&headers, account, Role::User)?;
    s.scoped::<Contact>(account, id)?;
    // `params.permit(labels: [])`: a string instead of an array is dropped, which clears the list.
    let labels = rules::tag_list(&Params::top_level(&body)?.strings("labels"));
    // Contacts have no `cached_label_list`: a later read lists the taggings' tags, spelled as the
    // installation's `tags` table has them, kept ones first (acts-as-taggable-on `save_tags`).
    // This answer is the list as sent.
    let tags = s.find_or_create_tags(&labels);
    let c = s.contacts.get_mut(&id).ok_or(ApiError::NotFound)?;
    let mut kept: Vec<String> = c
        .labels
        .iter()
        .filter(|l| tags.contains(l))
        .cloned()
        .collect();
    kept.extend(tags.iter().filter(|t| !c.labels.contains(t)).cloned());
    c.labels = kept;
    Ok(Json(json!({"payload": labels})))
}
