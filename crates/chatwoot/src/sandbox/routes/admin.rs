//! Account labels, canned responses and `/upload`
//! (`../shared/research/chatwoot.md §2.5, §2.6, §3`).

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use jiff::Timestamp;
use serde_json::{Value, json};

use super::super::App;
use super::super::error::{ApiError, ApiResult, Errors};
use super::super::json;
use super::super::model::{CannedResponse, Label};
use super::super::params::{self, Params};
use super::super::rules;
use super::super::store::Store;

fn label_of(s: &Store, account: u64, id: u64) -> ApiResult<Label> {
    s.labels
        .get(&id)
        .filter(|l| l.account_id == account)
        .cloned()
        .ok_or(ApiError::NotFound)
}

/// Label model: title lower-cased, unique per account, `UNICODE_CHARACTER_NUMBER_HYPHEN_UNDERSCORE`.
fn save_label(s: &mut Store, mut l: Label, p: &Params) -> ApiResult<Label> {
    if p.has("title") {
        l.title = rules::normalize_label_title(&p.str("title").unwrap_or_default());
    }
    if p.has("description") {
        l.description = p.str("description");
    }
    if let Some(c) = p.str("color") {
        l.color = c;
    }
    if p.has("show_on_sidebar") {
        l.show_on_sidebar = p.bool("show_on_sidebar");
    }
    let mut e = Errors::default();
    if l.title.is_empty() {
        e.add("title", "Title can't be blank");
    } else {
        if s.labels
            .values()
            .any(|o| o.account_id == l.account_id && o.id != l.id && o.title == l.title)
        {
            e.add("title", "Title has already been taken");
        }
        if !rules::label_title_is_valid(&l.title) {
            e.add("title", "Title is invalid");
        }
    }
    e.into_result()?;
    if l.id == 0 {
        l.id = s.next_id("labels");
    }
    s.labels.insert(l.id, l.clone());
    Ok(l)
}

pub async fn labels_index(
    State(app): State<Arc<App>>,
    Path(account): Path<u64>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let s = app.read();
    s.authorize(&headers, account)?.require_user()?;
    let list: Vec<Value> = s
        .labels
        .values()
        .filter(|l| l.account_id == account)
        .map(json::label)
        .collect();
    Ok(Json(json!({"payload": list})))
}

pub async fn labels_create(
    State(app): State<Arc<App>>,
    Path(account): Path<u64>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let mut s = app.write();
    s.authorize(&headers, account)?.require_admin()?;
    let l = Label {
        id: 0,
        account_id: account,
        title: String::new(),
        description: None,
        color: "#1f93ff".into(),
        show_on_sidebar: None,
    };
    let l = save_label(&mut s, l, &Params::from_body(&body, "label")?)?;
    Ok(Json(json::label(&l)))
}

pub async fn labels_show(
    State(app): State<Arc<App>>,
    Path((account, id)): Path<(u64, u64)>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let s = app.read();
    s.authorize(&headers, account)?.require_user()?;
    Ok(Json(json::label(&label_of(&s, account, id)?)))
}

pub async fn labels_update(
    State(app): State<Arc<App>>,
    Path((account, id)): Path<(u64, u64)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let mut s = app.write();
    s.authorize(&headers, account)?.require_admin()?;
    let l = label_of(&s, account, id)?;
    let l = save_label(&mut s, l, &Params::from_body(&body, "label")?)?;
    Ok(Json(json::label(&l)))
}

/// Destroying a label leaves the taggings alone (§2.14).
pub async fn labels_destroy(
    State(app): State<Arc<App>>,
    Path((account, id)): Path<(u64, u64)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let mut s = app.write();
    s.authorize(&headers, account)?.require_admin()?;
    label_of(&s, account, id)?;
    s.labels.remove(&id);
    Ok(StatusCode::OK.into_response())
}

