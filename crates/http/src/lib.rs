//! The polite HTTP client every deskmove connector sends its vendor calls through.
//!
//! One [`PoliteClient`] per vendor host, shared by all workers of that host, gives each call:
//! a per-host call budget (GCRA, with jitter), a pause gate that every worker respects when the
//! server asks to wait (`Retry-After`, `X-RateLimit-Remaining: 0`, header-less 429s in fixed
//! windows), a count of the calls the server's window has left (from the rate headers the
//! vendor's [`HostPolicy`] names, so a budget at the vendor's full limit draws no 429), a per-try
//! timeout, and jittered exponential retries of what passes with time. The retry policy lives in
//! one place ([`classify`] and [`should_retry`]); connectors never sleep or
//! retry on their own. Secrets never appear in logs or errors ([`redact_url`]), and credentials
//! are only ever sent to the client's own host.
//!
//! Attachments stream: [`PoliteClient::send_streaming`] returns at the response head and hands
//! the body over chunk by chunk ([`StreamingResponse`]), and [`FileClient`] downloads signed file
//! URLs without any credential, from the hosts a connector names only, with one budget and pause
//! gate per file host.
//!
//! ```no_run
//! # async fn demo() -> Result<(), deskmove_http::HttpError> {
//! use deskmove_http::{HostPolicy, PoliteClient, reqwest::header::HeaderName};
//! use secrecy::SecretString;
//!
//! let token = SecretString::from(std::env::var("HELPDESK_TOKEN").unwrap_or_default());
//! let helpdesk = PoliteClient::builder("https://helpdesk.example.com/", HostPolicy::default())
//!     .credential_header(HeaderName::from_static("api_access_token"), &token)
//!     .build()?;
//! let page = helpdesk
//!     .send(helpdesk.get("api/v1/accounts/1/contacts").query(&[("page", 2)]))
//!     .await?;
//! let contacts: serde_json::Value = page.json()?;
//! # let _ = contacts;
//! # Ok(())
//! # }
//! ```

#![deny(missing_docs)]

mod builder;
mod client;
mod error;
mod files;
mod gate;
mod hints;
mod metrics;
mod policy;
mod redact;
mod response;
mod streaming;
mod window;

pub use builder::PoliteClientBuilder;
pub use client::PoliteClient;
pub use error::{Failure, HttpError, classify, should_retry};
pub use files::{FileClient, FileClientBuilder};
pub use metrics::MetricsSnapshot;
pub use policy::{HostPolicy, RateHeaders};
pub use redact::{REDACTED, is_secret_header, is_secret_param, redact_url};
pub use response::HttpResponse;
pub use streaming::{BodyStream, StreamingResponse};

/// Re-exported so connectors build requests with the same reqwest the client runs on.
pub use reqwest;
