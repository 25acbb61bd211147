//! Authentication over the polite client: every call carries `Authorization: Bearer <token>`
//! (../shared/research/intercom-api.md §1).

use deskmove_http::{HostPolicy, HttpError, PoliteClient};
use secrecy::SecretString;
use serde::Deserialize;
use url::Url;

/// A polite client for one workspace, authenticated with its access token.
pub fn connect(
    base_url: &Url,
    policy: HostPolicy,
    token: &SecretString,
) -> Result<PoliteClient, HttpError> {
    PoliteClient::builder(base_url.as_str(), policy)
        .bearer_token(token)
        .build()
}

/// How many current teammates (`GET /admins`) the token can list: the first call of an export,
/// and a check that the address and the token fit together.
pub async fn count_agents(client: &PoliteClient) -> Result<u64, HttpError> {
    #[derive(Deserialize)]
    struct AdminList {
        admins: Vec<serde::de::IgnoredAny>,
    }
    let list: AdminList = client.send(client.get("admins")).await?.json()?;
    Ok(list.admins.len() as u64)
}

#[cfg(test)]
mod tests {
    use deskmove_intercom_sandbox::{RunningSandbox, Sandbox, SandboxArgs};

    use super::*;

    #[tokio::test]
    async fn lists_the_sandbox_teammates_with_its_token() {
        let sandbox = RunningSandbox::start(SandboxArgs {
            conversations: 5,
            contacts: 5,
            ..Default::default()
        })
        .await
        .unwrap();
        let token = SecretString::from(sandbox.token().to_owned());
        let client = connect(&sandbox.base_url(), crate::host_policy(), &token).unwrap();
        let listed = count_agents(&client).await.unwrap();
        assert_eq!(Some(listed), sandbox.inspect()["admins"].as_u64());

        let wrong = connect(
            &sandbox.base_url(),
            crate::host_policy(),
            &SecretString::from("wrong".to_owned()),
        )
        .unwrap();
        assert!(count_agents(&wrong).await.is_err());
        sandbox.shutdown().await;
    }
}

// ---------------------------------------------------------------------------------------------
// The export's client: one polite client for the API host and one credential-less client for
// the file hosts, plus Intercom's pagination styles (../shared/research/intercom-api.md §2).
// ---------------------------------------------------------------------------------------------

/// The API version every export call asks for: the one the sandbox and our wire types follow.
pub const API_VERSION: &str = "2.16";

/// Intercom's own file hosts (§5): signed part attachments and inline images.
pub const INTERCOM_FILE_HOSTS: &[&str] = &[
    "*.intercom-attachments-1.com",
    "*.intercom-attachments-2.com",
    "*.intercom-attachments-3.com",
    "*.intercom-attachments-4.com",
    "*.intercom-attachments-5.com",
    "*.intercom-attachments-6.com",
    "*.intercom-attachments-7.com",
    "*.intercom-attachments-8.com",
    "*.intercom-attachments-9.com",
    "downloads.intercomcdn.com",
    "uploads.intercomcdn.com",
    "uploads.intercomusercontent.com",
];

/// An authenticated client for the export: bearer token and `Intercom-Version` on every API call.
pub fn connect_export(
    base_url: &Url,
    policy: HostPolicy,
    token: &SecretString,
) -> Result<PoliteClient, HttpError> {
    use deskmove_http::reqwest::header::{ACCEPT, HeaderName, HeaderValue};
    PoliteClient::builder(base_url.as_str(), policy)
        .bearer_token(token)
        .header(
            HeaderName::from_static("intercom-version"),
            HeaderValue::from_static(API_VERSION),
        )
        .header(ACCEPT, HeaderValue::from_static("application/json"))
        .build()
}

/// The file client: no credentials at all, and only the hosts named (Intercom's own plus
/// `extra_hosts`, e.g. a sandbox's file host).
pub fn connect_files(
    policy: HostPolicy,
    extra_hosts: &[String],
) -> Result<deskmove_http::FileClient, HttpError> {
    let mut b = deskmove_http::FileClient::builder(policy);
    for h in INTERCOM_FILE_HOSTS {
        b = b.allow_host(*h);
    }
    for h in extra_hosts {
        b = b.allow_host(h.clone());
    }
    b.build()
}

/// One answer: its bytes as received and the list read from them.
#[derive(Debug)]
pub struct Listed {
    /// The body as received.
    pub body: bytes::Bytes,
    /// The list.
    pub page: crate::wire::ListPage,
}

