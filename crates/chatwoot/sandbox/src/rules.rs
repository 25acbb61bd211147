//! Chatwoot's field rules as pure functions: normalisation and format checks.
//!
//! Each function cites the model line it reproduces (`../shared/research/chatwoot.md`). Uniqueness
//! checks need the database and live with the routes; these only look at one value.

use crate::error::{ApiError, ApiResult};

/// `Contact#prepare_contact_attributes` (§2.1, `contact.rb` L221-224): a present email is
/// lower-cased, a blank one becomes NULL.
pub fn normalize_email(raw: Option<&str>) -> Option<String> {
    raw.filter(|e| !is_blank(e)).map(str::to_lowercase)
}

/// Rails `present?` is false for strings of whitespace only.
pub fn is_blank(s: &str) -> bool {
    s.chars().all(char::is_whitespace)
}

/// `Devise.email_regexp = /\A[^@\s]+@[^@\s]+\z/` (§2.1, `config/initializers/devise.rb` L162).
pub fn email_is_valid(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else {
        return false;
    };
    let ok =
        |part: &str| !part.is_empty() && !part.contains('@') && !part.chars().any(is_ruby_space);
    ok(local) && ok(domain)
}

/// A user's email as `User` validates it: present (after `normalize_email`) and well-formed.
pub fn required_email(raw: Option<&str>) -> ApiResult<String> {
    let email =
        normalize_email(raw).ok_or_else(|| ApiError::invalid("email", "Email can't be blank"))?;
    if email_is_valid(&email) {
        Ok(email)
    } else {
        Err(ApiError::invalid("email", "Email is invalid"))
    }
}

/// `AccountUser#role` (default `agent`): another value is the enum's unrescued `ArgumentError`.
pub fn account_role(raw: Option<String>) -> ApiResult<String> {
    let role = raw.unwrap_or_else(|| "agent".into());
    if role == "agent" || role == "administrator" {
        Ok(role)
    } else {
        Err(ApiError::Internal(format!("'{role}' is not a valid role")))
    }
}

/// Ruby's `\s` is ASCII whitespace only: space, \t, \n, \v, \f, \r.
fn is_ruby_space(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\n' | '\u{b}' | '\u{c}' | '\r')
}

/// `validates :phone_number, format: /\+[1-9]\d{1,14}\z/` (§2.1, `contact.rb` L54-56). The
/// pattern has no `\A`: any string that *ends* in `+` followed by 2..=15 digits, the first
/// non-zero, passes. Ruby's `\d` is ASCII.
pub fn phone_is_valid(phone: &str) -> bool {
    let Some(plus) = phone.rfind('+') else {
        return false;
    };
    let digits = &phone[plus + 1..];
    (2..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && digits.as_bytes().first().is_some_and(|b| *b != b'0')
}

/// `Label` title (§2.5, `label.rb` L33-35 and `lib/regex_helper.rb` L7): lower-cased before
/// validation.
pub fn normalize_label_title(raw: &str) -> String {
    raw.to_lowercase()
}

/// `UNICODE_CHARACTER_NUMBER_HYPHEN_UNDERSCORE = /\A[\p{L}\p{N}]+[\p{L}\p{N}_-]+\Z/`: a letter or
/// digit first, at least two characters, no spaces or dots. Ruby's `\Z` also matches before one
/// final newline, so `"vip\n"` passes as in Chatwoot.
pub fn label_title_is_valid(title: &str) -> bool {
    let body = title.strip_suffix('\n').unwrap_or(title);
    let mut chars = body.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    let rest: Vec<char> = chars.collect();
    is_letter_or_number(first)
        && !rest.is_empty()
        && rest
            .iter()
            .all(|c| is_letter_or_number(*c) || *c == '_' || *c == '-')
}

/// `\p{L}` or `\p{N}`.
fn is_letter_or_number(c: char) -> bool {
    c.is_alphabetic() || c.is_numeric()
}

/// `Team` name is lower-cased before validation (§2.7, `team.rb` L31).
pub fn normalize_team_name(raw: &str) -> String {
    raw.to_lowercase()
}

/// Maximum message content length (§2.4: content ≤ 150,000 chars).
pub const MAX_CONTENT_CHARS: usize = 150_000;

/// `Message::NUMBER_OF_PERMITTED_ATTACHMENTS` (§2.4).
pub const MAX_ATTACHMENTS: usize = 15;

/// `CONVERSATION_MESSAGE_PER_MINUTE_LIMIT` default (§0.4, `lib/limits.rb` L14-16).
pub const MESSAGES_PER_CONVERSATION_PER_MINUTE: usize = 200;

/// `JsonbAttributesLengthValidator` (§2.3): strings ≤ 1500 chars, integers < 9,999,999,999.
pub fn jsonb_attribute_error(attrs: &serde_json::Map<String, serde_json::Value>) -> Option<String> {
    for (key, value) in attrs {
        match value {
            serde_json::Value::String(s) if s.chars().count() > 1500 => {
                return Some(format!("{key} is too long (maximum is 1500 characters)"));
            }
            serde_json::Value::Number(n) if n.as_f64().is_some_and(|v| v >= 9_999_999_999.0) => {
                return Some(format!("{key} must be less than 9999999999"));
            }
            _ => {}
        }
    }
    None
}

/// `messages.content_type` enum (§2.4, 13 values).
pub const CONTENT_TYPES: [&str; 13] = [
    "text",
    "input_text",
    "input_textarea",
    "input_email",
    "input_select",
    "cards",
    "form",
    "article",
    "incoming_email",
    "input_csat",
    "integrations",
    "sticker",
    "voice_call",
];

/// `conversations.status` enum (§6).
pub const CONVERSATION_STATUSES: [&str; 4] = ["open", "resolved", "pending", "snoozed"];

/// `conversations.priority` enum (§6).
pub const PRIORITIES: [&str; 4] = ["low", "medium", "high", "urgent"];

/// `attachments.file_type` inferred from the MIME type, as `Attachment#file_type` does.
pub fn file_type_for(content_type: &str) -> &'static str {
    match content_type.split('/').next().unwrap_or_default() {
        "image" => "image",
        "audio" => "audio",
        "video" => "video",
        _ => "file",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_rules() {
        assert_eq!(normalize_email(Some(" ")), None);
        assert_eq!(normalize_email(Some("")), None);
        assert_eq!(normalize_email(Some("A@B.COM")).as_deref(), Some("a@b.com"));
        assert!(email_is_valid("a@b"));
        assert!(!email_is_valid("a@@b"));
        assert!(!email_is_valid("a b@c.d"));
        assert!(!email_is_valid("abc"));
        assert!(!email_is_valid("@b.c"));
    }

    #[test]
    fn phone_rules_are_end_anchored_only() {
        assert!(phone_is_valid("+14155550100"));
        assert!(phone_is_valid("call me at +14155550100"));
        assert!(!phone_is_valid("+1 415 555 0100"));
        assert!(!phone_is_valid("+04155550100"));
        assert!(!phone_is_valid("14155550100"));
        assert!(!phone_is_valid("+1"));
        assert!(phone_is_valid("+123456789012345"));
        assert!(!phone_is_valid("+1234567890123456"));
    }

    #[test]
    fn label_rules() {
        assert!(label_title_is_valid("vip"));
        assert!(label_title_is_valid("été-2"));
        assert!(label_title_is_valid("vip\n"));
        assert!(!label_title_is_valid("v"));
        assert!(!label_title_is_valid("vip customer"));
        assert!(!label_title_is_valid("-vip"));
        assert!(!label_title_is_valid("v.ip"));
    }
}
