//! Conversation attributes and conversation updates: `POST /conversations/attributes` (2.16
//! only; before 2.16 the API can list conversation attributes but not create them, so a target
//! on 2.14 needs them made in the workspace first) and `PUT /conversations/{id}` (`read`,
//! `title`, `custom_attributes`; both specs). A set attribute is what
//! `POST /conversations/search` finds with `custom_attributes.<name>`: how a target finds the
//! conversation a crashed run created. `POST /conversations` takes no `custom_attributes`
//! (`create_conversation_request` in both specs), so the attribute is set by the update that
//! follows the create.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Map, Value, json};

use crate::derived::CONVERSATION_ATTRIBUTES;
use crate::error::ApiError;
use crate::respond::{ApiResult, ok};
use crate::routes::write_support::{conversation_target, request};
use crate::routes::{conversations, renderer};
use crate::state::AppState;
use crate::written::{Store, WConversationAttribute, base};

/// Types `POST /conversations/attributes` accepts (`create_conversation_attribute_request_base`).
const DATA_TYPES: &[&str] = &[
    "string",
    "integer",
    "list",
    "decimal",
    "boolean",
    "datetime",
    "relationship",
    "files",
];

/// A written conversation attribute as `conversation_attribute` JSON.
pub(crate) fn attribute_json(a: &WConversationAttribute, seed: u64) -> Value {
    let mut v = json!({
        "type": "conversation_attribute",
        "id": a.id,
        "name": a.name,
        "description": a.description.clone().unwrap_or_default(),
        "data_type": a.data_type,
        "required": false,
        "visible_to_team_ids": [],
        "archived": false,
        "created_at": a.created_at,
        "updated_at": a.created_at,
        // The admin behind the access token (`GET /me`) made it.
        "admin_id": a.admin_id.clone().unwrap_or_else(|| crate::render::admin_id(0).to_string()),
    });
    match a.data_type.as_str() {
        "string" => v["multiline"] = json!(a.multiline),
        "list" => {
            v["options"] = json!(a.options.iter().enumerate().map(|(k, label)| json!({
                "id": format!("{:08x}-0000-4000-a000-{:012x}", seed as u32, a.id * 100 + k as u64),
                "label": label,
                "archived": false,
            })).collect::<Vec<_>>());
        }
        _ => {}
    }
    v
}

/// `POST /conversations/attributes` (2.16).
pub(crate) async fn create_attribute(
    State(s): State<Arc<AppState>>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult {
    let (v, b) = request(&headers, &bytes)?;
    if !v.is_2_16() {
        // The operation is absent from 2.14 (research §1: asking for one your version lacks).
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "intercom_version_invalid",
            "Requested resource is not available in current API version.",
        ));
    }
    let name = b.required_str("name")?;
    let data_type = b.required_str("data_type")?;
    if !DATA_TYPES.contains(&data_type.as_str()) {
        // Wording and status from the spec's own example (422 "Invalid data_type").
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "parameter_invalid",
            format!(
                "data_type '{data_type}' is not valid. Allowed types: string, integer, list, decimal, boolean, datetime, relationship, files"
            ),
        ));
    }
    if matches!(data_type.as_str(), "relationship" | "files") {
        // Values of these kinds reference objects the sandbox does not model.
        return Err(ApiError::new(
            StatusCode::NOT_IMPLEMENTED,
            "unsupported",
            "The sandbox does not model relationship or files conversation attributes",
        ));
    }
    let options = b
        .array("options", None)?
        .iter()
        .map(|o| o.get("label").and_then(Value::as_str).map(str::to_string))
        .collect::<Option<Vec<_>>>()
        .ok_or_else(|| ApiError::invalid("options must be objects with a string label"))?;
    let description = b.str("description")?;
    let multiline = b.bool("multiline")?.unwrap_or(false);
    b.bool("required")?;
    let mut store = s.written.lock();
    let a = WConversationAttribute {
        id: base::CONVERSATION_ATTRIBUTE + store.next(),
        name,
        description,
        data_type,
        options,
        multiline,
        admin_id: None,
        created_at: s.clock.now_secs(),
    };
    let out = attribute_json(&a, s.world.config().seed);
    store.conversation_attributes.push(a);
    ok(out)
}

/// The data type of conversation attribute `name` (derived or written, archived ones excluded),
/// or the error Intercom gives for an unknown or ambiguous name.
fn attribute_type(store: &Store, name: &str) -> Result<(String, Vec<String>), ApiError> {
    let mut found: Vec<(String, Vec<String>)> = CONVERSATION_ATTRIBUTES
        .iter()
        .filter(|a| a.1 == name && !a.4)
        .map(|a| (a.2.to_string(), a.3.iter().map(|o| o.to_string()).collect()))
        .collect();
    found.extend(
        store
            .conversation_attributes
            .iter()
            .filter(|a| a.name == name)
            .map(|a| (a.data_type.clone(), a.options.clone())),
    );
    match found.len() {
        0 => Err(ApiError::invalid(format!(
            "Custom attribute '{name}' does not exist"
        ))),
        1 => Ok(found.remove(0)),
        // "returns a 400 INVALID_PARAMETER error when … multiple non-archived conversation custom
        // attributes with the same name" (spec, PUT /conversations/{id}).
        _ => Err(ApiError::invalid(format!(
            "Multiple conversation attributes are named '{name}'; rename or archive the duplicates"
        ))),
    }
}

/// A value checked against its attribute's type.
fn check_value(name: &str, data_type: &str, options: &[String], v: &Value) -> Result<(), ApiError> {
    let fits = v.is_null()
        || match data_type {
            "string" => v.is_string(),
            "integer" | "datetime" => v.is_i64() || v.is_u64(),
            "decimal" => v.is_number(),
            "boolean" => v.is_boolean(),
            "list" => v.as_str().is_some_and(|x| options.iter().any(|o| o == x)),
            _ => false,
        };
    if fits {
        Ok(())
    } else {
        Err(ApiError::invalid(format!(
            "custom_attributes.{name} must be a {data_type} value"
        )))
    }
}

/// `PUT /conversations/{id}`: a written conversation or a seeded one; answers the conversation.
pub(crate) async fn update_conversation(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult {
    let (_, b) = request(&headers, &bytes)?;
    let read = b.bool("read")?;
    let title = b.str("title")?;
    let attrs = b.object("custom_attributes")?.unwrap_or_default();
    // `company_id` is accepted (both specs) but the sandbox does not link conversations to
    // companies: it renders `company: null` throughout.
    b.str("company_id")?;
    let view = s.world.view();
    let now = s.clock.now_secs();
    let mut store = s.written.lock();
    let target = conversation_target(&store, &view, &id)?;
    let mut checked = Map::new();
    for (name, value) in attrs {
        let (data_type, options) = attribute_type(&store, &name)?;
        check_value(&name, &data_type, &options, &value)?;
        checked.insert(name, value);
    }
    store.next();
    if target.seeded {
        let o = store.overlay_mut(&id);
        o.read = read.or(o.read);
        o.title = title.or(o.title.take());
        o.custom_attributes.extend(checked);
        o.updated_at = Some(o.updated_at.unwrap_or(now).max(now));
    } else if let Some(c) = store.conversation_mut(&id) {
        if let Some(r) = read {
            c.read = r;
        }
        if title.is_some() {
            c.title = title;
        }
        c.custom_attributes.extend(checked);
        c.updated_at = c.updated_at.max(now);
    }
    let r = renderer(&s, false);
    let out = conversations::retrieve_json(&r, &store, &id)
        .ok_or_else(crate::routes::write_support::conversation_not_found)?;
    ok(out)
}
