//! Macros (the world's saved replies). The world writes placeholders in a vendor-neutral Liquid
//! (`{{user.name}}`, `{{admin.first_name}}`, `{{conversation.id}}`, `{{company.name}}`); Zendesk
//! writes `{{ticket.requester.name}}`, `{{current_user.first_name}}`, `{{ticket.id}}`,
//! `{{ticket.organization.name}}`. Only the variable names change; filters stay as typed.

use serde_json::{Value, json};

use crate::ids;
use crate::render::{Render, iso};

/// World placeholder prefixes and their Zendesk names.
const PLACEHOLDERS: &[(&str, &str)] = &[
    ("{{user.", "{{ticket.requester."),
    ("{{admin.", "{{current_user."),
    ("{{conversation.", "{{ticket."),
    ("{{company.", "{{ticket.organization."),
];

/// A world body template with Zendesk placeholders.
pub(crate) fn zendesk_placeholders(template: &str) -> String {
    PLACEHOLDERS
        .iter()
        .fold(template.to_string(), |t, (from, to)| t.replace(from, to))
}

impl Render<'_> {
    /// Macro `i`.
    pub(crate) fn macro_(&self, i: u64) -> Option<Value> {
        let m = self.view.macro_(i)?;
        let id: u64 = m.id.parse().ok()?;
        let restriction = (!m.team_indexes.is_empty()).then(|| {
            let ids: Vec<u64> = m.team_indexes.iter().map(|t| ids::group_id(*t)).collect();
            json!({"type": "Group", "id": ids[0], "ids": ids})
        });
        Some(json!({
            "id": id,
            "url": self.origin.api(&format!("macros/{id}")),
            "title": m.name,
            "raw_title": m.name,
            "description": null,
            "active": true,
            "default": false,
            "position": i,
            "restriction": restriction,
            "actions": [
                {"field": "comment_value_html", "value": zendesk_placeholders(&m.body_template)},
                {"field": "comment_mode_is_public", "value": "true"},
            ],
            "created_at": iso(m.created_at),
            "updated_at": iso(m.updated_at),
        }))
    }
}
