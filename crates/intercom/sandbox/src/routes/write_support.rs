//! What every write route needs: the request's version and body, Intercom's not-found answers
//! (wording from the 2.16 spec's examples), and lookups across the world and the written state.

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use deskmove_synth::{Contact, View};
use serde_json::{Map, Value};

use crate::body::Body;
use crate::error::ApiError;
use crate::version::ApiVersion;
use crate::written::{Store, WContact};

/// The version and parsed body of one write.
pub(crate) fn request(headers: &HeaderMap, bytes: &Bytes) -> Result<(ApiVersion, Body), ApiError> {
    Ok((ApiVersion::of(headers)?, Body::parse(bytes)?))
}

/// 404 as the spec's examples word it for a contact (`User Not Found`).
pub(crate) fn user_not_found() -> ApiError {
    ApiError::not_found("User Not Found")
}

/// 404 `Resource Not Found` (admins, tags, tickets, conversations on reply).
pub(crate) fn resource_not_found() -> ApiError {
    ApiError::not_found("Resource Not Found")
}

/// A current teammate: departed admins can no longer act (they are gone from `GET /admins`).
pub(crate) fn require_admin(view: &View<'_>, id: &str) -> Result<(), ApiError> {
    match view.agent_by_id(id) {
        Some(a) if !a.departed => Ok(()),
        _ => Err(resource_not_found()),
    }
}

/// A team id the workspace has.
pub(crate) fn team_exists(view: &View<'_>, id: &str) -> bool {
    view.team_by_id(id).is_some()
}

/// A written contact from a world contact, for copy-on-write: the first write to a world contact
/// makes a written shadow with the same id that reads then prefer.
fn shadow_of(c: &Contact, view: &View<'_>) -> WContact {
    let mut attrs = Map::new();
    for (k, v) in &c.custom_attributes {
        attrs.insert(k.clone(), serde_json::to_value(v).unwrap_or(Value::Null));
    }
    WContact {
        id: c.id.clone(),
        role: c.role.as_str().to_string(),
        external_id: c.external_id.clone(),
        email: c.email.clone(),
        email_verified: None,
        phone: c.phone.clone(),
        name: c.name.clone(),
        avatar: None,
        owner_id: c.owner.and_then(|o| view.agent(o)).map(|a| a.id),
        unsubscribed_from_emails: false,
        custom_attributes: attrs,
        created_at: c.created_at,
        updated_at: c.updated_at,
        signed_up_at: c.signed_up_at,
        last_seen_at: c.last_seen_at,
        merged_into: None,
    }
}

/// Whether a contact id exists (written, or in the world), merged-away ones excluded.
pub(crate) fn contact_exists(store: &Store, view: &View<'_>, id: &str) -> bool {
    match store.contact(id) {
        Some(c) => c.merged_into.is_none(),
        None => view.contact_by_id(id).is_some() && !store.is_deleted("contact", id),
    }
}

/// A contact as it stands now (the written shadow wins), merged-away ones excluded.
pub(crate) fn current_contact(store: &Store, view: &View<'_>, id: &str) -> Option<WContact> {
    match store.contact(id) {
        Some(c) => c.merged_into.is_none().then(|| c.clone()),
        None if store.is_deleted("contact", id) => None,
        None => view.contact_by_id(id).map(|c| shadow_of(&c, view)),
    }
}

/// The written record of a contact, shadowing a world one on first write.
pub(crate) fn contact_for_write<'s>(
    store: &'s mut Store,
    view: &View<'_>,
    id: &str,
) -> Result<&'s mut WContact, ApiError> {
    if store.contact(id).is_none() {
        if store.is_deleted("contact", id) {
            return Err(user_not_found());
        }
        let c = view.contact_by_id(id).ok_or_else(user_not_found)?;
        store.contacts.push(shadow_of(&c, view));
    }
    match store.contact_mut(id) {
        Some(c) if c.merged_into.is_none() => Ok(c),
        _ => Err(user_not_found()),
    }
}

/// The id of a contact (world or written, not merged away) with this external id.
pub(crate) fn contact_with_external_id(
    store: &Store,
    view: &View<'_>,
    external_id: &str,
) -> Option<String> {
    if let Some(c) = store
        .contacts
        .iter()
        .find(|c| c.merged_into.is_none() && c.external_id.as_deref() == Some(external_id))
    {
        return Some(c.id.clone());
    }
    // World users' external ids decode to their index (`usr_<n>`).
    external_id
        .strip_prefix("usr_")
        .and_then(|n| n.parse::<u64>().ok())
        .and_then(|j| view.contact(j))
        .filter(|c| c.external_id.as_deref() == Some(external_id))
        .filter(|c| store.contact(&c.id).is_none() && !store.is_deleted("contact", &c.id))
        .map(|c| c.id)
}

/// The id of a user (world or written) with this email, compared without case.
pub(crate) fn user_with_email(store: &Store, view: &View<'_>, email: &str) -> Option<String> {
    let same = |e: &Option<String>| e.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(email));
    if let Some(c) = store
        .contacts
        .iter()
        .find(|c| c.merged_into.is_none() && c.role == "user" && same(&c.email))
    {
        return Some(c.id.clone());
    }
    (0..view.contact_count())
        .filter_map(|j| view.contact(j))
        .find(|c| {
            c.role == deskmove_synth::Role::User
                && same(&c.email)
                && store.contact(&c.id).is_none()
                && !store.is_deleted("contact", &c.id)
        })
        .map(|c| c.id)
}

/// 409 as Intercom answers a duplicate contact, naming the existing one
/// ("A contact matching those details already exists with id=…": the wording clients parse, in
/// issues of PostHog, RudderStack and Segment's Intercom destinations; documented 409 in
/// intercom/Intercom-OpenAPI PR #543).
pub(crate) fn duplicate_contact(existing: &str) -> ApiError {
    ApiError::new(
        StatusCode::CONFLICT,
        "conflict",
        format!("A contact matching those details already exists with id={existing}"),
    )
}

/// Whether an email looks like one Intercom would store (`local@domain.tld`).
pub(crate) fn plausible_email(email: &str) -> bool {
    let Some((local, domain)) = email.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.chars().any(char::is_whitespace)
}

/// The conversation a write goes into: one written through the API, or a seeded (world) one,
/// whose writes land in its overlay ([`crate::written::WOverlay`]).
#[derive(Debug, Clone)]
pub(crate) struct ConvTarget {
    pub(crate) seeded: bool,
    pub(crate) contact_id: String,
    pub(crate) channel: String,
}

/// 404 as the spec's examples word it for a conversation.
pub(crate) fn conversation_not_found() -> ApiError {
    ApiError::not_found("Conversation not found")
}

/// The conversation `id` names, written or seeded; a deleted one is gone (404).
pub(crate) fn conversation_target(
    store: &Store,
    view: &View<'_>,
    id: &str,
) -> Result<ConvTarget, ApiError> {
    if let Some(c) = store.conversation(id) {
        return Ok(ConvTarget {
            seeded: false,
            contact_id: c.contact_id.clone(),
            channel: c.channel.clone(),
        });
    }
    if store.is_deleted("conversation", id) {
        return Err(conversation_not_found());
    }
    let c = view
        .conversation_by_id(id)
        .ok_or_else(conversation_not_found)?;
    Ok(ConvTarget {
        seeded: true,
        contact_id: view.contact(c.contact).map(|x| x.id).unwrap_or_default(),
        channel: c.channel.to_string(),
    })
}
