//! Liquid rendering of outgoing and template message content, as `Liquidable` does it.
//!
//! `../shared/research/chatwoot.md §2.4` (`app/models/concerns/liquidable.rb`): before create,
//! outgoing/template content is parsed as a Liquid template and rendered with the drops `contact`,
//! `agent`, `conversation`, `inbox`, `account`; text between backticks is wrapped in
//! `{% raw %}`; on a Liquid error the content is kept unchanged. Ruby Liquid renders unknown
//! variables as empty, so `{{first_name}}` silently disappears. The `liquid` crate is strict where
//! Ruby Liquid 5.4 (the Gemfile's, in its default lax mode) is not: unknown names (hence the
//! lenient [`Node`] tree below), unknown filters (Ruby's `Strainer#invoke` returns the input
//! unchanged unless `strict_filters`, so they are taken out of the chain) and an empty output
//! tag `{{ }}` (renders nothing).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::OnceLock;

use liquid::model::{DisplayCow, KStringCow, State, Value};
use liquid::{ObjectView, ValueView};
use serde_json::Map;

/// What the drops expose (`app/drops/*.rb`).
#[derive(Debug, Clone, Default)]
pub struct Drops {
    /// `ContactDrop`: id, name, email, phone_number, custom_attributes.
    pub contact_id: u64,
    pub contact_name: String,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    pub contact_custom: Map<String, serde_json::Value>,
    /// `UserDrop` over the sender (a user or an agent bot).
    pub agent_id: Option<u64>,
    pub agent_name: Option<String>,
    pub agent_available_name: Option<String>,
    /// `ConversationDrop`.
    pub conversation_id: u64,
    pub display_id: u64,
    pub conversation_custom: Map<String, serde_json::Value>,
    /// `InboxDrop` / `AccountDrop`.
    pub inbox_id: u64,
    pub inbox_name: String,
    pub account_id: u64,
    pub account_name: String,
}

/// Renders `content` as Chatwoot would before saving an outgoing/template message.
pub fn render(content: &str, drops: &Drops) -> String {
    let mut source = drop_empty_outputs(&protect_code_spans(content));
    let Some(parser) = parser() else {
        return content.to_owned();
    };
    // Each unknown filter is reported once by the parser; take it out and parse again.
    for _ in 0..16 {
        match parser.parse(&source) {
            Ok(template) => {
                return template
                    .render(&globals(drops))
                    .unwrap_or_else(|_| content.to_owned());
            }
            Err(e) => match unknown_filter(&e) {
                Some(name) => {
                    let stripped = strip_filter(&source, &name);
                    if stripped == source {
                        return content.to_owned();
                    }
                    source = stripped;
                }
                None => return content.to_owned(),
            },
        }
    }
    content.to_owned()
}

/// The filter name of the `liquid` crate's "Unknown filter" error.
fn unknown_filter(e: &liquid::Error) -> Option<String> {
    let text = e.to_string();
    if !text.contains("Unknown filter") {
        return None;
    }
    let line = text
        .lines()
        .find_map(|l| l.trim().strip_prefix("requested filter="))?;
    Some(line.trim().to_owned())
}

/// The spans of `source` outside `{% raw %}…{% endraw %}`, and whether each is raw.
fn raw_split(source: &str) -> Vec<(&str, bool)> {
    let (open, close) = ("{% raw %}", "{% endraw %}");
    let mut parts = Vec::new();
    let mut rest = source;
    while let Some(start) = rest.find(open) {
        let after = &rest[start + open.len()..];
        let Some(end) = after.find(close) else { break };
        parts.push((&rest[..start], false));
        parts.push((&rest[start..start + open.len() + end + close.len()], true));
        rest = &after[end + close.len()..];
    }
    parts.push((rest, false));
    parts
}

