//! Contacts: validation, list/search/filter, labels (`../shared/research/chatwoot.md §2.1`).

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde_json::{Map, Value, json};

use super::super::App;
use super::super::error::{ApiError, ApiResult, Errors};
use super::super::json;
use super::super::model::Contact;
use super::super::params::{self, Params};
use super::super::rules;
use super::super::store::Store;

/// `RESULTS_PER_PAGE` of the contacts controller.
pub(super) const PER_PAGE: usize = 15;

/// `Contact` model validations (contact.rb L51-56), run on the normalised record.
fn validate(s: &Store, c: &Contact) -> ApiResult<()> {
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
    for attrs in [&c.custom_attributes, &c.additional_attributes] {
        if let Some(msg) = rules::jsonb_attribute_error(attrs) {
            e.add("custom_attributes", msg);
        }
    }
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
    if p.has("name") {
        c.name = p.str("name").unwrap_or_default();
    }
    if p.has("email") {
        c.email = rules::normalize_email(p.str("email").as_deref());
    }
    if p.has("phone_number") {
        c.phone_number = p.str("phone_number").filter(|s| !s.is_empty());
    }
    if p.has("identifier") {
        c.identifier = p.str("identifier").filter(|s| !s.is_empty());
    }
    if let Some(b) = p.bool("blocked") {
        c.blocked = b;
    }
    for (key, target) in [
        ("custom_attributes", &mut c.custom_attributes),
        ("additional_attributes", &mut c.additional_attributes),
    ] {
        if p.has(key) {
            target.extend(p.object(key));
        }
    }
}

/// `Contact.resolved_contacts`: only contacts with an email, phone or identifier are listed.
pub(super) fn resolved(c: &Contact) -> bool {
    [&c.email, &c.phone_number, &c.identifier]
        .iter()
        .any(|v| v.as_deref().is_some_and(|x| !x.is_empty()))
}

/// The page of `list` with the index view's `meta`.
fn page(s: &Store, mut list: Vec<&Contact>, q: &params::Query) -> Value {
    if let Some(sort) = q.get("sort") {
        let (desc, key) = sort
            .strip_prefix('-')
            .map_or((false, sort.as_str()), |k| (true, k));
        list.sort_by(|a, b| {
            let o = match key {
                "name" => a.name.cmp(&b.name),
                "email" => a.email.cmp(&b.email),
                "phone_number" => a.phone_number.cmp(&b.phone_number),
                "created_at" => a.created_at.cmp(&b.created_at),
                "last_activity_at" => a.last_activity_at.cmp(&b.last_activity_at),
                _ => a.id.cmp(&b.id),
            };
            if desc { o.reverse() } else { o }
        });
    }
    let count = list.len();
    let current: Value = q.get("page").map_or(json!(1), |p| json!(p));
    let n: usize = q
        .get("page")
        .and_then(|p| p.parse().ok())
        .unwrap_or(1)
        .max(1);
    let with_inboxes = q.get("include_contact_inboxes").is_none_or(|v| v == "true");
    let payload: Vec<Value> = list
        .into_iter()
        .skip((n - 1) * PER_PAGE)
        .take(PER_PAGE)
        .map(|c| json::contact(s, c, with_inboxes))
        .collect();
    json!({"meta": {"count": count, "current_page": current}, "payload": payload})
}

pub async fn index(
    State(app): State<Arc<App>>,
    Path(account): Path<u64>,
    Query(q): Query<params::Query>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let s = app.read();
    s.authorize(&headers, account)?.require_user()?;
    let labels: Vec<&str> = q
        .get("labels")
        .map(|l| l.split(',').collect())
        .unwrap_or_default();
    let list: Vec<&Contact> = s
        .contacts
        .values()
        .filter(|c| c.account_id == account && resolved(c))
        .filter(|c| labels.is_empty() || c.labels.iter().any(|l| labels.contains(&l.as_str())))
        .collect();
    Ok(Json(page(&s, list, &q)))
}

