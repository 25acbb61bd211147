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
# How history is written: "api" (Chatwoot's REST API; Cloud and self-hosted), or "postgres"
# (bulk writes into a self-hosted Chatwoot's own database; fill in [target.postgres] below).
path = "api"
# The environment variable holding an administrator's Chatwoot access token.
token_env = "CHATWOOT_TOKEN"
# Chatwoot takes at most 200 messages per conversation per minute; longer conversations finish
# on the next `deskmove import`. A self-hosted install that raised (or, with 0, turned off)
# CONVERSATION_MESSAGE_PER_MINUTE_LIMIT says so here:
# conversation_message_limit = 200
# Defaults to self-hosted Chatwoot's 3,000 calls/min per IP (deskmove uses 2,700):
# [target.http]
# calls_per_minute = 2700
# request_timeout = "60s"
# For path = "postgres":
# [target.postgres]
# database_url_env = "CHATWOOT_DATABASE_URL"
# inbox_id = 1
# storage_dir = "/var/lib/docker/volumes/chatwoot_storage_data/_data"
"#;

/// How history is written into Chatwoot.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LoadPath {
    /// Through Chatwoot's REST API, as an administrator: Chatwoot Cloud and self-hosted.
    #[default]
    Api,
    /// Bulk writes into a self-hosted Chatwoot's own PostgreSQL tables, with the original times
    /// and authors (`[target.postgres]`).
    Postgres,
}

