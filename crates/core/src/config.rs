//! What every connector's `[source]` or `[target]` section shares, written once: the token comes
//! from an environment variable or a private file and never from `deskmove.toml` itself, and an
//! `[..http]` table lays the user's call settings over the connector's documented limits.
//!
//! Serde's `flatten` does not combine with `deny_unknown_fields`, so each connector's section
//! repeats the three fields (`token_env`, `token_file`, `http`, plus the hidden inline `token`)
//! and calls these helpers for their logic.

use std::path::{Path, PathBuf};

use serde::de::{DeserializeOwned, IgnoredAny};
use serde::{Deserialize, Deserializer, Serialize};

/// Whether the section held a `token = …` setting. The value itself is skipped while parsing,
/// so a secret written there is never kept in memory or echoed in a message.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InlineToken(bool);

impl InlineToken {
    /// Whether a token was written inline.
    pub fn is_present(self) -> bool {
        self.0
    }
}

impl<'de> Deserialize<'de> for InlineToken {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        IgnoredAny::deserialize(deserializer)?;
        Ok(Self(true))
    }
}

/// Where a connector's token is read from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenSource {
    /// An environment variable, by name.
    Env(String),
    /// A file readable by its owner only (mode 0600), relative to the working directory.
    File(PathBuf),
}

impl TokenSource {
    /// Picks the token's place from a section's settings, or says what to write instead. `side`
    /// is `source` or `target`, `vendor` the connector's display name (both only for messages).
    pub fn from_settings(
        side: &str,
        vendor: &str,
        token_env: Option<&str>,
        token_file: Option<&Path>,
        inline: InlineToken,
    ) -> Result<Self, String> {
        if inline.is_present() {
            return Err(format!(
                "[{side}] holds a token inline. Tokens never go in deskmove.toml: put it in an environment variable and write `token_env = \"NAME\"` (or `token_file = \"path\"`, mode 0600) instead."
            ));
        }
        match (token_env, token_file) {
            (Some(var), None) if !var.is_empty() => Ok(Self::Env(var.to_owned())),
            (Some(_), None) => Err(format!(
                "[{side}] `token_env` is empty; name the environment variable holding the {vendor} token."
            )),
            (None, Some(file)) => Ok(Self::File(file.to_owned())),
            (None, None) => Err(format!(
                "[{side}] needs `token_env` (the environment variable holding the {vendor} token) or `token_file`."
            )),
            (Some(_), Some(_)) => Err(format!(
                "[{side}] sets both `token_env` and `token_file`; keep one."
            )),
        }
    }

    /// Checks the token is where the settings say, without reading it. `Ok` says where it is;
    /// `Err` says what to do. `dir` is the directory a relative `token_file` is taken from.
    pub fn locate(&self, dir: &Path, vendor: &str) -> Result<String, String> {
        match self {
            Self::Env(var) => match std::env::var_os(var) {
                Some(value) if !value.is_empty() => Ok(format!("the {vendor} token is in ${var}")),
                _ => Err(format!(
                    "${var} is not set. Put the {vendor} token there: export {var}=..."
                )),
            },
            Self::File(file) => {
                let path = dir.join(file);
                match std::fs::metadata(&path) {
                    Err(_) => Err(format!("the token file {} does not exist", path.display())),
                    Ok(meta) if !private(&meta) => Err(format!(
                        "the token file {} is readable by others; run chmod 600 on it",
                        path.display()
                    )),
                    Ok(_) => Ok(format!("the {vendor} token is in {}", path.display())),
                }
            }
        }
    }
}

#[cfg(unix)]
fn private(meta: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::PermissionsExt;
    meta.permissions().mode() & 0o077 == 0
}

#[cfg(not(unix))]
fn private(_meta: &std::fs::Metadata) -> bool {
    true
}

/// The user's `[source.http]` or `[target.http]` table: only the call settings they want to
/// change. Which names are allowed is decided by the policy it is laid over.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(transparent)]
pub struct HttpOverrides(serde_json::Map<String, serde_json::Value>);

impl HttpOverrides {
    /// `base` with every setting named here replaced; an unknown name or a wrong type is an
    /// error naming it. The policy's own checks (ranges) are the caller's to run.
    pub fn apply<P: Serialize + DeserializeOwned>(&self, base: &P) -> Result<P, String> {
        let mut merged = match serde_json::to_value(base).map_err(|e| e.to_string())? {
            serde_json::Value::Object(map) => map,
            _ => return Err("the call policy is not a table".to_owned()),
        };
        for (key, value) in &self.0 {
            merged.insert(key.clone(), value.clone());
        }
        serde_json::from_value(serde_json::Value::Object(merged)).map_err(|e| e.to_string())
    }
}

/// `base` with the user's overrides, if any, laid over it (see [`HttpOverrides::apply`]).
pub fn with_overrides<P: Serialize + DeserializeOwned + Clone>(
    base: &P,
    overrides: Option<&HttpOverrides>,
) -> Result<P, String> {
    match overrides {
        Some(overrides) => overrides.apply(base),
        None => Ok(base.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Policy {
        calls: u32,
        window: Option<u64>,
    }

    #[test]
    fn overrides_replace_only_what_they_name_and_refuse_unknown_names() {
        let base = Policy {
            calls: 10,
            window: Some(60),
        };
        let set: HttpOverrides = serde_json::from_str(r#"{"calls": 3}"#).unwrap();
        assert_eq!(
            set.apply(&base).unwrap(),
            Policy {
                calls: 3,
                window: Some(60)
            }
        );
        assert_eq!(with_overrides(&base, None).unwrap(), base);
        let typo: HttpOverrides = serde_json::from_str(r#"{"cals": 3}"#).unwrap();
        assert!(typo.apply(&base).unwrap_err().contains("cals"));
    }

    #[test]
    fn token_place_is_one_of_env_or_file_and_never_inline() {
        let env = TokenSource::from_settings("source", "X", Some("T"), None, InlineToken(false));
        assert_eq!(env.unwrap(), TokenSource::Env("T".into()));
        let both = TokenSource::from_settings(
            "source",
            "X",
            Some("T"),
            Some(Path::new("t")),
            InlineToken::default(),
        );
        assert!(both.unwrap_err().contains("keep one"));
        let inline = TokenSource::from_settings("target", "X", Some("T"), None, InlineToken(true));
        assert!(
            inline
                .unwrap_err()
                .contains("[target] holds a token inline")
        );
        let none = TokenSource::from_settings("target", "X", None, None, InlineToken(false));
        assert!(none.unwrap_err().contains("[target] needs `token_env`"));
    }
}
