//! Chatwoot's Application API as the loader calls it: JSON in and out, parameters at the top
//! level (Chatwoot reads `params[:content]`, never a wrapped `{"message": …}`;
//! ../shared/research/chatwoot.md §2.4), files only as multipart `attachments[]`.

use deskmove_core::{Classify, ErrorKind};
use deskmove_http::reqwest::multipart::{Form, Part};
use deskmove_http::{HttpError, PoliteClient};
use serde_json::Value;

/// One account of one installation, through the polite client.
#[derive(Debug, Clone)]
pub(crate) struct Api {
    http: PoliteClient,
    account: u64,
}

/// A file of a multipart message create.
#[derive(Debug, Clone)]
pub(crate) struct FilePart {
    pub name: String,
    pub content_type: String,
    pub bytes: bytes::Bytes,
}

impl Api {
    pub(crate) fn new(http: PoliteClient, account: u64) -> Self {
        Self { http, account }
    }

    /// The polite client (for its metrics).
    pub(crate) fn http(&self) -> &PoliteClient {
        &self.http
    }

    fn path(&self, rest: &str) -> String {
        format!("api/v1/accounts/{}/{rest}", self.account)
    }

    /// `GET` an account route.
    pub(crate) async fn get(&self, rest: &str) -> Result<Value, HttpError> {
        let r = self.http.send(self.http.get(&self.path(rest))).await?;
        body(&r)
    }

    /// The bytes at a file URL Chatwoot gave (an attachment's `data_url`: a path on this host, or
    /// an absolute URL the polite client only follows on this host).
    pub(crate) async fn file(&self, url: &str) -> Result<bytes::Bytes, HttpError> {
        Ok(self.http.send(self.http.get(url)).await?.into_body())
    }

    /// `POST` an account route with a JSON body.
    pub(crate) async fn post(&self, rest: &str, json: &Value) -> Result<Value, HttpError> {
        let r = self
            .http
            .send(self.http.post(&self.path(rest)).json(json))
            .await?;
        body(&r)
    }

    /// `PATCH` an account route with a JSON body.
    pub(crate) async fn patch(&self, rest: &str, json: &Value) -> Result<Value, HttpError> {
        let r = self
            .http
            .send(self.http.patch(&self.path(rest)).json(json))
            .await?;
        body(&r)
    }

    /// `PUT` an account route with a JSON body.
    pub(crate) async fn put(&self, rest: &str, json: &Value) -> Result<Value, HttpError> {
        let r = self
            .http
            .send(self.http.put(&self.path(rest)).json(json))
            .await?;
        body(&r)
    }

    /// `DELETE` an account route; a 404 counts as done (already gone).
    pub(crate) async fn delete(&self, rest: &str) -> Result<(), HttpError> {
        match self.http.send(self.http.delete(&self.path(rest))).await {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// `POST` a multipart form: text `fields` (nested keys as `outer[inner]`) and `files` under
    /// `attachments[]`, the only field name Chatwoot attaches (`messages/message_builder.rb`).
    /// The form is rebuilt for each try, since a multipart body cannot be cloned.
    pub(crate) async fn post_multipart(
        &self,
        rest: &str,
        fields: &[(String, String)],
        files: &[FilePart],
    ) -> Result<Value, HttpError> {
        let path = self.path(rest);
        let make = || {
            let mut form = Form::new();
            for (k, v) in fields {
                form = form.text(k.clone(), v.clone());
            }
            for f in files {
                let part = Part::stream(f.bytes.clone())
                    .file_name(f.name.clone())
                    .mime_str(&f.content_type)
                    .unwrap_or_else(|_| Part::stream(f.bytes.clone()).file_name(f.name.clone()));
                form = form.part("attachments[]", part);
            }
            self.http.post(&path).multipart(form)
        };
        let r = self.http.send_with(make).await?;
        body(&r)
    }
}

/// Every message of conversation `display`, oldest first (`?after=` pages of 100,
/// `message_finder.rb`); `None` when the conversation is gone.
pub(crate) async fn conversation_messages(
    api: &Api,
    display: u64,
) -> Result<Option<Vec<Value>>, HttpError> {
    let mut all = Vec::new();
    let mut after = 0;
    loop {
        let v = match api
            .get(&format!("conversations/{display}/messages?after={after}"))
            .await
        {
            Ok(v) => v,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(e),
        };
        let page = list(&v);
        let last = page.iter().filter_map(id_of).max();
        let n = page.len();
        all.extend(page);
        match last {
            Some(l) if n >= 100 => after = l,
            _ => return Ok(Some(all)),
        }
    }
}

fn body(r: &deskmove_http::HttpResponse) -> Result<Value, HttpError> {
    if r.body().is_empty() {
        return Ok(Value::Null);
    }
    r.json()
}

/// Whether an error is about this one record (a refusal Chatwoot will repeat) rather than the
/// call as a whole (network, auth, limits), which the engine retries or stops on.
pub(crate) fn is_record_error(e: &HttpError) -> bool {
    matches!(
        e.kind(),
        ErrorKind::Validation | ErrorKind::NotFound | ErrorKind::Conflict
    ) || e
        .status()
        .is_some_and(|s| s.as_u16() == 422 || s.as_u16() == 400)
}

/// What Chatwoot said, for a problem's reason (never a token: the polite client scrubs it).
pub(crate) fn said(e: &HttpError) -> String {
    match (e.status(), e.vendor_text()) {
        (Some(s), Some(t)) => format!(
            "Chatwoot answered {s}: {}",
            t.chars().take(300).collect::<String>()
        ),
        (Some(s), None) => format!("Chatwoot answered {s}"),
        _ => e.to_string(),
    }
}

/// The numeric `id` of a JSON object.
pub(crate) fn id_of(v: &Value) -> Option<u64> {
    v.get("id").and_then(Value::as_u64)
}

/// A JSON list, directly or under `payload`.
pub(crate) fn list(v: &Value) -> Vec<Value> {
    match v {
        Value::Array(a) => a.clone(),
        Value::Object(o) => match o.get("payload") {
            Some(Value::Array(a)) => a.clone(),
            _ => Vec::new(),
        },
        _ => Vec::new(),
    }
}
