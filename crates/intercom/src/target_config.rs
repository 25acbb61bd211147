//! `[target]` with `kind = "intercom"`: the Intercom workspace history is written into and how.
//! These doc comments are the user documentation of each setting.

use std::path::PathBuf;

use deskmove_core::config::{HttpOverrides, InlineToken, TokenSource, with_overrides};
use deskmove_http::HostPolicy;
use deskmove_store::BlobStore;
use secrecy::SecretString;
use serde::Deserialize;
use url::Url;

use crate::load::{IntercomTarget, Mode, TargetError, TargetOptions};

/// The `[target]` settings `deskmove init` writes after `kind = "intercom"`. It parses as it is.
pub const TARGET_TEMPLATE: &str = r#"# Intercom region: https://api.intercom.io (US), https://api.eu.intercom.io (EU),
# https://api.au.intercom.io (AU).
base_url = "https://api.intercom.io"
# The workspace: the code after /a/apps/ in Intercom's address bar. The preflight checks the
# token belongs to it.
workspace_id = "abc123de"
# The environment variable holding an Intercom access token with write scopes.
token_env = "INTERCOM_TARGET_TOKEN"
# "messages" (every message its own part with its original time) or "transcript" (one note
# holding the whole conversation: far fewer calls, for history kept only for context).
mode = "messages"
# The teammate who writes what no teammate of the workspace matches (departed agents, bots);
# the true author stays in the part's first line. Default: the token's owner.
# fallback_admin = "migration@example.com"
"#;

/// The Intercom workspace history is written into.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TargetConfig {
    /// The API address of your workspace's region: `https://api.intercom.io` (US, the default),
    /// `https://api.eu.intercom.io` (EU) or `https://api.au.intercom.io` (AU).
    #[serde(default = "default_base_url")]
    pub base_url: Url,
    /// The workspace history is written into: the code after `/a/apps/` in Intercom's address
    /// bar. Required: it keys what deskmove remembers having loaded, and the preflight refuses a
    /// token of another workspace.
    pub workspace_id: Option<String>,
    /// The name of the environment variable holding an Intercom access token with write
    /// scopes (Settings > Developers > your app > Authentication).
    pub token_env: Option<String>,
    /// A file holding the token instead; it must be readable by you only (mode 0600).
    pub token_file: Option<PathBuf>,
    /// How politely to call Intercom: call budget, timeouts, retries. Leave it out to use
    /// Intercom's documented limits; set only what you want to change.
    #[serde(default)]
    pub http: Option<HttpOverrides>,
    /// How conversations are written: `"messages"` (the default: the conversation is started
    /// by the contact with its first message, every later message is its own reply or note
    /// with its original time and files) or `"transcript"` (the conversation plus one internal
    /// note holding the whole formatted transcript, as Intercom's own migration guide suggests
    /// for history kept only for context: about one call per conversation instead of one per
    /// message).
    #[serde(default)]
    pub mode: Mode,
    /// The email of the teammate who writes what no teammate of the workspace matches (departed
    /// agents, bots, the system); the true author is written in the first line of the part and
    /// counted in the report. Default: the owner of the token.
    pub fallback_admin: Option<String>,
    /// Hosts besides Intercom's own that serve the workspace's files, as `host:port` without
    /// scheme or path (a local sandbox's file host, say); `verify` downloads files from them,
    /// without credentials, to compare their bytes.
    #[serde(default)]
    pub file_hosts: Vec<String>,
    /// Never used: tokens are not accepted inline; present to say so when someone tries.
    #[serde(default)]
    token: InlineToken,
}

fn default_base_url() -> Url {
    Url::parse(crate::config::DEFAULT_BASE_URL).expect("the default address is a URL")
}

