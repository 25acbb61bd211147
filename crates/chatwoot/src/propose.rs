//! The proposal `deskmove map` writes: a `mapping.toml` for Chatwoot from what the source holds
//! (its agents, tags, attribute definitions, channels and states) and who the account's agents
//! are, every entry commented for review. An existing file is edited in place: the user's values
//! and comments stay, and only entries for what is new are added.

use std::collections::{BTreeMap, BTreeSet};

use deskmove_core::model::{AttributeDefinition, ConversationState, Record, Tag};
use deskmove_http::HttpError;
use secrecy::SecretString;
use serde::Deserialize;
use toml_edit::{DocumentMut, Item, Table, value};

use crate::config::TargetConfig;
use crate::mapping::{DISPLAY_TYPES, Mapping};

/// What the source holds that the mapping decides about.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// The source system (`intercom`), for the default inbox names.
    pub system: String,
    /// Agents: lower-cased email → (name, still active).
    pub agents: BTreeMap<String, (Option<String>, bool)>,
    /// Tags by name.
    pub tags: BTreeMap<String, Tag>,
    /// Attribute definitions by name.
    pub attributes: BTreeMap<String, AttributeDefinition>,
    /// Conversations per channel.
    pub channels: BTreeMap<String, u64>,
    /// Conversations per state.
    pub states: BTreeMap<&'static str, u64>,
}

impl Facts {
    /// Takes in what `record` says (other kinds are ignored).
    pub fn add(&mut self, record: &Record) {
        if self.system.is_empty() {
            self.system = record.key().system.clone();
        }
        match record {
            Record::Agent(a) => {
                if let Some(email) = a.email.as_deref().map(|e| e.trim().to_lowercase())
                    && !email.is_empty()
                {
                    self.agents.insert(email, (a.name.clone(), a.active));
                }
            }
            Record::Tag(t) => {
                self.tags.insert(t.name.clone(), t.clone());
            }
            Record::AttributeDefinition(d) => {
                self.attributes.insert(d.name.clone(), d.clone());
            }
            Record::Conversation(c) => {
                *self
                    .channels
                    .entry(crate::load::api::conversation_channel(c))
                    .or_default() += 1;
                *self.states.entry(state_name(c.state)).or_default() += 1;
            }
            _ => {}
        }
    }
}

fn state_name(state: ConversationState) -> &'static str {
    match state {
        ConversationState::Open => "open",
        ConversationState::Closed => "closed",
        ConversationState::Snoozed => "snoozed",
        ConversationState::Pending => "pending",
    }
}

/// What a proposal added and what needs the user's eye.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Proposal {
    /// The file's new text.
    #[serde(skip)]
    pub text: String,
    /// Entries added, as `table.key`.
    pub added: Vec<String>,
    /// Entries already in the file, left as they are.
    pub kept: u64,
    /// Source agents matched by email to an agent of the account.
    pub agents_matched: Vec<String>,
    /// Source agents with no agent of the same email in the account.
    pub agents_unmatched: Vec<String>,
    /// Label titles two or more tags end up as, with those tags.
    pub collisions: BTreeMap<String, Vec<String>>,
}

