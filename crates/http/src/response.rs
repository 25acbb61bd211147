//! A complete answer: status, headers and the whole body, read inside the retry loop so a body cut
//! short is retried like any other broken connection.

use std::fmt;
use std::sync::Arc;

use bytes::Bytes;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;

use crate::error::{Failure, HttpError};
use crate::redact::Scrubber;

/// Longest vendor message kept in an error, in characters.
const VENDOR_EXCERPT_MAX: usize = 200;

/// A successful answer with its full body.
#[derive(Clone)]
pub struct HttpResponse {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
    method: Method,
    url: String,
    scrubber: Arc<Scrubber>,
}

impl fmt::Debug for HttpResponse {
    // Header values may hold cookies; show names and sizes only.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("url", &self.url)
            .field("headers", &self.headers.keys().collect::<Vec<_>>())
            .field("body_len", &self.body.len())
            .finish()
    }
}

impl HttpResponse {
    pub(crate) fn new(
        status: StatusCode,
        headers: HeaderMap,
        body: Bytes,
        method: Method,
        url: String,
        scrubber: Arc<Scrubber>,
    ) -> Self {
        Self {
            status,
            headers,
            body,
            method,
            url,
            scrubber,
        }
    }

    /// The HTTP status (always a success or a status the caller asked to accept).
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The response headers.
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The whole body.
    pub fn body(&self) -> &Bytes {
        &self.body
    }

    /// The body, consuming the response.
    pub fn into_body(self) -> Bytes {
        self.body
    }

    /// The called URL, with secrets redacted (for the caller's own log lines).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Parses the body as JSON into `T`. On failure the error (kind `protocol`) names the field
    /// that did not fit, e.g. `data[3].created_at`.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, HttpError> {
        let de = &mut serde_json::Deserializer::from_slice(&self.body);
        serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let detail = format!("at `{path}`: {}", e.inner());
            HttpError::new(Failure::Decode)
                .call(&self.method, &self.url)
                .detail(self.scrubber.scrub(&detail))
        })
    }
}

/// A short, single-line excerpt of a vendor's error body, for error messages.
///
/// Knows the common error shapes — `{"errors":[{"code","message"}]}`, `{"message"}`,
/// `{"error"}` — and otherwise takes the first line of a text body.
pub(crate) fn vendor_excerpt(body: &[u8], scrubber: &Scrubber) -> Option<String> {
    let text = match serde_json::from_slice::<serde_json::Value>(body) {
        Ok(json) => json_message(&json)?,
        Err(_) => String::from_utf8_lossy(body)
            .lines()
            .next()?
            .trim()
            .to_owned(),
    };
    if text.is_empty() {
        return None;
    }
    let short: String = text.chars().take(VENDOR_EXCERPT_MAX).collect();
    Some(scrubber.scrub(&short))
}

fn json_message(json: &serde_json::Value) -> Option<String> {
    let str_at = |v: &serde_json::Value, key: &str| v.get(key)?.as_str().map(str::to_owned);
    if let Some(first) = json.get("errors").and_then(|e| e.get(0)) {
        let code = str_at(first, "code");
        let message = str_at(first, "message");
        return match (code, message) {
            (Some(c), Some(m)) => Some(format!("{c}: {m}")),
            (c, m) => c.or(m).or_else(|| first.as_str().map(str::to_owned)),
        };
    }
    str_at(json, "message")
        .or_else(|| str_at(json, "error"))
        .or_else(|| str_at(json, "description"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn excerpt(body: &str) -> Option<String> {
        vendor_excerpt(body.as_bytes(), &Scrubber::default())
    }

    #[test]
    fn vendor_messages_by_shape() {
        assert_eq!(
            excerpt(r#"{"type":"error.list","errors":[{"code":"rate_limit_exceeded","message":"Exceeded rate limit of 167 in 10_seconds"}]}"#).as_deref(),
            Some("rate_limit_exceeded: Exceeded rate limit of 167 in 10_seconds")
        );
        assert_eq!(
            excerpt(r#"{"error":"Resource could not be found"}"#).as_deref(),
            Some("Resource could not be found")
        );
        assert_eq!(excerpt("Retry later\n").as_deref(), Some("Retry later"));
        assert_eq!(excerpt(""), None);
        assert_eq!(excerpt(&"x".repeat(1000)).map(|s| s.len()), Some(200));
    }

    #[test]
    fn json_error_names_the_field() {
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Page {
            data: Vec<Item>,
        }
        #[derive(serde::Deserialize, Debug)]
        #[allow(dead_code)]
        struct Item {
            id: u64,
        }
        let r = HttpResponse::new(
            StatusCode::OK,
            HeaderMap::new(),
            Bytes::from_static(br#"{"data":[{"id":1},{"id":"two"}]}"#),
            Method::GET,
            "http://h/items".into(),
            Arc::new(Scrubber::default()),
        );
        let err = r.json::<Page>().unwrap_err();
        assert_eq!(
            deskmove_core::Classify::kind(&err),
            deskmove_core::ErrorKind::Protocol
        );
        assert!(err.to_string().contains("data[1].id"), "{err}");
    }
}
