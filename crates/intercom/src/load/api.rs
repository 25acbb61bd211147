//! Intercom's REST API as the loader calls it: JSON in and out, `Intercom-Version: 2.16` and the
//! bearer token on every call (the polite client), errors read as `error.list`
//! (../shared/research/intercom-api.md §4).

use deskmove_core::{Classify, ErrorKind};
use deskmove_http::{HttpError, PoliteClient};
use serde_json::{Value, json};

/// One workspace, through the polite client.
#[derive(Debug, Clone)]
pub(crate) struct Api {
    http: PoliteClient,
}

impl Api {
    pub(crate) fn new(http: PoliteClient) -> Self {
        Self { http }
    }

    /// The polite client (for its metrics).
    pub(crate) fn http(&self) -> &PoliteClient {
        &self.http
    }

    pub(crate) async fn get(&self, path: &str) -> Result<Value, HttpError> {
        body(&self.http.send(self.http.get(path)).await?)
    }

    /// `GET`, `None` for a 404 (gone, or never there).
    pub(crate) async fn find(&self, path: &str) -> Result<Option<Value>, HttpError> {
        match self.get(path).await {
            Ok(v) => Ok(Some(v)),
            Err(e) if gone(&e) => Ok(None),
            Err(e) => Err(e),
        }
    }

    pub(crate) async fn post(&self, path: &str, json: &Value) -> Result<Value, HttpError> {
        body(&self.http.send(self.http.post(path).json(json)).await?)
    }

    pub(crate) async fn put(&self, path: &str, json: &Value) -> Result<Value, HttpError> {
        body(&self.http.send(self.http.put(path).json(json)).await?)
    }

    /// `DELETE`; a 404 counts as done (already gone).
    pub(crate) async fn delete(&self, path: &str) -> Result<(), HttpError> {
        match self.http.send(self.http.delete(path)).await {
            Ok(_) => Ok(()),
            Err(e) if gone(&e) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Every item of a search (`POST /<resource>/search`, cursor pages of 150 under `list`).
    pub(crate) async fn search_all(
        &self,
        resource: &str,
        list: &str,
        query: Value,
    ) -> Result<Vec<Value>, HttpError> {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut pagination = json!({"per_page": 150});
            if let Some(a) = &after {
                pagination["starting_after"] = json!(a);
            }
            let v = self
                .post(
                    &format!("{resource}/search"),
                    &json!({"query": query, "pagination": pagination}),
                )
                .await?;
            let page = v[list].as_array().cloned().unwrap_or_default();
            let n = page.len();
            out.extend(page);
            match v
                .pointer("/pages/next/starting_after")
                .and_then(Value::as_str)
            {
                Some(next) if n > 0 && Some(next) != after.as_deref() => {
                    after = Some(next.to_owned())
                }
                _ => return Ok(out),
            }
        }
    }
}

fn body(r: &deskmove_http::HttpResponse) -> Result<Value, HttpError> {
    if r.body().is_empty() {
        return Ok(Value::Null);
    }
    r.json()
}

/// A 404 (or a merged contact's 410): the object is not there.
pub(crate) fn gone(e: &HttpError) -> bool {
    e.kind() == ErrorKind::NotFound || e.status().is_some_and(|s| s.as_u16() == 410)
}

/// Whether an error is about this one record (a refusal Intercom will repeat) rather than the
/// call as a whole (network, auth, limits), which the engine retries or stops on.
pub(crate) fn is_record_error(e: &HttpError) -> bool {
    matches!(
        e.kind(),
        ErrorKind::Validation | ErrorKind::NotFound | ErrorKind::Conflict
    ) || e
        .status()
        .is_some_and(|s| matches!(s.as_u16(), 400 | 403 | 404 | 409 | 410 | 422))
}

/// What Intercom said, for a problem's reason (never a token: the polite client scrubs it).
pub(crate) fn said(e: &HttpError) -> String {
    match (e.status(), e.vendor_text()) {
        (Some(s), Some(t)) => format!(
            "Intercom answered {s}: {}",
            t.chars().take(300).collect::<String>()
        ),
        (Some(s), None) => format!("Intercom answered {s}"),
        _ => e.to_string(),
    }
}

/// The id a 409 names: "A contact matching those details already exists with id=…".
pub(crate) fn conflicting_id(e: &HttpError) -> Option<String> {
    let text = e.vendor_text()?;
    let at = text.find("id=")? + 3;
    let id: String = text[at..]
        .chars()
        .take_while(char::is_ascii_alphanumeric)
        .collect();
    (!id.is_empty()).then_some(id)
}

/// An object's `id`, string or number, as a string.
pub(crate) fn id_of(v: &Value) -> Option<String> {
    match v.get("id")? {
        Value::String(s) if !s.is_empty() => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// The marker an object carries in its custom attributes.
pub(crate) fn marker_of(v: &Value) -> Option<&str> {
    v.pointer(&format!("/custom_attributes/{}", super::MARKER_ATTRIBUTE))
        .and_then(Value::as_str)
}