/// The proposal for `facts` against an account whose agents have `account_agents` (lower-cased
/// emails), laid over `existing` (the current `mapping.toml`, if any). An existing file that is
/// not TOML, or not a mapping, is an error naming the line.
pub fn propose(
    existing: Option<&str>,
    facts: &Facts,
    account_agents: &BTreeSet<String>,
) -> Result<Proposal, String> {
    let mut doc = match existing {
        Some(text) => {
            Mapping::from_toml(text)?;
            text.parse::<DocumentMut>()
                .map_err(|e| format!("mapping.toml: {e}"))?
        }
        None => {
            let mut doc = DocumentMut::new();
            doc.decor_mut().set_prefix(HEADER);
            doc
        }
    };
    let mut out = Proposal::default();
    if !doc.contains_key("provenance_label") {
        doc.insert(
            "provenance_label",
            value(format!("from-{}", facts.system.to_lowercase())),
        );
        out.added.push("provenance_label".into());
    } else {
        out.kept += 1;
    }

    let mut entries = Entries::new(&mut doc, &mut out);
    for (email, (name, active)) in &facts.agents {
        let who = name.as_deref().map_or(String::new(), |n| format!("{n}, "));
        let (to, comment) = if account_agents.contains(email) {
            entries.out.agents_matched.push(email.clone());
            (
                email.clone(),
                format!("{who}matched: the Chatwoot agent with the same email"),
            )
        } else {
            entries.out.agents_unmatched.push(email.clone());
            let state = if *active { "" } else { "has left; " };
            (
                String::new(),
                format!(
                    "{who}{state}no Chatwoot agent has this email. \"\" = skip: their messages are sent as the importing user and name them. To match, write their Chatwoot email; to invite them, invite them in Chatwoot first (the invitation emails them; deskmove never sends one)"
                ),
            )
        };
        entries.add("agents", AGENTS_HEAD, email, &to, &comment);
    }

    let mut titles: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, tag) in &facts.tags {
        let proposed = crate::map::label_title(tag).title;
        entries.add(
            "labels",
            LABELS_HEAD,
            name,
            &proposed,
            "Chatwoot label titles are lower-case letters, digits, `_` and `-`",
        );
    }
    // Collisions are judged on the file as it now reads, the user's edits included.
    let mapping = Mapping::from_toml(&entries.doc.to_string())?;
    for (name, tag) in &facts.tags {
        let renamed = Tag {
            name: mapping.label_name(name).to_owned(),
            ..tag.clone()
        };
        titles
            .entry(crate::map::label_title(&renamed).title)
            .or_default()
            .push(name.clone());
    }
    titles.retain(|_, tags| tags.len() > 1);
    for (title, tags) in &titles {
        for tag in tags {
            entries.flag_collision(tag, title, tags);
        }
    }
    entries.out.collisions = titles;

    for (name, def) in &facts.attributes {
        let shown = usize::try_from(crate::map::attribute_definition(def).display_type)
            .ok()
            .and_then(|i| DISPLAY_TYPES.get(i))
            .copied()
            .unwrap_or("text");
        let comment = format!(
            "{:?} attribute of type {:?} in the source; one of {}",
            def.model,
            def.data_type,
            DISPLAY_TYPES.join(", ")
        )
        .to_lowercase();
        entries.add("attributes", ATTRIBUTES_HEAD, name, shown, &comment);
    }

    let defaults = Mapping::default();
    for (channel, count) in &facts.channels {
        let inbox = defaults.inbox_name(&facts.system, channel);
        let comment = format!("{count} conversations; the API inbox is created when absent");
        entries.add("inboxes", INBOXES_HEAD, channel, &inbox, &comment);
    }
    for (state, count) in &facts.states {
        let status = match *state {
            "closed" => "resolved",
            other => other,
        };
        let comment = format!("{count} conversations; open, resolved, snoozed or pending");
        entries.add("states", STATES_HEAD, state, status, &comment);
    }
    let text = entries.doc.to_string();
    Mapping::from_toml(&text)?;
    out.text = text;
    Ok(out)
}

const HEADER: &str = "\
# mapping.toml: how records become Chatwoot's, proposed by `deskmove map` for your review.
# Edit any value; `deskmove map` again keeps your edits and comments and only adds new entries,
# and the next `deskmove run` updates exactly the records whose decision you changed.
";
const AGENTS_HEAD: &str = "\n# Source agent email → the Chatwoot agent's email; \"\" keeps the agent as attribution only.\n";
const LABELS_HEAD: &str = "\n# Tag name → label title.\n";
const ATTRIBUTES_HEAD: &str = "\n# Attribute name → Chatwoot attribute type.\n";
const INBOXES_HEAD: &str = "\n# Source channel → the API inbox its conversations go into.\n";
const STATES_HEAD: &str = "\n# Source state → Chatwoot status.\n";

/// Adds entries to the document's tables, counting what was added and kept.
struct Entries<'a> {
    doc: &'a mut DocumentMut,
    out: &'a mut Proposal,
    /// `table.key` of the entries this run added (only those get collision comments).
    new: BTreeSet<String>,
}

impl<'a> Entries<'a> {
    fn new(doc: &'a mut DocumentMut, out: &'a mut Proposal) -> Self {
        Self {
            doc,
            out,
            new: BTreeSet::new(),
        }
    }

    fn table(&mut self, name: &str, head: &str) -> &mut Table {
        if !self.doc.contains_key(name) {
            let mut t = Table::new();
            t.decor_mut().set_prefix(head);
            self.doc.insert(name, Item::Table(t));
        }
        self.doc[name]
            .as_table_mut()
            .expect("a mapping.toml that parsed as a mapping has tables here")
    }