/// Applies `f` to every `{{ … }}` and `{% … %}` markup outside raw blocks (the delimiters
/// included), leaving the text between them alone.
fn map_markup(source: &str, f: impl Fn(&str) -> String) -> String {
    let mut out = String::with_capacity(source.len());
    for (part, raw) in raw_split(source) {
        if raw {
            out.push_str(part);
            continue;
        }
        let mut rest = part;
        loop {
            let next = [("{{", "}}"), ("{%", "%}")]
                .iter()
                .filter_map(|(o, c)| rest.find(o).map(|i| (i, *c)))
                .min_by_key(|(i, _)| *i);
            let Some((start, close)) = next else {
                out.push_str(rest);
                break;
            };
            let Some(len) = rest[start + 2..].find(close) else {
                out.push_str(rest);
                break;
            };
            let end = start + 2 + len + 2;
            out.push_str(&rest[..start]);
            out.push_str(&f(&rest[start..end]));
            rest = &rest[end..];
        }
    }
    out
}

/// `{{ }}` (whitespace and trim markers only) renders as nothing in lax mode.
fn drop_empty_outputs(source: &str) -> String {
    map_markup(source, |m| {
        let inner = m.strip_prefix("{{").and_then(|x| x.strip_suffix("}}"));
        match inner {
            Some(i) if i.chars().all(|c| c.is_whitespace() || c == '-') => String::new(),
            _ => m.to_owned(),
        }
    })
}

/// Removes `| name` and its arguments from every filter chain: an unknown filter returns its
/// input, so the chain without it renders the same.
fn strip_filter(source: &str, name: &str) -> String {
    map_markup(source, |m| {
        let (head, body, tail) = (&m[..2], &m[2..m.len() - 2], &m[m.len() - 2..]);
        // Split the body at `|` outside quotes.
        let mut segments = Vec::new();
        let (mut quote, mut start) = (None, 0);
        for (i, c) in body.char_indices() {
            match (quote, c) {
                (None, '"' | '\'') => quote = Some(c),
                (Some(q), c) if c == q => quote = None,
                (None, '|') => {
                    segments.push(&body[start..i]);
                    start = i;
                }
                _ => {}
            }
        }
        segments.push(&body[start..]);
        let kept: String = segments
            .iter()
            .filter(|seg| {
                let Some(filter) = seg.strip_prefix('|') else {
                    return true;
                };
                let filter = filter.trim_start();
                let rest = filter.strip_prefix(name);
                !rest.is_some_and(|r| {
                    r.chars()
                        .next()
                        .is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '-'))
                })
            })
            .copied()
            .collect();
        format!("{head}{kept}{tail}")
    })
}

fn parser() -> Option<&'static liquid::Parser> {
    static PARSER: OnceLock<Option<liquid::Parser>> = OnceLock::new();
    PARSER
        .get_or_init(|| liquid::ParserBuilder::with_stdlib().build().ok())
        .as_ref()
}

