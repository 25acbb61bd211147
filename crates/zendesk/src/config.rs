//! `[source]` with `kind = "zendesk"`: where the Zendesk account is and how to sign in to it.
//! These doc comments are the user documentation of each setting.

use std::path::PathBuf;

use deskmove_core::config::{HttpOverrides, InlineToken, TokenSource, with_overrides};
use deskmove_http::HostPolicy;
use secrecy::SecretString;
use serde::Deserialize;
use url::Url;

use crate::extract::SourceOptions;

/// How the address is written in messages: every account has its own subdomain (§1.1).
const ADDRESS_SHAPE: &str = "https://<subdomain>.zendesk.com";

/// The `[source]` settings `deskmove init` writes after `kind = "zendesk"`. It parses as it is.
pub const SOURCE_TEMPLATE: &str = r#"# Your Zendesk account's address: https://<subdomain>.zendesk.com.
base_url = "https://yourcompany.zendesk.com"
# The admin whose API token this is: deskmove signs in as `email/token:<token>`. Leave `email`
# out when the token is an OAuth access token instead (it is then sent as a Bearer token).
email = "admin@yourcompany.example"
# The environment variable holding the token. The incremental exports need an admin's.
token_env = "ZENDESK_TOKEN"
# Call budget and retries default to Zendesk's smallest plan (Team: 200 calls/min for the whole
# account; deskmove uses 180). On a larger plan (Growth and Professional 400, Enterprise 700)
# raise it, up to the plan's limit: deskmove reads Zendesk's X-Rate-Limit-Remaining and waits
# for the next minute rather than go over, but keep room for your other integrations:
# [source.http]
# calls_per_minute = 600
"#;

/// The Zendesk Support account history is read from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceConfig {
    /// Your account's address, `https://<subdomain>.zendesk.com` (the address before `/agent`
    /// in your browser), with no path.
    pub base_url: Url,
    /// The email address of the admin the API token belongs to: deskmove then signs in with
    /// `Authorization: Basic` and `<email>/token:<token>`, as Zendesk asks for API tokens. Leave
    /// it out when the token is an OAuth access token: it is then sent as
    /// `Authorization: Bearer <token>`.
    pub email: Option<String>,
    /// The name of the environment variable holding the token: an admin's API token (Admin
    /// Center > Apps and integrations > APIs > Zendesk API) or an OAuth access token with read
    /// scope.
    pub token_env: Option<String>,
    /// A file holding the token instead; it must be readable by you only (mode 0600).
    pub token_file: Option<PathBuf>,
    /// How politely to call Zendesk: call budget, timeouts, retries. Leave it out to stay under
    /// the smallest plan's limit (200 calls/min); set only what you want to change, e.g.
    /// `[source.http]` `calls_per_minute = 600` on Enterprise (700/min).
    #[serde(default)]
    pub http: Option<HttpOverrides>,
    /// The same for the incremental exports, which Zendesk limits on their own (10 calls/min;
    /// deskmove uses 9: 4 at once, then 5 a minute). Leave it out unless your account is
    /// allowed more, e.g. with the High Volume API add-on; a local sandbox started without
    /// limits is.
    #[serde(default)]
    pub incremental_http: Option<HttpOverrides>,
    /// Extra hosts to download attachments from besides your account's own and Zendesk's
    /// pre-signed `*.zdusercontent.com`, as `host` or `host:port` without scheme or path, e.g.
    /// a brand's host-mapped domain, or `file_hosts = ["127.0.0.1:4567"]` for a sandbox's
    /// `files_url`. Your token is never sent to a file host.
    #[serde(default)]
    pub file_hosts: Vec<String>,
    /// Never used: tokens are not accepted inline; present to say so when someone tries.
    #[serde(default)]
    token: InlineToken,
}

impl SourceConfig {
    /// Settings pointing at `base_url` (a sandbox, say), with the default limits, no email (so
    /// Bearer; see [`Self::with_email`]) and no token place: the caller holds the token.
    pub fn at(base_url: Url) -> Self {
        Self {
            base_url,
            email: None,
            token_env: None,
            token_file: None,
            http: None,
            incremental_http: None,
            file_hosts: Vec::new(),
            token: InlineToken::default(),
        }
    }

    /// These settings with `host` (`host:port`) allowed as a file host too.
    pub fn with_file_host(mut self, host: impl Into<String>) -> Self {
        self.file_hosts.push(host.into());
        self
    }

    /// How the export reaches the account: the address, the sign-in email, the call budgets
    /// and the file hosts. Errors are sentences for the user naming the key to change.
    pub fn options(&self) -> Result<SourceOptions, String> {
        if let Some(problem) = self.base_url_problem().or_else(|| self.email_problem()) {
            return Err(problem);
        }
        let mut options = SourceOptions::new(self.base_url.clone());
        options.email = self.email.clone();
        options.policy = self
            .host_policy()
            .map_err(|m| format!("[source.http]: {m}"))?;
        options.incremental_policy = self
            .incremental_policy()
            .map_err(|m| format!("[source.incremental_http]: {m}"))?;
        options.file_hosts.extend(self.file_hosts.iter().cloned());
        Ok(options)
    }

