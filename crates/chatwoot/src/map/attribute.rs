//! Custom attribute definitions by type.

use deskmove_core::model::{AttributeDefinition, AttributeModel, AttributeType};

/// A `custom_attribute_definitions` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttributeDefinitionRow {
    /// `attribute_key`: what values are stored under in `custom_attributes`.
    pub key: String,
    /// `attribute_display_name`.
    pub display_name: String,
    /// `attribute_display_type`: text 0, number 1, currency 2, percent 3, link 4, date 5,
    /// list 6, checkbox 7 (`app/models/custom_attribute_definition.rb`).
    pub display_type: i32,
    /// `attribute_model`: conversation 0, contact 1.
    pub model: i32,
    /// `attribute_description`.
    pub description: Option<String>,
    /// `attribute_values` (the options of a list).
    pub values: serde_json::Value,
}

/// The key Chatwoot stores values under: lower-case letters, digits and `_`, the form its UI
/// gives keys (it snake-cases the display name).
pub fn attribute_key(name: &str) -> String {
    let mut out = String::with_capacity(name.len());
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() {
            out.push(c);
        } else if !out.ends_with('_') {
            out.push('_');
        }
    }
    let key = out.trim_matches('_');
    if key.is_empty() {
        "attribute".into()
    } else {
        key.into()
    }
}

/// The definition row for `def`. Company attributes become contact attributes: community
/// Chatwoot has no companies (research/chatwoot.md §2.12).
pub fn attribute_definition(def: &AttributeDefinition) -> AttributeDefinitionRow {
    let display_type = match def.data_type {
        AttributeType::String => 0,
        AttributeType::Integer | AttributeType::Float => 1,
        AttributeType::Date => 5,
        AttributeType::List => 6,
        AttributeType::Boolean => 7,
    };
    let model = match def.model {
        AttributeModel::Conversation => 0,
        AttributeModel::Contact | AttributeModel::Company => 1,
    };
    AttributeDefinitionRow {
        key: attribute_key(&def.name),
        display_name: def.label.clone().unwrap_or_else(|| def.name.clone()),
        display_type,
        model,
        description: def.description.clone(),
        values: serde_json::Value::from(def.options.clone()),
    }
}

/// Custom attribute values with their keys mapped like the definitions'.
pub fn attribute_values(values: &deskmove_core::model::Attributes) -> serde_json::Value {
    serde_json::Value::Object(
        values
            .iter()
            .map(|(k, v)| (attribute_key(k), v.clone()))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_snake_case() {
        assert_eq!(attribute_key("Monthly Spend ($)"), "monthly_spend");
        assert_eq!(attribute_key("plan"), "plan");
        assert_eq!(attribute_key("--"), "attribute");
    }
}
