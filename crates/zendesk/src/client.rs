//! Signing in over the polite client (../shared/research/zendesk-freshdesk-helpscout.md §1.2):
//! an API token goes as `Authorization: Basic base64(<email>/token:<token>)`, an OAuth access
//! token as `Authorization: Bearer <token>`. Either header is a credential of the client, so it
//! is sent only to the account's own host and scrubbed from every message.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use deskmove_http::reqwest::header::AUTHORIZATION;
use deskmove_http::{HostPolicy, HttpError, PoliteClient};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use url::Url;

/// A polite client for one account: Basic `email/token` when `email` is given, else Bearer.
pub fn connect(
    base_url: &Url,
    email: Option<&str>,
    policy: HostPolicy,
    token: &SecretString,
) -> Result<PoliteClient, HttpError> {
    let builder = PoliteClient::builder(base_url.as_str(), policy);
    match email {
        Some(email) => {
            let pair = format!("{email}/token:{}", token.expose_secret());
            let value = SecretString::from(format!("Basic {}", STANDARD.encode(pair)));
            // The header value is scrubbed as a credential; the bare token is scrubbed too.
            builder
                .credential_header(AUTHORIZATION, &value)
                .redact_value(token)
                .build()
        }
        None => builder.bearer_token(token).build(),
    }
}

/// How many current agents and admins (`GET /api/v2/users`, by role) the token can list: the
/// first call of an export, and a check that the address, email and token fit together.
///
/// One call per role: `role=agent` and `role=admin` are the single-value filter §3.5 lists
/// beside `role[]`, and each answer's offset `count` (§1.3) is the total, so two calls suffice.
/// Without a `count`, the `next_page` links are followed.
pub async fn count_agents(client: &PoliteClient) -> Result<u64, HttpError> {
    #[derive(Deserialize)]
    struct UserList {
        users: Vec<serde::de::IgnoredAny>,
        count: Option<u64>,
        next_page: Option<String>,
    }
    let mut total = 0;
    for role in ["agent", "admin"] {
        let mut request = client
            .get("api/v2/users.json")
            .query(&[("role", role), ("per_page", "100")]);
        loop {
            let page: UserList = client.send(request).await?.json()?;
            if let Some(count) = page.count {
                total += count;
                break;
            }
            total += page.users.len() as u64;
            match page.next_page {
                // Absolute, on the account's host; the client refuses any other.
                Some(next) => request = client.get(&next),
                None => break,
            }
        }
    }
    Ok(total)
}

// ---------------------------------------------------------------------------------------------
// The export's client: the account host for ordinary calls, a second client on the same host
// for the incremental exports (their own 10/min bucket, research §1.4), and a credential-less
// file client for attachments (§3.3: `content_url` answers 302 to a pre-signed host).
// ---------------------------------------------------------------------------------------------

/// Zendesk's pre-signed attachment host (§3.3): downloads are redirected there.
pub const ZENDESK_FILE_HOSTS: &[&str] = &["*.zdusercontent.com"];

/// The file client for the account's own host (the first hop of a `content_url`), Zendesk's
/// pre-signed host and `extra_hosts` (e.g. a sandbox's file host).
///
/// With `signed_in` (a client of the account's own host), the first hop carries the account's
/// credentials: with "secure downloads" on, Zendesk answers it only when signed in, with a 302
/// to a temporary URL (§3.3). That redirect, and every other host, gets no credentials.
pub fn connect_files(
    base_url: &Url,
    policy: HostPolicy,
    extra_hosts: &[String],
    signed_in: Option<PoliteClient>,
) -> Result<deskmove_http::FileClient, HttpError> {
    let mut b = deskmove_http::FileClient::builder(policy);
    if let Some(client) = signed_in {
        b = b.signed_in(client);
    }
    if let Some(host) = base_url.host_str() {
        b = b.allow_host(match base_url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_owned(),
        });
    }
    for h in ZENDESK_FILE_HOSTS {
        b = b.allow_host(*h);
    }
    for h in extra_hosts {
        b = b.allow_host(h.clone());
    }
    b.build()
}

/// A call failed, or its answer could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The call failed (after the polite client's retries).
    #[error(transparent)]
    Http(#[from] HttpError),
    /// The answer is not the JSON we expect.
    #[error("the answer of `{what}` could not be read: {reason}")]
    Decode {
        /// The call.
        what: String,
        /// What the parser said.
        reason: String,
    },
}

impl deskmove_core::Classify for ApiError {
    fn kind(&self) -> deskmove_core::ErrorKind {
        match self {
            Self::Http(e) => e.kind(),
            Self::Decode { .. } => deskmove_core::ErrorKind::Protocol,
        }
    }

    fn retry_after(&self) -> Option<std::time::Duration> {
        match self {
            Self::Http(e) => e.retry_after(),
            Self::Decode { .. } => None,
        }
    }
}

impl ApiError {
    /// The HTTP status of a failed call.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::Http(e) => e.status().map(|s| s.as_u16()),
            Self::Decode { .. } => None,
        }
    }
}

