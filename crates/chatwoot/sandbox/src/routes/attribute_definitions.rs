//! Custom attribute definitions (`../shared/research/chatwoot.md §2.10`).

use axum::http::StatusCode;
use jiff::Timestamp;
use serde_json::Value;

use super::resource::Resource;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, Errors};
use crate::params::{self, Params};
use crate::render;
use crate::state::{CustomAttributeDefinition, Database};

/// Reserved keys (custom_attribute_definition.rb L24-28).
const RESERVED_CONVERSATION: [&str; 14] = [
    "status",
    "priority",
    "assignee_id",
    "inbox_id",
    "team_id",
    "display_id",
    "campaign_id",
    "labels",
    "browser_language",
    "country_code",
    "referer",
    "created_at",
    "last_activity_at",
    "id",
];
const RESERVED_CONTACT: [&str; 10] = [
    "name",
    "email",
    "phone_number",
    "identifier",
    "country_code",
    "city",
    "created_at",
    "last_activity_at",
    "referer",
    "blocked",
];
const DISPLAY_TYPES: [&str; 8] = [
    "text", "number", "currency", "percent", "link", "date", "list", "checkbox",
];

/// Enum params accept the name or its integer (§2.10).
fn enum_value(p: &Params, key: &str, names: &[&str]) -> ApiResult<Option<String>> {
    let Some(raw) = p.str(key) else {
        return Ok(None);
    };
    if let Some(n) = raw.parse::<usize>().ok().and_then(|i| names.get(i)) {
        return Ok(Some((*n).to_owned()));
    }
    if names.contains(&raw.as_str()) {
        Ok(Some(raw))
    } else {
        Err(ApiError::Internal(format!("'{raw}' is not a valid {key}")))
    }
}

/// Custom attribute definitions answer 204 on delete.
impl Resource for CustomAttributeDefinition {
    const PARAMS: &'static str = "custom_attribute_definition";
    const DELETED: StatusCode = StatusCode::NO_CONTENT;

    fn blank(account: u64, now: Timestamp) -> Self {
        CustomAttributeDefinition {
            id: 0,
            account_id: account,
            attribute_display_name: None,
            attribute_key: String::new(),
            attribute_display_type: "text".into(),
            attribute_model: "conversation_attribute".into(),
            attribute_description: None,
            attribute_values: Vec::new(),
            regex_pattern: None,
            regex_cue: None,
            default_value: None,
            created_at: now,
            updated_at: now,
        }
    }

    fn save(
        s: &mut Database,
        mut d: CustomAttributeDefinition,
        p: &Params,
    ) -> ApiResult<CustomAttributeDefinition> {
        if let Some(m) = enum_value(
            p,
            "attribute_model",
            &["conversation_attribute", "contact_attribute"],
        )? {
            d.attribute_model = m;
        }
        if let Some(t) = enum_value(p, "attribute_display_type", &DISPLAY_TYPES)? {
            d.attribute_display_type = t;
        }
        p.assign_text("attribute_key", &mut d.attribute_key);
        for (key, field) in [
            ("attribute_display_name", &mut d.attribute_display_name),
            ("attribute_description", &mut d.attribute_description),
            ("regex_pattern", &mut d.regex_pattern),
            ("regex_cue", &mut d.regex_cue),
        ] {
            p.assign_opt(key, field);
        }
        if let Some(Value::Array(v)) = p.get("attribute_values") {
            d.attribute_values = v.clone();
        }
        let mut e = Errors::default();
        if d.attribute_key.is_empty() {
            e.add("attribute_key", "Attribute key can't be blank");
        }
        if d.attribute_display_name
            .as_deref()
            .is_none_or(str::is_empty)
        {
            e.add(
                "attribute_display_name",
                "Attribute display name can't be blank",
            );
        }
        let reserved: &[&str] = if d.attribute_model == "contact_attribute" {
            &RESERVED_CONTACT
        } else {
            &RESERVED_CONVERSATION
        };
        if reserved.contains(&d.attribute_key.as_str()) {
            e.add("attribute_key", "Attribute key cannot be used");
        }
        if s.taken(&d, |o| {
            o.attribute_model == d.attribute_model && o.attribute_key == d.attribute_key
        }) {
            e.add("attribute_key", "Attribute key has already been taken");
        }
        e.into_result()?;
        d.updated_at = s.now();
        Ok(s.save(d))
    }

    fn render(&self, _: &Caller) -> Value {
        render::attribute_definition(self)
    }

    /// `?attribute_model=` by name or integer.
    fn listed(&self, q: &params::Query) -> bool {
        let model = q.get("attribute_model").map(|m| match m.as_str() {
            "0" => "conversation_attribute",
            "1" => "contact_attribute",
            other => other,
        });
        model.is_none_or(|m| m == self.attribute_model)
    }
}

#[cfg(test)]
mod tests {
    use jiff::Timestamp;

    use super::{CustomAttributeDefinition, Resource};
    use crate::params::Query;

    #[test]
    fn index_filters_by_model_name_or_integer() {
        let d = CustomAttributeDefinition {
            attribute_model: "contact_attribute".into(),
            ..CustomAttributeDefinition::blank(1, Timestamp::UNIX_EPOCH)
        };
        let q = |m: &str| Query::from([("attribute_model".to_owned(), m.to_owned())]);
        assert!(d.listed(&Query::new()));
        assert!(d.listed(&q("1")));
        assert!(d.listed(&q("contact_attribute")));
        assert!(!d.listed(&q("0")));
        assert!(!d.listed(&q("conversation_attribute")));
    }
}