    /// The same settings signing in as `email/token` (Basic) instead of Bearer.
    pub fn with_email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    /// What is wrong with the settings, one message per problem naming the key to change;
    /// empty when they can be used.
    pub fn check(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if let Err(message) = self.token_source() {
            problems.push(message);
        }
        problems.extend(self.base_url_problem());
        problems.extend(self.email_problem());
        if let Err(message) = self.host_policy() {
            problems.push(format!("[source.http]: {message}"));
        }
        if let Err(message) = self.incremental_policy() {
            problems.push(format!("[source.incremental_http]: {message}"));
        }
        // Builds the credential-less file client: the one place host names are checked.
        let files = SourceOptions::new(self.base_url.clone()).file_policy;
        if let Err(e) = crate::client::connect_files(&self.base_url, files, &self.file_hosts, None)
        {
            problems.push(format!("[source] `file_hosts`: {e}"));
        }
        problems
    }

    /// https only, but for a stand-in on this machine; and the account's root, since API
    /// paths are resolved against it.
    fn base_url_problem(&self) -> Option<String> {
        let url = &self.base_url;
        let local = matches!(url.host_str(), Some("127.0.0.1" | "localhost" | "[::1]"));
        if !(url.scheme() == "https" || (url.scheme() == "http" && local)) || url.host().is_none() {
            return Some(format!(
                "[source] `base_url` must be an https:// address, {ADDRESS_SHAPE} (http:// only for 127.0.0.1 or localhost)"
            ));
        }
        if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
            return Some(format!(
                "[source] `base_url` must be the account's address alone, {ADDRESS_SHAPE}, without a path such as /agent"
            ));
        }
        None
    }

    fn email_problem(&self) -> Option<String> {
        let email = self.email.as_deref()?;
        if email.trim().to_ascii_lowercase().ends_with("/token") {
            return Some(
                "[source] `email` is the address alone; deskmove adds `/token` itself".to_owned(),
            );
        }
        if !email.contains('@') || email.trim() != email {
            return Some(format!(
                "[source] `email` `{email}` is not an email address; write the admin's address the token belongs to, or leave `email` out for an OAuth token"
            ));
        }
        None
    }

    /// Where the token is read from.
    pub fn token_source(&self) -> Result<TokenSource, String> {
        TokenSource::from_settings(
            "source",
            "Zendesk",
            self.token_env.as_deref(),
            self.token_file.as_deref(),
            self.token,
        )
    }

    /// Lists the account's current agents and admins with `token`: the address, the email and
    /// the token fit together.
    pub async fn count_agents(
        &self,
        token: &SecretString,
    ) -> Result<u64, Box<dyn std::error::Error + Send + Sync>> {
        let client = crate::client::connect(
            &self.base_url,
            self.email.as_deref(),
            self.host_policy()?,
            token,
        )?;
        Ok(crate::client::count_agents(&client).await?)
    }

    /// Zendesk's limits ([`crate::host_policy`]) with the user's `[source.http]` laid over them.
    pub fn host_policy(&self) -> Result<HostPolicy, String> {
        let policy = with_overrides(&crate::host_policy(), self.http.as_ref())?;
        policy.validate().map_err(|e| e.to_string())?;
        Ok(policy)
    }

    /// The incremental exports' limits ([`crate::incremental_policy`]) with the user's
    /// `[source.incremental_http]` laid over them.
    pub fn incremental_policy(&self) -> Result<HostPolicy, String> {
        let policy = with_overrides(&crate::incremental_policy(), self.incremental_http.as_ref())?;
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

    const MINIMAL: &str = "base_url = \"https://acme.zendesk.com\"\ntoken_env = \"T\"\n";

    #[test]
    fn the_template_parses_and_checks_clean() {
        let config = parse(SOURCE_TEMPLATE).unwrap();
        assert!(config.check().is_empty(), "{:?}", config.check());
        assert_eq!(
            config.token_source().unwrap(),
            TokenSource::Env("ZENDESK_TOKEN".into())
        );
        assert!(
            config.email.is_some(),
            "the template shows the API-token sign-in"
        );
    }

    #[test]
    fn the_address_is_required_and_the_limits_default() {
        let err = parse("token_env = \"T\"\n").unwrap_err();
        assert!(err.to_string().contains("base_url"), "{err}");
        let config = parse(MINIMAL).unwrap();
        assert!(config.check().is_empty(), "{:?}", config.check());
        assert_eq!(config.email, None, "no email: the token is a Bearer token");
        assert_eq!(config.host_policy().unwrap(), crate::host_policy());
    }

    #[test]
    fn only_https_or_this_machine_and_no_path() {
        for bad in [
            "http://acme.zendesk.com",
            "ftp://acme.zendesk.com",
            "https://acme.zendesk.com/agent/tickets/1",
            "https://acme.zendesk.com/?x=1",
        ] {
            let config = SourceConfig::at(Url::parse(bad).unwrap());
            let problems = config.check();
            assert!(
                problems.iter().any(|p| p.contains("`base_url`")),
                "{bad}: {problems:?}"
            );
        }
        for good in [
            "https://acme.zendesk.com",
            "https://acme.zendesk.com/",
            "http://127.0.0.1:8080/",
            "http://localhost:8080",
        ] {
            let config = SourceConfig::at(Url::parse(good).unwrap());
            assert!(
                !config.check().iter().any(|p| p.contains("`base_url`")),
                "{good}: {:?}",
                config.check()
            );
        }
    }

    #[test]
    fn the_email_is_the_address_alone() {
        let at = |email: &str| {
            SourceConfig::at(Url::parse("https://acme.zendesk.com").unwrap()).with_email(email)
        };
        assert!(at("admin@acme.example").email_problem().is_none());
        let suffixed = at("admin@acme.example/token").email_problem().unwrap();
        assert!(suffixed.contains("adds `/token`"), "{suffixed}");
        let bare = at("admin").email_problem().unwrap();
        assert!(bare.contains("not an email address"), "{bare}");
    }

    #[test]
    fn http_settings_override_only_what_they_name() {
        let config = parse(&format!(
            "{MINIMAL}http = {{ calls_per_minute = 600, request_timeout = \"20s\" }}\n"
        ))
        .unwrap();
        let policy = config.host_policy().unwrap();
        assert_eq!(policy.calls_per_minute, 600);
        assert_eq!(policy.request_timeout, std::time::Duration::from_secs(20));
        assert_eq!(policy.fixed_window_secs, Some(60), "the window is kept");

        let zero = parse(&format!("{MINIMAL}http = {{ calls_per_minute = 0 }}\n")).unwrap();
        let problems = zero.check();
        assert!(
            problems[0].contains("[source.http]") && problems[0].contains("calls_per_minute"),
            "{problems:?}"
        );
    }

    #[test]
    fn incremental_settings_override_only_the_exports_budget() {
        let config = parse(&format!(
            "{MINIMAL}incremental_http = {{ calls_per_minute = 25 }}\n"
        ))
        .unwrap();
        let options = config.options().unwrap();
        assert_eq!(options.incremental_policy.calls_per_minute, 25);
        assert_eq!(
            options.incremental_policy.burst,
            crate::incremental_policy().burst
        );
        assert_eq!(
            options.policy,
            crate::host_policy(),
            "the account's is kept"
        );

        let zero = parse(&format!(
            "{MINIMAL}incremental_http = {{ calls_per_minute = 0 }}\n"
        ))
        .unwrap();
        let problems = zero.check();
        assert!(
            problems
                .iter()
                .any(|p| p.contains("[source.incremental_http]")),
            "{problems:?}"
        );
    }

    #[test]
    fn options_carry_the_email_and_file_hosts() {
        let config = parse(&format!(
            "{MINIMAL}email = \"a@b.example\"\nfile_hosts = [\"127.0.0.1:4567\"]\n"
        ))
        .unwrap();
        assert!(config.check().is_empty(), "{:?}", config.check());
        let options = config.options().unwrap();
        assert_eq!(options.email.as_deref(), Some("a@b.example"));
        assert_eq!(options.file_hosts, ["127.0.0.1:4567"]);
        assert_eq!(options.policy, crate::host_policy());

        let bad = parse(&format!("{MINIMAL}file_hosts = [\"http://x/\"]\n")).unwrap();
        assert!(bad.check().iter().any(|p| p.contains("`file_hosts`")));
        let path = SourceConfig::at(Url::parse("https://acme.zendesk.com/agent").unwrap());
        assert!(path.options().unwrap_err().contains("`base_url`"));
    }

    #[test]
    fn unknown_settings_and_inline_tokens_are_refused() {
        let err = parse(&format!("{MINIMAL}subdomain = \"acme\"\n")).unwrap_err();
        assert!(
            err.to_string().contains("unknown field `subdomain`"),
            "{err}"
        );
        let inline = parse(
            "base_url = \"https://acme.zendesk.com\"\nemail = \"a@b.example\"\ntoken = \"s3cr3t\"\n",
        )
        .unwrap();
        let problems = inline.check();
        assert!(
            problems[0].contains("holds a token inline") && !problems[0].contains("s3cr3t"),
            "{problems:?}"
        );
    }
}
