//! `[source]` with `kind = "intercom"`: where the Intercom workspace is and how to reach it.
//! These doc comments are the user documentation of each setting.

use std::path::PathBuf;

use deskmove_core::config::{HttpOverrides, InlineToken, TokenSource, with_overrides};
use deskmove_http::HostPolicy;
use secrecy::SecretString;
use serde::Deserialize;
use url::Url;

use crate::extract::SourceOptions;

/// The US host, which answers for workspaces hosted in the US.
///
/// ../shared/research/intercom-api.md §1: the API has three regional hosts, US
/// `https://api.intercom.io`, EU `https://api.eu.intercom.io` and AU `https://api.au.intercom.io`;
/// a workspace answers only on its own region's host.
pub const DEFAULT_BASE_URL: &str = "https://api.intercom.io/";

/// The `[source]` settings `deskmove init` writes after `kind = "intercom"`. It parses as it is.
pub const SOURCE_TEMPLATE: &str = r#"# Intercom region: https://api.intercom.io (US), https://api.eu.intercom.io (EU),
# https://api.au.intercom.io (AU).
base_url = "https://api.intercom.io"
# The environment variable holding an Intercom access token with read scopes.
token_env = "INTERCOM_TOKEN"
# Call budget and retries default to Intercom's documented limits (10,000 calls/min per app, in
# 10-second windows, kept within what X-RateLimit-Remaining says is left). Lower it when other
# integrations share the workspace:
# [source.http]
# calls_per_minute = 5000
# Export only some conversations; each one left out is reported (`deskmove status`):
# [source.filters]
# created_after = "2023-01-01"
# states = ["closed"]
"#;

/// The Intercom workspace history is read from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// The API address of your workspace's region: `https://api.intercom.io` (US, the default),
    /// `https://api.eu.intercom.io` (EU) or `https://api.au.intercom.io` (AU).
    #[serde(default = "default_base_url")]
    pub base_url: Url,
    /// The name of the environment variable holding an Intercom access token with read scopes
    /// (Settings > Developers > your app > Authentication).
    pub token_env: Option<String>,
    /// A file holding the token instead; it must be readable by you only (mode 0600).
    pub token_file: Option<PathBuf>,
    /// How politely to call Intercom: call budget, timeouts, retries. Leave it out to use
    /// Intercom's documented limits; set only what you want to change, e.g. `[source.http]`
    /// `calls_per_minute = 3000` when other integrations share the workspace's budget.
    #[serde(default)]
    pub http: Option<HttpOverrides>,
    /// Extra hosts to download attachments from besides Intercom's own, as `host` or
    /// `host:port` without scheme or path, e.g. `file_hosts = ["127.0.0.1:4567"]` for a
    /// sandbox's `files_url`. Your token is never sent to them (nor to Intercom's file hosts).
    #[serde(default)]
    pub file_hosts: Vec<String>,
    /// Which conversations and tickets to export (`[source.filters]`); leave it out to export
    /// everything. See [`Filters`].
    #[serde(default)]
    pub filters: Filters,
    /// Items per list page, from 1 to 150 (Intercom's maximum, and the default). Every page is
    /// committed with its position, so smaller pages make an interrupted export repeat less,
    /// at the price of more calls.
    #[serde(default)]
    pub per_page: Option<u32>,
    /// Never used: tokens are not accepted inline; present to say so when someone tries.
    #[serde(default)]
    token: InlineToken,
}