pub async fn search(
    State(app): State<Arc<App>>,
    Path(account): Path<u64>,
    Query(q): Query<params::Query>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let s = app.read();
    s.authorize(&headers, account)?.require_user()?;
    let term = q
        .get("q")
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::Unprocessable("Specify search string with parameter q".into()))?;
    let lower = term.to_lowercase();
    let ilike = |v: Option<&str>| v.is_some_and(|x| x.to_lowercase().contains(&lower));
    let list: Vec<&Contact> = s
        .contacts
        .values()
        .filter(|c| c.account_id == account && resolved(c))
        .filter(|c| {
            ilike(Some(&c.name))
                || ilike(c.email.as_deref())
                || ilike(c.phone_number.as_deref())
                || c.identifier.as_deref().is_some_and(|i| i.contains(&term))
                || ilike(
                    c.additional_attributes
                        .get("company_name")
                        .and_then(Value::as_str),
                )
        })
        .collect();
    Ok(Json(page(&s, list, &q)))
}

pub async fn create(
    State(app): State<Arc<App>>,
    Path(account): Path<u64>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let mut s = app.write();
    s.authorize(&headers, account)?.require_user()?;
    let p = Params::from_body(&body, "contact")?;
    let inbox_id = p.u64("inbox_id");
    if let Some(i) = inbox_id {
        s.inbox_in(account, i)?;
    }
    let now = Timestamp::now();
    let mut c = Contact {
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
    apply(&mut c, &p);
    validate(&s, &c)?;
    sync_attributes(&mut c);
    c.id = s.next_id("contacts");
    let id = c.id;
    s.contacts.insert(id, c);
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
    let contact = s.contacts.get(&id).ok_or(ApiError::NotFound)?;
    let ci = ci.and_then(|ci| s.contact_inboxes.get(&ci));
    let inbox_row = ci.and_then(|ci| s.inboxes.get(&ci.inbox_id)).map(|i| {
        json!({"id": i.id, "channel_id": i.channel_id, "account_id": i.account_id, "name": i.name,
               "created_at": json::iso(i.created_at), "updated_at": json::iso(i.created_at),
               "channel_type": i.channel_type, "enable_auto_assignment": i.enable_auto_assignment,
               "greeting_enabled": i.greeting_enabled, "greeting_message": i.greeting_message,
               "email_address": null, "working_hours_enabled": i.working_hours_enabled,
               "out_of_office_message": i.out_of_office_message, "timezone": i.timezone,
               "enable_email_collect": i.enable_email_collect, "csat_survey_enabled": i.csat_survey_enabled,
               "allow_messages_after_resolved": i.allow_messages_after_resolved,
               "auto_assignment_config": {}, "lock_to_single_conversation": i.lock_to_single_conversation,
               "portal_id": null, "sender_name_type": "friendly", "business_name": null, "csat_config": {}})
    });
    Ok(Json(json!({"payload": {
        "contact": json::contact(&s, contact, true),
        "contact_inbox": {"inbox": inbox_row, "source_id": ci.map(|c| c.source_id.clone())},
    }})))
}

pub async fn show(
    State(app): State<Arc<App>>,
    Path((account, id)): Path<(u64, u64)>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let s = app.read();
    s.authorize(&headers, account)?.require_user()?;
    let c = s.contact_in(account, id)?;
    Ok(Json(json!({"payload": json::contact(&s, c, true)})))
}

pub async fn update(
    State(app): State<Arc<App>>,
    Path((account, id)): Path<(u64, u64)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let mut s = app.write();
    s.authorize(&headers, account)?.require_user()?;
    let mut c = s.contact_in(account, id)?.clone();
    let p = Params::from_body(&body, "contact")?;
    apply(&mut c, &p);
    validate(&s, &c)?;
    sync_attributes(&mut c);
    c.updated_at = Timestamp::now();
    s.contacts.insert(id, c);
    let c = s.contact_in(account, id)?;
    Ok(Json(json!({"payload": json::contact(&s, c, true)})))
}

pub async fn destroy(
    State(app): State<Arc<App>>,
    Path((account, id)): Path<(u64, u64)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let mut s = app.write();
    s.authorize(&headers, account)?.require_admin()?;
    s.contact_in(account, id)?;
    s.contacts.remove(&id);
    // dependent: :destroy_async — conversations, contact_inboxes and their messages go too.
    let convs: Vec<u64> = s
        .conversations
        .values()
        .filter(|c| c.contact_id == id)
        .map(|c| c.id)
        .collect();
    for conv in convs {
        super::conversations::remove_conversation(&mut s, conv);
    }
    s.contact_inboxes.retain(|_, ci| ci.contact_id != id);
    Ok(StatusCode::OK.into_response())
}

pub async fn labels_index(
    State(app): State<Arc<App>>,
    Path((account, id)): Path<(u64, u64)>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let s = app.read();
    s.authorize(&headers, account)?.require_user()?;
    Ok(Json(json!({"payload": s.contact_in(account, id)?.labels})))
}

pub async fn labels_create(
    State(app): State<Arc<App>>,
    Path((account, id)): Path<(u64, u64)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let mut s = app.write();
    s.authorize(&headers, account)?.require_user()?;
    s.contact_in(account, id)?;
    let labels = tag_list(&Params::from_body(&body, "label")?.strings("labels"));
    let c = s.contacts.get_mut(&id).ok_or(ApiError::NotFound)?;
    c.labels = labels;
    Ok(Json(json!({"payload": c.labels})))
}

/// acts-as-taggable-on's tag list: trimmed, blanks dropped, duplicates removed.
pub fn tag_list(raw: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for l in raw.iter().map(|l| l.trim()).filter(|l| !l.is_empty()) {
        if !out.iter().any(|o| o == l) {
            out.push(l.to_owned());
        }
    }
    out
}

pub async fn filter(
    State(app): State<Arc<App>>,
    Path(account): Path<u64>,
    Query(q): Query<params::Query>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let s = app.read();
    s.authorize(&headers, account)?.require_user()?;
    let p = Params::from_body(&body, "contact")?;
    let conditions = match p.get("payload") {
        Some(Value::Array(a)) => a.clone(),
        _ => return Err(ApiError::Unprocessable("Invalid payload".into())),
    };
    let defined = |key: &str| {
        s.custom_attribute_definitions.values().any(|d| {
            d.account_id == account
                && d.attribute_model == "contact_attribute"
                && d.attribute_key == key
        })
    };
    let mut list = Vec::new();
    // base_relation: resolved contacts only (contacts/filter_service.rb).
    for c in s
        .contacts
        .values()
        .filter(|c| c.account_id == account && resolved(c))
    {
        if super::filter::matches(&conditions, |key| contact_field(c, key, &defined))? {
            list.push(c);
        }
    }
    Ok(Json(page(&s, list, &q)))
}

/// The value a contact filter reads for `key`; `None` for undefined custom attributes, whose
/// condition `FilterService#custom_attribute_query` drops.
fn contact_field(c: &Contact, key: &str, defined: &dyn Fn(&str) -> bool) -> super::filter::Field {
    use super::filter::Field;
    let text = |v: Option<&str>| {
        Field::Value(
            v.map(|x| Value::String(x.to_owned()))
                .unwrap_or(Value::Null),
        )
    };
    match key {
        "name" => text(Some(&c.name)),
        "email" => text(c.email.as_deref()),
        "phone_number" => text(c.phone_number.as_deref()),
        "identifier" => text(c.identifier.as_deref()),
        "country_code" => text(Some(&c.country_code)),
        "city" => text(Some(&c.location)),
        "blocked" => Field::Value(Value::Bool(c.blocked)),
        "labels" => Field::Value(json!(c.labels)),
        k if defined(k) => Field::Value(c.custom_attributes.get(k).cloned().unwrap_or(Value::Null)),
        k if c.additional_attributes.contains_key(k) => Field::Value(
            c.additional_attributes
                .get(k)
                .cloned()
                .unwrap_or(Value::Null),
        ),
        _ => Field::Ignored,
    }
}
