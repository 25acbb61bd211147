//! Contacts: the cursor list, the body-paginated search (new contacts show up only after a lag),
//! retrieve (410 for a merged-away contact), the lookup by external id, and a contact's notes, tags
//! and companies (`../shared/research/intercom-api.md` §2,
//! §9).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use deskmove_synth::{Contact, Role};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::derived;
use crate::error::ApiError;
use crate::paging::{
    ListQuery, cursor_pages, cursor_start, encode_cursor, page, page_pages, page_range, per_page,
};
use crate::render::contacts::contact_companies as contact_companies_of;
use crate::respond::{ApiResult, ok};
use crate::routes::renderer;
use crate::search::{FieldType, FieldValue};
use crate::search_page::{Searchable, run};
use crate::state::AppState;
use crate::version::ApiVersion;
use crate::written::{WContact, render as written_render};

/// New contacts become searchable only after this long (spec L8732: "a few minutes").
pub const SEARCH_LAG_SECS: i64 = 300;

fn user_not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "not_found", "User Not Found")
}

/// `GET /contacts`: the world's contacts (a written shadow shown as written), then the contacts
/// written through the API; merged-away and deleted ones are left out.
pub(crate) async fn contacts(
    State(s): State<Arc<AppState>>,
    Query(q): Query<ListQuery>,
) -> ApiResult {
    // Default 10, max 150 (2.16 text says 50; corrected upstream, §2).
    let pp = per_page(q.per_page.as_deref(), 10, 150)?;
    let (start, page_no) = cursor_start(&q)?;
    let r = renderer(&s, false);
    let world = r.view.contact_count();
    let store = s.written.lock();
    let own: Vec<&WContact> = store
        .contacts
        .iter()
        .filter(|c| r.view.contact_by_id(&c.id).is_none())
        .collect();
    let positions = world + own.len() as u64;
    let hidden = store
        .contacts
        .iter()
        .filter(|c| c.merged_into.is_some())
        .count() as u64
        + store.deleted_seeded("contact");
    let total = positions.saturating_sub(hidden);
    let mut data = Vec::new();
    let mut at = start;
    let mut last_id = String::new();
    while at < positions && (data.len() as u64) < pp {
        if at < world {
            if let Some(c) = r.view.contact(at)
                && !store.is_deleted("contact", &c.id)
            {
                match store.contact(&c.id) {
                    Some(w) if w.merged_into.is_some() => {}
                    Some(w) => data.push(written_render::contact(&store, w)),
                    None => data.push(r.contact(&c)),
                }
                last_id = c.id;
            }
        } else if let Some(c) = own.get((at - world) as usize)
            && c.merged_into.is_none()
        {
            data.push(written_render::contact(&store, c));
            last_id = c.id.clone();
        }
        at += 1;
    }
    let next = (at < positions).then(|| encode_cursor(at, &last_id, page_no + 1));
    ok(
        json!({"type": "list", "data": data, "total_count": total, "pages": cursor_pages(page_no, pp, total, next)}),
    )
}

#[derive(Debug, Deserialize)]
pub(crate) struct ContactQuery {
    include_merge_history: Option<String>,
}

pub(crate) async fn contact(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(q): Query<ContactQuery>,
    headers: HeaderMap,
) -> ApiResult {
    // A written contact (or a world contact's written shadow) is retrievable at once.
    if let Some(found) = written_contact(&s, &headers, |c| c.id == id)? {
        return ok(found);
    }
    if s.written.lock().is_deleted("contact", &id) {
        return Err(user_not_found());
    }
    let r = renderer(&s, false);
    match r.view.contact_by_id(&id) {
        Some(c) => ok(with_merge_history(&s, r.contact(&c), &c, &q)),
        None => Err(merged_or_missing(&s, &id)),
    }
}

