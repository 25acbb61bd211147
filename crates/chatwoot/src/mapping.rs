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
//! [attributes]        # source attribute name → Chatwoot display type
//! plan = "list"
//! ```

use std::collections::BTreeMap;

use deskmove_core::model::{AttributeDefinition, ConversationState, Tag};
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
    /// Source attribute name → the Chatwoot display type of its definition: `text`, `number`,
    /// `currency`, `percent`, `link`, `date`, `list` or `checkbox`. Unlisted attributes get the
    /// type nearest their source type.
    #[serde(default)]
    pub attributes: BTreeMap<String, String>,
}

const STATUSES: &[&str] = &["open", "resolved", "snoozed", "pending"];

/// Chatwoot's `attribute_display_type` names in their enum order
/// (`app/models/custom_attribute_definition.rb`).
pub const DISPLAY_TYPES: &[&str] = &[
    "text", "number", "currency", "percent", "link", "date", "list", "checkbox",
];

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
        for (from, to) in &mapping.attributes {
            if !DISPLAY_TYPES.contains(&to.as_str()) {
                return Err(format!(
                    "mapping.toml [attributes] `{from}` = \"{to}\": Chatwoot's attribute types are {}",
                    DISPLAY_TYPES.join(", ")
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

    /// The Chatwoot display type (`attribute_display_type`) for the definition `def`.
    pub fn attribute_display_type(&self, def: &AttributeDefinition) -> i32 {
        self.attributes
            .get(&def.name)
            .and_then(|t| DISPLAY_TYPES.iter().position(|d| d == t))
            .and_then(|i| i32::try_from(i).ok())
            .unwrap_or_else(|| crate::map::attribute_definition(def).display_type)
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

    /// The decisions of this mapping that shape `record`, hashed; `None` where they are the
    /// defaults' (so a run without `mapping.toml`, or with one that spells out the defaults,
    /// keeps the record's own hash, and only an edited decision makes a re-run update).
    pub fn fingerprint(&self, record: &Record) -> Option<ContentHash> {
        let mine = self.decision(record)?;
        if Mapping::default().decision(record).as_ref() == Some(&mine) {
            return None;
        }
        Some(ContentHash(
            blake3::hash(mine.as_bytes()).to_hex().to_string(),
        ))
    }

    /// What this mapping decides for `record`, in words; `None` for kinds it does not shape.
    fn decision(&self, record: &Record) -> Option<String> {
        match record {
            Record::Agent(a) => a
                .email
                .as_deref()
                .map(|e| format!("agent:{:?}", self.agent_email(e))),
            Record::Tag(t) => {
                let renamed = Tag {
                    name: self.label_name(&t.name).to_owned(),
                    ..t.clone()
                };
                Some(format!("label:{}", crate::map::label_title(&renamed).title))
            }
            Record::AttributeDefinition(d) => {
                Some(format!("attribute:{}", self.attribute_display_type(d)))
            }
            Record::Conversation(c) => Some(format!(
                "conv:{}:{:?}:{}",
                self.status(c.state),
                self.provenance(&c.key.system),
                self.inbox_name(&c.key.system, &crate::load::api::conversation_channel(c))
            )),
            _ => None,
        }
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

    #[test]
    fn spelled_out_defaults_keep_the_hash_and_an_edit_changes_it() {
        use deskmove_core::{RecordKind, SourceKey};
        let tag = Record::Tag(Tag {
            key: SourceKey::new("intercom", RecordKind::Tag, "1"),
            name: "VIP customer".into(),
            extra: Default::default(),
        });
        let spelled = Mapping::from_toml(
            "provenance_label = \"from-intercom\"\n[labels]\n\"VIP customer\" = \"vip-customer\"\n[states]\nclosed = \"resolved\"\n",
        )
        .unwrap();
        assert_ne!(spelled, Mapping::default());
        assert_eq!(spelled.fingerprint(&tag), None);
        let edited = Mapping::from_toml("[labels]\n\"VIP customer\" = \"big-fish\"\n").unwrap();
        assert!(edited.fingerprint(&tag).is_some());
        let err = Mapping::from_toml("[attributes]\nplan = \"dropdown\"\n").unwrap_err();
        assert!(err.contains("plan") && err.contains("checkbox"), "{err}");
    }
}
