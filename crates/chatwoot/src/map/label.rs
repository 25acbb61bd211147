//! Tags to account labels, slugged to Chatwoot's title rule.

use deskmove_core::model::Tag;
use deskmove_core::{ErrorKind, Problem, Stage};

/// A label title and whether the tag's name had to change to become one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabelTitle {
    /// The title, valid for Chatwoot.
    pub title: String,
    /// Set when the title differs from the tag's name (for the report).
    pub problem: Option<Problem>,
}

/// The label title for `tag`: lower-cased, every run of characters outside letters, digits,
/// `_` and `-` replaced by one `-`, leading and trailing `-`/`_` removed, at least two
/// characters. Chatwoot's rule is `\A[\p{L}\p{N}]+[\p{L}\p{N}_-]+\Z` on the lower-cased title
/// (`app/models/label.rb`; research/chatwoot.md §0.9).
pub fn label_title(tag: &Tag) -> LabelTitle {
    let mut out = String::with_capacity(tag.name.len());
    let mut dash = false;
    for c in tag.name.chars().flat_map(char::to_lowercase) {
        if c.is_alphanumeric() || c == '_' || c == '-' {
            if dash && !out.is_empty() {
                out.push('-');
            }
            dash = false;
            out.push(c);
        } else {
            dash = true;
        }
    }
    let title = out.trim_matches(|c| c == '-' || c == '_').to_owned();
    let title = match title.chars().count() {
        0 => format!("tag-{}", slug_id(&tag.key.id)),
        1 => format!("{title}-tag"),
        _ => title,
    };
    let problem = (title != tag.name).then(|| {
        Problem::new(
            tag.key.clone(),
            Stage::Map,
            ErrorKind::Validation,
            "label_renamed",
            format!(
                "Chatwoot label titles are lower-case letters, digits, `_` and `-`; the tag `{}` became the label `{title}`.",
                tag.name
            ),
        )
    });
    LabelTitle { title, problem }
}

fn slug_id(id: &str) -> String {
    let s: String = id
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect::<String>()
        .to_lowercase();
    if s.is_empty() { "x".into() } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;
    use deskmove_core::{RecordKind, SourceKey};

    fn tag(name: &str) -> Tag {
        Tag {
            key: SourceKey::new("intercom", RecordKind::Tag, "7"),
            name: name.into(),
            extra: Default::default(),
        }
    }

    #[test]
    fn titles_follow_chatwoots_rule() {
        assert_eq!(label_title(&tag("VIP customer")).title, "vip-customer");
        assert_eq!(
            label_title(&tag("  Billing / Refund! ")).title,
            "billing-refund"
        );
        assert_eq!(label_title(&tag("Ünïcode_ok")).title, "ünïcode_ok");
        assert_eq!(label_title(&tag("x")).title, "x-tag");
        assert_eq!(label_title(&tag("!!!")).title, "tag-7");
        assert_eq!(label_title(&tag("-lead-")).title, "lead");
        assert!(label_title(&tag("billing")).problem.is_none());
        assert!(label_title(&tag("Billing")).problem.is_some());
    }
}
