//! Organizations (the world's companies) and their memberships, groups (the world's teams plus
//! two deleted ones the sandbox adds, research §3.5, §8 item 9) and their memberships, brands.

use deskmove_synth::AttributeModel;
use serde_json::{Value, json};

use crate::ids::{self, GROUP_MEMBERSHIP_BASE, ORG_MEMBERSHIP_BASE};
use crate::index::agent_created_at;
use crate::render::users::custom_values;
use crate::render::{Render, iso};

/// Deleted groups the sandbox adds after the world's teams.
pub(crate) const DELETED_GROUPS: u64 = 2;

/// The brands: the default one and a second (tickets are spread over both).
pub(crate) const BRANDS: &[(&str, &str)] =
    &[("Sandbox Support", "sandbox"), ("Sandbox Labs", "labs")];

impl Render<'_> {
    /// Organization `k`.
    pub(crate) fn organization(&self, k: u64) -> Option<Value> {
        let c = self.view.company(k)?;
        let id = ids::org_id(k);
        let domain = c
            .website
            .trim_start_matches("https://")
            .trim_start_matches("www.")
            .to_string();
        Some(json!({
            "id": id,
            "url": self.origin.api(&format!("organizations/{id}")),
            "name": c.name,
            "external_id": c.company_id,
            "domain_names": [domain],
            "details": format!("{} · {}", c.industry, c.plan),
            "notes": "",
            "group_id": null,
            "shared_tickets": false,
            "shared_comments": false,
            "tags": [],
            "organization_fields": custom_values(self, AttributeModel::Company, &c.custom_attributes),
            "created_at": iso(c.created_at),
            "updated_at": iso(c.updated_at),
        }))
    }

    /// The membership of contact `j` in its company, if it has one.
    pub(crate) fn organization_membership(&self, j: u64) -> Option<Value> {
        let c = self.view.contact(j)?;
        let k = c.company?;
        let company = self.view.company(k)?;
        let id = ORG_MEMBERSHIP_BASE + j;
        Some(json!({
            "id": id,
            "url": self.origin.api(&format!("organization_memberships/{id}")),
            "user_id": ids::end_user(j),
            "organization_id": ids::org_id(k),
            "organization_name": company.name,
            "default": true,
            "view_tickets": false,
            "created_at": iso(c.created_at),
            "updated_at": iso(c.created_at),
        }))
    }

    /// Group `t`: the world's teams first, then the deleted ones.
    pub(crate) fn group(&self, t: u64) -> Option<Value> {
        let teams = self.view.team_count();
        let (name, deleted) = if t < teams {
            (self.view.team(t)?.name, false)
        } else if t < teams + DELETED_GROUPS {
            (format!("Former team {}", t - teams + 1), true)
        } else {
            return None;
        };
        let id = ids::group_id(t);
        let at = iso(deskmove_synth::HISTORY_START + t as i64 * 3_600);
        Some(json!({
            "id": id,
            "url": self.origin.api(&format!("groups/{id}")),
            "name": name,
            "description": "",
            "default": t == 0,
            "deleted": deleted,
            "is_public": true,
            "created_at": at,
            "updated_at": at,
        }))
    }

    /// Every group membership: one per agent and team, in agent order.
    pub(crate) fn group_memberships(&self) -> Vec<Value> {
        let mut out = Vec::new();
        for a in 0..self.view.agent_count() {
            let Some(agent) = self.view.agent(a) else {
                continue;
            };
            for (n, t) in agent.team_indexes.iter().enumerate() {
                let id = GROUP_MEMBERSHIP_BASE + a * 64 + t;
                let at = iso(agent_created_at(a));
                out.push(json!({
                    "id": id,
                    "url": self.origin.api(&format!("group_memberships/{id}")),
                    "user_id": ids::agent_user(a),
                    "group_id": ids::group_id(*t),
                    "default": n == 0,
                    "created_at": at,
                    "updated_at": at,
                }));
            }
        }
        out
    }

    /// Brand `b`.
    pub(crate) fn brand(&self, b: u64) -> Option<Value> {
        let (name, sub) = BRANDS.get(b as usize)?;
        let id = ids::BRAND_BASE + b;
        let at = iso(deskmove_synth::HISTORY_START);
        Some(json!({
            "id": id,
            "url": self.origin.api(&format!("brands/{id}")),
            "name": name,
            "subdomain": sub,
            "brand_url": format!("https://{sub}.zendesk.example"),
            "host_mapping": null,
            "has_help_center": b == 0,
            "help_center_state": if b == 0 { "enabled" } else { "disabled" },
            "active": true,
            "default": b == 0,
            "is_deleted": false,
            "logo": null,
            "signature_template": "{{agent.signature}}",
            "ticket_form_ids": [ids::TICKET_FORM_BASE, ids::TICKET_FORM_BASE + 1],
            "created_at": at,
            "updated_at": at,
        }))
    }
}