/// `content.gsub(/`(.*?)`/m, '{% raw %}`\1`{% endraw %}')`.
fn protect_code_spans(content: &str) -> String {
    let mut out = String::with_capacity(content.len());
    let mut rest = content;
    while let Some(open) = rest.find('`') {
        let after = &rest[open + 1..];
        let Some(close) = after.find('`') else { break };
        out.push_str(&rest[..open]);
        out.push_str("{% raw %}`");
        out.push_str(&after[..close]);
        out.push_str("`{% endraw %}");
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    out
}

/// Ruby `String#capitalize`: first character upper-case, the rest lower-case.
fn capitalize(s: &str) -> String {
    let mut chars = s.chars();
    match chars.next() {
        Some(first) => first
            .to_uppercase()
            .chain(chars.flat_map(char::to_lowercase))
            .collect(),
        None => String::new(),
    }
}

/// `name.split.map(&:capitalize).join(' ')`.
fn title_words(name: &str) -> String {
    name.split_whitespace()
        .map(capitalize)
        .collect::<Vec<_>>()
        .join(" ")
}

/// first/last name only when the name has more than one word.
fn first_last(name: &str) -> (Node, Node) {
    let words: Vec<&str> = name.split_whitespace().collect();
    if words.len() > 1 {
        (
            Node::text(capitalize(words[0])),
            Node::text(capitalize(words[words.len() - 1])),
        )
    } else {
        (Node::Missing, Node::Missing)
    }
}

fn opt_text(v: Option<&String>) -> Node {
    v.map_or(Node::Missing, |s| Node::text(s.clone()))
}

fn globals(d: &Drops) -> Node {
    let (c_first, c_last) = first_last(&d.contact_name);
    let contact = Node::obj([
        ("id", Node::int(d.contact_id)),
        ("name", Node::text(title_words(&d.contact_name))),
        ("email", opt_text(d.contact_email.as_ref())),
        ("phone_number", opt_text(d.contact_phone.as_ref())),
        ("first_name", c_first),
        ("last_name", c_last),
        ("custom_attribute", Node::from_json_map(&d.contact_custom)),
    ]);
    let agent_name = d.agent_name.clone().unwrap_or_default();
    let (a_first, a_last) = first_last(&agent_name);
    let agent = Node::obj([
        ("id", d.agent_id.map_or(Node::Missing, Node::int)),
        (
            "name",
            d.agent_name
                .as_ref()
                .map_or(Node::Missing, |n| Node::text(title_words(n))),
        ),
        ("available_name", opt_text(d.agent_available_name.as_ref())),
        ("first_name", a_first),
        ("last_name", a_last),
    ]);
    let conversation = Node::obj([
        ("id", Node::int(d.conversation_id)),
        ("display_id", Node::int(d.display_id)),
        ("contact_name", Node::text(capitalize(&d.contact_name))),
        (
            "custom_attribute",
            Node::from_json_map(&d.conversation_custom),
        ),
    ]);
    let inbox = Node::obj([
        ("id", Node::int(d.inbox_id)),
        ("name", Node::text(d.inbox_name.clone())),
    ]);
    let account = Node::obj([
        ("id", Node::int(d.account_id)),
        ("name", Node::text(d.account_name.clone())),
    ]);
    Node::obj([
        ("contact", contact),
        ("agent", agent),
        ("conversation", conversation),
        ("inbox", inbox),
        ("account", account),
    ])
}

/// A value in the render context that answers every lookup: unknown names are nil, as in Ruby.
#[derive(Debug)]
enum Node {
    Leaf(Value),
    Obj(BTreeMap<String, Node>),
    Missing,
}

static MISSING: Node = Node::Missing;

impl Node {
    fn text(s: String) -> Self {
        Self::Leaf(Value::scalar(s))
    }

    fn int(n: u64) -> Self {
        Self::Leaf(Value::scalar(i64::try_from(n).unwrap_or(i64::MAX)))
    }

    fn obj<const N: usize>(fields: [(&str, Node); N]) -> Self {
        Self::Obj(fields.into_iter().map(|(k, v)| (k.to_owned(), v)).collect())
    }

    fn from_json_map(map: &Map<String, serde_json::Value>) -> Self {
        Self::Obj(
            map.iter()
                .map(|(k, v)| (k.clone(), Self::from_json(v)))
                .collect(),
        )
    }

    fn from_json(v: &serde_json::Value) -> Self {
        match v {
            serde_json::Value::Null => Self::Missing,
            serde_json::Value::Object(m) => Self::from_json_map(m),
            other => liquid::model::to_value(other).map_or(Self::Missing, Self::Leaf),
        }
    }
}

impl ValueView for Node {
    fn as_debug(&self) -> &dyn fmt::Debug {
        self
    }

    fn render(&self) -> DisplayCow<'_> {
        match self {
            Self::Leaf(v) => v.render(),
            _ => DisplayCow::Borrowed(&""),
        }
    }

    fn source(&self) -> DisplayCow<'_> {
        match self {
            Self::Leaf(v) => v.source(),
            Self::Obj(_) => DisplayCow::Borrowed(&"{...}"),
            Self::Missing => DisplayCow::Borrowed(&"nil"),
        }
    }

    fn type_name(&self) -> &'static str {
        match self {
            Self::Leaf(v) => v.type_name(),
            Self::Obj(_) => "object",
            Self::Missing => "nil",
        }
    }

    fn query_state(&self, state: State) -> bool {
        match self {
            Self::Leaf(v) => v.query_state(state),
            Self::Obj(_) => matches!(state, State::Truthy),
            Self::Missing => !matches!(state, State::Truthy),
        }
    }

    fn to_kstr(&self) -> KStringCow<'_> {
        match self {
            Self::Leaf(v) => v.to_kstr(),
            _ => KStringCow::from_static(""),
        }
    }

    fn to_value(&self) -> Value {
        match self {
            Self::Leaf(v) => v.clone(),
            Self::Obj(m) => Value::Object(
                m.iter()
                    .map(|(k, v)| (k.clone().into(), v.to_value()))
                    .collect(),
            ),
            Self::Missing => Value::Nil,
        }
    }

    fn as_scalar(&self) -> Option<liquid::model::ScalarCow<'_>> {
        match self {
            Self::Leaf(v) => v.as_scalar(),
            _ => None,
        }
    }

    fn as_array(&self) -> Option<&dyn liquid::model::ArrayView> {
        match self {
            Self::Leaf(v) => v.as_array(),
            _ => None,
        }
    }

    fn as_object(&self) -> Option<&dyn ObjectView> {
        match self {
            Self::Leaf(v) => v.as_object(),
            _ => Some(self),
        }
    }

    fn is_nil(&self) -> bool {
        match self {
            Self::Leaf(v) => v.is_nil(),
            Self::Obj(_) => false,
            Self::Missing => true,
        }
    }
}

