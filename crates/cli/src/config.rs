//! `deskmove.toml`: what the user writes. These doc comments are the user documentation of each
//! setting. Secrets are never written here, only the name of the environment variable or file
//! that holds them, so the file can be committed and shared safely.

use std::path::{Path, PathBuf};

use deskmove_core::config::TokenSource;
use secrecy::SecretString;
use serde::Deserialize;

use crate::registry::{SourceSection, TargetSection};

/// The default name of the configuration file.
pub const CONFIG_FILE: &str = "deskmove.toml";

/// The whole configuration. `[source]` and `[target]` belong to the connectors their `kind`
/// names (see the registry); this file holds what every pair shares.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// The helpdesk history is read from: `kind` and that connector's settings.
    pub source: SourceSection,
    /// The helpdesk history is written to: `kind` and that connector's settings.
    pub target: TargetSection,
    /// Where deskmove keeps its staging store and downloaded files.
    #[serde(default)]
    pub store: StoreConfig,
    /// How vendor values are normalised.
    #[serde(default)]
    pub normalize: NormalizeConfig,
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

/// The error of the `[source]` or `[target]` section read on its own, pointing at the key.
///
/// `kind` picks the section's type, so serde reads the section into a buffer before the
/// connector's struct sees it, and an error found there points only at the section's header.
/// Reading the section again straight into the struct `kind` names keeps each key's position.
fn section_error(text: &str) -> Option<toml::de::Error> {
    use toml::de::{DeTable, DeValue, ValueDeserializer};
    let root = DeTable::parse(text).ok()?.into_inner();
    for (key, value) in root {
        let side = key.get_ref().as_ref();
        if side != "source" && side != "target" {
            continue;
        }
        let span = value.span();
        let DeValue::Table(table) = value.into_inner() else {
            continue;
        };
        let mut kind = None;
        let rest: DeTable = table
            .into_iter()
            .filter(|(key, value)| {
                let is_kind = key.get_ref() == "kind";
                if is_kind {
                    kind = value.get_ref().as_str().map(str::to_owned);
                }
                !is_kind
            })
            .collect();
        let section = ValueDeserializer::from(toml::Spanned::new(span, DeValue::Table(rest)));
        let result = match side {
            "source" => SourceSection::from_kind(kind.as_deref()?, section)?.map(drop),
            _ => TargetSection::from_kind(kind.as_deref()?, section)?.map(drop),
        };
        if let Err(mut error) = result {
            error.set_input(Some(text));
            return Some(error);
        }
    }
    None
}

/// Why the configuration cannot be used. Every message names the file and what to change.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// There is no configuration file.
    #[error("no {} in {}. Run `{}` to write one.", CONFIG_FILE, .0.display(), crate::registry::init_command())]
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
    /// A required setting is missing, two settings disagree or a token was written inline;
    /// one line per problem, each naming the key.
    #[error("{path}: {message}")]
    Incomplete {
        /// The file.
        path: PathBuf,
        /// What to add or change.
        message: String,
    },
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
            message: section_error(text).unwrap_or(e).to_string(),
        })?;
        config.check(path, text)?;
        Ok(config)
    }

    fn check(&self, path: &Path, text: &str) -> Result<(), ConfigError> {
        let problems: Vec<String> = self
            .source
            .check()
            .into_iter()
            .chain(self.target.check())
            .map(|problem| match problem_line(text, &problem) {
                Some(line) => format!("line {line}: {problem}"),
                None => problem,
            })
            .collect();
        if problems.is_empty() {
            return Ok(());
        }
        Err(ConfigError::Incomplete {
            path: path.to_owned(),
            message: problems.join("\n  "),
        })
    }
}

