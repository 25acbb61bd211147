//! Custom attribute definitions (`../shared/research/chatwoot.md §2.10`).

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde_json::{Value, json};

use super::super::App;
use super::super::error::{ApiError, ApiResult, Errors};
use super::super::json;
use super::super::model::CustomAttributeDefinition;
use super::super::params::{self, Params};
use super::super::store::Store;

/// Reserved keys (custom_attribute_definition.rb L24-28).
const RESERVED_CONVERSATION: [&str; 14] = [
    "status",
    "priority",
    "assignee_id",
    "inbox_id",
    "team_id",
    "display_id",
    "campaign_id",
    "labels",
    "browser_language",
    "country_code",
    "referer",
    "created_at",
    "last_activity_at",
    "id",
];
const RESERVED_CONTACT: [&str; 10] = [
    "name",
    "email",
    "phone_number",
    "identifier",
    "country_code",
    "city",
    "created_at",
    "last_activity_at",
    "referer",
    "blocked",
];
const DISPLAY_TYPES: [&str; 8] = [
    "text", "number", "currency", "percent", "link", "date", "list", "checkbox",
];

/// Enum params accept the name or its integer (§2.10).
fn enum_value(p: &Params, key: &str, names: &[&str]) -> ApiResult<Option<String>> {
    let Some(raw) = p.str(key) else {
        return Ok(None);
    };
    if let Some(n) = raw.parse::<usize>().ok().and_then(|i| names.get(i)) {
        return Ok(Some((*n).to_owned()));
    }
    if names.contains(&raw.as_str()) {
        Ok(Some(raw))
    } else {
        Err(ApiError::Internal(format!("'{raw}' is not a valid {key}")))
    }
}

fn save_definition(
    s: &mut Store,
    mut d: CustomAttributeDefinition,
    p: &Params,
) -> ApiResult<CustomAttributeDefinition> {
    if let Some(m) = enum_value(
        p,
        "attribute_model",
        &["conversation_attribute", "contact_attribute"],
    )? {
        d.attribute_model = m;
    }
    if let Some(t) = enum_value(p, "attribute_display_type", &DISPLAY_TYPES)? {
        d.attribute_display_type = t;
    }
    if p.has("attribute_key") {
        d.attribute_key = p.str("attribute_key").unwrap_or_default();
    }
    for (key, field) in [
        ("attribute_display_name", &mut d.attribute_display_name),
        ("attribute_description", &mut d.attribute_description),
        ("regex_pattern", &mut d.regex_pattern),
        ("regex_cue", &mut d.regex_cue),
    ] {
        if p.has(key) {
            *field = p.str(key);
        }
    }
    if let Some(Value::Array(v)) = p.get("attribute_values") {
        d.attribute_values = v.clone();
    }
    let mut e = Errors::default();
    if d.attribute_key.is_empty() {
        e.add("attribute_key", "Attribute key can't be blank");
    }
    if d.attribute_display_name
        .as_deref()
        .is_none_or(str::is_empty)
    {
        e.add(
            "attribute_display_name",
            "Attribute display name can't be blank",
        );
    }
    let reserved: &[&str] = if d.attribute_model == "contact_attribute" {
        &RESERVED_CONTACT
    } else {
        &RESERVED_CONVERSATION
    };
    if reserved.contains(&d.attribute_key.as_str()) {
        e.add("attribute_key", "Attribute key cannot be used");
    }
    if s.custom_attribute_definitions.values().any(|o| {
        o.account_id == d.account_id
            && o.id != d.id
            && o.attribute_model == d.attribute_model
            && o.attribute_key == d.attribute_key
    }) {
        e.add("attribute_key", "Attribute key has already been taken");
    }
    e.into_result()?;
    d.updated_at = Timestamp::now();
    if d.id == 0 {
        d.id = s.next_id("custom_attribute_definitions");
    }
    s.custom_attribute_definitions.insert(d.id, d.clone());
    Ok(d)
}

pub async fn attributes_index(
    State(app): State<Arc<App>>,
    Path(account): Path<u64>,
    Query(q): Query<params::Query>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let s = app.read();
    s.authorize(&headers, account)?.require_user()?;
    let model = q.get("attribute_model").map(|m| match m.as_str() {
        "0" => "conversation_attribute".to_owned(),
        "1" => "contact_attribute".to_owned(),
        other => other.to_owned(),
    });
    let list: Vec<Value> = s
        .custom_attribute_definitions
        .values()
        .filter(|d| {
            d.account_id == account && model.as_ref().is_none_or(|m| *m == d.attribute_model)
        })
        .map(json::attribute_definition)
        .collect();
    Ok(Json(json!(list)))
}

pub async fn attributes_create(
    State(app): State<Arc<App>>,
    Path(account): Path<u64>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let mut s = app.write();
    s.authorize(&headers, account)?.require_admin()?;
    let now = Timestamp::now();
    let d = CustomAttributeDefinition {
        id: 0,
        account_id: account,
        attribute_display_name: None,
        attribute_key: String::new(),
        attribute_display_type: "text".into(),
        attribute_model: "conversation_attribute".into(),
        attribute_description: None,
        attribute_values: Vec::new(),
        regex_pattern: None,
        regex_cue: None,
        default_value: None,
        created_at: now,
        updated_at: now,
    };
    let d = save_definition(
        &mut s,
        d,
        &Params::from_body(&body, "custom_attribute_definition")?,
    )?;
    Ok(Json(json::attribute_definition(&d)))
}

fn definition_of(s: &Store, account: u64, id: u64) -> ApiResult<CustomAttributeDefinition> {
    s.custom_attribute_definitions
        .get(&id)
        .filter(|d| d.account_id == account)
        .cloned()
        .ok_or(ApiError::NotFound)
}

pub async fn attributes_show(
    State(app): State<Arc<App>>,
    Path((account, id)): Path<(u64, u64)>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let s = app.read();
    s.authorize(&headers, account)?.require_user()?;
    Ok(Json(json::attribute_definition(&definition_of(
        &s, account, id,
    )?)))
}

pub async fn attributes_update(
    State(app): State<Arc<App>>,
    Path((account, id)): Path<(u64, u64)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let mut s = app.write();
    s.authorize(&headers, account)?.require_admin()?;
    let d = definition_of(&s, account, id)?;
    let d = save_definition(
        &mut s,
        d,
        &Params::from_body(&body, "custom_attribute_definition")?,
    )?;
    Ok(Json(json::attribute_definition(&d)))
}

/// Custom attribute definitions answer 204 on delete.
pub async fn attributes_destroy(
    State(app): State<Arc<App>>,
    Path((account, id)): Path<(u64, u64)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let mut s = app.write();
    s.authorize(&headers, account)?.require_admin()?;
    definition_of(&s, account, id)?;
    s.custom_attribute_definitions.remove(&id);
    Ok(StatusCode::NO_CONTENT.into_response())
}