impl TargetConfig {
    /// Settings pointing at workspace `workspace_id` of `base_url` (a sandbox, say), with the
    /// documented limits and no token place: the caller holds the token.
    pub fn at(base_url: Url, workspace_id: impl Into<String>) -> Self {
        Self {
            base_url,
            workspace_id: Some(workspace_id.into()),
            token_env: None,
            token_file: None,
            http: None,
            mode: Mode::default(),
            fallback_admin: None,
            file_hosts: Vec::new(),
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
        if !matches!(self.base_url.scheme(), "https" | "http") {
            problems.push(format!(
                "[target] `base_url` must be an https:// address, not `{}`.",
                self.base_url
            ));
        }
        match self.workspace_id.as_deref().map(str::trim) {
            None | Some("") => problems.push(
                "[target] needs `workspace_id`: the code after /a/apps/ in Intercom's address bar."
                    .to_owned(),
            ),
            Some(_) => {}
        }
        if let Some(email) = &self.fallback_admin
            && !email.contains('@')
        {
            problems.push(format!(
                "[target] `fallback_admin` must be a teammate's email, not `{email}`."
            ));
        }
        if let Err(message) = self.host_policy() {
            problems.push(format!("[target.http]: {message}"));
        }
        if let Err(e) = crate::client::connect_files(crate::file_host_policy(), &self.file_hosts) {
            problems.push(format!("[target] `file_hosts`: {e}"));
        }
        problems
    }

    /// Intercom is written through its API only: a token is always needed.
    pub fn needs_token(&self) -> bool {
        true
    }

    /// Where the token is read from.
    pub fn token_source(&self) -> Result<TokenSource, String> {
        TokenSource::from_settings(
            "target",
            "Intercom",
            self.token_env.as_deref(),
            self.token_file.as_deref(),
            self.token,
        )
    }

    /// Intercom's limits ([`crate::host_policy`]) with the user's `[target.http]` laid over them.
    pub fn host_policy(&self) -> Result<HostPolicy, String> {
        let policy = with_overrides(&crate::host_policy(), self.http.as_ref())?;
        policy.validate().map_err(|e| e.to_string())?;
        Ok(policy)
    }

    /// Lists the workspace's teammates with `token`: the address and the token fit together.
    pub async fn count_agents(
        &self,
        token: &SecretString,
    ) -> Result<u64, Box<dyn std::error::Error + Send + Sync>> {
        Ok(self.agent_emails(token).await?.len() as u64)
    }

    /// The workspace's teammates' emails, lower-cased (for `deskmove map` and `scan`).
    pub async fn agent_emails(
        &self,
        token: &SecretString,
    ) -> Result<std::collections::BTreeSet<String>, Box<dyn std::error::Error + Send + Sync>> {
        let client = crate::client::connect_export(&self.base_url, self.host_policy()?, token)?;
        let v: serde_json::Value = client.send(client.get("admins")).await?.json()?;
        Ok(v["admins"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| a["email"].as_str())
            .map(str::to_lowercase)
            .collect())
    }

    /// The target these settings describe, reading attachment bytes from `blobs`.
    pub fn target(
        &self,
        token: Option<&SecretString>,
        blobs: BlobStore,
    ) -> Result<IntercomTarget, TargetError> {
        let problems: Vec<String> = self
            .check()
            .into_iter()
            // The token's place matters to the CLI, which reads it; here the token is given.
            .filter(|p| token.is_none() || !p.contains("token"))
            .collect();
        if !problems.is_empty() {
            return Err(TargetError::Config(problems.join(" ")));
        }
        let token = token.ok_or_else(|| {
            TargetError::Config(
                "[target] needs an Intercom access token (`token_env` or `token_file`).".into(),
            )
        })?;
        let policy = self.host_policy().map_err(TargetError::Config)?;
        let options = TargetOptions {
            workspace_id: self.workspace_id.clone().unwrap_or_default(),
            mode: self.mode,
            fallback_admin: self.fallback_admin.clone(),
            file_hosts: self.file_hosts.clone(),
            ..TargetOptions::default()
        };
        IntercomTarget::new(&self.base_url, token, policy, options, blobs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<TargetConfig, toml::de::Error> {
        toml::from_str(text)
    }

    #[test]
    fn the_template_parses_and_names_a_token_place() {
        let c = parse(TARGET_TEMPLATE).unwrap();
        assert_eq!(c.mode, Mode::Messages);
        assert!(c.check().is_empty(), "{:?}", c.check());
        assert_eq!(
            c.token_source().unwrap(),
            TokenSource::Env("INTERCOM_TARGET_TOKEN".into())
        );
    }

    #[test]
    fn a_missing_workspace_and_an_inline_token_are_refused_by_name() {
        let c = parse("token = \"secret\"\nmode = \"transcript\"\n").unwrap();
        let problems = c.check().join(" ");
        assert!(problems.contains("workspace_id"), "{problems}");
        assert!(problems.contains("inline"), "{problems}");
        assert!(!problems.contains("secret"), "{problems}");
        assert_eq!(c.mode, Mode::Transcript);
        assert!(parse("mode = \"pages\"\n").is_err());
        assert!(parse("unknown = 1\n").is_err());
    }
}
