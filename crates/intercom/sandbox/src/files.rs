//! The attachment file host: a second server (as Intercom serves files from
//! `*.intercom-attachments-*.com`, not the API host) with signed URLs carrying
//! `expires`/`signature` that really expire (`../shared/research/intercom-api.md` §5, §9).
//! Any request that arrives with an `Authorization` header is recorded: sending the
//! API token to a file host is a credential leak. Faults of its own (`--file-faults`) make it
//! fail like a CDN: 5xx, resets, truncated and slow bodies.

use std::sync::{Arc, Mutex, OnceLock};

use axum::Router;
use axum::extract::{Path, Query, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use deskmove_sandbox::{FaultInjector, InjectedFault, SandboxClock, with_faults};
use deskmove_synth::World;
use serde::{Deserialize, Serialize};
use url::Url;

use crate::written::Uploads;

/// Signs and checks attachment URLs.
pub struct Signer {
    key: [u8; 32],
    base: OnceLock<Url>,
    ttl_secs: i64,
}

impl std::fmt::Debug for Signer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signer")
            .field("base", &self.base.get())
            .field("ttl_secs", &self.ttl_secs)
            .finish_non_exhaustive()
    }
}

impl Signer {
    /// A signer whose URLs are valid `ttl_secs` after issue; the file host's address is
    /// set once it is listening ([`Signer::set_base`]).
    pub fn new(seed: u64, ttl_secs: i64) -> Self {
        Self {
            key: blake3::derive_key(
                "deskmove intercom sandbox url signing v1",
                &seed.to_le_bytes(),
            ),
            base: OnceLock::new(),
            ttl_secs,
        }
    }

    /// Where files are served.
    pub fn set_base(&self, base: Url) {
        let _ = self.base.set(base);
    }

    fn signature(&self, id: u64, expires: i64) -> String {
        let mut h = blake3::Hasher::new_keyed(&self.key);
        h.update(format!("{id}:{expires}").as_bytes());
        h.finalize().to_hex()[..40].to_string()
    }

    /// A signed URL for attachment `id` named `name`, issued at `now`.
    pub fn url(&self, id: u64, name: &str, now: i64) -> String {
        let expires = now + self.ttl_secs;
        let Some(mut u) = self.base.get().cloned() else {
            return String::new();
        };
        if let Ok(mut seg) = u.path_segments_mut() {
            seg.pop_if_empty().extend(["i", "o", &id.to_string(), name]);
        }
        u.query_pairs_mut()
            .append_pair("expires", &expires.to_string())
            .append_pair("signature", &self.signature(id, expires));
        u.to_string()
    }

    fn check(&self, id: u64, expires: i64, signature: &str, now: i64) -> Result<(), &'static str> {
        if self.signature(id, expires) != signature {
            return Err("SignatureDoesNotMatch");
        }
        if now >= expires {
            return Err("Request has expired");
        }
        Ok(())
    }
}

/// One file request that carried an `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LeakedCredential {
    /// Request path (no query: the signature is not a secret worth keeping either).
    pub path: String,
    /// Sandbox clock, UNIX seconds.
    pub at: i64,
    /// Auth scheme seen (`Bearer`, `Basic`...), never the credential itself.
    pub scheme: String,
    /// Whether the leaked value was this sandbox's API token.
    pub was_api_token: bool,
}

pub(crate) struct FilesState {
    pub(crate) world: Arc<World>,
    pub(crate) signer: Arc<Signer>,
    pub(crate) clock: Arc<SandboxClock>,
    pub(crate) token: String,
    pub(crate) leaks: Arc<Mutex<Vec<LeakedCredential>>>,
    /// Files clients uploaded (`attachment_files`), under ids of their own range.
    pub(crate) uploads: Arc<Uploads>,
}

#[derive(Deserialize)]
struct SignedQuery {
    expires: Option<i64>,
    signature: Option<String>,
}

