//! Account labels, canned responses and `/upload`
//! (`../shared/research/chatwoot.md §2.5, §2.6, §3`).

use std::sync::Arc;

use axum::Json;
use axum::extract::{Multipart, Path, State};
use axum::http::HeaderMap;
use jiff::Timestamp;
use serde_json::{Value, json};

use super::super::App;
use super::super::auth::{Caller, Role};
use super::super::error::{ApiError, ApiResult, Errors};
use super::super::json;
use super::super::model::{CannedResponse, Label};
use super::super::params::{self, Params};
use super::super::rules;
use super::super::store::Store;
use super::resource::Resource;

impl Resource for Label {
    const PARAMS: &'static str = "label";

    fn blank(account: u64) -> Self {
        Label {
            id: 0,
            account_id: account,
            title: String::new(),
            description: None,
            color: "#1f93ff".into(),
            show_on_sidebar: None,
        }
    }

    /// Label model: title lower-cased, unique per account, `UNICODE_CHARACTER_NUMBER_HYPHEN_UNDERSCORE`.
    fn save(s: &mut Store, mut l: Label, p: &Params) -> ApiResult<Label> {
        if p.has("title") {
            l.title = rules::normalize_label_title(&p.str("title").unwrap_or_default());
        }
        p.assign_opt("description", &mut l.description);
        p.assign_str("color", &mut l.color);
        if p.has("show_on_sidebar") {
            l.show_on_sidebar = p.bool("show_on_sidebar");
        }
        let mut e = Errors::default();
        if l.title.is_empty() {
            e.add("title", "Title can't be blank");
        } else {
            if s.taken(&l, |o| o.title == l.title) {
                e.add("title", "Title has already been taken");
            }
            if !rules::label_title_is_valid(&l.title) {
                e.add("title", "Title is invalid");
            }
        }
        e.into_result()?;
        Ok(s.save(l))
    }

    fn render(&self, _: &Caller) -> Value {
        json::label(self)
    }

    fn index_view(list: Vec<Value>) -> Value {
        json!({"payload": list})
    }
}

/// Any agent may create and edit canned responses; only administrators delete them.
impl Resource for CannedResponse {
    const PARAMS: &'static str = "canned_response";
    const WRITE: Role = Role::User;

    fn blank(account: u64) -> Self {
        let now = Timestamp::now();
        CannedResponse {
            id: 0,
            account_id: account,
            short_code: String::new(),
            content: String::new(),
            created_at: now,
            updated_at: now,
        }
    }

    fn save(s: &mut Store, mut c: CannedResponse, p: &Params) -> ApiResult<CannedResponse> {
        p.assign_text("short_code", &mut c.short_code);
        p.assign_text("content", &mut c.content);
        let mut e = Errors::default();
        if c.short_code.is_empty() {
            e.add("short_code", "Short code can't be blank");
        } else if s.taken(&c, |o| o.short_code == c.short_code) {
            e.add("short_code", "Short code has already been taken");
        }
        if c.content.is_empty() {
            e.add("content", "Content can't be blank");
        }
        e.into_result()?;
        c.updated_at = Timestamp::now();
        Ok(s.save(c))
    }

    fn render(&self, _: &Caller) -> Value {
        json::canned(self)
    }

    /// `?search=` matches short code or content, case-insensitively.
    fn listed(&self, q: &params::Query) -> bool {
        let term = q
            .get("search")
            .map(|t| t.to_lowercase())
            .unwrap_or_default();
        term.is_empty()
            || self.short_code.to_lowercase().contains(&term)
            || self.content.to_lowercase().contains(&term)
    }
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

#[cfg(test)]
mod tests {
    use super::super::super::params::Query;
    use super::{CannedResponse, Resource};

    #[test]
    fn canned_search_matches_short_code_or_content_ignoring_case() {
        let c = CannedResponse {
            short_code: "Refund".into(),
            content: "We have REFUNDED {{contact.name}}".into(),
            ..CannedResponse::blank(1)
        };
        let q = |t: &str| Query::from([("search".to_owned(), t.to_owned())]);
        assert!(c.listed(&Query::new()));
        assert!(c.listed(&q("")));
        assert!(c.listed(&q("REF")));
        assert!(c.listed(&q("contact.name")));
        assert!(!c.listed(&q("invoice")));
    }
}
