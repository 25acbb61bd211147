//! `POST /upload`: direct uploads to ActiveStorage (`../shared/research/chatwoot.md §3`).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Multipart, Path, State};
use axum::http::HeaderMap;
use serde_json::{Value, json};

use crate::error::{ApiError, ApiResult};
use crate::state::{AppState, Blob};

/// `POST /upload` (multipart `attachment`): stores the blob and returns its URLs. Throttled at
/// 60/hour/account by the rack-attack layer.
pub async fn upload(
    State(app): State<Arc<AppState>>,
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
    s.blobs.insert(
        id,
        Blob {
            id,
            account_id: account,
            file_name: name.clone(),
            byte_size: size,
        },
    );
    Ok(Json(
        json!({"file_url": format!("/rails/active_storage/blobs/redirect/{key}/{name}"), "blob_key": key, "blob_id": id}),
    ))
}

/// `GET /rails/active_storage/blobs/{id}/{name}`: a message attachment's bytes, the `data_url`
/// the message JSON names. ActiveStorage serves these without the API token (the real URL
/// carries a signed blob id instead; research/chatwoot.md §3).
pub async fn attachment_file(
    State(app): State<Arc<AppState>>,
    Path((id, _name)): Path<(u64, String)>,
) -> ApiResult<axum::response::Response> {
    use axum::response::IntoResponse;
    let s = app.read();
    let a = s
        .messages
        .values()
        .flat_map(|m| &m.attachments)
        .find(|a| a.id == id)
        .ok_or(ApiError::NotFound)?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, a.content_type.clone())],
        a.bytes.clone(),
    )
        .into_response())
}
