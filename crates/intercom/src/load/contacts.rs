//! Contacts (../shared/research/intercom-api.md §7): `role`, the customer's own `external_id`,
//! the email lower-cased, `signed_up_at` = the original creation time (Intercom takes no
//! `created_at` for contacts), `last_seen_at`, custom attributes, and the source key in
//! [`MARKER_ATTRIBUTE`](super::MARKER_ATTRIBUTE).
//!
//! No search before creating: Intercom answers a second user with the same email, or any
//! contact with the same `external_id`, with a 409 naming the one it has. That one is ours when
//! it carries our marker (a crashed attempt made it), else it was there before: matched, left
//! unchanged and never removed by a rollback. A contact Intercom could not recognise so (a lead,
//! or a user without email, with no external id of its own) gets its source key as external id;
//! a lead is also looked for by email first, since Intercom lets leads share one.

use deskmove_core::connector::{LoadResult, Resolve};
use deskmove_core::model::{Contact, ContactRole};
use deskmove_core::{Classify, ErrorKind, Record};
use serde_json::{Map, Value, json};

use super::api::{conflicting_id, gone, id_of, is_record_error, marker_of};
use super::directory::attribute_name;
use super::session::Session;
use super::{Cx, MARKER_ATTRIBUTE, TargetError, current, marker, problem, refused};

fn body(c: &Contact, with_attributes: bool) -> Value {
    let mut attrs: Map<String, Value> = if with_attributes {
        c.attributes
            .iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| (attribute_name(k), v.clone()))
            .collect()
    } else {
        Map::new()
    };
    attrs.insert(MARKER_ATTRIBUTE.into(), json!(marker(&c.key)));
    let mut b = json!({
        "role": match c.role { ContactRole::User => "user", ContactRole::Lead => "lead" },
        "signed_up_at": c.created_at.as_second(),
        "custom_attributes": attrs,
    });
    match c.external_id.as_deref().filter(|x| !x.trim().is_empty()) {
        Some(x) => b["external_id"] = json!(x),
        // Nothing else makes Intercom answer a second create with the first one's id (leads
        // may share an email, and new contacts are unsearchable for minutes): the source key
        // is its external id.
        None if !recognisable(c) => b["external_id"] = json!(marker(&c.key)),
        None => {}
    }
    if let Some(e) = &c.email {
        b["email"] = json!(e.trim().to_lowercase());
    }
    if let Some(p) = c.phone.as_ref().or(c.phone_original.as_ref()) {
        b["phone"] = json!(p);
    }
    if let Some(n) = &c.name {
        b["name"] = json!(n);
    }
    if let Some(t) = c.last_seen_at {
        b["last_seen_at"] = json!(t.as_second());
    }
    b
}

/// Whether Intercom recognises this contact by what it is (its own external id, or a user's
/// email) and answers a second create with a 409 naming the first.
fn recognisable(c: &Contact) -> bool {
    c.external_id
        .as_deref()
        .is_some_and(|x| !x.trim().is_empty())
        || (c.role == ContactRole::User && c.email.is_some())
}

/// Whether Intercom refused the custom attributes (undefined in the workspace, wrong type).
fn attributes_refused(e: &deskmove_http::HttpError) -> bool {
    e.status().is_some_and(|s| s.as_u16() == 400)
        && e.vendor_text()
            .is_some_and(|t| t.to_lowercase().contains("attribute"))
}

pub(crate) async fn load(
    cx: &Cx<'_>,
    session: &mut Session,
    records: &[Record],
    refs: &impl Resolve,
) -> Result<Vec<LoadResult>, TargetError> {
    use futures::{StreamExt as _, TryStreamExt as _};
    session.marker_attribute(cx.api, "contact").await?;
    // Side by side: a contact found again after a lost answer is named by Intercom's 409.
    let made = Made::default();
    let work: Vec<_> = records
        .iter()
        .filter_map(|r| match r {
            Record::Contact(c) => Some(one(cx, c, refs, &made)),
            _ => None,
        })
        .collect();
    let out = futures::stream::iter(work)
        .buffer_unordered(super::session::LANES)
        .try_collect()
        .await;
    if let Ok(made) = made.into_inner() {
        session.created_contacts.extend(made);
    }
    out
}

/// The ids of the contacts this call created (a `POST /contacts` that answered).
type Made = std::sync::Mutex<Vec<String>>;

async fn one(
    cx: &Cx<'_>,
    c: &Contact,
    refs: &impl Resolve,
    made: &Made,
) -> Result<LoadResult, TargetError> {
    let mut result = match refs.target_ref(&c.key) {
        Some(mine) => update(cx, c, &mine.id, made).await?,
        None => create(cx, c, made).await?,
    };
    // Companies and tags, on contacts this run owns (a matched one stays as it was).
    if matches!(
        result.outcome,
        deskmove_core::connector::Outcome::Loaded | deskmove_core::connector::Outcome::Updated
    ) && let Some(id) = result.target_id.clone()
    {
        for company in &c.companies {
            let Some(company_id) = refs.target_ref(company).map(|r| r.id) else {
                continue;
            };
            if let Err(e) = cx
                .api
                .post(
                    &format!("contacts/{id}/companies"),
                    &json!({"id": company_id}),
                )
                .await
            {
                if !is_record_error(&e) {
                    return Err(e.into());
                }
                result = result.with_problem(problem(
                    &c.key,
                    e.kind(),
                    "company_not_attached",
                    super::api::said(&e),
                ));
            }
        }
        for tag in &c.tags {
            let Some(tag_id) = refs.target_ref(tag).map(|r| r.id) else {
                continue;
            };
            if let Err(e) = cx
                .api
                .post(&format!("contacts/{id}/tags"), &json!({"id": tag_id}))
                .await
                && !is_record_error(&e)
            {
                return Err(e.into());
            }
        }
    }
    Ok(result)
}

