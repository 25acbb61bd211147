//! Custom attribute definitions.

use serde_json::{Value, json};

use super::iso;
use crate::state::CustomAttributeDefinition;

/// Custom attribute definitions render the raw model (ISO timestamps).
pub fn attribute_definition(d: &CustomAttributeDefinition) -> Value {
    json!({
        "id": d.id,
        "attribute_display_name": d.attribute_display_name,
        "attribute_display_type": d.attribute_display_type,
        "attribute_description": d.attribute_description,
        "attribute_key": d.attribute_key,
        "regex_pattern": d.regex_pattern,
        "regex_cue": d.regex_cue,
        "attribute_values": d.attribute_values,
        "attribute_model": d.attribute_model,
        "default_value": d.default_value,
        "created_at": iso(d.created_at),
        "updated_at": iso(d.updated_at),
    })
}
