//! Company, tag and data-attribute writes (`../shared/research/intercom-api.md` §7):
//! companies are upserted on `company_id` and carry their original creation time in
//! `remote_created_at`; tags are created (or found) by name, renamed with `id`, and applied in
//! bulk to companies (`untag` to remove) or users; a conversation is tagged with the acting
//! `admin_id`, which is required; data attributes are created per model with a unique name.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use deskmove_synth::AttributeModel;
use serde_json::{Map, Value, json};

use crate::body::{Body, missing};
use crate::error::ApiError;
use crate::respond::{ApiResult, ok};
use crate::routes::write_contacts::{tag_exists, tag_json};
use crate::routes::write_support::{
    contact_exists, conversation_target, request, require_admin, resource_not_found, user_not_found,
};
use crate::state::AppState;
use crate::written::{Tagging, WCompany, WDataAttribute, WTag, base, render};

/// `POST /companies`: create, or update the company with this `company_id`.
pub(crate) async fn upsert_company(
    State(s): State<Arc<AppState>>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult {
    let (v, b) = request(&headers, &bytes)?;
    // Intercom looks companies up by `company_id` (research §7); without it there is nothing to
    // upsert on, so the stricter answer is 400 rather than a company nobody can find again.
    let company_id = b.required_str("company_id")?;
    let name = b.str("name")?;
    let plan = b.str("plan")?;
    let size = b.int("size")?;
    let website = b.str("website")?;
    let industry = b.str("industry")?;
    let monthly_spend = b.int("monthly_spend")?;
    let remote_created_at = b.int("remote_created_at")?;
    if v.is_2_16() {
        b.bool("update_last_request_at")?;
    }
    let attrs = b.object("custom_attributes")?.unwrap_or_default();
    // The spec types company custom attributes as strings (`additionalProperties: string`).
    if let Some((k, _)) = attrs.iter().find(|(_, v)| !v.is_string()) {
        return Err(ApiError::invalid(format!(
            "custom_attributes.{k} must be a string"
        )));
    }
    let view = s.world.view();
    let world_attrs = view.attributes_of(AttributeModel::Company);
    let now = s.clock.now_secs();
    let mut store = s.written.lock();
    for k in attrs.keys() {
        let known = world_attrs.iter().any(|a| &a.name == k && !a.archived)
            || store
                .data_attributes
                .iter()
                .any(|a| &a.name == k && a.model == "company");
        if !known {
            return Err(ApiError::invalid(format!(
                "Custom attribute '{k}' does not exist"
            )));
        }
    }
    let idx = match store
        .companies
        .iter()
        .position(|c| c.company_id == company_id)
    {
        Some(i) => i,
        None => {
            let id = store.hex_id(s.world.config().seed, "company");
            store.companies.push(WCompany {
                id,
                company_id,
                name: None,
                plan: None,
                size: None,
                website: None,
                industry: None,
                monthly_spend: None,
                custom_attributes: Map::new(),
                remote_created_at: None,
                created_at: now,
                updated_at: now,
            });
            store.companies.len() - 1
        }
    };
    let c = &mut store.companies[idx];
    macro_rules! set {
        ($($f:ident),*) => { $( if $f.is_some() { c.$f = $f; } )* };
    }
    set!(
        name,
        plan,
        size,
        website,
        industry,
        monthly_spend,
        remote_created_at
    );
    c.custom_attributes.extend(attrs);
    c.updated_at = now;
    let c = c.clone();
    ok(render::company(&store, &c))
}

/// One item of a bulk tag request: `id`, `company_id` (companies only), `untag`.
type BulkItem = (Option<String>, Option<String>, bool);

/// The items of a bulk tag request (`companies` or `users`), each with `id` (or, for companies,
/// `company_id`) and an optional `untag`.
fn bulk_items(b: &Body, key: &str) -> Result<Vec<BulkItem>, ApiError> {
    b.array(key, None)?
        .into_iter()
        .map(|item| {
            let item = match item {
                Value::Object(m) => Body(m),
                _ => return Err(ApiError::invalid("invalid tag parameters")),
            };
            Ok((
                item.str("id")?,
                item.str("company_id")?,
                item.bool("untag")?.unwrap_or(false),
            ))
        })
        .collect()
}

/// `POST /tags`: create or find by name; with `id`, rename; with `companies`/`users`, tag them.
pub(crate) async fn create_tag(
    State(s): State<Arc<AppState>>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult {
    let (_, b) = request(&headers, &bytes)?;
    let name = b.required_str("name")?;
    let rename = b.str("id")?;
    let companies = bulk_items(&b, "companies")?;
    let users = bulk_items(&b, "users")?;
    let view = s.world.view();
    let now = s.clock.now_secs();
    let mut store = s.written.lock();
    let tag_id = if let Some(id) = rename {
        let gone = store.is_deleted("tag", &id);
        match store.tags.iter_mut().find(|t| t.id == id) {
            Some(t) => {
                t.name = name.clone();
                id
            }
            None if view.tag_by_id(&id).is_some() && !gone => {
                // Renaming a world tag: the written shadow carries the new name.
                store.tags.push(WTag {
                    id: id.clone(),
                    name: name.clone(),
                    created_at: now,
                });
                id
            }
            None => return Err(resource_not_found()),
        }
    } else if let Some(t) = store.tags.iter().find(|t| t.name == name) {
        t.id.clone()
    } else if let Some(t) = (0..view.tag_count())
        .filter_map(|i| view.tag(i))
        .find(|t| t.name == name && store.tag(&t.id).is_none() && !store.is_deleted("tag", &t.id))
    {
        t.id
    } else {
        let id = store.numeric_id(base::TAG);
        store.tags.push(WTag {
            id: id.clone(),
            name: name.clone(),
            created_at: now,
        });
        id
    };
    let mut company_results = Vec::new();
    for (id, company_id, untag) in companies {
        let found = store
            .companies
            .iter()
            .find(|c| {
                id.as_deref() == Some(c.id.as_str())
                    || company_id.as_deref() == Some(c.company_id.as_str())
            })
            .map(|c| c.id.clone())
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::NOT_FOUND,
                    "company_not_found",
                    "Company Not Found",
                )
            })?;
        if untag {
            store.untag_object(&tag_id, "company", &found);
        } else {
            store.tag_object(Tagging {
                tag_id: tag_id.clone(),
                object: "company",
                object_id: found.clone(),
                applied_at: now,
                admin_id: None,
            });
        }
        company_results.push(json!({"id": found, "tagged": !untag}));
    }
    let mut user_results = Vec::new();
    for (id, _, untag) in users {
        let id = id.ok_or_else(|| missing("users[].id"))?;
        if !contact_exists(&store, &view, &id) {
            return Err(user_not_found());
        }
        if untag {
            store.untag_object(&tag_id, "contact", &id);
        } else {
            store.tag_object(Tagging {
                tag_id: tag_id.clone(),
                object: "contact",
                object_id: id.clone(),
                applied_at: now,
                admin_id: None,
            });
        }
        user_results.push(json!({"id": id, "tagged": !untag}));
    }
    let mut out = tag_json(&store, &view, &tag_id);
    if b.has("companies") {
        out["companies"] = json!(company_results);
    }
    if b.has("users") {
        out["users"] = json!(user_results);
    }
    ok(out)
}

