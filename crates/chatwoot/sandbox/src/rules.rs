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

/// ActiveStorage's blob `checksum`: the base64 MD5 of the bytes (`ActiveStorage::Blob#compute_checksum_in_chunks`).
pub fn checksum(bytes: &[u8]) -> String {
    use base64::Engine as _;
    use md5::Digest as _;
    base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(bytes))
}

/// Maximum message content length (§2.4: content ≤ 150,000 chars).
pub const MAX_CONTENT_CHARS: usize = 150_000;

/// `Message::NUMBER_OF_PERMITTED_ATTACHMENTS` (§2.4).
pub const MAX_ATTACHMENTS: usize = 15;

/// `CONVERSATION_MESSAGE_PER_MINUTE_LIMIT` default (§0.4, `lib/limits.rb` L14-16).
pub const MESSAGES_PER_CONVERSATION_PER_MINUTE: usize = 200;

/// `JsonbAttributesLengthValidator` (`app/models/jsonb_attributes_length_validator.rb`), which only
/// `Conversation` declares (`conversation.rb` validations; `contact.rb` has none): each top-level
/// string longer than 1500 characters and each integer above 9,999,999,999 is one error. Floats
/// and nested values are not looked at. Messages are the validator's, without the attribute name.
pub fn jsonb_attribute_errors(attrs: &serde_json::Map<String, serde_json::Value>) -> Vec<String> {
    let mut errors = Vec::new();
    for (key, value) in attrs {
        match value {
            serde_json::Value::String(s) if s.chars().count() > 1500 => {
                errors.push(format!("{key} length should be < 1500"));
            }
            serde_json::Value::Number(n)
                if (n.is_i64() || n.is_u64()) && n.as_i64().is_none_or(|v| v > 9_999_999_999) =>
            {
                errors.push(format!("{key} value should be < 9999999999"));
            }
            _ => {}
        }
    }
    errors
}

/// Adds [`jsonb_attribute_errors`] of a conversation's `custom_attributes` and
/// `additional_attributes` the way `errors.full_messages` reads them.
pub fn validate_conversation_attributes(
    e: &mut crate::error::Errors,
    custom: &serde_json::Map<String, serde_json::Value>,
    additional: &serde_json::Map<String, serde_json::Value>,
) {
    for (attribute, label, attrs) in [
        ("additional_attributes", "Additional attributes", additional),
        ("custom_attributes", "Custom attributes", custom),
    ] {
        for msg in jsonb_attribute_errors(attrs) {
            e.add(attribute, format!("{label} {msg}"));
        }
    }
}

/// acts-as-taggable-on's `DefaultParser` then `TagList#clean!` (gem 12.0.0, no Chatwoot
/// configuration): the items are joined with `", "`, quoted tags (`"a,b"` or `'a,b'` between
/// commas) are taken whole and first, the rest is split on commas; each tag is stripped, blanks
/// are dropped and duplicates removed ignoring case, keeping the first spelling.
pub fn tag_list(items: &[String]) -> Vec<String> {
    let mut tags = Vec::new();
    let rest = take_quoted(&items.join(", "), '"', &mut tags);
    let rest = take_quoted(&rest, '\'', &mut tags);
    tags.extend(rest.split(',').map(str::to_owned));
    let mut out: Vec<String> = Vec::new();
    for tag in tags.iter().map(|t| t.trim_matches(is_ruby_strip)) {
        if !tag.is_empty() && !out.iter().any(|o| o.to_lowercase() == tag.to_lowercase()) {
            out.push(tag.to_owned());
        }
    }
    out
}

