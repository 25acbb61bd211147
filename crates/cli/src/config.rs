//! `deskmove.toml`: what the user writes. These doc comments are the user documentation of each
//! setting. Secrets are never written here, only the name of the environment variable or file
//! that holds them, so the file can be committed and shared safely.

use std::path::{Path, PathBuf};

use deskmove_http::HostPolicy;
use serde::Deserialize;
use url::Url;

/// The default name of the configuration file.
pub const CONFIG_FILE: &str = "deskmove.toml";

/// The whole configuration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The helpdesk history is read from.
    pub source: Endpoint,
    /// The helpdesk history is written to.
    pub target: Endpoint,
    /// Where deskmove keeps its staging store and downloaded files.
    #[serde(default)]
    pub store: StoreConfig,
    /// How vendor values are normalised.
    #[serde(default)]
    pub normalize: NormalizeConfig,
}

/// The helpdesks deskmove knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
pub enum Vendor {
    /// Intercom (source).
    Intercom,
    /// Chatwoot, cloud or self-hosted (target).
    Chatwoot,
}

impl Vendor {
    /// The vendor's documented call limits (see `deskmove_http::HostPolicy`).
    pub fn host_policy(self) -> HostPolicy {
        match self {
            Self::Intercom => HostPolicy::intercom(),
            Self::Chatwoot => HostPolicy::chatwoot(),
        }
    }

    /// The name used in config files and keys.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Intercom => "intercom",
            Self::Chatwoot => "chatwoot",
        }
    }

    /// The documented production address, when the vendor has one.
    pub fn default_base_url(self) -> Option<&'static str> {
        match self {
            // ../shared/research/intercom-api.md §1: US, EU and AU hosts.
            Self::Intercom => Some("https://api.intercom.io/"),
            Self::Chatwoot => None,
        }
    }
}

/// One side of the migration.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Endpoint {
    /// Which helpdesk: `intercom` or `chatwoot`.
    pub kind: Vendor,
    /// The API address. Intercom: `https://api.intercom.io` (US, the default),
    /// `https://api.eu.intercom.io` (EU) or `https://api.au.intercom.io` (AU).
    /// Chatwoot: your installation, e.g. `https://chatwoot.example.com`, or `https://app.chatwoot.com`.
    pub base_url: Option<Url>,
    /// Chatwoot only: the account id history is written to (the number in `/app/accounts/<id>/`).
    pub account_id: Option<u64>,
    /// The name of the environment variable holding the API token.
    pub token_env: Option<String>,
    /// A file holding the API token (it must be readable by you only: mode 0600).
    pub token_file: Option<PathBuf>,
    /// How politely to call this vendor: call budget, timeouts, retries. Leave it out to use the
    /// vendor's documented limits; set only the fields you want to change, e.g.
    /// `[source.http]` `calls_per_minute = 3000` when other integrations share the workspace.
    #[serde(default)]
    pub http: Option<toml::Table>,
    /// Never used: tokens are not accepted inline. Present only to explain that when someone tries.
    #[serde(default)]
    token: Option<toml::Value>,
}

/// Staging store settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// The SQLite staging store. It is also the read-only archive of everything read from the
    /// source. Created with mode 0600.
    #[serde(default = "default_store_path")]
    pub path: PathBuf,
    /// The folder downloaded attachments are kept in, named by content hash.
    #[serde(default = "default_blob_dir")]
    pub blobs: PathBuf,
}

impl Default for StoreConfig {
    fn default() -> Self {
        Self {
            path: default_store_path(),
            blobs: default_blob_dir(),
        }
    }
}

fn default_store_path() -> PathBuf {
    PathBuf::from("deskmove.sqlite")
}

fn default_blob_dir() -> PathBuf {
    PathBuf::from("blobs")
}

/// Normalisation settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NormalizeConfig {
    /// The country assumed for phone numbers written without an international prefix, as an
    /// ISO 3166 code such as `US`, `GB` or `DE`.
    #[serde(default = "default_region")]
    pub default_phone_region: String,
}