impl LoadPath {
    /// The paths that can be used today, the default first.
    pub const AVAILABLE: &[LoadPath] = &[LoadPath::Api, LoadPath::Postgres];
    /// Their names, as `path = "…"` takes them.
    pub const AVAILABLE_NAMES: &[&str] = &["api", "postgres"];

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
    /// self-hosted) or `"postgres"` (bulk writes into a self-hosted Chatwoot's database, set up
    /// in `[target.postgres]`).
    #[serde(default)]
    pub path: LoadPath,
    /// The database path's settings (`path = "postgres"`).
    #[serde(default)]
    pub postgres: Option<PostgresSettings>,
    /// The name of the environment variable holding an administrator's access token
    /// (Profile settings > Access token). Not needed on the database path.
    pub token_env: Option<String>,
    /// A file holding the token instead; it must be readable by you only (mode 0600).
    pub token_file: Option<PathBuf>,
    /// How politely to call Chatwoot: call budget, timeouts, retries. Leave it out to use
    /// self-hosted Chatwoot's documented limits; set only what you want to change, e.g.
    /// `[target.http]` `calls_per_minute = 250` when the installation sets `RACK_ATTACK_LIMIT=300`.
    #[serde(default)]
    pub http: Option<HttpOverrides>,
    /// The API path: the installation's `CONVERSATION_MESSAGE_PER_MINUTE_LIMIT` (Chatwoot's
    /// default 200; 0 when it is turned off). Messages past it in one conversation wait for the
    /// next `deskmove import`, which continues in order.
    #[serde(default)]
    pub conversation_message_limit: Option<usize>,
    /// The API path: how many records of a batch are written at the same time (contacts,
    /// conversations, and conversations' messages side by side, each conversation's own in
    /// order). The default, 24, lets the call budget rather than the network's round trips set
    /// the pace even with a raised limit; lower it to be gentler on a small installation.
    #[serde(default)]
    pub concurrency: Option<usize>,
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
            postgres: None,
            token_env: None,
            token_file: None,
            http: None,
            conversation_message_limit: None,
            concurrency: None,
            token: InlineToken::default(),
        }
    }

    /// What is wrong with the settings, one message per problem naming the key to change;
    /// empty when they can be used.
    pub fn check(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if self.needs_token()
            && let Err(message) = self.token_source()
        {
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
        if self.path == LoadPath::Postgres {
            match &self.postgres {
                None => problems.push(
                    "[target] `path = \"postgres\"` needs a [target.postgres] section: `database_url_env`, `inbox_id` and `storage_dir`."
                        .to_owned(),
                ),
                Some(pg) => problems.extend(pg.check()),
            }
        }
        if let Err(message) = self.host_policy() {
            problems.push(format!("[target.http]: {message}"));
        }
        problems
    }

    /// Whether this path calls Chatwoot's API (and so needs an access token): the database path
    /// writes the tables directly.
    pub fn needs_token(&self) -> bool {
        self.path == LoadPath::Api
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

/// `[target.postgres]`: where a self-hosted Chatwoot's database and files are, for
/// `path = "postgres"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostgresSettings {
    /// The environment variable holding the database URL (`postgres://user:password@host/db`);
    /// the URL is never written to the config, the logs or the store.
    pub database_url_env: Option<String>,
    /// The API-channel inbox (`inboxes.id`, of the account) history is written into. Required.
    pub inbox_id: Option<i64>,
    /// Where ActiveStorage's Disk service keeps files: the directory holding the contents of
    /// Chatwoot's `storage/` (in the official Docker setup, the `storage_data` volume mounted at
    /// `/app/storage`). Required.
    pub storage_dir: Option<PathBuf>,
    /// Chatwoot's `ACTIVE_STORAGE_SERVICE` (default `local`). Only the Disk layout is written.
    #[serde(default)]
    pub service_name: Option<String>,
    /// The AgentBot (`agent_bots.id`) bot-written messages are sent as; without one they have no
    /// sender and the bot is named in `content_attributes.original_author`.
    #[serde(default)]
    pub agent_bot_id: Option<i64>,
    /// Load even though the database names a schema this version was not checked against (the
    /// column check still runs). Default false.
    #[serde(default)]
    pub allow_unsupported_schema: bool,
}

impl PostgresSettings {
    fn check(&self) -> Vec<String> {
        let mut problems = Vec::new();
        match self.database_url_env.as_deref() {
            None => problems.push(
                "[target.postgres] needs `database_url_env`: the environment variable holding the database URL."
                    .to_owned(),
            ),
            Some(var) if std::env::var_os(var).is_none() => problems.push(format!(
                "[target.postgres] `database_url_env = \"{var}\"`, but `{var}` is not set in the environment."
            )),
            Some(_) => {}
        }
        if self.inbox_id.is_none_or(|id| id < 1) {
            problems.push(
                "[target.postgres] needs `inbox_id`: the id of an API-channel inbox of the account."
                    .to_owned(),
            );
        }
        if self.storage_dir.is_none() {
            problems.push(
                "[target.postgres] needs `storage_dir`: the directory of Chatwoot's ActiveStorage files."
                    .to_owned(),
            );
        }
        problems
    }

    /// The load path's options, the URL read from the environment now.
    pub fn options(&self, account_id: u64) -> Result<crate::load::PostgresOptions, String> {
        let problems = self.check();
        if !problems.is_empty() {
            return Err(problems.join(" "));
        }
        let (Some(var), Some(inbox_id), Some(dir)) =
            (&self.database_url_env, self.inbox_id, &self.storage_dir)
        else {
            return Err("[target.postgres] is incomplete".to_owned());
        };
        let account_id = i64::try_from(account_id)
            .map_err(|_| "[target] `account_id` is too large".to_owned())?;
        let mut options = crate::load::PostgresOptions::from_env(var, account_id, inbox_id, dir)
            .map_err(|e| e.to_string())?;
        if let Some(service) = &self.service_name {
            options.service_name = service.clone();
        }
        options.agent_bot_id = self.agent_bot_id;
        options.allow_unsupported_schema = self.allow_unsupported_schema;
        Ok(options)
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
        for key in ["`base_url`", "`account_id`", "[target.postgres]"] {
            assert!(all.contains(key), "{key} missing from {all}");
        }
    }

    #[test]
    fn the_api_path_needs_a_token_and_the_database_path_its_section() {
        let all = parse("base_url = \"https://c.example\"\naccount_id = 1\n")
            .check()
            .join("\n");
        assert!(all.contains("`token_env`"), "{all}");
        let pg = parse(
            "base_url = \"https://c.example\"\naccount_id = 1\npath = \"postgres\"\n\
             [postgres]\ndatabase_url_env = \"DESKMOVE_UNSET_TEST_VAR\"\ninbox_id = 0\n",
        );
        assert!(!pg.needs_token());
        let all = pg.check().join("\n");
        for key in ["DESKMOVE_UNSET_TEST_VAR", "`inbox_id`", "`storage_dir`"] {
            assert!(all.contains(key), "{key} missing from {all}");
        }
        assert!(!all.contains("`token_env`"), "{all}");
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
