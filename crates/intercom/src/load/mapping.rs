//! `mapping.toml` as the Intercom target reads it: which admin each source agent is.
//!
//! ```toml
//! [agents]            # source agent email → Intercom admin email ("" = the fallback admin)
//! "ann@old.example" = "ann@new.example"
//! ```
//!
//! Unlisted agents are matched by their own email. Sections other targets read (labels,
//! inboxes, states, ...) are accepted and ignored, so one file serves a move to either target.

use std::collections::BTreeMap;

use deskmove_core::{ContentHash, Record};
use serde::Deserialize;

/// The mapping decisions; `Default` is what a run without `mapping.toml` uses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
pub struct Mapping {
    /// Source agent email → the Intercom admin's email; `""` writes as the fallback admin.
    #[serde(default)]
    pub agents: BTreeMap<String, String>,
}

impl Mapping {
    /// Parses `mapping.toml`; the error names the line.
    pub fn from_toml(text: &str) -> Result<Mapping, String> {
        toml::from_str(text).map_err(|e: toml::de::Error| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].lines().count().max(1));
            match line {
                Some(l) => format!("mapping.toml line {l}: {}", e.message()),
                None => format!("mapping.toml: {}", e.message()),
            }
        })
    }

    /// The admin email `agent_email` is written as: its mapping, else itself; `None` when the
    /// mapping sends it to the fallback admin.
    pub fn admin_email(&self, agent_email: &str) -> Option<String> {
        let lower = agent_email.trim().to_lowercase();
        let mapped = self
            .agents
            .iter()
            .find(|(k, _)| k.trim().eq_ignore_ascii_case(&lower))
            .map(|(_, v)| v.trim().to_lowercase());
        match mapped {
            Some(v) if v.is_empty() => None,
            Some(v) => Some(v),
            None => Some(lower),
        }
    }

    /// The decision that shapes `record` as a hash, when the file changes it from the default:
    /// editing an agent's line makes a re-run match that agent again.
    pub fn fingerprint(&self, record: &Record) -> Option<ContentHash> {
        let Record::Agent(a) = record else {
            return None;
        };
        let email = a.email.as_deref()?;
        let mine = self.admin_email(email);
        if Mapping::default().admin_email(email) == mine {
            return None;
        }
        Some(ContentHash(
            blake3::hash(format!("agent:{mine:?}").as_bytes())
                .to_hex()
                .to_string(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agents_map_by_email_case_blind_and_empty_means_the_fallback() {
        let m = Mapping::from_toml(
            "[agents]\n\"Ann@Old.example\" = \"ann@new.example\"\n\"bot@old.example\" = \"\"\n[labels]\nvip = \"VIP\"\n",
        )
        .unwrap();
        assert_eq!(
            m.admin_email("ann@old.example").as_deref(),
            Some("ann@new.example")
        );
        assert_eq!(m.admin_email("BOT@old.example"), None);
        assert_eq!(
            m.admin_email("Zed@X.example").as_deref(),
            Some("zed@x.example")
        );
        assert!(
            Mapping::from_toml("[agents]\nx = 1\n")
                .unwrap_err()
                .contains("line")
        );
    }
}