impl Default for NormalizeConfig {
    fn default() -> Self {
        Self {
            default_phone_region: default_region(),
        }
    }
}

fn default_region() -> String {
    "US".to_owned()
}

/// Why the configuration cannot be used. Every message names the file and what to change.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// There is no configuration file.
    #[error("no {} in {}. Run `deskmove init --from intercom --to chatwoot` to write one.", CONFIG_FILE, .0.display())]
    Missing(PathBuf),
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not valid TOML or has unknown or wrongly typed settings.
    #[error("{path} is not valid: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// What is wrong, with the line.
        message: String,
    },
    /// A token was written into the file.
    #[error(
        "{path}: [{side}] holds a token inline. Tokens never go in deskmove.toml: put it in an environment variable and write `token_env = \"NAME\"` (or `token_file = \"path\"`, mode 0600) instead."
    )]
    InlineSecret {
        /// The file.
        path: PathBuf,
        /// `source` or `target`.
        side: &'static str,
    },
    /// A required setting is missing or two settings disagree.
    #[error("{path}: {message}")]
    Incomplete {
        /// The file.
        path: PathBuf,
        /// What to add or change.
        message: String,
    },
}

impl Endpoint {
    /// The vendor's call policy with the user's `[..http]` settings laid over it.
    pub fn host_policy(&self) -> Result<HostPolicy, String> {
        let base = self.kind.host_policy();
        let Some(overrides) = &self.http else {
            return Ok(base);
        };
        let mut table = toml::Table::try_from(&base).map_err(|e| e.to_string())?;
        for (key, value) in overrides {
            table.insert(key.clone(), value.clone());
        }
        let policy: HostPolicy = table
            .try_into()
            .map_err(|e: toml::de::Error| e.to_string())?;
        policy.validate().map_err(|e| e.to_string())?;
        Ok(policy)
    }
}