/// `POST /conversations/{id}/tags {"id", "admin_id"}` — `admin_id` is required (spec, §7).
pub(crate) async fn tag_conversation(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult {
    let (_, b) = request(&headers, &bytes)?;
    let tag_id = b.required_str("id")?;
    let admin_id = b.required_str("admin_id")?;
    let view = s.world.view();
    require_admin(&view, &admin_id)?;
    let mut store = s.written.lock();
    // Written and seeded conversations alike; a seeded one's tags are kept beside the world's.
    conversation_target(&store, &view, &id)?;
    if !tag_exists(&store, &view, &tag_id) {
        return Err(resource_not_found());
    }
    store.tag_object(Tagging {
        tag_id: tag_id.clone(),
        object: "conversation",
        object_id: id,
        applied_at: s.clock.now_secs(),
        admin_id: Some(admin_id),
    });
    ok(tag_json(&store, &view, &tag_id))
}

/// `POST /tickets/{id}/tags {"id", "admin_id"}` — `admin_id` required, as on conversations.
pub(crate) async fn tag_ticket(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult {
    let (_, b) = request(&headers, &bytes)?;
    let tag_id = b.required_str("id")?;
    let admin_id = b.required_str("admin_id")?;
    let view = s.world.view();
    require_admin(&view, &admin_id)?;
    let mut store = s.written.lock();
    if !store.tickets.iter().any(|t| t.id == id) {
        return Err(resource_not_found());
    }
    if !tag_exists(&store, &view, &tag_id) {
        return Err(resource_not_found());
    }
    store.tag_object(Tagging {
        tag_id: tag_id.clone(),
        object: "ticket",
        object_id: id,
        applied_at: s.clock.now_secs(),
        admin_id: Some(admin_id),
    });
    ok(tag_json(&store, &view, &tag_id))
}

/// Data types `create_data_attribute_request` allows.
const DATA_TYPES: [&str; 7] = [
    "string", "integer", "float", "boolean", "datetime", "date", "options",
];

/// `POST /data_attributes {name, model, data_type, options?, description?, messenger_writable?}`
/// with the spec's 400 examples: a name must be new in its model and made of letters, digits,
/// spaces, hyphens, underscores or currency symbols; a list needs options.
pub(crate) async fn create_data_attribute(
    State(s): State<Arc<AppState>>,
    headers: HeaderMap,
    bytes: Bytes,
) -> ApiResult {
    let (_, b) = request(&headers, &bytes)?;
    let name = b.required_str("name")?;
    let model = b.required_str("model")?;
    let data_type = b.required_str("data_type")?;
    if model != "contact" && model != "company" {
        return Err(ApiError::invalid(
            "The Data Attribute model field must be either contact or company",
        ));
    }
    if !DATA_TYPES.contains(&data_type.as_str()) {
        return Err(ApiError::invalid("Data Type isn't an option"));
    }
    let valid_name = name
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_' | '$' | '€' | '£' | '¥'));
    if !valid_name {
        return Err(ApiError::invalid(
            "Your name for this attribute must only contain alphanumeric characters, currency symbols, and hyphens",
        ));
    }
    let options: Vec<String> = b
        .array("options", None)?
        .iter()
        .map(|o| o.get("value").and_then(Value::as_str).map(str::to_string))
        .collect::<Option<_>>()
        .ok_or_else(|| ApiError::invalid("options must be objects with a string value"))?;
    if data_type == "options" && options.len() < 2 {
        return Err(ApiError::invalid(
            "The Data Attribute options field needs at least two options",
        ));
    }
    let description = b.str("description")?;
    let messenger_writable = b.bool("messenger_writable")?.unwrap_or(false);
    let view = s.world.view();
    let world_model = if model == "contact" {
        AttributeModel::Contact
    } else {
        AttributeModel::Company
    };
    let mut store = s.written.lock();
    let taken = view
        .attributes_of(world_model)
        .iter()
        .any(|a| a.name.eq_ignore_ascii_case(&name))
        || store
            .data_attributes
            .iter()
            .any(|a| a.model == model && a.name.eq_ignore_ascii_case(&name));
    if taken {
        let data = if model == "contact" {
            "people"
        } else {
            "company"
        };
        return Err(ApiError::invalid(format!(
            "You already have '{name}' in your {data} data. To save this as new {data} data, use a different name."
        )));
    }
    let a = WDataAttribute {
        id: base::DATA_ATTRIBUTE + store.next(),
        name,
        model,
        data_type,
        description,
        options,
        messenger_writable,
        created_at: s.clock.now_secs(),
    };
    let out = render::data_attribute(&a);
    store.data_attributes.push(a);
    ok(out)
}
