//! `[target]` with `kind = "chatwoot"`: which Chatwoot account history is written into, and how.
//! These doc comments are the user documentation of each setting.

use std::path::PathBuf;

use deskmove_core::config::{HttpOverrides, InlineToken, TokenSource, with_overrides};
use deskmove_http::HostPolicy;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use url::Url;

/// The `[target]` settings `deskmove init` writes after `kind = "chatwoot"`. It parses as it is.
pub const TARGET_TEMPLATE: &str = r#"# Your Chatwoot: a self-hosted address, or https://app.chatwoot.com for Chatwoot Cloud.
base_url = "https://chatwoot.example.com"
# The account to write into: the number in /app/accounts/<id>/ of your Chatwoot's address bar.
account_id = 1
# How history is written: "api" (Chatwoot's REST API; Cloud and self-hosted).
path = "api"
# The environment variable holding an administrator's Chatwoot access token.
token_env = "CHATWOOT_TOKEN"
# Defaults to self-hosted Chatwoot's 3,000 calls/min per IP (deskmove uses 2,700):
# [target.http]
# calls_per_minute = 2700
# request_timeout = "60s"
"#;

/// How history is written into Chatwoot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LoadPath {
    /// Through Chatwoot's REST API, as an administrator: Chatwoot Cloud and self-hosted.
    #[default]
    Api,
    /// Bulk writes into a self-hosted Chatwoot's own PostgreSQL tables (not available yet).
    Postgres,
}

impl LoadPath {
    /// The paths that can be used today, the default first.
    pub const AVAILABLE: &[LoadPath] = &[LoadPath::Api];
    /// Their names, as `path = "…"` takes them.
    pub const AVAILABLE_NAMES: &[&str] = &["api"];

    /// The name, as `path = "…"` takes it (and as the ledger keys the target instance).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Api => "api",
            Self::Postgres => "postgres",
        }
    }
}

/// The Chatwoot account history is written into.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetConfig {
    /// Your Chatwoot's address: a self-hosted one such as `https://chatwoot.example.com`, or
    /// `https://app.chatwoot.com` for Chatwoot Cloud. Required.
    pub base_url: Option<Url>,
    /// The account history is written into: the number in `/app/accounts/<id>/` of your
    /// Chatwoot's address bar. Required.
    pub account_id: Option<u64>,
    /// How history is written: `"api"` (the default; Chatwoot's REST API, for Cloud and
    /// self-hosted). `"postgres"`, bulk writes into a self-hosted Chatwoot's database, is not
    /// available yet.
    #[serde(default)]
    pub path: LoadPath,
    /// The name of the environment variable holding an administrator's access token
    /// (Profile settings > Access token).
    pub token_env: Option<String>,
    /// A file holding the token instead; it must be readable by you only (mode 0600).
    pub token_file: Option<PathBuf>,
    /// How politely to call Chatwoot: call budget, timeouts, retries. Leave it out to use
    /// self-hosted Chatwoot's documented limits; set only what you want to change, e.g.
    /// `[target.http]` `calls_per_minute = 250` when the installation sets `RACK_ATTACK_LIMIT=300`.
    #[serde(default)]
    pub http: Option<HttpOverrides>,
    /// Never used: tokens are not accepted inline; present to say so when someone tries.
    #[serde(default)]
    token: InlineToken,
}

impl TargetConfig {
    /// Settings pointing at account `account_id` of `base_url` (a sandbox, say), on the API
    /// path with the documented limits and no token place: the caller holds the token.
    pub fn at(base_url: Url, account_id: u64) -> Self {
        Self {
            base_url: Some(base_url),
            account_id: Some(account_id),
            path: LoadPath::default(),
            token_env: None,
            token_file: None,
            http: None,
            token: InlineToken::default(),
        }
    }

    /// What is wrong with the settings, one message per problem naming the key to change;
    /// empty when they can be used.
    pub fn check(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if let Err(message) = self.token_source() {
            problems.push(message);
        }
        match &self.base_url {
            None => problems.push(
                "[target] needs `base_url`: the address of your Chatwoot installation (or https://app.chatwoot.com)."
                    .to_owned(),
            ),
            Some(url) if !matches!(url.scheme(), "https" | "http") => problems.push(format!(
                "[target] `base_url` must be an https:// address, not `{url}`."
            )),
            Some(_) => {}
        }
        match self.account_id {
            None => problems.push(
                "[target] needs `account_id` (the number in /app/accounts/<id>/ of your Chatwoot)."
                    .to_owned(),
            ),
            Some(0) => problems.push(
                "[target] `account_id` starts at 1: take the number in /app/accounts/<id>/."
                    .to_owned(),
            ),
            Some(_) => {}
        }
        if !LoadPath::AVAILABLE.contains(&self.path) {
            problems.push(format!(
                "[target] `path = \"{}\"` is not available yet; use `path = \"api\"`.",
                self.path.as_str()
            ));
        }
        if let Err(message) = self.host_policy() {
            problems.push(format!("[target.http]: {message}"));
        }
        problems
    }

    /// Where the token is read from.
    pub fn token_source(&self) -> Result<TokenSource, String> {
        TokenSource::from_settings(
            "target",
            "Chatwoot",
            self.token_env.as_deref(),
            self.token_file.as_deref(),
            self.token,
        )
    }

    /// Lists the account's agents with `token`: the address, the account and the token fit
    /// together.
    pub async fn count_agents(
        &self,
        token: &SecretString,
    ) -> Result<u64, Box<dyn std::error::Error + Send + Sync>> {
        let (Some(base_url), Some(account_id)) = (&self.base_url, self.account_id) else {
            return Err("[target] needs `base_url` and `account_id`".into());
        };
        let client = crate::client::connect(base_url, self.host_policy()?, token)?;
        Ok(crate::client::count_agents(&client, account_id).await?)
    }

    /// Chatwoot's limits ([`crate::host_policy`]) with the user's `[target.http]` laid over them.
    pub fn host_policy(&self) -> Result<HostPolicy, String> {
        let policy = with_overrides(&crate::host_policy(), self.http.as_ref())?;
        policy.validate().map_err(|e| e.to_string())?;
        Ok(policy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> TargetConfig {
        toml::from_str(text).unwrap()
    }

    #[test]
    fn the_template_parses_and_checks_clean() {
        let config = parse(TARGET_TEMPLATE);
        assert!(config.check().is_empty(), "{:?}", config.check());
        assert_eq!(config.account_id, Some(1));
        assert_eq!(config.path, LoadPath::Api);
        assert_eq!(config.host_policy().unwrap(), crate::host_policy());
    }

    #[test]
    fn missing_settings_are_named_all_at_once() {
        let problems = parse("path = \"postgres\"\n").check();
        let all = problems.join("\n");
        for key in [
            "`token_env`",
            "`base_url`",
            "`account_id`",
            "path = \"postgres\"",
        ] {
            assert!(all.contains(key), "{key} missing from {all}");
        }
    }

    #[test]
    fn unknown_paths_and_settings_are_refused_by_name() {
        let err = toml::from_str::<TargetConfig>("path = \"sql\"\n").unwrap_err();
        assert!(err.to_string().contains("sql"), "{err}");
        let err = toml::from_str::<TargetConfig>("acount_id = 1\n").unwrap_err();
        assert!(
            err.to_string().contains("unknown field `acount_id`"),
            "{err}"
        );
    }
}