/// `[source.filters]`: which conversations and tickets to export. Every rule set must hold for
/// a conversation to be exported; a rule left out excludes nothing. Whatever a rule excludes is
/// not retrieved, and each excluded conversation is recorded as a problem with code
/// `excluded_by_filter` naming the rule (the export's summary counts them, `deskmove status`
/// lists them), so nothing is left out silently. Dates are a day (`"2024-01-31"`, midnight UTC)
/// or a time with its offset (`"2024-01-31T09:00:00+02:00"`), in quotes; `_after` includes the
/// moment itself, `_before` excludes it. Filters apply to what each run lists: changing them
/// later brings back an excluded conversation when it next changes, or on an export into a new
/// store.
///
/// ```toml
/// [source.filters]
/// created_after = "2023-01-01"
/// states = ["closed"]
/// channels = ["email", "conversation"]
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filters {
    /// Only conversations and tickets created at or after this moment.
    #[serde(default)]
    pub created_after: Option<String>,
    /// Only conversations and tickets created before this moment.
    #[serde(default)]
    pub created_before: Option<String>,
    /// Only conversations and tickets last changed at or after this moment.
    #[serde(default)]
    pub updated_after: Option<String>,
    /// Only conversations and tickets last changed before this moment.
    #[serde(default)]
    pub updated_before: Option<String>,
    /// Only conversations in one of these states: `open`, `closed`, `snoozed`. Tickets have
    /// their own states and are not held to this rule.
    #[serde(default)]
    pub states: Vec<String>,
    /// Only conversations that came in through one of these channels, as Intercom names them
    /// in `source.type`: `conversation` (the Messenger), `email`, `push`, `facebook`,
    /// `twitter`, `whatsapp`, `phone_call`, ... Tickets have no channel and are not held to it.
    #[serde(default)]
    pub channels: Vec<String>,
}

fn default_base_url() -> Url {
    Url::parse(DEFAULT_BASE_URL).expect("the default address is a URL")
}

impl SourceConfig {
    /// Settings pointing at `base_url` (a sandbox, say), with the documented limits and no
    /// token place: the caller holds the token.
    pub fn at(base_url: Url) -> Self {
        Self {
            base_url,
            token_env: None,
            token_file: None,
            http: None,
            file_hosts: Vec::new(),
            filters: Filters::default(),
            per_page: None,
            token: InlineToken::default(),
        }
    }

    /// These settings with `host` (`host:port`) allowed as a file host too.
    pub fn with_file_host(mut self, host: impl Into<String>) -> Self {
        self.file_hosts.push(host.into());
        self
    }

    /// How the export reaches the workspace: the address, the call budget and the file hosts
    /// (Intercom's own plus `file_hosts`).
    pub fn options(&self) -> Result<SourceOptions, String> {
        let mut options = SourceOptions::new(self.base_url.clone());
        options.policy = self.host_policy()?;
        options.file_hosts.extend(self.file_hosts.iter().cloned());
        options.filter = crate::filter::ThreadFilter::new(&self.filters)?;
        if let Some(n) = self.per_page {
            if !(1..=150).contains(&n) {
                return Err(format!(
                    "[source] `per_page` = {n}: Intercom pages hold 1 to 150 items"
                ));
            }
            options.per_page = n;
        }
        Ok(options)
    }

    /// What is wrong with the settings, one message per problem naming the key to change;
    /// empty when they can be used.
    pub fn check(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if let Err(message) = self.token_source() {
            problems.push(message);
        }
        if !matches!(self.base_url.scheme(), "https" | "http") {
            problems.push(format!(
                "[source] `base_url` must be an https:// address, e.g. {DEFAULT_BASE_URL}"
            ));
        }
        if let Err(message) = self.host_policy() {
            problems.push(format!("[source.http]: {message}"));
        }
        if let Err(message) = crate::filter::ThreadFilter::new(&self.filters) {
            problems.push(message);
        }
        if self.per_page.is_some_and(|n| !(1..=150).contains(&n)) {
            problems.push("[source] `per_page` must be from 1 to 150".to_owned());
        }
        // Builds the credential-less file client: the one place host names are checked.
        let files = SourceOptions::new(self.base_url.clone()).file_policy;
        if let Err(e) = crate::client::connect_files(files, &self.file_hosts) {
            problems.push(format!("[source] `file_hosts`: {e}"));
        }
        problems
    }

    /// Where the token is read from.
    pub fn token_source(&self) -> Result<TokenSource, String> {
        TokenSource::from_settings(
            "source",
            "Intercom",
            self.token_env.as_deref(),
            self.token_file.as_deref(),
            self.token,
        )
    }

    /// Lists the workspace's current teammates with `token`: the address, the region and the
    /// token fit together.
    pub async fn count_agents(
        &self,
        token: &SecretString,
    ) -> Result<u64, Box<dyn std::error::Error + Send + Sync>> {
        let client = crate::client::connect(&self.base_url, self.host_policy()?, token)?;
        Ok(crate::client::count_agents(&client).await?)
    }

