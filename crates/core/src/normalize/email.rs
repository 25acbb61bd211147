//! Email addresses, normalised the same way for every source so that a contact is matched and
//! deduplicated by one canonical value, while the value as received stays available for audit.
//!
//! Rules (../shared/research/rust-stack-and-style.md §A.11): trim, Unicode NFC, lower-case, the
//! domain converted to ASCII with IDNA (UTS 46), then validated with `email_address`. `+tags` and
//! dots are never stripped: they are part of the address the customer gave. A value that cannot be
//! normalised is never an error that stops a run: it comes back with an [`EmailIssue`].

use std::fmt;

use email_address::{EmailAddress, Options};
use icu_normalizer::ComposingNormalizerBorrowed;
use idna::AsciiDenyList;
use serde::{Deserialize, Serialize};

use crate::error::ErrorKind;
use crate::key::SourceKey;
use crate::problem::{Problem, Stage};

/// An email address as received and, when it could be normalised, its canonical form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NormalizedEmail {
    /// The value exactly as the source sent it.
    pub original: String,
    /// The canonical address, or `None` when `issue` says why there is none.
    pub value: Option<String>,
    /// Why there is no canonical value.
    pub issue: Option<EmailIssue>,
}

impl NormalizedEmail {
    /// The per-record problem to record for `key`, when the address could not be normalised.
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

/// Why an address has no canonical form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmailIssue {
    /// A stable code to group problems by.
    pub code: EmailIssueCode,
    /// A sentence for a person. It never repeats the address itself (addresses are personal data
    /// and the original is kept next to it anyway).
    pub reason: String,
}

/// Stable codes of email problems.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EmailIssueCode {
    /// Nothing but white space was given.
    EmptyEmail,
    /// Something was given, but it is not a usable address.
    InvalidEmail,
}

impl EmailIssueCode {
    /// The stable snake_case code, e.g. `invalid_email`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::EmptyEmail => "empty_email",
            Self::InvalidEmail => "invalid_email",
        }
    }
}

impl fmt::Display for EmailIssueCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Normalises one address with the default rules (the whole address lower-cased, as targets
/// store it: ../shared/research/rust-stack-and-style.md §A.11).
pub fn normalize(raw: &str) -> NormalizedEmail {
    let (value, issue) = match canonical(raw) {
        Ok(value) => (Some(value), None),
        Err(issue) => (None, Some(issue)),
    };
    NormalizedEmail {
        original: raw.to_owned(),
        value,
        issue,
    }
}

/// Whether a character is padding around an address rather than part of it: white space, and the
/// invisible zero-width characters that copy-paste from rich text leaves behind.
fn is_padding(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}'
        )
}

fn canonical(raw: &str) -> Result<String, EmailIssue> {
    let trimmed = raw.trim_matches(is_padding);
    if trimmed.is_empty() {
        return Err(issue(
            EmailIssueCode::EmptyEmail,
            "the email address is empty",
        ));
    }
    let composed = ComposingNormalizerBorrowed::new_nfc().normalize(trimmed);
    // The last '@' separates the domain: a quoted local part may itself contain '@'.
    let Some((local, domain)) = composed.rsplit_once('@') else {
        return Err(invalid("the email address has no '@'"));
    };
    if local.is_empty() {
        return Err(invalid("the email address has nothing before the '@'"));
    }
    // RFC 5321 allows a quoted local part holding '@' or spaces, but no helpdesk accepts one,
    // and a second '@' breaks every tool downstream. Such an address is kept as received, not used.
    if local.contains(['@', '"']) {
        return Err(invalid(
            "the email address has a quoted part or a second '@', which helpdesks refuse",
        ));
    }
    if domain.is_empty() {
        return Err(invalid("the email address has no domain after the '@'"));
    }
    let local = local.to_lowercase();
    // UTS 46 with the STD3 rules maps the domain (lower case, width, NFC) and applies Punycode;
    // it refuses characters that no host name may hold.
    let domain = idna::domain_to_ascii_cow(domain.as_bytes(), AsciiDenyList::STD3)
        .map_err(|_| invalid("the domain of the email address is not a valid host name"))?;
    let candidate = format!("{local}@{domain}");
    // Helpdesks need a deliverable mailbox: no display names, no `[ip]` literals, and a domain
    // with at least one dot.
    let options = Options::default()
        .without_display_text()
        .without_domain_literal()
        .with_required_tld();
    match EmailAddress::parse_with_options(&candidate, options) {
        Ok(address) => Ok(address.as_str().to_owned()),
        Err(error) => Err(invalid(&format!("the email address is not valid: {error}"))),
    }
}

fn issue(code: EmailIssueCode, reason: &str) -> EmailIssue {
    EmailIssue {
        code,
        reason: reason.to_owned(),
    }
}

fn invalid(reason: &str) -> EmailIssue {
    issue(EmailIssueCode::InvalidEmail, reason)
}
