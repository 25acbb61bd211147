//! Contact writes: create, update, merge (lead into user), notes, tags and company attachments
//! (`../shared/research/intercom-api.md` §7; request shapes `create_contact_request`,
//! `update_contact_request`, `merge_contacts_request` in both specs).
//!
//! Intercom's rules kept here: `email`, `external_id` or `role` is required; there is **no
//! `created_at`** — a contact is stamped with the time it is written, and only `signed_up_at` /
//! `last_seen_at` carry history (anything else is ignored like any unknown field); a second user
//! with the same email, or any contact with the same `external_id`, is 409 naming the existing
//! contact; custom attributes must be defined first (`POST /data_attributes`); a new contact is
//! retrievable at once but searchable only after [`crate::SEARCH_LAG_SECS`].

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use deskmove_synth::{AttributeModel, View};
use serde_json::{Map, Value, json};

use crate::body::{Body, missing};
use crate::error::ApiError;
use crate::respond::{ApiResult, ok};
use crate::routes::write_support::{
    contact_exists, contact_for_write, contact_with_external_id, current_contact,
    duplicate_contact, plausible_email, request, require_admin, resource_not_found, user_not_found,
    user_with_email,
};
use crate::state::AppState;
use crate::version::ApiVersion;
use crate::written::{Membership, Store, Tagging, WContact, WNote, base, render};

/// The fields create and update share, read with the version's types.
struct ContactFields {
    role: Option<String>,
    external_id: Option<String>,
    email: Option<String>,
    email_verified: Option<bool>,
    phone: Option<Option<String>>,
    name: Option<Option<String>>,
    avatar: Option<Option<String>>,
    signed_up_at: Option<Option<i64>>,
    last_seen_at: Option<Option<i64>>,
    owner_id: Option<Option<String>>,
    unsubscribed_from_emails: Option<bool>,
    custom_attributes: Option<Map<String, Value>>,
}

/// `Some(value-or-null)` when the key is present, `None` when absent.
fn present<T>(b: &Body, key: &str, v: Option<T>) -> Option<Option<T>> {
    b.has(key).then_some(v)
}

fn read_fields(s: &AppState, v: ApiVersion, b: &Body) -> Result<ContactFields, ApiError> {
    let view = s.world.view();
    let role = b.str("role")?;
    if let Some(r) = role.as_deref()
        && r != "user"
        && r != "lead"
    {
        return Err(ApiError::invalid(format!(
            "role must be user or lead, got '{r}'"
        )));
    }
    let email = b.str("email")?;
    if let Some(e) = email.as_deref()
        && !plausible_email(e)
    {
        return Err(ApiError::invalid("Invalid email address"));
    }
    // `owner_id` is an integer up to 2.15 and a string in 2.16 (both specs).
    let owner_id = if v.is_2_16() {
        b.str("owner_id")?
    } else {
        b.int("owner_id")?.map(|n| n.to_string())
    };
    if let Some(o) = owner_id.as_deref() {
        require_admin(&view, o).map_err(|_| ApiError::invalid("owner_id is not a teammate"))?;
    }
    let custom_attributes = b.object("custom_attributes")?;
    if let Some(attrs) = &custom_attributes {
        check_attributes(s, &view, attrs)?;
    }
    Ok(ContactFields {
        role,
        external_id: b.str("external_id")?,
        email,
        // `email_verified` exists from 2.16 on; older versions ignore it.
        email_verified: if v.is_2_16() {
            b.bool("email_verified")?
        } else {
            None
        },
        phone: present(b, "phone", b.str("phone")?),
        name: present(b, "name", b.str("name")?),
        avatar: present(b, "avatar", b.str("avatar")?),
        signed_up_at: present(b, "signed_up_at", b.int("signed_up_at")?),
        last_seen_at: present(b, "last_seen_at", b.int("last_seen_at")?),
        owner_id: present(b, "owner_id", owner_id),
        unsubscribed_from_emails: b.bool("unsubscribed_from_emails")?,
        custom_attributes,
    })
}

