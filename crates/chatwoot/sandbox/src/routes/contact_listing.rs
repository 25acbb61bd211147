//! Listing contacts: index, search and filter, one page at a time
//! (`../shared/research/chatwoot.md §2.1`).

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use serde_json::{Value, json};

use crate::auth::Role;
use crate::error::{ApiError, ApiResult};
use crate::params::{self, Params};
use crate::render;
use crate::rules;
use crate::state::{AppState, Contact, Database};

/// `RESULTS_PER_PAGE` of the contacts controller.
const PER_PAGE: usize = 15;

/// `Contact.resolved_contacts`: only contacts with an email, phone or identifier are listed.
fn resolved(c: &Contact) -> bool {
    [&c.email, &c.phone_number, &c.identifier]
        .iter()
        .any(|v| v.as_deref().is_some_and(|x| !x.is_empty()))
}

/// The account's resolved contacts, the base of every listing (contacts/filter_service.rb).
fn listed(s: &Database, account: u64) -> impl Iterator<Item = &Contact> {
    s.in_account::<Contact>(account).filter(|c| resolved(c))
}

/// The page of `list` with the index view's `meta`.
fn page(s: &Database, mut list: Vec<&Contact>, q: &params::Query) -> Value {
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
    let with_inboxes = q.get("include_contact_inboxes").is_none_or(|v| v == "true");
    let payload: Vec<Value> = params::paginate(list, params::page_number(q), PER_PAGE)
        .map(|c| render::contact(s, c, with_inboxes))
        .collect();
    json!({"meta": {"count": count, "current_page": current}, "payload": payload})
}

pub async fn index(
    State(app): State<Arc<AppState>>,
    Path(account): Path<u64>,
    Query(q): Query<params::Query>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let (s, _) = app.read_as(&headers, account, Role::User)?;
    // `tagged_with(labels, any: true)`: tag names match ignoring case.
    let labels: Vec<String> = q
        .get("labels")
        .map(|l| rules::tag_list(std::slice::from_ref(l)))
        .unwrap_or_default()
        .iter()
        .map(|l| l.to_lowercase())
        .collect();
    let list: Vec<&Contact> = listed(&s, account)
        .filter(|c| {
            labels.is_empty() || c.labels.iter().any(|l| labels.contains(&l.to_lowercase()))
        })
        .collect();
    Ok(Json(page(&s, list, &q)))
}

pub async fn search(
    State(app): State<Arc<AppState>>,
    Path(account): Path<u64>,
    Query(q): Query<params::Query>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let (s, _) = app.read_as(&headers, account, Role::User)?;
    let term = q
        .get("q")
        .map(|t| t.trim().to_owned())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::Unprocessable("Specify search string with parameter q".into()))?;
    let lower = term.to_lowercase();
    let ilike = |v: Option<&str>| v.is_some_and(|x| x.to_lowercase().contains(&lower));
    let list: Vec<&Contact> = listed(&s, account)
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

pub async fn filter(
    State(app): State<Arc<AppState>>,
    Path(account): Path<u64>,
    Query(q): Query<params::Query>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let (s, _) = app.read_as(&headers, account, Role::User)?;
    let conditions = super::filter::conditions(&Params::top_level(&body)?)?;
    let defined = |key: &str| {
        s.custom_attribute_definitions.values().any(|d| {
            d.account_id == account
                && d.attribute_model == "contact_attribute"
                && d.attribute_key == key
        })
    };
    let mut list = Vec::new();
    // base_relation: resolved contacts only (contacts/filter_service.rb).
    for c in listed(&s, account) {
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