/// Reads a JSON answer into `T`.
pub fn decode<T: serde::de::DeserializeOwned>(what: &str, body: &[u8]) -> Result<T, ApiError> {
    serde_json::from_slice(body).map_err(|e| ApiError::Decode {
        what: what.to_owned(),
        reason: e.to_string(),
    })
}

/// One answer: its bytes as received and its top-level keys.
#[derive(Debug)]
pub struct Answer {
    /// The body as received.
    pub bytes: bytes::Bytes,
    /// The body's top-level keys, unparsed.
    pub body: crate::wire::Body,
}

/// Calls and pagination over the account host, and downloads over the file hosts.
#[derive(Debug, Clone)]
pub struct Api {
    http: PoliteClient,
    incremental: PoliteClient,
    files: deskmove_http::FileClient,
}

impl Api {
    /// An API over the account client, the incremental-export client and the file client.
    pub fn new(
        http: PoliteClient,
        incremental: PoliteClient,
        files: deskmove_http::FileClient,
    ) -> Self {
        Self {
            http,
            incremental,
            files,
        }
    }

    /// The account client (its metrics show calls and waits).
    pub fn http(&self) -> &PoliteClient {
        &self.http
    }

    /// The incremental-export client.
    pub fn incremental(&self) -> &PoliteClient {
        &self.incremental
    }

    /// The file client.
    pub fn files(&self) -> &deskmove_http::FileClient {
        &self.files
    }

    /// `GET path?query` on the account client.
    pub async fn get(&self, path: &str, query: &[(&str, String)]) -> Result<Answer, ApiError> {
        let r = self.http.send(self.http.get(path).query(query)).await?;
        answer(path, r.into_body())
    }

    /// `GET path?query` on the incremental-export client.
    pub async fn export(&self, path: &str, query: &[(&str, String)]) -> Result<Answer, ApiError> {
        let c = &self.incremental;
        let r = c.send(c.get(path).query(query)).await?;
        answer(path, r.into_body())
    }

    /// Every item of a CBP list (`page[size]`, then `page[after]` until `meta.has_more` is false
    /// or a page comes back empty: an exactly full last page still says `has_more`, §1.3).
    pub async fn cbp_all(
        &self,
        path: &str,
        key: &str,
        size: u32,
        extra: &[(&str, String)],
    ) -> Result<Vec<Box<serde_json::value::RawValue>>, ApiError> {
        let mut out = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut q: Vec<(&str, String)> = vec![("page[size]", size.to_string())];
            if let Some(a) = &after {
                q.push(("page[after]", a.clone()));
            }
            q.extend(extra.iter().cloned());
            let a = self.get(path, &q).await?;
            let items = a.body.items(key);
            let empty = items.is_empty();
            out.extend(items);
            match a.body.after_cursor() {
                Some(next) if a.body.has_more() && !empty && after.as_ref() != Some(&next) => {
                    after = Some(next);
                }
                _ => return Ok(out),
            }
        }
    }
}

fn answer(path: &str, bytes: bytes::Bytes) -> Result<Answer, ApiError> {
    let body = decode(path, &bytes)?;
    Ok(Answer { bytes, body })
}

#[cfg(test)]
mod tests {
    use deskmove_zendesk_sandbox::{RunningSandbox, Sandbox, SandboxArgs};

    use super::*;

    /// Listed agents: current agents and admins, plus the automation user (role agent).
    fn expected(sandbox: &RunningSandbox) -> u64 {
        let totals = sandbox.inspect();
        let n = |key: &str| totals[key].as_u64().unwrap();
        n("agents") - n("agents_deleted") + n("automation_users")
    }

    #[tokio::test]
    async fn lists_the_sandbox_agents_with_its_credentials() {
        let sandbox = RunningSandbox::start(SandboxArgs {
            tickets: 5,
            contacts: 5,
            ..Default::default()
        })
        .await
        .unwrap();
        let token = SecretString::from(sandbox.token().to_owned());
        let policy = crate::host_policy;
        let url = sandbox.base_url();

        let basic = connect(&url, Some(sandbox.email()), policy(), &token).unwrap();
        assert_eq!(count_agents(&basic).await.unwrap(), expected(&sandbox));
        let bearer = connect(&url, None, policy(), &token).unwrap();
        assert_eq!(count_agents(&bearer).await.unwrap(), expected(&sandbox));

        let wrong = SecretString::from("wrong".to_owned());
        for client in [
            connect(&url, Some(sandbox.email()), policy(), &wrong).unwrap(),
            connect(&url, None, policy(), &wrong).unwrap(),
            connect(&url, Some("someone@else.example"), policy(), &token).unwrap(),
        ] {
            let err = count_agents(&client).await.unwrap_err();
            assert_eq!(err.status().map(|s| s.as_u16()), Some(401), "{err}");
            assert!(!err.to_string().contains(sandbox.token()), "{err}");
        }
        sandbox.shutdown().await;
    }
}
