//! Phone numbers to E.164, so that a number typed as "(415) 555-0132" in one tool and
//! "+1 415-555-0132" in another is one value in the target, which validates E.164 strictly.
//!
//! Parsing and validation use libphonenumber's metadata through the `phonenumber` crate; numbers
//! written without a country code are read in the configured default region. A value that cannot
//! be made E.164 is kept exactly as received and comes back with a [`PhoneIssue`]; it never stops
//! a run.

use std::fmt;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::str::FromStr;

use phonenumber::country::Id;
use phonenumber::{Mode, PhoneNumber};
use serde::{Deserialize, Serialize};

use crate::error::ErrorKind;
use crate::key::SourceKey;
use crate::problem::{Problem, Stage};

/// A phone number as received and, when it could be parsed, its E.164 form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NormalizedPhone {
    /// The value exactly as the source sent it (also the value to keep when `e164` is `None`).
    pub original: String,
    /// The number in E.164 (`+` and digits only), without any extension.
    pub e164: Option<String>,
    /// The extension ("ext. 7", ";ext=7"), which E.164 cannot hold.
    pub extension: Option<String>,
    /// Why there is no E.164 value.
    pub issue: Option<PhoneIssue>,
}

impl NormalizedPhone {
    /// The per-record problem to record for `key`, when the number could not be normalised.
    pub fn problem(&self, key: &SourceKey) -> Option<Problem> {
        self.issue.as_ref().map(|issue| {
            Problem::new(
                key.clone(),
                Stage::Normalize,
                ErrorKind::Validation,
                issue.code.as_str(),
                issue.reason.clone(),
            )
        })
    }
}

/// Why a number has no E.164 form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhoneIssue {
    /// A stable code to group problems by.
    pub code: PhoneIssueCode,
    /// A sentence for a person; it never repeats the number (personal data).
    pub reason: String,
}

/// Stable codes of phone problems.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PhoneIssueCode {
    /// Nothing but white space was given.
    EmptyPhone,
    /// The value is not a phone number libphonenumber can read, or not a valid number in any
    /// region (too short, unknown area code, a default region missing for a national number).
    UnparseablePhone,
}

impl PhoneIssueCode {
    /// The stable snake_case code, e.g. `unparseable_phone`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EmptyPhone => "empty_phone",
            Self::UnparseablePhone => "unparseable_phone",
        }
    }
}

impl fmt::Display for PhoneIssueCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The configured default region is not an ISO 3166-1 alpha-2 code libphonenumber knows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown phone region {0:?}: use an ISO 3166-1 alpha-2 country code such as \"US\" or \"DE\""
)]
pub struct UnknownRegion(pub String);

impl crate::error::Classify for UnknownRegion {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Config
    }
}

/// Normalises phone numbers against one default region.
#[derive(Debug, Clone, Default)]
pub struct PhoneNormalizer {
    region: Option<Id>,
    /// The upper-case ISO code of `region`, for messages.
    code: Option<String>,
}

impl PhoneNormalizer {
    /// A normaliser reading national numbers (no `+` or international prefix) in `region`, an ISO
    /// 3166-1 alpha-2 code such as `"US"` (case-insensitive). Without a region only international
    /// numbers can be parsed.
    pub fn new(region: Option<&str>) -> Result<Self, UnknownRegion> {
        match region.map(str::trim) {
            None | Some("") => Ok(Self::default()),
            Some(given) => {
                let code = given.to_ascii_uppercase();
                let id = Id::from_str(&code).map_err(|_| UnknownRegion(given.to_owned()))?;
                Ok(Self {
                    region: Some(id),
                    code: Some(code),
                })
            }
        }
    }

    /// The default region as an ISO code, if any.
    pub fn region(&self) -> Option<&str> {
        self.code.as_deref()
    }

    /// Normalises one number.
    pub fn normalize(&self, raw: &str) -> NormalizedPhone {
        let mut out = NormalizedPhone {
            original: raw.to_owned(),
            e164: None,
            extension: None,
            issue: None,
        };
        let trimmed = raw.trim();
        if trimmed.is_empty() {
            out.issue = Some(PhoneIssue {
                code: PhoneIssueCode::EmptyPhone,
                reason: "the phone number is empty".to_owned(),
            });
            return out;
        }
        // libphonenumber accepts some 16- and 17-digit German numbers as valid, but E.164 holds at
        // most 15 digits and targets check it; such a number is kept raw with a problem.
        let parsed = self
            .parse_valid(trimmed)
            .map(|number| (number.format().mode(Mode::E164).to_string(), number))
            .filter(|(e164, _)| is_e164(e164));
        match parsed {
            Some((e164, number)) => {
                out.e164 = Some(e164);
                out.extension = number.extension().map(|ext| ext.to_string());
            }
            None => {
                let reason = match self.region() {
                    Some(region) => format!(
                        "the phone number could not be read as a valid international number or as a national number in {region}; it is kept as received"
                    ),
                    None => "the phone number could not be read as a valid international number and no default region is configured; it is kept as received".to_owned(),
                };
                out.issue = Some(PhoneIssue {
                    code: PhoneIssueCode::UnparseablePhone,
                    reason,
                });
            }
        }
        out
    }

    fn parse_valid(&self, text: &str) -> Option<PhoneNumber> {
        if let Some(number) = parse_checked(self.region, text) {
            return Some(number);
        }
        // "00" is the international call prefix in most of the world (ITU-T E.164 recommends it),
        // but libphonenumber only strips the prefix of the default region (011 in the US). Retry
        // "0049 30 1234567" as "+49 30 1234567" when the literal reading was not a valid number.
        let rest = text.strip_prefix("00")?;
        if rest.starts_with('0') {
            return None;
        }
        parse_checked(self.region, &format!("+{rest}"))
    }
}

/// `+` then 2 to 15 digits, the first not 0.
fn is_e164(text: &str) -> bool {
    text.strip_prefix('+').is_some_and(|digits| {
        (2..=15).contains(&digits.len())
            && digits.bytes().all(|b| b.is_ascii_digit())
            && !digits.starts_with('0')
    })
}

/// Parses and keeps only numbers libphonenumber's metadata says are valid, so that junk such as
/// "12345" never becomes a plausible-looking E.164 value.
///
/// A panic inside the parser (third-party code reading arbitrary text) counts as "not a number":
/// it costs one field, never the run.
fn parse_checked(region: Option<Id>, text: &str) -> Option<PhoneNumber> {
    let parsed = catch_unwind(AssertUnwindSafe(|| {
        let number = phonenumber::parse(region, text).ok()?;
        phonenumber::is_valid(&number).then_some(number)
    }));
    parsed.ok().flatten()
}