/// Custom attributes must exist as contact data attributes first (Intercom answers 400 for an
/// unknown one rather than inventing it).
fn check_attributes(
    s: &AppState,
    view: &View<'_>,
    attrs: &Map<String, Value>,
) -> Result<(), ApiError> {
    let world = view.attributes_of(AttributeModel::Contact);
    let store = s.written.lock();
    for name in attrs.keys() {
        let known = world.iter().any(|a| &a.name == name && !a.archived)
            || store
                .data_attributes
                .iter()
                .any(|a| &a.name == name && a.model == "contact");
        if !known {
            return Err(ApiError::invalid(format!(
                "Custom attribute '{name}' does not exist"
            )));
        }
    }
    Ok(())
}

/// A contact with the same identity, other than `except`: any contact with the external id, or
/// a user with the email (leads may share emails).
fn duplicate_of(
    store: &Store,
    view: &View<'_>,
    role: &str,
    external_id: Option<&str>,
    email: Option<&str>,
    except: Option<&str>,
) -> Option<String> {
    let other = |id: &String| Some(id.as_str()) != except;
    if let Some(x) = external_id
        && let Some(id) = contact_with_external_id(store, view, x).filter(other)
    {
        return Some(id);
    }
    if role == "user"
        && let Some(e) = email
        && let Some(id) = user_with_email(store, view, e).filter(other)
    {
        return Some(id);
    }
    None
}

fn apply(c: &mut WContact, f: ContactFields) {
    if let Some(r) = f.role {
        c.role = r;
    }
    if f.external_id.is_some() {
        c.external_id = f.external_id;
    }
    if f.email.is_some() {
        c.email = f.email;
    }
    if f.email_verified.is_some() {
        c.email_verified = f.email_verified;
    }
    if let Some(x) = f.phone {
        c.phone = x;
    }
    if let Some(x) = f.name {
        c.name = x;
    }
    if let Some(x) = f.avatar {
        c.avatar = x;
    }
    if let Some(x) = f.signed_up_at {
        c.signed_up_at = x;
    }
    if let Some(x) = f.last_seen_at {
        c.last_seen_at = x;
    }
    if let Some(x) = f.owner_id {
        c.owner_id = x;
    }
    if let Some(x) = f.unsubscribed_from_emails {
        c.unsubscribed_from_emails = x;
    }
    if let Some(attrs) = f.custom_attributes {
        c.custom_attributes.extend(attrs);
    }
}

