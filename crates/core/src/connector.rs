//! The seams between the engine and every connector: `Source`, `PageSink`, `Resolve`, `Target`
//! and the values that cross them. See `../shared/DESIGN.md` §2a.
//!
//! (Being completed by R2.0: only the ledger's target identity is here so far.)

use std::fmt;

use serde::{Deserialize, Serialize};

/// One place records are loaded into: vendor + host + account + load path.
///
/// The ledger is keyed by it, so two accounts, two installations or two load paths of the same
/// vendor (Chatwoot's API and PostgreSQL paths) never mistake each other's rows for "already
/// loaded".
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TargetInstance {
    /// The target vendor, e.g. `chatwoot`.
    pub vendor: String,
    /// The host records go to, lower-case, with a port when not the default
    /// (e.g. `chatwoot.example.com`, `127.0.0.1:5432`).
    pub host: String,
    /// The account (workspace, database) inside that host, e.g. `1`.
    pub account: String,
    /// The load path, e.g. `api` or `postgres`.
    pub path: String,
}

impl TargetInstance {
    /// An instance from its four parts.
    pub fn new(
        vendor: impl Into<String>,
        host: impl Into<String>,
        account: impl Into<String>,
        path: impl Into<String>,
    ) -> Self {
        Self {
            vendor: vendor.into(),
            host: host.into().to_ascii_lowercase(),
            account: account.into(),
            path: path.into(),
        }
    }
}

/// `vendor/host/account/path`, the form shown in reports and `status`.
impl fmt::Display for TargetInstance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}/{}/{}/{}",
            self.vendor, self.host, self.account, self.path
        )
    }
}