    /// Intercom's limits ([`crate::host_policy`]) with the user's `[source.http]` laid over them.
    pub fn host_policy(&self) -> Result<HostPolicy, String> {
        let policy = with_overrides(&crate::host_policy(), self.http.as_ref())?;
        policy.validate().map_err(|e| e.to_string())?;
        Ok(policy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<SourceConfig, toml::de::Error> {
        toml::from_str(text)
    }

    #[test]
    fn the_template_parses_and_checks_clean() {
        let config = parse(SOURCE_TEMPLATE).unwrap();
        assert!(config.check().is_empty(), "{:?}", config.check());
        assert_eq!(
            config.token_source().unwrap(),
            TokenSource::Env("INTERCOM_TOKEN".into())
        );
    }

    #[test]
    fn the_us_host_is_the_default() {
        let config = parse("token_env = \"T\"\n").unwrap();
        assert_eq!(config.base_url.as_str(), DEFAULT_BASE_URL);
        assert_eq!(config.host_policy().unwrap(), crate::host_policy());
    }

    #[test]
    fn http_settings_override_only_what_they_name() {
        let config = parse(
            "token_env = \"T\"\nhttp = { calls_per_minute = 3000, request_timeout = \"20s\" }\n",
        )
        .unwrap();
        let policy = config.host_policy().unwrap();
        assert_eq!(policy.calls_per_minute, 3000);
        assert_eq!(policy.request_timeout, std::time::Duration::from_secs(20));
        assert_eq!(policy.fixed_window_secs, Some(10), "the window is kept");

        let zero = parse("token_env = \"T\"\nhttp = { calls_per_minute = 0 }\n").unwrap();
        let problems = zero.check();
        assert!(
            problems[0].contains("[source.http]") && problems[0].contains("calls_per_minute"),
            "{problems:?}"
        );
        let typo = parse("token_env = \"T\"\nhttp = { calls_per_minit = 10 }\n").unwrap();
        assert!(
            typo.check()[0].contains("calls_per_minit"),
            "{:?}",
            typo.check()
        );
    }

    #[test]
    fn file_hosts_are_added_to_intercoms_own_and_checked() {
        let config = parse("token_env = \"T\"\nfile_hosts = [\"127.0.0.1:4567\"]\n").unwrap();
        assert!(config.check().is_empty(), "{:?}", config.check());
        // The file client always allows Intercom's own hosts; the options carry the extras.
        assert_eq!(config.options().unwrap().file_hosts, ["127.0.0.1:4567"]);
        assert_eq!(
            SourceConfig::at(config.base_url.clone())
                .with_file_host("127.0.0.1:4567")
                .file_hosts,
            config.file_hosts
        );

        let url = parse("token_env = \"T\"\nfile_hosts = [\"http://127.0.0.1:4567/\"]\n").unwrap();
        let problems = url.check();
        assert!(
            problems.len() == 1 && problems[0].contains("`file_hosts`"),
            "{problems:?}"
        );
    }

    #[test]
    fn filters_are_read_into_the_options_and_checked() {
        let config = parse(
            "token_env = \"T\"\n[filters]\ncreated_after = \"2024-01-01\"\nstates = [\"closed\"]\n",
        )
        .unwrap();
        assert!(config.check().is_empty(), "{:?}", config.check());
        assert!(!config.options().unwrap().filter.is_empty());
        assert!(
            parse("token_env = \"T\"\n")
                .unwrap()
                .options()
                .unwrap()
                .filter
                .is_empty()
        );
        let bad = parse("token_env = \"T\"\n[filters]\nupdated_before = \"soon\"\n").unwrap();
        let problems = bad.check();
        assert!(
            problems.len() == 1 && problems[0].contains("`updated_before`"),
            "{problems:?}"
        );
        assert!(bad.options().is_err());
        let pages = parse("token_env = \"T\"\nper_page = 25\n").unwrap();
        assert_eq!(pages.options().unwrap().per_page, 25);
        assert!(
            !parse("token_env = \"T\"\nper_page = 151\n")
                .unwrap()
                .check()
                .is_empty()
        );
    }

    #[test]
    fn unknown_settings_are_refused_by_name() {
        let err = parse("token_env = \"T\"\naccount_id = 1\n").unwrap_err();
        assert!(
            err.to_string().contains("unknown field `account_id`"),
            "{err}"
        );
    }
}