/// `POST /contacts`.
pub(crate) async fn create_contact(
    State(s): State<Arc<AppState>>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult {
    let (v, b) = request(&headers, &bytes)?;
    let f = read_fields(&s, v, &b)?;
    // anyOf required: email, external_id or role (both specs).
    if f.email.is_none() && f.external_id.is_none() && f.role.is_none() {
        return Err(missing("email, external_id or role"));
    }
    let view = s.world.view();
    let now = s.clock.now_secs();
    let mut store = s.written.lock();
    let role = f.role.clone().unwrap_or_else(|| "user".into());
    if let Some(existing) = duplicate_of(
        &store,
        &view,
        &role,
        f.external_id.as_deref(),
        f.email.as_deref(),
        None,
    ) {
        return Err(duplicate_contact(&existing));
    }
    let id = store.hex_id(s.world.config().seed, "contact");
    let mut c = WContact {
        id,
        role: role.clone(),
        external_id: None,
        email: None,
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
    };
    apply(&mut c, f);
    let out = render::contact(&store, &c);
    store.contacts.push(c);
    ok(out)
}

/// `PUT /contacts/{id}`: the same fields; a world contact is shadowed on its first update.
pub(crate) async fn update_contact(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult {
    let (v, b) = request(&headers, &bytes)?;
    let f = read_fields(&s, v, &b)?;
    let view = s.world.view();
    let now = s.clock.now_secs();
    let mut store = s.written.lock();
    let existing = current_contact(&store, &view, &id).ok_or_else(user_not_found)?;
    let role = f.role.clone().unwrap_or(existing.role);
    if let Some(other) = duplicate_of(
        &store,
        &view,
        &role,
        f.external_id.as_deref(),
        f.email.as_deref(),
        Some(&id),
    ) {
        return Err(duplicate_contact(&other));
    }
    store.next();
    let c = contact_for_write(&mut store, &view, &id)?;
    apply(c, f);
    c.updated_at = now;
    let c = c.clone();
    ok(render::contact(&store, &c))
}

/// `POST /contacts/merge`: a lead (`from`) into a user (`into`). Only duplicates (same email or
/// phone) merge, unless 2.16's `skip_duplicate_validation` says otherwise (spec example
/// `invalid_merge`). The lead is gone afterwards: 410 in 2.16, 404 before (research §0).
pub(crate) async fn merge_contacts(
    State(s): State<Arc<AppState>>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult {
    let (v, b) = request(&headers, &bytes)?;
    let from = b.required_str("from")?;
    let into = b.required_str("into")?;
    let skip = if v.is_2_16() {
        b.bool("skip_duplicate_validation")?.unwrap_or(false)
    } else {
        false
    };
    let view = s.world.view();
    let now = s.clock.now_secs();
    let mut store = s.written.lock();
    let lead = current_contact(&store, &view, &from).ok_or_else(user_not_found)?;
    let user = current_contact(&store, &view, &into).ok_or_else(user_not_found)?;
    if lead.role != "lead" || user.role != "user" || from == into {
        return Err(ApiError::invalid(
            "Only a lead can be merged, and only into a user",
        ));
    }
    let same = |a: &Option<String>, b: &Option<String>| {
        a.as_deref()
            .zip(b.as_deref())
            .is_some_and(|(a, b)| a.eq_ignore_ascii_case(b))
    };
    if !skip && !same(&lead.email, &user.email) && !same(&lead.phone, &user.phone) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_merge",
            "Contacts can only be merged when they are duplicates (matching email or phone). Pass skip_duplicate_validation=true to override this check.",
        ));
    }
    // The lead's tags and companies move to the user.
    for t in store
        .tags_of("contact", &from)
        .into_iter()
        .cloned()
        .collect::<Vec<_>>()
    {
        store.tag_object(Tagging {
            object_id: into.clone(),
            ..t
        });
    }
    for company_id in store.companies_of(&from) {
        let m = Membership {
            contact_id: into.clone(),
            company_id,
        };
        if !store.memberships.contains(&m) {
            store.memberships.push(m);
        }
    }
    store.next();
    contact_for_write(&mut store, &view, &from)?.merged_into = Some(into.clone());
    let u = contact_for_write(&mut store, &view, &into)?;
    u.updated_at = now;
    let u = u.clone();
    ok(render::contact(&store, &u))
}