/// `string.gsub(/(\A|,)\s*"(.*?)"\s*(?=,\s*|\z)/) { tags << $2; '' }` for quote `q`.
fn take_quoted(s: &str, q: char, tags: &mut Vec<String>) -> String {
    let chars: Vec<char> = s.chars().collect();
    let skip_space = |mut i: usize| {
        while i < chars.len() && is_ruby_space(chars[i]) {
            i += 1;
        }
        i
    };
    // The quoted tag starting right after the delimiter at `after`, and where the match ends.
    let quoted_at = |after: usize| -> Option<(String, usize)> {
        let open = skip_space(after);
        if chars.get(open) != Some(&q) {
            return None;
        }
        let mut close = open + 1;
        while close < chars.len() && chars[close] != '\n' {
            if chars[close] == q {
                let end = skip_space(close + 1);
                if end == chars.len() || chars[end] == ',' {
                    return Some((chars[open + 1..close].iter().collect(), end));
                }
            }
            close += 1;
        }
        None
    };
    let (mut out, mut pos, mut kept) = (String::new(), 0, 0);
    while pos <= chars.len() {
        let found = (pos == 0).then(|| quoted_at(0)).flatten().or_else(|| {
            (chars.get(pos) == Some(&','))
                .then(|| quoted_at(pos + 1))
                .flatten()
        });
        match found {
            Some((tag, end)) => {
                tags.push(tag);
                out.extend(&chars[kept..pos]);
                kept = end;
                pos = end.max(pos + 1);
            }
            None => pos += 1,
        }
    }
    out.extend(&chars[kept.min(chars.len())..]);
    out
}

/// Ruby's `String#strip`: ASCII whitespace and NUL.
fn is_ruby_strip(c: char) -> bool {
    is_ruby_space(c) || c == '\0'
}

/// `DateTime.strptime(value.to_s, '%s')` (`app/helpers/date_range_helper.rb`, used by
/// `toggle_status`): an optional sign and the leading digits are the epoch seconds; whatever
/// follows is ignored (`"2026-01-05T10:00:00Z"` reads as 2026 seconds after the epoch). No digits
/// at all is `Date::Error: invalid date`.
pub fn strptime_epoch_seconds(raw: &str) -> Option<i64> {
    let (negative, digits) = match raw.as_bytes().first() {
        Some(b'-') => (true, &raw[1..]),
        Some(b'+') => (false, &raw[1..]),
        _ => (false, raw),
    };
    let len = digits.bytes().take_while(u8::is_ascii_digit).count();
    let n: i64 = digits[..len].parse().ok()?;
    Some(if negative { -n } else { n })
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
    fn jsonb_limits_are_the_validators() {
        let attrs = serde_json::json!({"a": "x".repeat(1501), "b": "x".repeat(1500),
            "c": 9_999_999_999_u64, "d": 10_000_000_000_u64, "e": 1e20});
        let serde_json::Value::Object(attrs) = attrs else {
            unreachable!()
        };
        assert_eq!(
            jsonb_attribute_errors(&attrs),
            [
                "a length should be < 1500",
                "d value should be < 9999999999"
            ]
        );
    }

    #[test]
    fn tag_lists_split_on_commas_and_dedupe_ignoring_case() {
        let list =
            |items: &[&str]| tag_list(&items.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>());
        assert_eq!(list(&["a,b"]), ["a", "b"]);
        assert_eq!(list(&["VIP", " vip ", "Billing", ""]), ["VIP", "Billing"]);
        assert_eq!(list(&["a", "\"b,c\"", "d"]), ["b,c", "a", "d"]);
        assert_eq!(list(&["'x, y'"]), ["x, y"]);
        assert!(list(&[]).is_empty());
    }

    #[test]
    fn snoozed_until_reads_like_strptime_percent_s() {
        assert_eq!(strptime_epoch_seconds("1767225600"), Some(1_767_225_600));
        assert_eq!(strptime_epoch_seconds("-5"), Some(-5));
        assert_eq!(strptime_epoch_seconds("1700000000.5"), Some(1_700_000_000));
        assert_eq!(strptime_epoch_seconds("2026-01-05T10:00:00Z"), Some(2026));
        assert_eq!(strptime_epoch_seconds("tomorrow"), None);
        assert_eq!(strptime_epoch_seconds(""), None);
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
