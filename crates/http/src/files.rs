//! Downloads from file hosts: attachment CDNs and pre-signed storage URLs.
//!
//! Such URLs carry their own authority (a signature in the query, a token in the path), so a
//! download never needs, and never gets, a credential: the [`FileClient`] holds none. It calls
//! only the hosts the connector names, redirects included, because a URL found in vendor data
//! could point anywhere. Each host gets its own [`PoliteClient`] (without credentials), so it has
//! its own budget and pause gate and the one retry policy.
//!
//! One exception, for vendors whose download links start on their own API host and want the
//! account's credentials there (a "secure downloads" setting that answers 302 to a pre-signed
//! host only when signed in): a connector may hand the client a signed-in [`PoliteClient`] for that one
//! host ([`FileClientBuilder::signed_in`]). Hops on its host go through it, credentials included;
//! every other hop, the redirect it answers included, goes without any.

use std::collections::HashMap;
use std::fmt;
use std::sync::{Arc, Mutex};

use reqwest::Method;
use tracing::debug;
use url::Url;

use crate::builder::MAX_REDIRECTS;
use crate::client::{Hop, PoliteClient};
use crate::error::{Failure, HttpError};
use crate::metrics::MetricsSnapshot;
use crate::policy::HostPolicy;
use crate::redact::redact_url;
use crate::streaming::StreamingResponse;

/// Builds a [`FileClient`]; see [`FileClient::builder`].
#[derive(Debug)]
pub struct FileClientBuilder {
    policy: HostPolicy,
    hosts: Vec<String>,
    user_agent: String,
    signed_in: Vec<PoliteClient>,
}

impl FileClientBuilder {
    /// Allows downloads from `host`: a name (`files.example.com`, on the default port of
    /// the URL's scheme), a name with a port (`127.0.0.1:4567`, `[::1]:8080`), or every subdomain
    /// of a name (`*.usercontent.example`, not the name itself). Name every host a download may be
    /// redirected to as well (some vendors answer 302 to a second, pre-signed host).
    pub fn allow_host(mut self, host: impl Into<String>) -> Self {
        self.hosts.push(host.into());
        self
    }

    /// Replaces the default `User-Agent` (`deskmove/<version>`).
    pub fn user_agent(mut self, agent: impl Into<String>) -> Self {
        self.user_agent = agent.into();
        self
    }

    /// Downloads from `client`'s own host go through `client`: with its credentials, budget and
    /// pause gate. Only its host ever sees them: the redirect it answers (to a pre-signed file
    /// host) is followed without credentials, like every other hop. Its host must be allowed
    /// too ([`Self::allow_host`]).
    pub fn signed_in(mut self, client: PoliteClient) -> Self {
        self.signed_in.push(client);
        self
    }

    /// Checks the policy and the host names and builds the client (errors have kind `config`).
    pub fn build(self) -> Result<FileClient, HttpError> {
        let setup = |msg: String| HttpError::new(Failure::Setup).detail(msg);
        self.policy.validate()?;
        let mut allowed = Vec::with_capacity(self.hosts.len());
        for text in &self.hosts {
            let pattern = HostPattern::parse(text)
                .map_err(|why| setup(format!("file host `{text}`: {why}")))?;
            if !allowed.contains(&pattern) {
                allowed.push(pattern);
            }
        }
        if allowed.is_empty() {
            return Err(setup(
                "a file client needs at least one allowed host (allow_host)".into(),
            ));
        }
        // Redirects are followed by the client itself, hop by hop, so each hop is checked against
        // the named hosts and paced by its own host's budget. No decompression: the blob store
        // keeps the bytes exactly as the file host stores them.
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .referer(false)
            .no_gzip()
            .connect_timeout(self.policy.request_timeout)
            .user_agent(self.user_agent)
            .build()
            .map_err(|e| {
                setup(format!(
                    "the HTTP stack could not start: {}",
                    e.without_url()
                ))
            })?;
        Ok(FileClient {
            inner: Arc::new(FileInner {
                policy: self.policy,
                allowed,
                http,
                hosts: Mutex::default(),
                signed_in: self.signed_in,
            }),
        })
    }
}

/// A credential-less download client for the file hosts a connector names.
///
/// Clone it freely: clones share each host's budget, pause gate, metrics and the connection pool.
/// A URL on a host not named is refused before anything is sent ([`Failure::ForeignHost`], kind
/// `config`), and so is a redirect to one ([`Failure::ForeignRedirect`]); both errors show the
/// URL with its signature redacted.
///
/// ```no_run
/// # async fn demo() -> Result<(), deskmove_http::HttpError> {
/// use deskmove_http::{FileClient, HostPolicy};
///
/// let files = FileClient::builder(HostPolicy::default())
///     .allow_host("files.example.com")
///     .allow_host("*.usercontent.example")
///     .build()?;
/// let file = files
///     .download("https://files.example.com/i/o/1/a/f.pdf?expires=1&signature=x")
///     .await?;
/// let body = file.into_io_stream();
/// # let _ = body;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct FileClient {
    inner: Arc<FileInner>,
}

