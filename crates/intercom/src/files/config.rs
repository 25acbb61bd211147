//! `[source]` with `kind = "intercom-files"`: a folder of Intercom API answers saved to disk.
//! These doc comments are the user documentation of each setting.

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The `[source]` settings `deskmove init` writes after `kind = "intercom-files"`.
pub const FILES_TEMPLATE: &str = r#"# The folder holding what your earlier Intercom export saved: API answers as .json files
# (list pages or single objects, e.g. `curl .../conversations/123 > conversations/123.json`)
# and SDK dumps as .jsonl (one object per line).
dir = "intercom-export"
# Hosts attachments are downloaded from besides Intercom's own (no token is ever sent):
# file_hosts = ["127.0.0.1:4567"]
"#;

/// A folder of saved Intercom API answers, read as the Intercom API itself would be.
///
/// Every `.json`, `.jsonl` and `.ndjson` file under `dir` is read, in path order. A `.json`
/// file holds one API answer: a list page (`{"type": "conversation.list", ...}`,
/// `{"type": "list", "data": [...]}`), a single object (`{"type": "conversation", ...}`) or an
/// array of objects; a `.jsonl` file holds one such answer or object per line (what the SDKs'
/// `to_dict()` dumps give). Each object is taken by its `type` (`admin`, `team`, `tag`,
/// `data_attribute`, `conversation_attribute`, `segment`, `company`, `contact`,
/// `conversation`, `ticket`, `macro`, `collection`, `article`), or, without one, by its file's
/// name (`contacts.jsonl`). A retrieved conversation (with its `conversation_parts`, e.g.
/// `conversations/123.json`) wins over the same conversation listed without parts.
///
/// A contact's whole tag, company and note lists are read from `contacts/<id>/tags*.json`,
/// `contacts/<id>/companies*.json` and `contacts/<id>/notes*.json` (the answers of
/// `GET /contacts/<id>/tags`, `/companies` and `/notes`) when the contact's own lists say they
/// have more. Attachments are downloaded from the URLs in the files while those still work
/// (Intercom's signed URLs expire: read a fresh dump soon after saving it). A line or file that
/// is not valid JSON becomes a problem naming the file and line; the rest is imported.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FilesConfig {
    /// The folder, relative to the one deskmove.toml is in, or absolute.
    pub dir: PathBuf,
    /// Extra hosts to download attachments from besides Intercom's own, as `host` or
    /// `host:port`, e.g. `file_hosts = ["127.0.0.1:4567"]` for a sandbox's files.
    #[serde(default)]
    pub file_hosts: Vec<String>,
}

impl FilesConfig {
    /// Reads the folder `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        Self {
            dir: dir.into(),
            file_hosts: Vec::new(),
        }
    }

    /// These settings with `host` (`host:port`) allowed as a file host too.
    pub fn with_file_host(mut self, host: impl Into<String>) -> Self {
        self.file_hosts.push(host.into());
        self
    }

    /// These settings with a relative `dir` taken relative to `base` (deskmove.toml's folder).
    pub fn relative_to(mut self, base: &Path) -> Self {
        if self.dir.is_relative() {
            self.dir = base.join(&self.dir);
        }
        self
    }

    /// What is wrong with the settings, one message per problem naming the key to change.
    pub fn check(&self) -> Vec<String> {
        let mut problems = Vec::new();
        if !self.dir.is_dir() {
            problems.push(format!(
                "[source] `dir`: {} is not a folder",
                self.dir.display()
            ));
        }
        let policy = crate::SourceOptions::new(
            url::Url::parse(crate::config::DEFAULT_BASE_URL).expect("the default is a URL"),
        )
        .file_policy;
        if let Err(e) = crate::client::connect_files(policy, &self.file_hosts) {
            problems.push(format!("[source] `file_hosts`: {e}"));
        }
        problems
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_template_parses_and_unknown_keys_are_refused() {
        let config: FilesConfig = toml::from_str(FILES_TEMPLATE).unwrap();
        assert_eq!(config.dir, PathBuf::from("intercom-export"));
        assert_eq!(
            config.relative_to(Path::new("/x")).dir,
            PathBuf::from("/x/intercom-export")
        );
        let err = toml::from_str::<FilesConfig>("dir = \"d\"\ntoken_env = \"T\"\n").unwrap_err();
        assert!(
            err.to_string().contains("unknown field `token_env`"),
            "{err}"
        );
    }
}
