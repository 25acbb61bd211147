//! Companies as Intercom 2.16 JSON (`company`).

use deskmove_synth::{AttrValue, Company};
use serde_json::{Map, Value, json};

use crate::derived::{self, Segment};
use crate::render::{Render, WORKSPACE_ID};

impl Render<'_> {
    /// A company, with Intercom's plan object and string-typed custom attributes.
    pub(crate) fn company(&self, c: &Company) -> Value {
        json!({
            "type": "company",
            "id": c.id,
            "name": c.name,
            "app_id": WORKSPACE_ID,
            "plan": {"type": "plan", "id": format!("plan-{}", c.plan.len()), "name": c.plan},
            "company_id": c.company_id,
            "remote_created_at": c.remote_created_at,
            "created_at": c.created_at,
            "updated_at": c.updated_at,
            "last_request_at": c.last_request_at,
            "size": c.size,
            "website": c.website,
            "industry": c.industry,
            "monthly_spend": c.monthly_spend,
            "session_count": c.user_count * 3,
            "user_count": c.user_count,
            "custom_attributes": string_attributes(&c.custom_attributes),
            "tags": {"type": "tag.list", "tags": []},
            "segments": {"type": "segment.list", "segments": self.company_segments(c).iter().map(|sg| self.segment(sg, None)).collect::<Vec<_>>()},
        })
    }
}

impl Render<'_> {
    /// The company segments (derived, `derived.rs`) company `c` is in.
    pub(crate) fn company_segments(&self, c: &Company) -> Vec<Segment> {
        derived::segments(self.view.seed())
            .into_iter()
            .filter(|sg| sg.rule.has_company(c))
            .collect()
    }
}

/// The 2.16 spec types company custom attributes as strings (`additionalProperties: string`).
fn string_attributes(attrs: &[(String, AttrValue)]) -> Value {
    let mut m = Map::new();
    for (k, v) in attrs {
        let s = match v {
            AttrValue::Str(s) => s.clone(),
            AttrValue::Int(i) => i.to_string(),
            AttrValue::Float(f) => f.to_string(),
            AttrValue::Bool(b) => b.to_string(),
        };
        m.insert(k.clone(), Value::String(s));
    }
    Value::Object(m)
}
