//! Error kinds shared by every crate, so one policy (in `deskmove-http` for calls, in the engine
//! for records) can decide what to retry and tell the operator what to do about the rest.

use std::fmt;
use std::time::Duration;

/// What went wrong, coarsely enough to decide a retry policy and to give the operator advice.
///
/// Vendor connectors map their own failures onto these kinds; nothing else decides retryability.
#[non_exhaustive]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[derive(strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub enum ErrorKind {
    /// The vendor asked us to slow down (HTTP 429 or an equivalent signal).
    RateLimited,
    /// A failure that usually passes: 5xx, connection reset, truncated body.
    Transient,
    /// The vendor did not answer in time.
    Timeout,
    /// The credentials were refused (401, revoked or expired token).
    Auth,
    /// The credentials are valid but lack a permission or plan feature (403).
    Forbidden,
    /// The record does not exist (any more) at the vendor.
    NotFound,
    /// The vendor refused because of a conflicting record (duplicate email, identifier, ...).
    Conflict,
    /// The vendor or our own checks refused the data itself (422, invalid email, ...).
    Validation,
    /// The configuration is wrong or incomplete.
    Config,
    /// Local disk or file-system failure.
    Io,
    /// The staging store failed or holds something unexpected.
    Storage,
    /// The vendor answered with something we cannot understand (bad JSON, unknown shape).
    Protocol,
    /// A bug or an invariant broken; never retried.
    Internal,
}

impl ErrorKind {
    /// Whether retrying the same call later may succeed without anyone changing anything.
    pub fn is_transient(self) -> bool {
        matches!(self, Self::RateLimited | Self::Transient | Self::Timeout)
    }

    /// What the operator should do when an error of this kind ends a call or a run.
    pub fn solution(self) -> &'static str {
        match self {
            Self::RateLimited => {
                "The vendor kept rate-limiting after every retry. Lower the call budget for this host in deskmove.toml or run at a quieter time; re-running resumes where it stopped."
            }
            Self::Transient => {
                "The vendor kept failing after every retry. Check the vendor's status page and re-run; deskmove resumes where it stopped."
            }
            Self::Timeout => {
                "The vendor did not answer in time. Check the network, or raise the request timeout in deskmove.toml, then re-run."
            }
            Self::Auth => {
                "The token was refused. Check that the environment variable named in deskmove.toml holds a valid, unrevoked token for this workspace."
            }
            Self::Forbidden => {
                "The token lacks a permission or the workspace lacks a plan feature. Grant the scope named in the message, or exclude that resource in deskmove.toml."
            }
            Self::NotFound => {
                "The record no longer exists at the vendor. It is recorded as a problem; nothing to do unless it should exist."
            }
            Self::Conflict => {
                "The target already holds a conflicting record. Review the problem list (`deskmove status`) and the mapping, then re-run."
            }
            Self::Validation => {
                "The data was refused as invalid. See the reason in `deskmove status`; fix the source record or the mapping, then re-run."
            }
            Self::Config => "Fix deskmove.toml as the message says, then re-run.",
            Self::Io => {
                "Check free disk space and permissions of the working directory, then re-run."
            }
            Self::Storage => {
                "The staging store could not be read or written. Check disk space; if the store file is damaged, restore it from a backup or start a new one."
            }
            Self::Protocol => {
                "The vendor answered in a shape deskmove does not understand. Re-run with RUST_LOG=debug and report the message (it never contains tokens)."
            }
            Self::Internal => "This is a deskmove bug. Please report it with the message.",
        }
    }

    /// A stable snake_case name, used in reports and problem codes.
    pub fn as_str(self) -> &'static str {
        self.into()
    }
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Implemented by every library error so callers can ask for the kind without matching variants.
pub trait Classify {
    /// The kind of this error.
    fn kind(&self) -> ErrorKind;

    /// How long the vendor asked us to wait, when it said.
    fn retry_after(&self) -> Option<Duration> {
        None
    }
}