async fn update(
    cx: &Cx<'_>,
    c: &Contact,
    id: &str,
    made: &Made,
) -> Result<LoadResult, TargetError> {
    match cx.api.put(&format!("contacts/{id}"), &body(c, true)).await {
        Ok(_) => Ok(LoadResult::updated(c.key.clone(), id)),
        // Gone (rolled back, deleted by hand): created again.
        Err(e) if gone(&e) => create(cx, c, made).await,
        Err(e) if attributes_refused(&e) => {
            match cx.api.put(&format!("contacts/{id}"), &body(c, false)).await {
                Ok(_) => Ok(LoadResult::updated(c.key.clone(), id).with_problem(dropped(c))),
                Err(e) if is_record_error(&e) => Ok(refused(&c.key, &e)),
                Err(e) => Err(e.into()),
            }
        }
        Err(e) if is_record_error(&e) => Ok(refused(&c.key, &e)),
        Err(e) => Err(e.into()),
    }
}

fn dropped(c: &Contact) -> deskmove_core::Problem {
    problem(
        &c.key,
        ErrorKind::Validation,
        "attributes_dropped",
        "Intercom refused this contact's custom attributes (not defined in the workspace, or of another type); the contact was written without them.",
    )
}

async fn create(cx: &Cx<'_>, c: &Contact, made: &Made) -> Result<LoadResult, TargetError> {
    if c.role == ContactRole::Lead && c.external_id.is_none() {
        let field = format!("custom_attributes.{MARKER_ATTRIBUTE}");
        if let Some(found) = find(cx, &field, &marker(&c.key)).await?
            && let Some(id) = id_of(&found)
        {
            return Ok(LoadResult::loaded(c.key.clone(), id));
        }
        // Intercom lets leads share an email: one the workspace had is matched, not doubled.
        if let Some(email) = &c.email
            && let Some(found) = find(cx, "email", &email.trim().to_lowercase()).await?
            && let Some(id) = id_of(&found)
        {
            return Ok(if marker_of(&found) == Some(marker(&c.key).as_str()) {
                LoadResult::loaded(c.key.clone(), id)
            } else {
                matched(c, id, marker_of(&found))
            });
        }
    }
    let mut partial = None;
    let mut sent = cx.api.post("contacts", &body(c, true)).await;
    if let Err(e) = &sent
        && attributes_refused(e)
    {
        partial = Some(dropped(c));
        sent = cx.api.post("contacts", &body(c, false)).await;
    }
    let result = match sent {
        Ok(v) => {
            let id = id_of(&v)
                .ok_or_else(|| TargetError::Protocol("a created contact without an id".into()))?;
            if let Ok(mut m) = made.lock() {
                m.push(id.clone());
            }
            LoadResult::loaded(c.key.clone(), id)
        }
        Err(e) if e.kind() == ErrorKind::Conflict || e.status().is_some_and(|s| s == 409) => {
            let Some(id) = conflicting_id(&e) else {
                return Ok(refused(&c.key, &e));
            };
            let existing = cx.api.find(&format!("contacts/{id}")).await?;
            let ours = existing
                .as_ref()
                .and_then(marker_of)
                .is_some_and(|m| m == marker(&c.key));
            if ours {
                LoadResult::loaded(c.key.clone(), id)
            } else {
                matched(c, id, existing.as_ref().and_then(marker_of))
            }
        }
        Err(e) if is_record_error(&e) => refused(&c.key, &e),
        Err(e) => return Err(e.into()),
    };
    Ok(match partial {
        Some(p) if result.problem.is_none() => result.with_problem(p),
        _ => result,
    })
}

/// A contact already in the workspace: matched, left unchanged, never removed.
fn matched(c: &Contact, id: String, marker: Option<&str>) -> LoadResult {
    let other = marker
        .map(|m| format!(" (written by deskmove for {m})"))
        .unwrap_or_default();
    current(&c.key, id).with_problem(problem(
        &c.key,
        ErrorKind::Conflict,
        "contact_matched",
        format!("A contact with the same email or external id was already in the workspace{other}; it was matched and left unchanged, and a rollback keeps it."),
    ))
}

/// The first contact whose `field` is `value` (searchable: new contacts show up late).
async fn find(cx: &Cx<'_>, field: &str, value: &str) -> Result<Option<Value>, TargetError> {
    let query = json!({"field": field, "operator": "=", "value": value});
    match cx.api.search_all("contacts", "data", query).await {
        Ok(found) => Ok(found.into_iter().next()),
        Err(e) if is_record_error(&e) => Ok(None),
        Err(e) => Err(e.into()),
    }
}
