//! Attachments: the `content_url` on the API host (`/attachments/token/{token}/?name=…`) answers
//! 302 to a second, pre-signed host — Zendesk's `*.zdusercontent.com` — that needs no
//! credentials (research §3.3, §8 item 6). With "secure downloads" the first hop needs them.
//! Any request reaching the file host with an `Authorization` header is recorded: credentials
//! must only ever go to the account's own host (§7.11).

use std::sync::{Arc, Mutex, OnceLock};

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use deskmove_sandbox::SandboxClock;
use deskmove_synth::World;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::render::comments::attachment_meta;

/// How long a pre-signed download URL stays valid.
pub(crate) const SIGNED_TTL_SECS: i64 = 600;

/// Makes and checks attachment tokens and pre-signed file URLs.
pub struct Signer {
    key: [u8; 32],
    base: OnceLock<Url>,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("base", &self.base.get())
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// A signer for `seed`; the file host's address is set once it listens.
    pub fn new(seed: u64) -> Self {
        Self {
            key: blake3::derive_key(
                "deskmove zendesk sandbox url signing v1",
                &seed.to_le_bytes(),
            ),
            base: OnceLock::new(),
        }
    }

    /// Where files are served.
    pub fn set_base(&self, base: Url) {
        let _ = self.base.set(base);
    }

    /// The file host.
    pub fn base(&self) -> Option<&Url> {
        self.base.get()
    }

    fn mac(&self, text: &str) -> String {
        let mut h = blake3::Hasher::new_keyed(&self.key);
        h.update(text.as_bytes());
        h.finalize().to_hex()[..20].to_string()
    }

    /// The opaque token of attachment `id` in its `content_url`.
    pub(crate) fn token(&self, id: u64) -> String {
        format!("{}{:x}", self.mac(&format!("token:{id}")), id)
    }

    /// The attachment a token names, if it is genuine.
    pub(crate) fn token_id(&self, token: &str) -> Option<u64> {
        let (mac, hex) = (token.get(..20)?, token.get(20..)?);
        let id = u64::from_str_radix(hex, 16).ok()?;
        (self.mac(&format!("token:{id}")) == mac).then_some(id)
    }

    /// The pre-signed download URL of attachment `id`, issued at `now`.
    pub(crate) fn signed(&self, id: u64, name: &str, now: i64) -> String {
        let expires = now + SIGNED_TTL_SECS;
        let Some(mut u) = self.base.get().cloned() else {
            return String::new();
        };
        if let Ok(mut seg) = u.path_segments_mut() {
            seg.pop_if_empty().extend(["d", &id.to_string(), name]);
        }
        u.query_pairs_mut()
            .append_pair("expires", &expires.to_string())
            .append_pair("signature", &self.mac(&format!("file:{id}:{expires}")));
        u.to_string()
    }

    fn check(&self, id: u64, expires: i64, signature: &str, now: i64) -> Result<(), &'static str> {
        if self.mac(&format!("file:{id}:{expires}")) != signature {
            return Err("SignatureDoesNotMatch");
        }
        if now >= expires {
            return Err("Request has expired");
        }
        Ok(())
    }
}

/// One file-host request that carried an `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LeakedCredential {
    /// Request path (no query).
    pub path: String,
    /// Sandbox clock, UNIX seconds.
    pub at: i64,
    /// Auth scheme seen (`Basic`, `Bearer`…), never the credential itself.
    pub scheme: String,
}

pub(crate) struct FilesState {
    pub(crate) world: Arc<World>,
    pub(crate) signer: Arc<Signer>,
    pub(crate) clock: Arc<SandboxClock>,
    pub(crate) leaks: Arc<Mutex<Vec<LeakedCredential>>>,
}

#[derive(Deserialize)]
struct SignedQuery {
    expires: Option<i64>,
    signature: Option<String>,
}

pub(crate) fn router(state: Arc<FilesState>) -> Router {
    Router::new()
        .route("/d/{id}/{name}", get(download))
        .route("/recordings/{comment}", get(recording))
        .with_state(state)
}

fn record_leak(s: &FilesState, headers: &HeaderMap, path: String) {
    let Some(auth) = headers.get(header::AUTHORIZATION) else {
        return;
    };
    let value = auth.to_str().unwrap_or("");
    let scheme = value.split_once(' ').map_or(value, |(s, _)| s).to_owned();
    tracing::warn!(message = "File request carried an Authorization header (credential leak).", %path);
    if let Ok(mut l) = s.leaks.lock() {
        l.push(LeakedCredential {
            path,
            at: s.clock.now_secs(),
            scheme,
        });
    }
}

async fn download(
    State(s): State<Arc<FilesState>>,
    Path((id, _name)): Path<(u64, String)>,
    Query(q): Query<SignedQuery>,
    headers: HeaderMap,
) -> Response {
    record_leak(&s, &headers, format!("/d/{id}/…"));
    let (Some(expires), Some(sig)) = (q.expires, q.signature) else {
        return denied("Missing signature");
    };
    if let Err(why) = s.signer.check(id, expires, &sig, s.clock.now_secs()) {
        return denied(why);
    }
    let view = s.world.view();
    let Some((att, _)) = attachment_meta(view, id) else {
        return (StatusCode::NOT_FOUND, "NoSuchKey").into_response();
    };
    // The sandbox's `redacted.txt` placeholders are empty, as Zendesk's are.
    let bytes = if att.size == 0 {
        Vec::new()
    } else {
        view.attachment_bytes(&att)
    };
    let mut r = bytes.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(att.content_type),
    );
    r
}

/// A voice comment's recording: an external URL, no credentials (research §3.2).
async fn recording(
    State(s): State<Arc<FilesState>>,
    Path(comment): Path<String>,
    headers: HeaderMap,
) -> Response {
    record_leak(&s, &headers, format!("/recordings/{comment}"));
    let mut bytes = b"ID3\x03\x00\x00\x00".to_vec();
    bytes.extend(blake3::hash(comment.as_bytes()).as_bytes());
    let mut r = bytes.into_response();
    r.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("audio/mpeg"));
    r
}

/// The CDN-style refusal (XML, not Zendesk's JSON: it is another host).
fn denied(why: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>AccessDenied</Code><Message>{why}</Message></Error>"
    );
    let mut r = (StatusCode::FORBIDDEN, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    r
}
