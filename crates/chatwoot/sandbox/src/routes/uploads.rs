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