/// The line (1-based) of `text` a connector's problem message is about: the line setting the
/// first backticked key the message names inside the `[section]` it starts with, else that
/// section's header (where a missing key goes). `None` when the message names no section or
/// the section is not written in the file.
fn problem_line(text: &str, problem: &str) -> Option<usize> {
    let section = problem.strip_prefix('[')?.split(']').next()?;
    let lines: Vec<&str> = text.lines().collect();
    let header = lines
        .iter()
        .position(|l| l.trim() == format!("[{section}]"))?;
    let end = lines[header + 1..]
        .iter()
        .position(|l| l.trim_start().starts_with('['))
        .map_or(lines.len(), |i| header + 1 + i);
    let keys = problem.split('`').skip(1).step_by(2);
    for key in keys {
        let found = lines[header + 1..end].iter().position(|l| {
            l.trim_start()
                .strip_prefix(key)
                .is_some_and(|rest| rest.trim_start().starts_with('='))
        });
        if let Some(i) = found {
            return Some(header + 2 + i);
        }
    }
    Some(header + 1)
}

/// Reads the token from where `place` says, after the same checks `deskmove status` makes (set,
/// non-empty, a file private to its owner). The error says what to do and never holds the token.
pub fn read_token(place: &TokenSource, dir: &Path, vendor: &str) -> Result<SecretString, String> {
    place.locate(dir, vendor)?;
    let text = match place {
        TokenSource::Env(var) => std::env::var(var).map_err(|_| {
            format!("${var} does not hold valid UTF-8 text; put the {vendor} token there")
        })?,
        TokenSource::File(file) => {
            let path = dir.join(file);
            std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read the token file {}: {e}", path.display()))?
        }
    };
    // A file usually ends with a newline; no token has surrounding spaces.
    let token = text.trim();
    if token.is_empty() {
        return Err(format!(
            "the {vendor} token is empty; {}",
            place_hint(place)
        ));
    }
    Ok(SecretString::from(token.to_owned()))
}