/// The contacts merged into `canonical_id`, as `merge_history_item`s (newest first).
fn merge_history(s: &AppState, canonical_id: &str) -> Vec<Value> {
    let mut merged: Vec<_> = derived::merged_contacts(s.world.view(), s.world.config().contacts)
        .into_iter()
        .filter(|m| m.canonical_id == canonical_id)
        .collect();
    merged.sort_by(|a, b| b.merged_at.cmp(&a.merged_at).then_with(|| a.id.cmp(&b.id)));
    merged
        .iter()
        .map(|m| {
            json!({
                "type": "merge_history",
                "source_contact_id": m.id,
                "source_contact_role": "lead",
                "merged_at": m.merged_at,
            })
        })
        .collect()
}

/// `include_merge_history=true` adds `merge_history` (users only), where a client learns the ids
/// that now answer 410 (spec L8290ff).
fn with_merge_history(s: &AppState, mut v: Value, c: &Contact, q: &ContactQuery) -> Value {
    if q.include_merge_history.as_deref() == Some("true") && c.role == Role::User {
        v["merge_history"] = json!(merge_history(s, &c.id));
    }
    v
}

/// `GET /contacts/{id}/merge_history`: the contacts merged into a user; 404 for leads (2.16).
pub(crate) async fn contact_merge_history(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult {
    let c = s
        .world
        .view()
        .contact_by_id(&id)
        .filter(|c| c.role == Role::User)
        .ok_or_else(|| ApiError::not_found("Contact not found"))?;
    ok(json!({"type": "list", "data": merge_history(&s, &c.id), "has_more": false}))
}

/// A merged-away contact answers 410 Gone, `contact_merged`, with a `Link` to the contact it was
/// merged into (2.16, spec L8322ff); anything else unknown is 404 `User Not Found`.
fn merged_or_missing(s: &AppState, id: &str) -> ApiError {
    let merged = derived::merged_contacts(s.world.view(), s.world.config().contacts);
    match merged.into_iter().find(|m| m.id == id) {
        Some(m) => ApiError::new(
            StatusCode::GONE,
            "contact_merged",
            "This contact has been merged. See the 'Link' header for the canonical contact.",
        )
        .with_header(
            "link",
            format!("</contacts/{}>; rel=\"canonical\"", m.canonical_id),
        ),
        None => user_not_found(),
    }
}

/// `GET /contacts/find_by_external_id/{external_id}`: users only (leads have no external id;
/// spec L9100ff).
pub(crate) async fn contact_by_external_id(
    State(s): State<Arc<AppState>>,
    Path(external_id): Path<String>,
    Query(q): Query<ContactQuery>,
) -> ApiResult {
    if let Some(found) = written_contact(&s, &HeaderMap::new(), |c| {
        c.merged_into.is_none() && c.external_id.as_deref() == Some(external_id.as_str())
    })? {
        return ok(found);
    }
    let r = renderer(&s, false);
    let c = external_id
        .strip_prefix("usr_")
        .and_then(|n| n.parse::<u64>().ok())
        .and_then(|j| r.view.contact(j))
        .filter(|c| c.external_id.as_deref() == Some(external_id.as_str()))
        .filter(|c| !s.written.lock().is_deleted("contact", &c.id))
        .ok_or_else(user_not_found)?;
    ok(with_merge_history(&s, r.contact(&c), &c, &q))
}

/// The first written contact matching `pick`, rendered; a merged-away one answers 410 with the
/// canonical `Link` in 2.16 and 404 before (research §0).
fn written_contact(
    s: &AppState,
    headers: &HeaderMap,
    pick: impl Fn(&WContact) -> bool,
) -> Result<Option<Value>, ApiError> {
    let store = s.written.lock();
    let Some(c) = store.contacts.iter().find(|c| pick(c)) else {
        return Ok(None);
    };
    if let Some(into) = &c.merged_into {
        if ApiVersion::of(headers)?.is_2_16() {
            return Err(ApiError::new(
                StatusCode::GONE,
                "contact_merged",
                "This contact has been merged. See the 'Link' header for the canonical contact.",
            )
            .with_header("link", format!("</contacts/{into}>; rel=\"canonical\"")));
        }
        return Err(user_not_found());
    }
    Ok(Some(written_render::contact(&store, c)))
}

/// Field `f` of a written contact, for search.
fn written_value(c: &WContact, f: &str) -> FieldValue {
    let s = |x: &Option<String>| x.clone().map_or(FieldValue::Null, FieldValue::Str);
    match f {
        "id" => FieldValue::Str(c.id.clone()),
        "external_id" => s(&c.external_id),
        "email" => s(&c.email),
        "email_domain" => c
            .email
            .as_ref()
            .and_then(|e| e.rsplit_once('@'))
            .map_or(FieldValue::Null, |(_, d)| FieldValue::Str(d.to_string())),
        "name" => s(&c.name),
        "phone" => s(&c.phone),
        "role" => FieldValue::Str(c.role.clone()),
        "created_at" => FieldValue::Int(c.created_at),
        "updated_at" => FieldValue::Int(c.updated_at),
        "signed_up_at" => c.signed_up_at.map_or(FieldValue::Null, FieldValue::Int),
        "last_seen_at" => c.last_seen_at.map_or(FieldValue::Null, FieldValue::Int),
        _ => FieldValue::Null,
    }
}

fn contact_field(f: &str) -> Option<FieldType> {
    match f {
        "id" | "external_id" | "email" | "name" | "phone" | "role" | "email_domain" => {
            Some(FieldType::Str)
        }
        "created_at" | "updated_at" | "signed_up_at" | "last_seen_at" => Some(FieldType::Date),
        _ => None,
    }
}

fn contact_value(c: &Contact, f: &str) -> FieldValue {
    let s = |x: &Option<String>| x.clone().map_or(FieldValue::Null, FieldValue::Str);
    match f {
        "id" => FieldValue::Str(c.id.clone()),
        "external_id" => s(&c.external_id),
        "email" => s(&c.email),
        "email_domain" => c
            .email
            .as_ref()
            .and_then(|e| e.rsplit_once('@'))
            .map_or(FieldValue::Null, |(_, d)| FieldValue::Str(d.to_string())),
        "name" => s(&c.name),
        "phone" => s(&c.phone),
        "role" => FieldValue::Str(c.role.as_str().to_string()),
        "created_at" => FieldValue::Int(c.created_at),
        "updated_at" => FieldValue::Int(c.updated_at),
        "signed_up_at" => c.signed_up_at.map_or(FieldValue::Null, FieldValue::Int),
        "last_seen_at" => c.last_seen_at.map_or(FieldValue::Null, FieldValue::Int),
        _ => FieldValue::Null,
    }
}

/// `POST /contacts/search`: the world's contacts, then the written ones. A written contact is
/// found only [`SEARCH_LAG_SECS`] of sandbox clock after it was written (spec L8732); a world
/// contact with a written shadow is searched as the shadow, and merged-away ones not at all.
pub(crate) async fn search_contacts(
    State(s): State<Arc<AppState>>,
    Json(body): Json<Value>,
) -> ApiResult {
    let v = s.world.view();
    let now = v.now();
    let clock_now = s.clock.now_secs();
    let (written, version, deleted): (Vec<WContact>, u64, Vec<String>) = {
        let store = s.written.lock();
        let deleted = store
            .deletions
            .iter()
            .filter(|d| d.object == "contact")
            .map(|d| d.id.clone())
            .collect();
        (store.contacts.clone(), store.version(), deleted)
    };
    let shadow = |id: &str| written.iter().find(|c| c.id == id);
    // Written contacts that are not shadows of world ones come after the world's.
    let own: Vec<&WContact> = written
        .iter()
        .filter(|c| v.contact_by_id(&c.id).is_none())
        .collect();
    let world_count = v.contact_count();
    let visible = |j: u64| {
        if j >= world_count {
            return own.get((j - world_count) as usize).is_some_and(|c| {
                c.merged_into.is_none() && c.created_at <= clock_now - SEARCH_LAG_SECS
            });
        }
        v.contact(j).is_some_and(|c| {
            c.created_at <= now - SEARCH_LAG_SECS
                && shadow(&c.id).is_none_or(|w| w.merged_into.is_none())
                && !deleted.contains(&c.id)
        })
    };
    let get = |j: u64, fields: &[String]| {
        let one = |c: &WContact| {
            fields
                .iter()
                .map(|f| (f.clone(), written_value(c, f)))
                .collect()
        };
        if j >= world_count {
            return own
                .get((j - world_count) as usize)
                .map(|c| one(c))
                .unwrap_or_default();
        }
        v.contact(j)
            .map(|c| match shadow(&c.id) {
                Some(w) => one(w),
                None => fields
                    .iter()
                    .map(|f| (f.clone(), contact_value(&c, f)))
                    .collect(),
            })
            .unwrap_or_default()
    };
    let searchable_written = own
        .iter()
        .filter(|c| c.created_at <= clock_now - SEARCH_LAG_SECS)
        .count();
    // The cache key must change when a write or the clock changes what can be found.
    let name = format!("contacts@{version}/{searchable_written}");
    let spec = Searchable {
        name: &name,
        count: world_count + own.len() as u64,
        default_per_page: 50,
        fields: &contact_field,
        visible: &visible,
        get: &get,
    };
    let page = run(&s, &body, &spec)?;
    let r = renderer(&s, false);
    let store = s.written.lock();
    let data: Vec<Value> = page
        .indexes
        .iter()
        .filter_map(|j| {
            if *j >= world_count {
                return own
                    .get((*j - world_count) as usize)
                    .map(|c| written_render::contact(&store, c));
            }
            r.view.contact(*j).map(|c| match shadow(&c.id) {
                Some(w) => written_render::contact(&store, w),
                None => r.contact(&c),
            })
        })
        .collect();
    ok(json!({"type": "list", "data": data, "total_count": page.total, "pages": page.pages}))
}

pub(crate) async fn contact_notes(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(q): Query<ListQuery>,
) -> ApiResult {
    let r = renderer(&s, false);
    let c = r.view.contact_by_id(&id).ok_or_else(user_not_found)?;
    let pp = per_page(q.per_page.as_deref(), 50, 150)?;
    let p = page(q.page.as_deref())?;
    let data: Vec<Value> = page_range(p, pp, c.notes)
        .filter_map(|k| r.view.note(c.index, k))
        .map(|n| r.note(&n))
        .collect();
    ok(
        json!({"type": "list", "data": data, "total_count": c.notes, "pages": page_pages(p, pp, c.notes)}),
    )
}

pub(crate) async fn note(State(s): State<Arc<AppState>>, Path(id): Path<String>) -> ApiResult {
    let r = renderer(&s, false);
    let n = r
        .view
        .note_by_id(&id)
        .ok_or_else(|| ApiError::not_found("Resource Not Found"))?;
    ok(r.note(&n))
}

pub(crate) async fn contact_tags(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
) -> ApiResult {
    let r = renderer(&s, false);
    let c = r.view.contact_by_id(&id).ok_or_else(user_not_found)?;
    let data: Vec<Value> = c
        .tags
        .iter()
        .filter_map(|t| r.view.tag(*t))
        .map(|t| r.tag(&t))
        .collect();
    ok(json!({"type": "list", "data": data}))
}

/// `GET /contacts/{id}/companies`: page-based, 50 a page by default, `pages.next` a URL while
/// there is more (schema `contact_attached_companies`, `pages_link`).
pub(crate) async fn contact_companies(
    State(s): State<Arc<AppState>>,
    Path(id): Path<String>,
    Query(q): Query<ListQuery>,
) -> ApiResult {
    let r = renderer(&s, false);
    let c = r.view.contact_by_id(&id).ok_or_else(user_not_found)?;
    let all = contact_companies_of(&c);
    let pp = per_page(q.per_page.as_deref(), 50, 150)?;
    let p = page(q.page.as_deref())?;
    let n = all.len() as u64;
    let data: Vec<Value> = page_range(p, pp, n)
        .filter_map(|i| r.view.company(all[i as usize]))
        .map(|co| r.company(&co))
        .collect();
    let mut pages = page_pages(p, pp, n);
    if p * pp < n {
        pages["next"] = json!(format!(
            "/contacts/{}/companies?page={}&per_page={pp}",
            c.id,
            p + 1
        ));
    }
    ok(json!({"type": "list", "data": data, "total_count": n, "pages": pages}))
}