/// `POST /contacts/{id}/notes`: `body` required, an optional (existing) `admin_id`; stamped with
/// the time written — notes take no `created_at` (§7).
pub(crate) async fn create_note(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult {
    let (_, b) = request(&headers, &bytes)?;
    let body = b.required_str("body")?;
    let admin_id = b.str("admin_id")?;
    let view = s.world.view();
    if let Some(a) = admin_id.as_deref() {
        require_admin(&view, a)?;
    }
    let mut store = s.written.lock();
    if !contact_exists(&store, &view, &id) {
        return Err(user_not_found());
    }
    let note = WNote {
        id: store.numeric_id(base::NOTE),
        contact_id: id,
        admin_id,
        body,
        created_at: s.clock.now_secs(),
    };
    let out = render::note(&view, &note);
    store.notes.push(note);
    ok(out)
}

/// A tag id that exists (written or world).
pub(crate) fn tag_exists(store: &Store, view: &View<'_>, id: &str) -> bool {
    store.tag(id).is_some() || (view.tag_by_id(id).is_some() && !store.is_deleted("tag", id))
}

/// The tag as `tag` JSON.
pub(crate) fn tag_json(store: &Store, view: &View<'_>, id: &str) -> Value {
    let name = store
        .tag(id)
        .map(|t| t.name.clone())
        .or_else(|| view.tag_by_id(id).map(|t| t.name))
        .unwrap_or_default();
    json!({"type": "tag", "id": id, "name": name})
}

/// `POST /contacts/{id}/tags {"id"}`.
pub(crate) async fn tag_contact(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult {
    let (_, b) = request(&headers, &bytes)?;
    let tag_id = b.required_str("id")?;
    let view = s.world.view();
    let mut store = s.written.lock();
    if !contact_exists(&store, &view, &id) {
        return Err(user_not_found());
    }
    if !tag_exists(&store, &view, &tag_id) {
        return Err(resource_not_found());
    }
    store.tag_object(Tagging {
        tag_id: tag_id.clone(),
        object: "contact",
        object_id: id,
        applied_at: s.clock.now_secs(),
        admin_id: None,
    });
    ok(tag_json(&store, &view, &tag_id))
}

/// `DELETE /contacts/{id}/tags/{tag_id}`.
pub(crate) async fn untag_contact(
    State(s): State<Arc<AppState>>,
    Path((id, tag_id)): Path<(String, String)>,
) -> ApiResult {
    let view = s.world.view();
    let mut store = s.written.lock();
    if !contact_exists(&store, &view, &id) {
        return Err(user_not_found());
    }
    if !store.untag_object(&tag_id, "contact", &id) {
        return Err(resource_not_found());
    }
    ok(tag_json(&store, &view, &tag_id))
}

/// `POST /contacts/{id}/companies {"id": <Intercom company id>}`.
pub(crate) async fn attach_company(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult {
    let (_, b) = request(&headers, &bytes)?;
    let company_id = b.str("id")?.ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "parameter_not_found",
            "company not specified",
        )
    })?;
    let r = crate::routes::renderer(&s, false);
    let view = s.world.view();
    let mut store = s.written.lock();
    if !contact_exists(&store, &view, &id) {
        return Err(user_not_found());
    }
    let written = store.company(&company_id).cloned();
    // A company the workspace had before takes new members too.
    let seeded = match &written {
        Some(_) => None,
        None if store.is_deleted("company", &company_id) => None,
        None => view.company_by_id(&company_id),
    };
    if written.is_none() && seeded.is_none() {
        return Err(company_not_found());
    }
    let m = Membership {
        contact_id: id,
        company_id,
    };
    if !store.memberships.contains(&m) {
        store.memberships.push(m);
    }
    ok(match (written, seeded) {
        (Some(c), _) => render::company(&store, &c),
        (None, Some(c)) => r.company(&c),
        (None, None) => return Err(company_not_found()),
    })
}

/// `DELETE /contacts/{id}/companies/{company_id}`.
pub(crate) async fn detach_company(
    State(s): State<Arc<AppState>>,
    Path((id, company_id)): Path<(String, String)>,
) -> ApiResult {
    let view = s.world.view();
    let mut store = s.written.lock();
    if !contact_exists(&store, &view, &id) {
        return Err(user_not_found());
    }
    let company = store
        .company(&company_id)
        .cloned()
        .ok_or_else(company_not_found)?;
    let before = store.memberships.len();
    store
        .memberships
        .retain(|m| !(m.contact_id == id && m.company_id == company_id));
    if before == store.memberships.len() {
        return Err(company_not_found());
    }
    ok(render::company(&store, &company))
}

/// 404 `company_not_found` (spec example of `POST /contacts/{id}/companies`).
pub(crate) fn company_not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "company_not_found",
        "Company Not Found",
    )
}
