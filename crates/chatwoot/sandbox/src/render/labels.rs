//! Labels: `labels/_label`.

use serde_json::{Value, json};

use crate::state::Label;

/// `labels/_label` view.
pub fn label(l: &Label) -> Value {
    json!({"id": l.id, "title": l.title, "description": l.description, "color": l.color,
           "show_on_sidebar": l.show_on_sidebar})
}
