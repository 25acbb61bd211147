//! Setting up a [`PoliteClient`]: its host, its policy and the credentials it adds to every call.
//!
//! Credentials live in the client rather than in each request so they can only ever be sent to
//! the client's own host, and so the client knows which strings to scrub from anything it prints.

use std::num::NonZeroU32;
use std::sync::Arc;

use governor::{Quota, RateLimiter};
use reqwest::header::{HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use url::Url;

use crate::client::{Inner, PoliteClient};
use crate::error::{Failure, HttpError};
use crate::gate::PauseGate;
use crate::metrics::Metrics;
use crate::policy::HostPolicy;
use crate::redact::{Scrubber, redact_url};
use crate::window::ServerWindow;

/// Requests per call, redirects included, before a redirect chain counts as a loop.
pub(crate) const MAX_REDIRECTS: usize = 10;

/// Builds a [`PoliteClient`]; see [`PoliteClient::builder`].
pub struct PoliteClientBuilder {
    base_url: String,
    policy: HostPolicy,
    credentials: Vec<(HeaderName, SecretString)>,
    headers: Vec<(HeaderName, HeaderValue)>,
    extra_secrets: Vec<SecretString>,
    user_agent: String,
    /// A ready HTTP stack to run on instead of building one (the file client shares one
    /// connection pool, with its own redirect rules, among its hosts).
    http: Option<reqwest::Client>,
}

impl std::fmt::Debug for PoliteClientBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PoliteClientBuilder")
            .field("policy", &self.policy)
            .field(
                "credential_headers",
                &self.credentials.iter().map(|(n, _)| n).collect::<Vec<_>>(),
            )
            .finish_non_exhaustive()
    }
}

impl PoliteClientBuilder {
    pub(crate) fn new(base_url: &str, policy: HostPolicy) -> Self {
        Self {
            base_url: base_url.to_owned(),
            policy,
            credentials: Vec::new(),
            headers: Vec::new(),
            extra_secrets: Vec::new(),
            user_agent: concat!("deskmove/", env!("CARGO_PKG_VERSION")).to_owned(),
            http: None,
        }
    }

    /// Runs on `http` instead of a stack of its own.
    pub(crate) fn shared_http(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// Sends `Authorization: Bearer <token>` with every call.
    pub fn bearer_token(self, token: &SecretString) -> Self {
        let value = SecretString::from(format!("Bearer {}", token.expose_secret()));
        self.redact_value(token)
            .push_credential(reqwest::header::AUTHORIZATION, value)
    }

    /// Sends a credential header with every call, e.g. `api_access_token`.
    pub fn credential_header(self, name: HeaderName, value: &SecretString) -> Self {
        self.redact_value(value)
            .push_credential(name, value.clone())
    }

    /// Sends a non-secret header with every call, e.g. an API version header.
    pub fn header(mut self, name: HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    /// Declares a secret the caller puts into requests itself (for example in a query
    /// parameter), so it is scrubbed from every error and log text.
    pub fn redact_value(mut self, secret: &SecretString) -> Self {
        self.extra_secrets.push(secret.clone());
        self
    }

    /// Replaces the default `User-Agent` (`deskmove/<version>`).
    pub fn user_agent(mut self, agent: impl Into<String>) -> Self {
        self.user_agent = agent.into();
        self
    }

    fn push_credential(mut self, name: HeaderName, value: SecretString) -> Self {
        self.credentials.push((name, value));
        self
    }

    /// Checks the policy and base URL and builds the client (errors have kind `config`).
    pub fn build(self) -> Result<PoliteClient, HttpError> {
        let setup = |msg: String| HttpError::new(Failure::Setup).detail(msg);
        self.policy.validate()?;
        let base = Url::parse(&self.base_url)
            .map_err(|e| setup(format!("the base URL is not a valid URL: {e}")))?;
        if !matches!(base.scheme(), "http" | "https") || base.host().is_none() {
            return Err(setup(format!(
                "the base URL {} must be an http or https URL with a host",
                redact_url(&base)
            )));
        }
        let origin = base.origin();

        let mut scrubber = Scrubber::default();
        for s in self
            .credentials
            .iter()
            .map(|(_, v)| v)
            .chain(&self.extra_secrets)
        {
            scrubber.add(s);
        }
        let mut credentials = Vec::with_capacity(self.credentials.len());
        for (name, secret) in &self.credentials {
            let mut value = HeaderValue::from_str(secret.expose_secret()).map_err(|_| {
                setup(format!(
                    "the value for header {name} holds characters not allowed in a header"
                ))
            })?;
            value.set_sensitive(true);
            credentials.push((name.clone(), value));
        }

        // Follow redirects only within the client's own origin; a redirect elsewhere stops and is
        // reported, so credentials never travel to another host.
        let own = origin.clone();
        let redirects = reqwest::redirect::Policy::custom(move |attempt| {
            if attempt.previous().len() >= MAX_REDIRECTS {
                attempt.error("too many redirects")
            } else if attempt.url().origin() == own {
                attempt.follow()
            } else {
                attempt.stop()
            }
        });
        let http = match self.http {
            Some(http) => http,
            None => reqwest::Client::builder()
                .redirect(redirects)
                .referer(false)
                .connect_timeout(self.policy.request_timeout)
                .user_agent(self.user_agent)
                .build()
                .map_err(|e| {
                    setup(format!(
                        "the HTTP stack could not start: {}",
                        e.without_url()
                    ))
                })?,
        };

        let quota = Quota::with_period(self.policy.replenish_interval())
            .ok_or_else(|| setup("calls_per_minute is too large".into()))?
            .allow_burst(NonZeroU32::new(self.policy.burst).unwrap_or(NonZeroU32::MIN));

        Ok(PoliteClient {
            inner: Arc::new(Inner {
                http,
                base,
                origin,
                limiter: RateLimiter::direct(quota),
                gate: PauseGate::default(),
                window: ServerWindow::default(),
                metrics: Metrics::default(),
                credentials,
                headers: self.headers,
                scrubber: Arc::new(scrubber),
                policy: self.policy,
            }),
        })
    }
}