fn save_canned(s: &mut Store, mut c: CannedResponse, p: &Params) -> ApiResult<CannedResponse> {
    if p.has("short_code") {
        c.short_code = p.str("short_code").unwrap_or_default();
    }
    if p.has("content") {
        c.content = p.str("content").unwrap_or_default();
    }
    let mut e = Errors::default();
    if c.short_code.is_empty() {
        e.add("short_code", "Short code can't be blank");
    } else if s
        .canned_responses
        .values()
        .any(|o| o.account_id == c.account_id && o.id != c.id && o.short_code == c.short_code)
    {
        e.add("short_code", "Short code has already been taken");
    }
    if c.content.is_empty() {
        e.add("content", "Content can't be blank");
    }
    e.into_result()?;
    c.updated_at = Timestamp::now();
    if c.id == 0 {
        c.id = s.next_id("canned_responses");
    }
    s.canned_responses.insert(c.id, c.clone());
    Ok(c)
}

pub async fn canned_index(
    State(app): State<Arc<App>>,
    Path(account): Path<u64>,
    Query(q): Query<params::Query>,
    headers: HeaderMap,
) -> ApiResult<Json<Value>> {
    let s = app.read();
    s.authorize(&headers, account)?.require_user()?;
    let term = q
        .get("search")
        .map(|t| t.to_lowercase())
        .unwrap_or_default();
    let list: Vec<Value> = s
        .canned_responses
        .values()
        .filter(|c| c.account_id == account)
        .filter(|c| {
            term.is_empty()
                || c.short_code.to_lowercase().contains(&term)
                || c.content.to_lowercase().contains(&term)
        })
        .map(json::canned)
        .collect();
    Ok(Json(json!(list)))
}

pub async fn canned_create(
    State(app): State<Arc<App>>,
    Path(account): Path<u64>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let mut s = app.write();
    s.authorize(&headers, account)?.require_user()?;
    let now = Timestamp::now();
    let c = CannedResponse {
        id: 0,
        account_id: account,
        short_code: String::new(),
        content: String::new(),
        created_at: now,
        updated_at: now,
    };
    let c = save_canned(&mut s, c, &Params::from_body(&body, "canned_response")?)?;
    Ok(Json(json::canned(&c)))
}

pub async fn canned_update(
    State(app): State<Arc<App>>,
    Path((account, id)): Path<(u64, u64)>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    let mut s = app.write();
    s.authorize(&headers, account)?.require_user()?;
    let c = s
        .canned_responses
        .get(&id)
        .filter(|c| c.account_id == account)
        .cloned()
        .ok_or(ApiError::NotFound)?;
    let c = save_canned(&mut s, c, &Params::from_body(&body, "canned_response")?)?;
    Ok(Json(json::canned(&c)))
}

pub async fn canned_destroy(
    State(app): State<Arc<App>>,
    Path((account, id)): Path<(u64, u64)>,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let mut s = app.write();
    s.authorize(&headers, account)?.require_admin()?;
    s.canned_responses
        .get(&id)
        .filter(|c| c.account_id == account)
        .ok_or(ApiError::NotFound)?;
    s.canned_responses.remove(&id);
    Ok(StatusCode::OK.into_response())
}

/// `POST /upload` (multipart `attachment`): stores the blob and returns its URLs. Throttled at
/// 60/hour/account by the rack-attack layer.
pub async fn upload(
    State(app): State<Arc<App>>,
    Path(account): Path<u64>,
    headers: HeaderMap,
    mut mp: Multipart,
) -> ApiResult<Json<Value>> {
    app.read().authorize(&headers, account)?;
    let mut file = None;
    while let Some(field) = mp
        .next_field()
        .await
        .map_err(|e| ApiError::Unprocessable(e.body_text()))?
    {
        if let Some(name) = field.file_name().map(str::to_owned) {
            let bytes = field
                .bytes()
                .await
                .map_err(|e| ApiError::Unprocessable(e.body_text()))?;
            file = Some((name, bytes.len() as u64));
        }
    }
    let (name, size) =
        file.ok_or_else(|| ApiError::Unprocessable("No file or URL provided".into()))?;
    let mut s = app.write();
    let id = s.next_id("active_storage_blobs");
    let key = s.secure_token("blob", id).to_lowercase();
    s.uploads.insert(id, (account, name.clone(), size));
    Ok(Json(
        json!({"file_url": format!("/rails/active_storage/blobs/redirect/{key}/{name}"), "blob_key": key, "blob_id": id}),
    ))
}