impl Config {
    /// Reads and checks `deskmove.toml` in `dir`.
    pub fn load(dir: &Path) -> Result<Self, ConfigError> {
        let path = dir.join(CONFIG_FILE);
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                return Err(ConfigError::Missing(dir.to_owned()));
            }
            Err(source) => return Err(ConfigError::Read { path, source }),
        };
        Self::parse(&text, &path)
    }

    /// Parses and checks configuration text; `path` is only used in messages.
    pub fn parse(text: &str, path: &Path) -> Result<Self, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|e| ConfigError::Invalid {
            path: path.to_owned(),
            message: e.to_string(),
        })?;
        config.check(path)?;
        Ok(config)
    }

    fn check(&self, path: &Path) -> Result<(), ConfigError> {
        for (side, endpoint) in [("source", &self.source), ("target", &self.target)] {
            if endpoint.token.is_some() {
                return Err(ConfigError::InlineSecret {
                    path: path.to_owned(),
                    side,
                });
            }
            let incomplete = |message: String| ConfigError::Incomplete {
                path: path.to_owned(),
                message,
            };
            match (&endpoint.token_env, &endpoint.token_file) {
                (None, None) => {
                    return Err(incomplete(format!(
                        "[{side}] needs `token_env` (the environment variable holding the {} token) or `token_file`.",
                        endpoint.kind.as_str()
                    )));
                }
                (Some(_), Some(_)) => {
                    return Err(incomplete(format!(
                        "[{side}] sets both `token_env` and `token_file`; keep one."
                    )));
                }
                _ => {}
            }
            if endpoint.base_url.is_none() && endpoint.kind.default_base_url().is_none() {
                return Err(incomplete(format!(
                    "[{side}] needs `base_url`: the address of your {} installation.",
                    endpoint.kind.as_str()
                )));
            }
            if let Err(message) = endpoint.host_policy() {
                return Err(incomplete(format!("[{side}.http]: {message}")));
            }
            if endpoint.kind == Vendor::Chatwoot && endpoint.account_id.is_none() {
                return Err(incomplete(format!(
                    "[{side}] needs `account_id` (the number in /app/accounts/<id>/ of your Chatwoot)."
                )));
            }
        }
        if self.source.kind != Vendor::Intercom {
            return Err(ConfigError::Incomplete {
                path: path.to_owned(),
                message: format!(
                    "{} cannot be a source yet; deskmove reads from intercom.",
                    self.source.kind.as_str()
                ),
            });
        }
        if self.target.kind != Vendor::Chatwoot {
            return Err(ConfigError::Incomplete {
                path: path.to_owned(),
                message: format!(
                    "{} cannot be a target yet; deskmove writes to chatwoot.",
                    self.target.kind.as_str()
                ),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = r#"
[source]
kind = "intercom"
token_env = "INTERCOM_TOKEN"
[target]
kind = "chatwoot"
base_url = "https://chatwoot.example.com"
account_id = 3
token_env = "CHATWOOT_TOKEN"
"#;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("deskmove.toml"))
    }

    #[test]
    fn defaults_fill_what_is_left_out() {
        let config = parse(GOOD).unwrap();
        assert_eq!(config.store.path, PathBuf::from("deskmove.sqlite"));
        assert_eq!(config.normalize.default_phone_region, "US");
        assert!(
            config.source.base_url.is_none(),
            "the vendor default applies later"
        );
    }

    #[test]
    fn http_settings_override_only_what_they_name() {
        let text = GOOD.replace(
            "token_env = \"INTERCOM_TOKEN\"",
            "token_env = \"INTERCOM_TOKEN\"\nhttp = { calls_per_minute = 3000, request_timeout = \"20s\" }",
        );
        let config = parse(&text).unwrap();
        let policy = config.source.host_policy().unwrap();
        assert_eq!(policy.calls_per_minute, 3000);
        assert_eq!(policy.request_timeout, std::time::Duration::from_secs(20));
        assert_eq!(
            policy.fixed_window_secs,
            Some(10),
            "Intercom's window is kept"
        );
        assert_eq!(config.target.host_policy().unwrap(), HostPolicy::chatwoot());

        let bad = GOOD.replace(
            "token_env = \"INTERCOM_TOKEN\"",
            "token_env = \"INTERCOM_TOKEN\"\nhttp = { calls_per_minute = 0 }",
        );
        let err = parse(&bad).unwrap_err().to_string();
        assert!(
            err.contains("[source.http]") && err.contains("calls_per_minute"),
            "{err}"
        );
        let typo = GOOD.replace(
            "token_env = \"INTERCOM_TOKEN\"",
            "token_env = \"INTERCOM_TOKEN\"\nhttp = { calls_per_minit = 10 }",
        );
        let err = parse(&typo).unwrap_err().to_string();
        assert!(err.contains("calls_per_minit"), "{err}");
    }

    #[test]
    fn inline_tokens_are_refused_with_the_fix() {
        let text = GOOD.replace(
            "token_env = \"INTERCOM_TOKEN\"",
            "token = \"dG9rOnNlY3JldA==\"",
        );
        let err = parse(&text).unwrap_err().to_string();
        assert!(err.contains("[source] holds a token inline"), "{err}");
        assert!(err.contains("token_env"), "{err}");
        assert!(
            !err.contains("dG9rOnNlY3JldA=="),
            "the secret is never echoed: {err}"
        );
    }

    #[test]
    fn unknown_settings_and_missing_ones_are_named() {
        let err = parse(&format!("{GOOD}\n[store]\npth = \"x\"\n"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `pth`"), "{err}");
        let err = parse(&GOOD.replace("account_id = 3\n", ""))
            .unwrap_err()
            .to_string();
        assert!(err.contains("needs `account_id`"), "{err}");
        let err = parse(&GOOD.replace("base_url = \"https://chatwoot.example.com\"\n", ""))
            .unwrap_err()
            .to_string();
        assert!(err.contains("[target] needs `base_url`"), "{err}");
        let err = parse(&GOOD.replace("token_env = \"CHATWOOT_TOKEN\"", ""))
            .unwrap_err()
            .to_string();
        assert!(err.contains("[target] needs `token_env`"), "{err}");
    }
}
