//! What every vendor sandbox is, seen from outside: started from its arguments, reachable at a
//! base URL with a token, observable (call stats, and its state or the world it serves), and
//! stopped. The CLI, the demo, the tests and the benchmarks drive every sandbox through this one
//! trait, so a new vendor's simulator plugs in without special cases.

use std::collections::BTreeMap;
use std::future::Future;

use url::Url;

use crate::stats::RouteStats;

/// Calls and answers per `METHOD /route/{template}`: the one stats type every sandbox reports.
pub type SandboxStats = BTreeMap<String, RouteStats>;

/// Why a sandbox could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SandboxError {
    /// A port could not be bound on 127.0.0.1.
    #[error("could not listen on 127.0.0.1:{port}: {source}")]
    Bind {
        /// The requested port (0 = any).
        port: u16,
        /// The cause.
        source: std::io::Error,
    },
    /// The arguments make no sense together; the message says which to change.
    #[error("invalid sandbox arguments: {0}")]
    Args(String),
}

/// A running vendor sandbox.
///
/// Contract: `start` binds only 127.0.0.1 and returns once the server answers; `base_url` ends
/// with `/` (so relative paths join under it); `ready_line` is printed once on stdout by
/// `deskmove sandbox <vendor>` and is the same shape for every vendor: `base_url=<url without a
/// trailing slash> token=<token>` followed by the vendor's [`extras`](Sandbox::ready_extras) as
/// `key=value`. `inspect` needs no credentials: it is what `GET /__sandbox/dump` (a target's
/// state) or `GET /__sandbox/expected` (a source's world totals) answers.
pub trait Sandbox: Send + Sync + Sized + 'static {
    /// The command-line arguments of `deskmove sandbox <vendor>`.
    type Args: Send;

    /// Starts the sandbox.
    fn start(args: Self::Args) -> impl Future<Output = Result<Self, SandboxError>> + Send;

    /// The API base URL, `http://127.0.0.1:<port>/`.
    fn base_url(&self) -> Url;

    /// The token the sandbox accepts from a client.
    fn token(&self) -> &str;

    /// Vendor extras for the ready line, in order (e.g. `account_id`, `files_url`).
    fn ready_extras(&self) -> Vec<(&'static str, String)> {
        Vec::new()
    }

    /// `base_url=… token=… [extras]`: the one line a parent process waits for.
    fn ready_line(&self) -> String {
        let mut line = format!(
            "base_url={} token={}",
            self.base_url().as_str().trim_end_matches('/'),
            self.token()
        );
        for (key, value) in self.ready_extras() {
            line.push_str(&format!(" {key}={value}"));
        }
        line
    }

    /// Calls per route on the API host so far.
    fn stats(&self) -> SandboxStats;

    /// The sandbox's observable state: a target's account dump or a source's world totals.
    fn inspect(&self) -> serde_json::Value;

    /// Stops every server of the sandbox.
    fn shutdown(self) -> impl Future<Output = ()> + Send;
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fake(Url);

    impl Sandbox for Fake {
        type Args = Url;
        async fn start(args: Url) -> Result<Self, SandboxError> {
            Ok(Self(args))
        }
        fn base_url(&self) -> Url {
            self.0.clone()
        }
        fn token(&self) -> &str {
            "tok"
        }
        fn ready_extras(&self) -> Vec<(&'static str, String)> {
            vec![("account_id", "1".into())]
        }
        fn stats(&self) -> SandboxStats {
            SandboxStats::new()
        }
        fn inspect(&self) -> serde_json::Value {
            serde_json::Value::Null
        }
        async fn shutdown(self) {}
    }

    #[tokio::test]
    async fn the_ready_line_has_one_shape_for_every_vendor() {
        let sandbox = Fake::start(Url::parse("http://127.0.0.1:4000/").unwrap())
            .await
            .unwrap();
        assert_eq!(
            sandbox.ready_line(),
            "base_url=http://127.0.0.1:4000 token=tok account_id=1"
        );
        sandbox.shutdown().await;
    }
}
