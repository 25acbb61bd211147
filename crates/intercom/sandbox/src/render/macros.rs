//! Macros (saved replies, 2.16) as Intercom JSON (`macro`).

use deskmove_synth::Macro;
use serde_json::{Value, json};

use crate::plaintext::to_plaintext;
use crate::render::{Render, team_id};

impl Render<'_> {
    /// A macro (saved reply), its placeholders written as Intercom's `<attribute>` tags.
    pub(crate) fn macro_(&self, m: &Macro) -> Value {
        let body = placeholders_to_attributes(&m.body_template);
        json!({
            "type": "macro",
            "id": m.id,
            "name": m.name,
            "body": body,
            "body_text": to_plaintext(&body),
            // Macros are the one place Intercom uses ISO-8601 timestamps (§2).
            "created_at": iso(m.created_at),
            "updated_at": iso(m.updated_at),
            "visible_to": if m.team_indexes.is_empty() { "everyone" } else { "specific_teams" },
            "visible_to_team_ids": m.team_indexes.iter().map(|t| team_id(*t).to_string()).collect::<Vec<_>>(),
            "available_on": ["inbox", "messenger"],
        })
    }
}

/// `{{user.name | fallback: 'there'}}` → `<attribute key="user.name" default="there"/>` (§2, macros).
fn placeholders_to_attributes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(open) = rest.find("{{") {
        let Some(close) = rest[open..].find("}}") else {
            break;
        };
        out.push_str(&rest[..open]);
        let inner = rest[open + 2..open + close].trim();
        let (key, fallback) = match inner.split_once('|') {
            Some((k, f)) => {
                let f = f
                    .trim()
                    .trim_start_matches("fallback:")
                    .trim()
                    .trim_matches(|c| c == '\'' || c == '"');
                (k.trim(), Some(f))
            }
            None => (inner, None),
        };
        match fallback {
            Some(f) => out.push_str(&format!("<attribute key=\"{key}\" default=\"{f}\"/>")),
            None => out.push_str(&format!("<attribute key=\"{key}\"/>")),
        }
        rest = &rest[open + close + 2..];
    }
    out.push_str(rest);
    out
}

fn iso(t: i64) -> String {
    jiff::Timestamp::from_second(t)
        .map(|ts| ts.strftime("%Y-%m-%dT%H:%M:%S.000Z").to_string())
        .unwrap_or_default()
}