struct FileInner {
    policy: HostPolicy,
    allowed: Vec<HostPattern>,
    http: reqwest::Client,
    /// One polite client per origin, made on first use.
    hosts: Mutex<HashMap<String, PoliteClient>>,
    /// Signed-in clients, each used for its own origin only.
    signed_in: Vec<PoliteClient>,
}

impl fmt::Debug for FileClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileClient")
            .field("allowed", &self.allowed_list())
            .field("policy", &self.inner.policy)
            .finish_non_exhaustive()
    }
}

impl FileClient {
    /// Starts building a file client; every host it may call gets its own budget under `policy`.
    pub fn builder(policy: HostPolicy) -> FileClientBuilder {
        FileClientBuilder {
            policy,
            hosts: Vec::new(),
            user_agent: concat!("deskmove/", env!("CARGO_PKG_VERSION")).to_owned(),
            signed_in: Vec::new(),
        }
    }

    /// The policy each host is called under.
    pub fn policy(&self) -> &HostPolicy {
        &self.inner.policy
    }

    /// Whether `url` is one this client would call (scheme, host and port named; no user name
    /// or password in it).
    pub fn allows(&self, url: &str) -> bool {
        Url::parse(url).is_ok_and(|u| self.check(&u).is_ok())
    }

    /// Starts downloading `url` (`GET`, no credentials unless `url` is on a signed-in client's
    /// host, see [`FileClientBuilder::signed_in`]) and returns once the file's response
    /// head arrives; read the body from [`StreamingResponse::into_stream`].
    ///
    /// Redirects are followed, up to 10, only to named hosts and never from `https` to plain
    /// `http`; every hop goes through its own host's budget, pause gate and retries, up to the
    /// head of the answer. A body that breaks later is not retried here (see
    /// [`PoliteClient::send_streaming`]): call `download` again, with a fresh URL if it expired.
    pub async fn download(&self, url: &str) -> Result<StreamingResponse, HttpError> {
        let mut url = Url::parse(url).map_err(|e| {
            // The text itself is not repeated: it may carry a signature.
            HttpError::new(Failure::InvalidRequest)
                .detail(format!("the download URL is not a valid URL: {e}"))
        })?;
        if let Err((failure, why)) = self.check(&url) {
            return Err(HttpError::new(failure)
                .call(&Method::GET, &redact_url(&url))
                .detail(why));
        }
        let mut hops = 0;
        loop {
            let client = self.client_for(&url)?;
            let to = match client.file_hop(url.clone()).await? {
                Hop::Body(file) => return Ok(file),
                Hop::Redirect(to) => to,
            };
            let from = redact_url(&url);
            let refuse = |failure: Failure, why: String| {
                HttpError::new(failure)
                    .call(&Method::GET, &from)
                    .attempts(1)
                    .detail(why)
            };
            hops += 1;
            if hops > MAX_REDIRECTS {
                return Err(refuse(
                    Failure::RedirectLoop,
                    format!("more than {MAX_REDIRECTS} redirects"),
                ));
            }
            if url.scheme() == "https" && to.scheme() != "https" {
                return Err(refuse(
                    Failure::ForeignRedirect,
                    format!("to {}: from https to plain http", redact_url(&to)),
                ));
            }
            if let Err((_, why)) = self.check(&to) {
                return Err(refuse(
                    Failure::ForeignRedirect,
                    format!("to {}: {why}", redact_url(&to)),
                ));
            }
            debug!(from = %from, to = %redact_url(&to), "following a file host's redirect");
            url = to;
        }
    }

    /// The call counters of all hosts together.
    pub fn metrics(&self) -> MetricsSnapshot {
        let hosts = self.inner.hosts.lock().unwrap_or_else(|p| p.into_inner());
        let mut total = MetricsSnapshot::default();
        for client in hosts.values().chain(&self.inner.signed_in) {
            total.merge(&client.metrics());
        }
        total
    }

    /// Whether this client may call `url`, and if not, why (the failure and a redacted reason).
    fn check(&self, url: &Url) -> Result<(), (Failure, String)> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err((
                Failure::InvalidRequest,
                "file downloads are http or https only".into(),
            ));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err((
                Failure::InvalidRequest,
                "the URL carries a user name or password; file downloads never send credentials"
                    .into(),
            ));
        }
        if self.inner.allowed.iter().any(|p| p.matches(url)) {
            Ok(())
        } else {
            Err((
                Failure::ForeignHost,
                format!(
                    "file downloads go only to the hosts the connector names: {}",
                    self.allowed_list()
                ),
            ))
        }
    }

    /// The polite client of `url`'s origin, made on first use.
    fn client_for(&self, url: &Url) -> Result<PoliteClient, HttpError> {
        if let Some(client) = self
            .inner
            .signed_in
            .iter()
            .find(|c| c.base_url().origin() == url.origin())
        {
            return Ok(client.clone());
        }
        let origin = url.origin().ascii_serialization();
        let mut hosts = self.inner.hosts.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(client) = hosts.get(&origin) {
            return Ok(client.clone());
        }
        let client = PoliteClient::builder(&format!("{origin}/"), self.inner.policy.clone())
            .shared_http(self.inner.http.clone())
            .build()?;
        hosts.insert(origin, client.clone());
        Ok(client)
    }

    fn allowed_list(&self) -> String {
        let names: Vec<String> = self.inner.allowed.iter().map(|p| p.to_string()).collect();
        names.join(", ")
    }
}

