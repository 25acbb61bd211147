//! `mapping.toml`: the decisions that shape what a record becomes in Chatwoot — which agent an
//! author is, which label a tag becomes, which inbox a channel goes to, which state a state is
//! — with sensible defaults when the file is absent. `deskmove map` proposes one.
//!
//! ```toml
//! provenance_label = "from-intercom"   # "" for none
//! [agents]            # source agent email → Chatwoot agent email ("" = attribution only)
//! "ann@old.example" = "ann@new.example"
//! [labels]            # tag name → label title
//! "VIP customer" = "vip"
//! [inboxes]           # source channel → inbox name
//! email = "Intercom email (imported)"
//! [states]            # source state → Chatwoot status
//! pending = "open"
//! ```

use std::collections::BTreeMap;

use deskmove_core::model::ConversationState;
use deskmove_core::{ContentHash, Record};
use serde::{Deserialize, Serialize};

/// The mapping decisions; `Default` is what a run without `mapping.toml` uses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    /// The label every imported conversation gets, naming where it came from. Unset:
    /// `from-<source system>`; `""`: none.
    #[serde(default)]
    pub provenance_label: Option<String>,
    /// Source agent email → the Chatwoot agent's email; `""` keeps the agent as attribution
    /// only. Unlisted agents are matched by their own email.
    #[serde(default)]
    pub agents: BTreeMap<String, String>,
    /// Tag name → label title (Chatwoot's title rule still applies). Unlisted tags are slugged.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Source channel → the name of the API inbox its conversations go into. Unlisted
    /// channels get `<System> <channel> (imported)`.
    #[serde(default)]
    pub inboxes: BTreeMap<String, String>,
    /// Source state (`open`, `closed`, `snoozed`, `pending`) → Chatwoot status (`open`,
    /// `resolved`, `snoozed`, `pending`). Unlisted states map to their namesakes.
    #[serde(default)]
    pub states: BTreeMap<String, String>,
}

const STATUSES: &[&str] = &["open", "resolved", "snoozed", "pending"];

impl Mapping {
    /// Parses `mapping.toml`; the error names the line and the key.
    pub fn from_toml(text: &str) -> Result<Mapping, String> {
        let mapping: Mapping = toml::from_str(text).map_err(|e| {
            let line = e
                .span()
                .map(|s| text[..s.start.min(text.len())].lines().count().max(1));
            match line {
                Some(l) => format!("mapping.toml line {l}: {}", e.message()),
                None => format!("mapping.toml: {}", e.message()),
            }
        })?;
        for (from, to) in &mapping.states {
            if !STATUSES.contains(&to.as_str()) {
                return Err(format!(
                    "mapping.toml [states] `{from}` = \"{to}\": Chatwoot's statuses are open, resolved, snoozed and pending"
                ));
            }
        }
        Ok(mapping)
    }

    /// The label every imported conversation of `system` gets, if any.
    pub fn provenance(&self, system: &str) -> Option<String> {
        match self.provenance_label.as_deref() {
            Some("") => None,
            Some(l) => Some(l.to_owned()),
            None => Some(format!("from-{}", system.to_lowercase())),
        }
    }

    /// The Chatwoot email an agent with `email` is matched by; `None`: attribution only.
    pub fn agent_email(&self, email: &str) -> Option<String> {
        let lower = email.trim().to_lowercase();
        match self
            .agents
            .iter()
            .find(|(k, _)| k.trim().eq_ignore_ascii_case(&lower))
        {
            Some((_, to)) if to.trim().is_empty() => None,
            Some((_, to)) => Some(to.trim().to_lowercase()),
            None => Some(lower),
        }
    }

    /// The title a tag named `name` should get before Chatwoot's rule is applied.
    pub fn label_name<'a>(&'a self, name: &'a str) -> &'a str {
        self.labels.get(name).map_or(name, String::as_str)
    }

    /// The inbox name for `channel` of `system`.
    pub fn inbox_name(&self, system: &str, channel: &str) -> String {
        self.inboxes.get(channel).cloned().unwrap_or_else(|| {
            let mut s = system.chars();
            let system = s
                .next()
                .map(|c| c.to_uppercase().chain(s).collect::<String>())
                .unwrap_or_default();
            format!("{system} {channel} (imported)")
        })
    }

    /// The Chatwoot status for `state`.
    pub fn status(&self, state: ConversationState) -> String {
        let name = match state {
            ConversationState::Open => "open",
            ConversationState::Closed => "closed",
            ConversationState::Snoozed => "snoozed",
            ConversationState::Pending => "pending",
        };
        self.states.get(name).cloned().unwrap_or_else(|| {
            match state {
                ConversationState::Closed => "resolved",
                _ => name,
            }
            .to_owned()
        })
    }

    /// The decisions of this mapping that shape `record`, hashed; `None` when the default
    /// mapping decides (so a run without `mapping.toml` keeps the record's own hash).
    pub fn fingerprint(&self, record: &Record) -> Option<ContentHash> {
        if *self == Mapping::default() {
            return None;
        }
        let decided = match record {
            Record::Agent(a) => a
                .email
                .as_deref()
                .map(|e| format!("agent:{:?}", self.agent_email(e))),
            Record::Tag(t) => Some(format!("label:{}", self.label_name(&t.name))),
            Record::Conversation(c) => Some(format!(
                "conv:{}:{:?}:{:?}",
                self.status(c.state),
                self.provenance(&c.key.system),
                self.inboxes
            )),
            _ => None,
        }?;
        Some(ContentHash(
            blake3::hash(decided.as_bytes()).to_hex().to_string(),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_match_by_email_and_slug_and_name_inboxes() {
        let m = Mapping::default();
        assert_eq!(
            m.agent_email(" Ann@X.example "),
            Some("ann@x.example".into())
        );
        assert_eq!(m.provenance("intercom"), Some("from-intercom".into()));
        assert_eq!(
            m.inbox_name("intercom", "email"),
            "Intercom email (imported)"
        );
        assert_eq!(m.status(ConversationState::Closed), "resolved");
    }

    #[test]
    fn a_file_overrides_and_errors_name_line_and_key() {
        let m = Mapping::from_toml(
            "provenance_label = \"\"\n[agents]\n\"old@x.example\" = \"\"\n[states]\npending = \"open\"\n",
        )
        .unwrap();
        assert_eq!(m.provenance("intercom"), None);
        assert_eq!(m.agent_email("old@x.example"), None);
        assert_eq!(m.status(ConversationState::Pending), "open");
        let err = Mapping::from_toml("provenance_label = \"a\"\n\n[agentz]\n").unwrap_err();
        assert!(err.contains("line 3") && err.contains("agentz"), "{err}");
        let err = Mapping::from_toml("[states]\nopen = \"closed\"\n").unwrap_err();
        assert!(err.contains("open"), "{err}");
    }
}
