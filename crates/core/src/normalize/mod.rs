//! Normalisers: vendor values to canonical ones, the same way for every source.
//!
//! Each one keeps what it was given and never stops a run: an email or phone number that cannot
//! be normalised comes back with an issue carrying a stable code (`invalid_email`,
//! `unparseable_phone`, ...) that the caller records as a [`crate::Problem`]; a timestamp or HTML
//! body that cannot be read is a typed error the caller turns into one.
//!
//! - [`email`]: trim, NFC, lower-case, IDNA domain, validation.
//! - [`phone`]: E.164 via libphonenumber metadata, with a default region.
//! - [`html`]: sanitise, then HTML to Markdown; returns inline image sources for re-hosting.
//! - [`time`]: epoch seconds/millis and ISO 8601 to UTC [`jiff::Timestamp`]s.

pub mod email;
pub mod html;
pub mod phone;
pub mod time;

pub use email::{EmailIssue, EmailIssueCode, NormalizedEmail};
pub use html::{Converted, HtmdConverter, HtmlError, HtmlToMarkdown};
pub use phone::{NormalizedPhone, PhoneIssue, PhoneIssueCode, PhoneNormalizer, UnknownRegion};
pub use time::TimeError;