    fn add(&mut self, table: &str, head: &str, key: &str, to: &str, comment: &str) {
        let t = self.table(table, head);
        if t.contains_key(key) {
            self.out.kept += 1;
            return;
        }
        t.insert(key, value(to));
        if let Some(mut k) = t.key_mut(key) {
            k.leaf_decor_mut().set_prefix(format!("# {comment}\n"));
        }
        let entry = format!("{table}.{key}");
        self.out.added.push(entry.clone());
        self.new.insert(entry);
    }

    fn flag_collision(&mut self, tag: &str, title: &str, tags: &[String]) {
        if !self.new.contains(&format!("labels.{tag}")) {
            return;
        }
        let Some(t) = self.doc["labels"].as_table_mut() else {
            return;
        };
        if let Some(mut k) = t.key_mut(tag) {
            let others = tags
                .iter()
                .map(|t| format!("`{t}`"))
                .collect::<Vec<_>>()
                .join(", ");
            k.leaf_decor_mut().set_prefix(format!(
                "# COLLISION: {others} all become the label `{title}`; give one another title to keep them apart\n"
            ));
        }
    }
}

#[derive(Deserialize)]
struct ListedAgent {
    email: Option<String>,
}

impl TargetConfig {
    /// The account's agents' emails, lower-cased (one `GET agents`; writes nothing).
    pub async fn agent_emails(
        &self,
        token: &SecretString,
    ) -> Result<BTreeSet<String>, Box<dyn std::error::Error + Send + Sync>> {
        let (Some(base_url), Some(account_id)) = (&self.base_url, self.account_id) else {
            return Err("[target] needs `base_url` and `account_id`".into());
        };
        let client = crate::client::connect(base_url, self.host_policy()?, token)?;
        let path = format!("api/v1/accounts/{account_id}/agents");
        let agents: Vec<ListedAgent> = client
            .send(client.get(&path))
            .await?
            .json()
            .map_err(|e: HttpError| Box::new(e) as Box<dyn std::error::Error + Send + Sync>)?;
        Ok(agents
            .into_iter()
            .filter_map(|a| a.email.map(|e| e.trim().to_lowercase()))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use deskmove_core::model::Agent;
    use deskmove_core::{RecordKind, SourceKey};

    fn facts() -> Facts {
        let mut f = Facts::default();
        let tag = |id: &str, name: &str| {
            Record::Tag(Tag {
                key: SourceKey::new("intercom", RecordKind::Tag, id),
                name: name.into(),
                extra: Default::default(),
            })
        };
        f.add(&tag("1", "VIP customer"));
        f.add(&tag("2", "vip  Customer!"));
        f.add(&tag("3", "billing"));
        let agent = |id: &str, email: &str| {
            Record::Agent(Agent {
                key: SourceKey::new("intercom", RecordKind::Agent, id),
                name: None,
                email: Some(email.into()),
                active: true,
                extra: Default::default(),
            })
        };
        f.add(&agent("1", "Ann@X.example"));
        f.add(&agent("2", "bob@x.example"));
        f
    }

    #[test]
    fn proposes_matches_flags_collisions_and_keeps_edits() {
        let agents = BTreeSet::from(["ann@x.example".to_owned()]);
        let first = propose(None, &facts(), &agents).unwrap();
        assert_eq!(first.agents_matched, ["ann@x.example"]);
        assert_eq!(first.agents_unmatched, ["bob@x.example"]);
        assert_eq!(
            first.collisions.get("vip-customer").map(Vec::len),
            Some(2),
            "{first:?}"
        );
        assert!(first.text.contains("COLLISION"), "{}", first.text);
        let m = Mapping::from_toml(&first.text).unwrap();
        assert_eq!(m.agent_email("ann@x.example"), Some("ann@x.example".into()));
        assert_eq!(m.agent_email("bob@x.example"), None);

        assert!(
            first.text.contains("billing = \"billing\""),
            "{}",
            first.text
        );
        let edited = first
            .text
            .replace("billing = \"billing\"", "billing = \"money\" # mine");
        let edited = format!("# my own note\n{edited}");
        let mut more = facts();
        more.add(&Record::Tag(Tag {
            key: SourceKey::new("intercom", RecordKind::Tag, "4"),
            name: "new tag".into(),
            extra: Default::default(),
        }));
        let second = propose(Some(&edited), &more, &agents).unwrap();
        assert_eq!(second.added, ["labels.new tag"]);
        assert!(second.text.contains("# my own note"), "{}", second.text);
        assert!(
            second.text.contains("billing = \"money\" # mine"),
            "{}",
            second.text
        );
        assert!(
            second.text.contains("\"new tag\" = \"new-tag\""),
            "{}",
            second.text
        );
    }
}
