//! Contacts.

use deskmove_core::model::{Contact, Timestamp};
use deskmove_core::{ErrorKind, Problem, Stage};
use serde_json::{Map, Value, json};

use super::attribute::attribute_values;
use super::marker;

/// A `contacts` row.
#[derive(Debug, Clone, PartialEq)]
pub struct ContactRow {
    /// `name`, `''` when unknown (the column's default).
    pub name: String,
    /// `email`: lower-case or absent, never `''` (unique index `(email, account_id)`).
    pub email: Option<String>,
    /// `phone_number` in E.164.
    pub phone: Option<String>,
    /// `identifier`: the source's external id (unique per account).
    pub identifier: Option<String>,
    /// `contact_type`: visitor 0, lead 1 (email or phone present).
    pub contact_type: i32,
    /// `additional_attributes`, with the source marker.
    pub additional_attributes: Value,
    /// `custom_attributes`.
    pub custom_attributes: Value,
    /// `location` (copied from `additional_attributes.city`).
    pub location: String,
    /// `country_code`.
    pub country_code: String,
    /// `created_at`.
    pub created_at: Timestamp,
    /// `updated_at`.
    pub updated_at: Timestamp,
    /// `last_activity_at`: the last time the person was seen, if known.
    pub last_activity_at: Option<Timestamp>,
}

/// Chatwoot's phone rule: `/\+[1-9]\d{1,14}\z/` (`app/models/contact.rb`, research §0.6).
pub fn valid_phone(p: &str) -> bool {
    let Some(digits) = p.strip_prefix('+') else {
        return false;
    };
    (2..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

/// The row for `c`, and the problems of values Chatwoot would refuse (dropped from the column,
/// kept in `additional_attributes`).
pub fn contact(c: &Contact) -> (ContactRow, Vec<Problem>) {
    let mut problems = Vec::new();
    let mut extra = Map::new();
    extra.insert("deskmove_source".into(), json!(marker(&c.key)));
    let email = c
        .email
        .as_deref()
        .map(|e| e.trim().to_lowercase())
        .filter(|e| !e.is_empty());
    if email.is_none()
        && let Some(orig) = c.email_original.as_deref().filter(|e| !e.trim().is_empty())
    {
        extra.insert("source_email".into(), json!(orig));
    }
    let phone = match c.phone.as_deref() {
        Some(p) if valid_phone(p) => Some(p.to_owned()),
        Some(p) => {
            problems.push(Problem::new(
                c.key.clone(),
                Stage::Map,
                ErrorKind::Validation,
                "invalid_phone",
                format!("Chatwoot takes phone numbers in E.164 only; `{p}` is kept in additional_attributes.source_phone."),
            ));
            extra.insert("source_phone".into(), json!(p));
            None
        }
        None => {
            if let Some(orig) = c.phone_original.as_deref() {
                extra.insert("source_phone".into(), json!(orig));
            }
            None
        }
    };
    let identifier = c
        .external_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    let mut city = String::new();
    let mut country = String::new();
    for (k, v) in &c.extra {
        match (k.as_str(), v) {
            ("city", Value::String(s)) => city = s.clone(),
            ("country", Value::String(s)) | ("country_code", Value::String(s)) => {
                country = s.clone()
            }
            ("company_name", Value::String(_)) => {
                extra.insert(k.clone(), v.clone());
            }
            _ => {}
        }
    }
    if !city.is_empty() {
        extra.insert("city".into(), json!(city));
    }
    if !country.is_empty() {
        extra.insert("country".into(), json!(country));
    }
    let contact_type = i32::from(email.is_some() || phone.is_some());
    let row = ContactRow {
        name: c.name.clone().unwrap_or_default(),
        email,
        phone,
        identifier,
        contact_type,
        additional_attributes: Value::Object(extra),
        custom_attributes: attribute_values(&c.attributes),
        location: city,
        country_code: country,
        created_at: c.created_at,
        updated_at: c.updated_at.unwrap_or(c.created_at),
        last_activity_at: c.last_seen_at,
    };
    (row, problems)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn phones_follow_chatwoots_rule() {
        assert!(valid_phone("+14155550132"));
        assert!(!valid_phone("4155550132"));
        assert!(!valid_phone("+0123"));
        assert!(!valid_phone("+1"));
        assert!(!valid_phone("+1234567890123456"));
    }
}
