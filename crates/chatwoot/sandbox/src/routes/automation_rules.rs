//! Automation rules (`app/controllers/api/v1/accounts/automation_rules_controller.rb`,
//! administrators only): stored as sent, validated as `app/models/automation_rule.rb` does, and
//! recorded as fired by the dispatcher when their event happens and their conditions match.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Map, Value, json};

use crate::auth::Role;
use crate::error::{ApiError, ApiResult};
use crate::params::Params;
use crate::render;
use crate::state::{AppState, AutomationRule, CustomAttributeDefinition, Database};

/// `AutomationRule#conditions_attributes`.
const CONDITION_KEYS: [&str; 17] = [
    "content",
    "email",
    "country_code",
    "status",
    "message_type",
    "browser_language",
    "assignee_id",
    "team_id",
    "referer",
    "city",
    "company",
    "inbox_id",
    "mail_subject",
    "phone_number",
    "priority",
    "conversation_language",
    "labels",
];

/// `AutomationRule#actions_attributes`.
const ACTION_NAMES: [&str; 16] = [
    "send_message",
    "add_label",
    "remove_label",
    "send_email_to_team",
    "assign_team",
    "assign_agent",
    "send_webhook_event",
    "mute_conversation",
    "send_attachment",
    "change_status",
    "resolve_conversation",
    "open_conversation",
    "snooze_conversation",
    "change_priority",
    "send_email_transcript",
    "add_private_note",
];

/// The permitted top-level parameters applied to `r`, then the model's validations. Errors are
/// `render_could_not_create_error(errors.messages)`: 422 `{"error": {"conditions": [...]}}`.
fn save(
    s: &mut Database,
    mut r: AutomationRule,
    p: &Params,
    creating: bool,
) -> ApiResult<AutomationRule> {
    p.assign_str("name", &mut r.name);
    p.assign_opt("description", &mut r.description);
    p.assign_str("event_name", &mut r.event_name);
    p.assign_bool("active", &mut r.active);
    let list = |key: &str| match p.get(key) {
        Some(Value::Array(a)) => Some(a.clone()),
        _ => None,
    };
    if creating || p.has("conditions") {
        // `conditions.each` in `query_operator_value` raises on nil: an unrescued 500.
        r.conditions = list("conditions")
            .ok_or_else(|| ApiError::Internal("undefined method 'each' for nil".into()))?;
    }
    if creating || p.has("actions") {
        r.actions = list("actions").unwrap_or_default();
    }
    let mut errors: Map<String, Value> = Map::new();
    let mut add = |key: &str, msg: String| {
        if let Value::Array(a) = errors.entry(key).or_insert_with(|| json!([])) {
            a.push(json!(msg));
        }
    };
    let defined: Vec<String> = s
        .in_account::<CustomAttributeDefinition>(r.account_id)
        .map(|d| d.attribute_key.clone())
        .collect();
    let bad_conditions: Vec<&str> = r
        .conditions
        .iter()
        .filter_map(|c| c["attribute_key"].as_str())
        .filter(|k| !CONDITION_KEYS.contains(k) && !defined.iter().any(|d| d == k))
        .collect();
    if !bad_conditions.is_empty() {
        add(
            "conditions",
            format!(
                "Automation conditions {} not supported.",
                bad_conditions.join(",")
            ),
        );
    }
    let bad_actions: Vec<&str> = r
        .actions
        .iter()
        .filter_map(|a| a["action_name"].as_str())
        .filter(|a| !ACTION_NAMES.contains(a))
        .collect();
    if !bad_actions.is_empty() {
        add(
            "actions",
            format!(
                "Automation actions {} not supported.",
                bad_actions.join(",")
            ),
        );
    }
    if r.conditions
        .iter()
        .filter(|c| c["query_operator"].is_null())
        .count()
        > 1
    {
        add(
            "conditions",
            "Automation conditions should have query operator.".into(),
        );
    }
    let bad_operator = r.conditions.iter().any(|c| {
        c["query_operator"]
            .as_str()
            .is_some_and(|o| !o.is_empty() && !matches!(o.to_uppercase().as_str(), "AND" | "OR"))
    });
    if bad_operator {
        add(
            "conditions",
            "Query operator must be either \"AND\" or \"OR\"".into(),
        );
    }
    if !errors.is_empty() {
        return Err(ApiError::UnprocessableBody(json!({"error": errors})));
    }
    // name and event_name are NOT NULL columns without a presence validation.
    if r.name.is_empty() || r.event_name.is_empty() {
        return Err(ApiError::Internal("PG::NotNullViolation".into()));
    }
    Ok(s.save(r))
}

/// `GET /automation_rules`: `{payload: [...]}`.
pub async fn index(
    State(app): State<Arc<AppState>>,
    Path(account): Path<u64>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let (s, _) = app.read_as(&headers, account, Role::Admin)?;
    let list: Vec<Value> = s
        .in_account::<AutomationRule>(account)
        .map(render::automation_rule)
        .collect();
    Ok(Json(json!({"payload": list})))
}

/// `POST /automation_rules`: the rule itself (create.json.jbuilder has no payload key).
pub async fn create(
    State(app): State<Arc<AppState>>,
    Path(account): Path<u64>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let (mut s, _) = app.write_as(&headers, account, Role::Admin)?;
    let p = Params::top_level(&body)?;
    let blank = AutomationRule {
        id: 0,
        account_id: account,
        name: String::new(),
        description: None,
        event_name: String::new(),
        conditions: Vec::new(),
        actions: Vec::new(),
        active: true,
        created_at: s.now(),
    };
    let r = save(&mut s, blank, &p, true)?;
    Ok(Json(render::automation_rule(&r)))
}

/// `find_by(id:)` answers nil for a missing rule, which the view then fails on: a 500.
fn rule(s: &Database, account: u64, id: u64) -> ApiResult<AutomationRule> {
    s.scoped::<AutomationRule>(account, id)
        .cloned()
        .map_err(|_| ApiError::Internal("undefined method 'id' for nil".into()))
}

/// `GET /automation_rules/{id}`: `{payload: rule}`.
pub async fn show(
    State(app): State<Arc<AppState>>,
    Path((account, id)): Path<(u64, u64)>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let (s, _) = app.read_as(&headers, account, Role::Admin)?;
    Ok(Json(
        json!({"payload": render::automation_rule(&rule(&s, account, id)?)}),
    ))
}

/// `PATCH /automation_rules/{id}`: `{payload: rule}`.
pub async fn update(
    State(app): State<Arc<AppState>>,
    Path((account, id)): Path<(u64, u64)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let (mut s, _) = app.write_as(&headers, account, Role::Admin)?;
    let r = rule(&s, account, id)?;
    let r = save(&mut s, r, &Params::top_level(&body)?, false)?;
    Ok(Json(json!({"payload": render::automation_rule(&r)})))
}

/// `DELETE /automation_rules/{id}`: `head :ok`.
pub async fn destroy(
    State(app): State<Arc<AppState>>,
    Path((account, id)): Path<(u64, u64)>,
    headers: HeaderMap,
) -> ApiResult<StatusCode> {
    let (mut s, _) = app.write_as(&headers, account, Role::Admin)?;
    rule(&s, account, id)?;
    s.remove_scoped::<AutomationRule>(account, id)?;
    Ok(StatusCode::OK)
}