/// One host a file client may call.
#[derive(Debug, Clone, PartialEq, Eq)]
struct HostPattern {
    /// The host as `Url::host_str` writes it (lower case, punycode, IPv6 in brackets).
    host: String,
    /// `*.host`: any subdomain of `host`, not `host` itself.
    subdomains: bool,
    /// `None`: the default port of the URL's scheme.
    port: Option<u16>,
}

impl HostPattern {
    fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        if text.is_empty() || text.contains(['/', '@', '?', '#', ' ', '\\']) {
            return Err(
                "expected a host name like `files.example.com` or `127.0.0.1:8080`, \
                 without scheme, path or user"
                    .into(),
            );
        }
        let (subdomains, rest) = match text.strip_prefix("*.") {
            Some(rest) => (true, rest),
            None => (false, text),
        };
        let (host, port) = match rest.rfind(':') {
            // A colon inside an IPv6 address is not a port separator.
            Some(i)
                if !rest[i..].contains(']')
                    && (rest.starts_with('[') || !rest[..i].contains(':')) =>
            {
                let port = rest[i + 1..]
                    .parse::<u16>()
                    .map_err(|_| format!("`{}` is not a port number", &rest[i + 1..]))?;
                (&rest[..i], Some(port))
            }
            _ => (rest, None),
        };
        let host = url::Host::parse(host).map_err(|e| format!("not a host name: {e}"))?;
        if subdomains && !matches!(host, url::Host::Domain(_)) {
            return Err("`*.` goes only before a domain name".into());
        }
        Ok(Self {
            host: host.to_string(),
            subdomains,
            port,
        })
    }

    fn matches(&self, url: &Url) -> bool {
        let (Some(host), Some(port)) = (url.host_str(), url.port_or_known_default()) else {
            return false;
        };
        let host_ok = if self.subdomains {
            host.strip_suffix(self.host.as_str())
                .is_some_and(|head| head.len() > 1 && head.ends_with('.'))
        } else {
            host == self.host
        };
        let wanted = self.port.unwrap_or(match url.scheme() {
            "https" => 443,
            _ => 80,
        });
        host_ok && port == wanted
    }
}

impl fmt::Display for HostPattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.subdomains {
            f.write_str("*.")?;
        }
        f.write_str(&self.host)?;
        if let Some(port) = self.port {
            write!(f, ":{port}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allows(pattern: &str, url: &str) -> bool {
        HostPattern::parse(pattern)
            .unwrap()
            .matches(&Url::parse(url).unwrap())
    }

    #[test]
    fn host_patterns_match_host_and_port_exactly() {
        assert!(allows(
            "downloads.intercomcdn.com",
            "https://downloads.intercomcdn.com/i/o/1"
        ));
        assert!(allows(
            "Downloads.IntercomCDN.com",
            "https://downloads.intercomcdn.com/x"
        ));
        assert!(!allows(
            "downloads.intercomcdn.com",
            "https://downloads.intercomcdn.com:8443/x"
        ));
        assert!(!allows(
            "downloads.intercomcdn.com",
            "https://evil-downloads.intercomcdn.com/x"
        ));
        assert!(!allows(
            "downloads.intercomcdn.com",
            "https://downloads.intercomcdn.com.evil.io/x"
        ));
        assert!(allows("127.0.0.1:4567", "http://127.0.0.1:4567/f"));
        assert!(!allows("127.0.0.1:4567", "http://127.0.0.1:4568/f"));
        assert!(!allows("127.0.0.1:4567", "http://127.0.0.1/f"));
        assert!(allows("[::1]:8080", "http://[::1]:8080/f"));
        assert!(allows(
            "*.zdusercontent.com",
            "https://acme.zdusercontent.com/f"
        ));
        assert!(allows(
            "*.zdusercontent.com",
            "https://a.b.zdusercontent.com/f"
        ));
        assert!(!allows(
            "*.zdusercontent.com",
            "https://zdusercontent.com/f"
        ));
        assert!(!allows(
            "*.zdusercontent.com",
            "https://evilzdusercontent.com/f"
        ));
    }

    #[test]
    fn host_patterns_reject_what_is_not_a_host() {
        for bad in [
            "",
            "https://files.example.com",
            "files.example.com/path",
            "user@files.example.com",
            "files.example.com:http",
            "*.127.0.0.1",
        ] {
            assert!(HostPattern::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            HostPattern::parse("127.0.0.1:4567").unwrap().to_string(),
            "127.0.0.1:4567"
        );
        assert_eq!(HostPattern::parse("[::1]").unwrap().to_string(), "[::1]");
    }
}