fn place_hint(place: &TokenSource) -> String {
    match place {
        TokenSource::Env(var) => format!("set ${var}"),
        TokenSource::File(file) => format!("write it to {}", file.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::commands::init::template;
    use crate::registry::{SourceName, TargetName, connectors, default_pair};

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("deskmove.toml"))
    }

    /// The default pair's template, which `init` writes.
    fn good() -> String {
        let (source, target) = default_pair();
        template(SourceName(source), TargetName(target))
    }

    /// `good()` with the first line starting with `key =` in `[side]` replaced by `line`.
    fn replace_in(side: &str, key: &str, line: &str) -> String {
        let text = good();
        let start = text.find(&format!("[{side}]\n")).unwrap();
        let at = start + text[start..].find(&format!("\n{key} =")).unwrap() + 1;
        let end = at + text[at..].find('\n').unwrap();
        format!("{}{line}{}", &text[..at], &text[end..])
    }

    #[test]
    fn every_registered_template_parses_with_every_other_side() {
        let (source, target) = default_pair();
        for &connector in connectors() {
            let registration = connector.registration();
            if registration.is_source() {
                let config = parse(&template(SourceName(connector), TargetName(target))).unwrap();
                assert_eq!(config.source.connector(), connector);
            }
            if registration.is_target() {
                let config = parse(&template(SourceName(source), TargetName(connector))).unwrap();
                assert_eq!(config.target.connector(), connector);
            }
        }
    }

    #[test]
    fn defaults_fill_what_is_left_out() {
        let text = good();
        let cut = text.find("[store]").unwrap();
        let config = parse(&text[..cut]).unwrap();
        assert_eq!(config.store.path, PathBuf::from("deskmove.sqlite"));
        assert_eq!(config.normalize.default_phone_region, "US");
    }

    #[test]
    fn unknown_settings_are_named_with_their_line() {
        let err = parse(&format!("{}\n[stor]\npath = \"x\"\n", good()))
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown field `stor`"), "{err}");

        let text = good().replace("[store]\n", "[store]\npth = \"x\"\n");
        let line = text.lines().position(|l| l.starts_with("pth")).unwrap() + 1;
        let err = parse(&text).unwrap_err().to_string();
        assert!(err.contains("unknown field `pth`"), "{err}");
        assert!(err.contains(&format!("line {line}")), "{err}");
        assert!(err.starts_with("deskmove.toml is not valid"), "{err}");

        for side in ["source", "target"] {
            let text = replace_in(side, "token_env", "token_env = \"T\"\ntokn_file = \"t\"");
            let line = text
                .lines()
                .position(|l| l.starts_with("tokn_file"))
                .unwrap()
                + 1;
            let err = parse(&text).unwrap_err().to_string();
            assert!(err.contains("unknown field `tokn_file`"), "{side}: {err}");
            assert!(err.contains(&format!("line {line}")), "{side}: {err}");
        }
    }

    /// The 1-based line of the first line of `text` starting with `start`.
    fn line_of(text: &str, start: &str) -> usize {
        text.lines().position(|l| l.starts_with(start)).unwrap() + 1
    }

    #[test]
    fn a_wrongly_typed_value_is_named_with_its_line_and_key() {
        let text = replace_in("target", "account_id", "account_id = \"one\"");
        let err = parse(&text).unwrap_err().to_string();
        let line = line_of(&text, "account_id");
        assert!(err.starts_with("deskmove.toml is not valid"), "{err}");
        assert!(err.contains(&format!("line {line}")), "{err}");
        assert!(err.contains("account_id = \"one\""), "{err}");
    }

    #[test]
    fn an_unknown_choice_is_named_with_its_line_and_the_known_ones() {
        let text = replace_in("target", "path", "path = \"sql\"");
        let err = parse(&text).unwrap_err().to_string();
        assert!(
            err.contains(&format!("line {}", line_of(&text, "path ="))),
            "{err}"
        );
        assert!(err.contains("`sql`") && err.contains("`postgres`"), "{err}");
    }

    #[test]
    fn a_missing_setting_is_named_with_its_section_line() {
        let text = replace_in("target", "account_id", "");
        let err = parse(&text).unwrap_err().to_string();
        assert!(err.starts_with("deskmove.toml: line "), "{err}");
        assert!(
            err.contains(&format!(
                "line {}: [target] needs `account_id`",
                line_of(&text, "[target]")
            )),
            "{err}"
        );
    }

    #[test]
    fn a_value_that_cannot_work_is_named_with_its_own_line() {
        let text = replace_in("target", "base_url", "base_url = \"ftp://x\"");
        let err = parse(&text).unwrap_err().to_string();
        let line = line_of(&text, "base_url = \"ftp");
        assert!(
            err.contains(&format!("line {line}: [target] `base_url`")),
            "{err}"
        );
    }

    #[test]
    fn broken_toml_is_named_with_its_line() {
        let text = format!("{}\noops = = 1\n", good());
        let err = parse(&text).unwrap_err().to_string();
        assert!(
            err.contains(&format!("line {}", line_of(&text, "oops"))),
            "{err}"
        );
    }

    #[test]
    fn unknown_kinds_are_named_with_the_known_ones() {
        let text = replace_in("source", "kind", "kind = \"helpdesk-x\"");
        let err = parse(&text).unwrap_err().to_string();
        assert!(err.contains("helpdesk-x"), "{err}");
        assert!(err.contains(default_pair().0.name()), "{err}");
        let text = replace_in("target", "kind", "");
        let err = parse(&text).unwrap_err().to_string();
        assert!(err.contains("kind"), "{err}");
    }

    #[test]
    fn inline_tokens_are_refused_with_the_fix_and_never_echoed() {
        for side in ["source", "target"] {
            let text = replace_in(side, "token_env", "token = \"dG9rOnNlY3JldA==\"");
            let err = parse(&text).unwrap_err().to_string();
            assert!(
                err.contains(&format!("[{side}] holds a token inline")),
                "{err}"
            );
            assert!(err.contains("token_env"), "{err}");
            assert!(
                !err.contains("dG9rOnNlY3JldA=="),
                "the secret is never echoed: {err}"
            );
        }
    }

    #[test]
    fn missing_tokens_and_bad_call_settings_are_named() {
        for side in ["source", "target"] {
            let err = parse(&replace_in(side, "token_env", ""))
                .unwrap_err()
                .to_string();
            assert!(
                err.contains(&format!("[{side}] needs `token_env`")),
                "{err}"
            );
            let zero = replace_in(
                side,
                "token_env",
                "token_env = \"T\"\nhttp = { calls_per_minute = 0 }",
            );
            let err = parse(&zero).unwrap_err().to_string();
            assert!(
                err.contains(&format!("[{side}.http]")) && err.contains("calls_per_minute"),
                "{err}"
            );
        }
    }
}
