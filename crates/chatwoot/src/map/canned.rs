//! Macros to canned responses.

use deskmove_core::model::Macro;

/// A `canned_responses` row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CannedResponseRow {
    /// `short_code`: what agents type after `/`.
    pub short_code: String,
    /// `content`, with the source's placeholders turned into Chatwoot's Liquid drops.
    pub content: String,
}

/// The canned response for `m`: the short code is the macro's name, lower-cased with spaces as
/// `-`; placeholders for the person and the agent become Chatwoot drops (`{{contact.name}}`,
/// `{{agent.name}}`, ...); unknown ones stay as written.
pub fn canned_response(m: &Macro) -> CannedResponseRow {
    let mut short_code = String::new();
    for c in m.name.trim().chars().flat_map(char::to_lowercase) {
        if c.is_whitespace() {
            if !short_code.ends_with('-') {
                short_code.push('-');
            }
        } else {
            short_code.push(c);
        }
    }
    let body = m
        .body_markdown
        .clone()
        .or_else(|| m.body_html.clone())
        .unwrap_or_default();
    CannedResponseRow {
        short_code,
        content: translate_placeholders(&body),
    }
}

/// `{{ user.first_name | fallback: "there" }}` → `{{contact.first_name}}`; fallbacks are dropped
/// (Chatwoot's drops have none).
fn translate_placeholders(body: &str) -> String {
    let mut out = String::with_capacity(body.len());
    let mut rest = body;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let Some(len) = rest[start..].find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let inner = &rest[start + 2..start + len];
        // Markdown escapes `_` (`first\_name`); the placeholder's name is the unescaped one.
        let name = inner
            .split('|')
            .next()
            .unwrap_or("")
            .trim()
            .replace('\\', "");
        let drop = match name.as_str() {
            "user.name" | "name" | "contact.name" => Some("contact.name"),
            "user.first_name" | "first_name" | "contact.first_name" => Some("contact.first_name"),
            "user.last_name" | "last_name" | "contact.last_name" => Some("contact.last_name"),
            "user.email" | "email" | "contact.email" => Some("contact.email"),
            "user.phone" | "phone" | "contact.phone" => Some("contact.phone"),
            "admin.name" | "teammate.name" | "agent.name" => Some("agent.name"),
            "admin.first_name" | "agent.first_name" => Some("agent.first_name"),
            "conversation.id" => Some("conversation.id"),
            _ => None,
        };
        match drop {
            Some(d) => {
                out.push_str("{{");
                out.push_str(d);
                out.push_str("}}");
            }
            None => out.push_str(&rest[start..start + len + 2]),
        }
        rest = &rest[start + len + 2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_drops() {
        assert_eq!(
            translate_placeholders(
                "Hi {{ user.first_name | fallback: 'there' }}, {{x}} {{admin.name}}"
            ),
            "Hi {{contact.first_name}}, {{x}} {{agent.name}}"
        );
        assert_eq!(translate_placeholders("open {{ end"), "open {{ end");
        assert_eq!(
            translate_placeholders("Hello {{user.first\\_name | fallback: \"friend\"}}"),
            "Hello {{contact.first_name}}"
        );
    }
}