/// The file host: downloads behind injected faults, and in front of everything the leak
/// recorder, so a credential sent with a request that then fails is still counted.
pub(crate) fn router(state: Arc<FilesState>, faults: Arc<FaultInjector>) -> Router {
    let downloads = Router::new()
        .route("/i/o/{id}/{name}", get(download))
        .with_state(state.clone());
    with_faults(downloads, faults).layer(axum::middleware::from_fn_with_state(state, record_leaks))
}

/// Records any request that carries an `Authorization` header (never the credential itself).
async fn record_leaks(State(s): State<Arc<FilesState>>, request: Request, next: Next) -> Response {
    if let Some(auth) = request.headers().get(header::AUTHORIZATION) {
        let value = auth.to_str().unwrap_or("");
        let (scheme, cred) = value.split_once(' ').unwrap_or((value, ""));
        let id = request
            .uri()
            .path()
            .strip_prefix("/i/o/")
            .and_then(|rest| rest.split('/').next())
            .unwrap_or("");
        let leak = LeakedCredential {
            path: format!("/i/o/{id}/…"),
            at: s.clock.now_secs(),
            scheme: scheme.to_string(),
            was_api_token: cred.trim() == s.token,
        };
        tracing::warn!(message = "File request carried an Authorization header (credential leak).", path = %leak.path);
        if let Ok(mut l) = s.leaks.lock() {
            l.push(leak);
        }
    }
    next.run(request).await
}

/// An injected fault as a CDN answers it: XML errors like S3/CloudFront; a throttling storm is a
/// 503 `SlowDown` with `Retry-After` (the file host is not Intercom's API, so no rate headers).
pub(crate) fn fault_response(fault: InjectedFault) -> Response {
    let (status, code, message, retry_after) = match fault {
        InjectedFault::ServerError(status) => {
            let code = match status.as_u16() {
                502 => "BadGateway",
                503 => "ServiceUnavailable",
                _ => "InternalError",
            };
            (
                status,
                code,
                "We encountered an internal error. Please try again.",
                None,
            )
        }
        InjectedFault::TooManyRequests { retry_after } => (
            StatusCode::SERVICE_UNAVAILABLE,
            "SlowDown",
            "Please reduce your request rate.",
            Some(retry_after.as_secs_f64().ceil() as u64),
        ),
    };
    let mut r = xml_error(status, code, message);
    if let Some(secs) = retry_after {
        r.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(secs.max(1)));
    }
    r
}

async fn download(
    State(s): State<Arc<FilesState>>,
    Path((id, _name)): Path<(u64, String)>,
    Query(q): Query<SignedQuery>,
) -> Response {
    let now = s.clock.now_secs();
    let (Some(expires), Some(sig)) = (q.expires, q.signature) else {
        return denied("Missing signature");
    };
    if let Err(why) = s.signer.check(id, expires, &sig, now) {
        return denied(why);
    }
    // An uploaded file comes back byte for byte, with the content type it was sent with.
    if let Some(up) = s.uploads.get(id) {
        let mut r = up.bytes.as_ref().clone().into_response();
        if let Ok(ct) = HeaderValue::from_str(&up.content_type) {
            r.headers_mut().insert(header::CONTENT_TYPE, ct);
        }
        return r;
    }
    let view = s.world.view();
    let Some(att) = view.attachment(id) else {
        return (StatusCode::NOT_FOUND, "NoSuchKey").into_response();
    };
    let bytes = view.attachment_bytes(&att);
    let mut r = bytes.into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(att.content_type),
    );
    r
}

/// The CDN-style refusal (XML like S3/CloudFront, not Intercom's JSON: it is another host).
fn denied(why: &str) -> Response {
    xml_error(StatusCode::FORBIDDEN, "AccessDenied", why)
}

/// An S3/CloudFront-style XML error.
fn xml_error(status: StatusCode, code: &str, message: &str) -> Response {
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>{code}</Code><Message>{message}</Message></Error>"
    );
    let mut r = (status, body).into_response();
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml"),
    );
    r
}