/// Calls and pagination over the API host, and downloads over the file hosts.
#[derive(Debug, Clone)]
pub struct Api {
    http: PoliteClient,
    files: deskmove_http::FileClient,
}

impl Api {
    /// An API over these two clients.
    pub fn new(http: PoliteClient, files: deskmove_http::FileClient) -> Self {
        Self { http, files }
    }

    /// The polite client of the API host.
    pub fn http(&self) -> &PoliteClient {
        &self.http
    }

    /// The file client.
    pub fn files(&self) -> &deskmove_http::FileClient {
        &self.files
    }

    /// `GET path?query`, the body as received.
    pub async fn get(
        &self,
        path: &str,
        query: &[(&str, String)],
    ) -> Result<bytes::Bytes, HttpError> {
        let r = self.http.send(self.http.get(path).query(query)).await?;
        Ok(r.into_body())
    }

    /// `POST path` with a JSON body (searches), the body as received.
    pub async fn post(
        &self,
        path: &str,
        query: &[(&str, String)],
        body: &serde_json::Value,
    ) -> Result<bytes::Bytes, HttpError> {
        let r = self
            .http
            .send(self.http.post(path).query(query).json(body))
            .await?;
        Ok(r.into_body())
    }

    /// A list page at `path`.
    pub async fn list(&self, path: &str, query: &[(&str, String)]) -> Result<Listed, ApiError> {
        let body = self.get(path, query).await?;
        let page = decode(path, &body)?;
        Ok(Listed { body, page })
    }

    /// A cursor list page: `per_page` and `starting_after`, next from `pages.next` (§2).
    pub async fn cursor_page(
        &self,
        path: &str,
        per_page: u32,
        starting_after: Option<&str>,
        extra: &[(&str, String)],
    ) -> Result<Listed, ApiError> {
        let mut q: Vec<(&str, String)> = vec![("per_page", per_page.to_string())];
        if let Some(c) = starting_after {
            q.push(("starting_after", c.to_owned()));
        }
        q.extend(extra.iter().cloned());
        self.list(path, &q).await
    }

    /// A page-based list page: `page` from 1; past the end Intercom answers an empty `data` (§2).
    pub async fn numbered_page(
        &self,
        path: &str,
        page: u64,
        per_page: u32,
    ) -> Result<Listed, ApiError> {
        self.list(
            path,
            &[
                ("page", page.to_string()),
                ("per_page", per_page.to_string()),
            ],
        )
        .await
    }

    /// Every item of a page-based list, page after page, until an empty page or the last one.
    pub async fn all_pages(
        &self,
        path: &str,
        per_page: u32,
    ) -> Result<Vec<Box<serde_json::value::RawValue>>, ApiError> {
        let mut out = Vec::new();
        for page in 1.. {
            let l = self.numbered_page(path, page, per_page).await?;
            let last = l.page.data.is_empty()
                || l.page.total_pages().is_some_and(|t| page >= t)
                || l.page
                    .total_count
                    .is_some_and(|t| out.len() as u64 + l.page.data.len() as u64 >= t);
            out.extend(l.page.data);
            if last {
                break;
            }
        }
        Ok(out)
    }

    /// One search page: the query in the body, the cursor in `pagination.starting_after`
    /// (python-intercom's pager forgets it, §8.1; we always send it).
    pub async fn search_page(
        &self,
        path: &str,
        query: serde_json::Value,
        per_page: u32,
        starting_after: Option<&str>,
    ) -> Result<Listed, ApiError> {
        let mut pagination = serde_json::json!({ "per_page": per_page });
        if let Some(c) = starting_after {
            pagination["starting_after"] = serde_json::Value::String(c.to_owned());
        }
        let body = serde_json::json!({
            "query": query,
            "pagination": pagination,
            "sort": {"field": "updated_at", "order": "ascending"},
        });
        let bytes = self.post(path, &[], &body).await?;
        let page = decode(path, &bytes)?;
        Ok(Listed { body: bytes, page })
    }

    /// One companies scroll page; `None` starts a scroll (one per app at a time, §2).
    pub async fn scroll_page(&self, param: Option<&str>) -> Result<Listed, ApiError> {
        let q: Vec<(&str, String)> = param
            .map(|p| vec![("scroll_param", p.to_owned())])
            .unwrap_or_default();
        self.list("companies/scroll", &q).await
    }
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