impl ObjectView for Node {
    fn as_value(&self) -> &dyn ValueView {
        self
    }

    fn size(&self) -> i64 {
        match self {
            Self::Obj(m) => i64::try_from(m.len()).unwrap_or(i64::MAX),
            _ => 0,
        }
    }

    fn keys<'k>(&'k self) -> Box<dyn Iterator<Item = KStringCow<'k>> + 'k> {
        match self {
            Self::Obj(m) => Box::new(m.keys().map(|k| KStringCow::from_ref(k.as_str()))),
            _ => Box::new(std::iter::empty()),
        }
    }

    fn values<'k>(&'k self) -> Box<dyn Iterator<Item = &'k dyn ValueView> + 'k> {
        match self {
            Self::Obj(m) => Box::new(m.values().map(|v| v as &dyn ValueView)),
            _ => Box::new(std::iter::empty()),
        }
    }

    fn iter<'k>(&'k self) -> Box<dyn Iterator<Item = (KStringCow<'k>, &'k dyn ValueView)> + 'k> {
        match self {
            Self::Obj(m) => Box::new(
                m.iter()
                    .map(|(k, v)| (KStringCow::from_ref(k.as_str()), v as &dyn ValueView)),
            ),
            _ => Box::new(std::iter::empty()),
        }
    }

    fn contains_key(&self, _index: &str) -> bool {
        true
    }

    fn get<'s>(&'s self, index: &str) -> Option<&'s dyn ValueView> {
        match self {
            Self::Obj(m) => Some(m.get(index).map_or(&MISSING as &dyn ValueView, |v| v)),
            Self::Missing => Some(&MISSING),
            Self::Leaf(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drops() -> Drops {
        Drops {
            contact_id: 7,
            contact_name: "jane DOE".into(),
            contact_email: Some("jane@example.com".into()),
            agent_name: Some("ann agent".into()),
            agent_available_name: Some("Ann".into()),
            display_id: 42,
            inbox_name: "Import".into(),
            account_name: "Acme".into(),
            ..Drops::default()
        }
    }

    #[test]
    fn renders_drops_and_drops_unknown_names() {
        let out = render(
            "Hi {{first_name}}{{contact.first_name}} / {{contact.name}} #{{conversation.display_id}} from {{agent.name}} at {{account.name}} {{contact.nope.deeper}}",
            &drops(),
        );
        assert_eq!(out, "Hi Jane / Jane Doe #42 from Ann Agent at Acme ");
    }

    #[test]
    fn lax_mode_passes_unknown_filters_and_empty_outputs() {
        assert_eq!(render("a{{ }}b{{-  -}}c", &drops()), "abc");
        assert_eq!(
            render("Hi {{ contact.name | nonsense: 'x' | upcase }}!", &drops()),
            "Hi JANE DOE!"
        );
        assert_eq!(render("{{ 'a|b' | made_up }}", &drops()), "a|b");
        assert_eq!(render("`{{ }}` stays", &drops()), "`{{ }}` stays");
    }

    #[test]
    fn keeps_code_spans_and_broken_templates() {
        assert_eq!(render("run `{{x}}` now", &drops()), "run `{{x}}` now");
        assert_eq!(render("broken {% if %}", &drops()), "broken {% if %}");
        assert_eq!(
            render("{% if contact.email %}yes{% endif %}", &drops()),
            "yes"
        );
    }
}
