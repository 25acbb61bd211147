//! Where a request came from: Zendesk clients accept a next link only on the host they called
//! (zenpy checks `api.base_url in response.request.url`), and most append `.json` to every path
//! (research §1.1, §6.1, §8 items 1–2). Before routing, a trailing `.json` is dropped from the
//! path, and the original scheme, host and path are kept for building links.

use axum::extract::Request;
use axum::http::{Uri, header};

/// The caller's own base (`http://host:port`) and the path exactly as it was sent.
#[derive(Debug, Clone)]
pub(crate) struct Origin {
    pub(crate) base: String,
    pub(crate) path: String,
}

impl Origin {
    /// `base + path` with a new query (pairs percent-encoded).
    pub(crate) fn link(&self, pairs: &[(&str, String)]) -> String {
        self.link_to(&self.path, pairs)
    }

    /// `base + path` for another path, with a query.
    pub(crate) fn link_to(&self, path: &str, pairs: &[(&str, String)]) -> String {
        let mut q = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs {
            q.append_pair(k, v);
        }
        let q = q.finish();
        if q.is_empty() {
            format!("{}{path}", self.base)
        } else {
            format!("{}{path}?{q}", self.base)
        }
    }

    /// An API URL on the caller's host, with `.json` as Zendesk writes them.
    pub(crate) fn api(&self, path: &str) -> String {
        format!("{}/api/v2/{path}.json", self.base)
    }
}

/// Records the [`Origin`] and drops a trailing `.json`, before the router sees the request.
pub(crate) fn strip_json(mut request: Request) -> Request {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1")
        .to_owned();
    let path = request.uri().path().to_owned();
    if let Some(stripped) = path.strip_suffix(".json") {
        let new = match request.uri().query() {
            Some(q) => format!("{stripped}?{q}"),
            None => stripped.to_owned(),
        };
        if let Ok(uri) = new.parse::<Uri>() {
            *request.uri_mut() = uri;
        }
    }
    request.extensions_mut().insert(Origin {
        base: format!("http://{host}"),
        path,
    });
    request
}
