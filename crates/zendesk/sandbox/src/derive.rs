//! Zendesk-only facts the vendor-neutral world does not have, derived from the seed so they are
//! deterministic and the world itself never changes: ticket statuses beyond open/closed,
//! archiving, deletions, ticket types, brands, forms, custom field values, ratings, redactions,
//! malware flags and deleted users.

use deskmove_sandbox::rng::splitmix64;
use deskmove_synth::{ConvState, ConversationShape};

/// Closed tickets are archived this long after they were closed (research §2.3).
pub(crate) const ARCHIVE_AFTER_SECS: i64 = 120 * 86_400;
/// Solved tickets close after four days (Zendesk's default automation).
pub(crate) const CLOSE_AFTER_SECS: i64 = 4 * 86_400;

/// A well-mixed value from the seed, a purpose and a number.
pub(crate) fn h(seed: u64, purpose: u64, n: u64) -> u64 {
    splitmix64(seed ^ splitmix64(purpose.wrapping_mul(0x9E37) ^ splitmix64(n)))
}

/// Hash purposes, so each derived fact draws from its own stream.
pub(crate) mod purpose {
    pub(crate) const STATUS: u64 = 1;
    pub(crate) const TYPE: u64 = 2;
    pub(crate) const BRAND: u64 = 3;
    pub(crate) const FORM: u64 = 4;
    pub(crate) const FIELD: u64 = 5;
    pub(crate) const RATING: u64 = 6;
    pub(crate) const REDACT: u64 = 7;
    pub(crate) const MALWARE: u64 = 8;
    pub(crate) const TRANSLATION: u64 = 9;
    pub(crate) const DELETE: u64 = 10;
}

/// Zendesk ticket statuses (plus `deleted`, which only the exports show).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Status {
    New,
    Open,
    Pending,
    Hold,
    Solved,
    Closed,
}

impl Status {
    /// The wire word.
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Status::New => "new",
            Status::Open => "open",
            Status::Pending => "pending",
            Status::Hold => "hold",
            Status::Solved => "solved",
            Status::Closed => "closed",
        }
    }
}

/// The status of a conversation as a Zendesk ticket: a snooze is `pending` or `hold`, a close
/// is `solved` for four days then `closed`, an untouched conversation is `new`.
pub(crate) fn status(seed: u64, shape: &ConversationShape, now: i64) -> Status {
    match shape.state {
        ConvState::Closed if now - shape.updated_at < CLOSE_AFTER_SECS => Status::Solved,
        ConvState::Closed => Status::Closed,
        ConvState::Snoozed if h(seed, purpose::STATUS, shape.index).is_multiple_of(2) => {
            Status::Hold
        }
        ConvState::Snoozed => Status::Pending,
        ConvState::Open if shape.parts == 0 => Status::New,
        ConvState::Open => Status::Open,
    }
}

/// Whether a ticket in `status`, last changed at `updated_at`, is archived at `now`.
pub(crate) fn archived(status: Status, updated_at: i64, now: i64) -> bool {
    status == Status::Closed && updated_at < now - ARCHIVE_AFTER_SECS
}

/// About one ticket in 25 was deleted by an agent. Drawn from the ticket alone, so a ticket is
/// deleted at every epoch or at none: a deletion never moves to another ticket as others are
/// archived (a delta export would not see such a move, since neither ticket changed). A deleted
/// ticket is never archived (Zendesk scrubs it instead).
pub(crate) fn deleted(seed: u64, i: u64) -> bool {
    h(seed, purpose::DELETE, i) % 25 == 3
}

/// `problem|incident|question|task` or none.
pub(crate) fn ticket_type(seed: u64, i: u64) -> Option<&'static str> {
    match h(seed, purpose::TYPE, i) % 10 {
        0..=3 => Some("question"),
        4..=5 => Some("incident"),
        6 => Some("problem"),
        7 => Some("task"),
        _ => None,
    }
}

/// The world's priority word as Zendesk's.
pub(crate) fn priority(world: &str) -> Option<&'static str> {
    match world {
        "low" => Some("low"),
        "medium" => Some("normal"),
        "high" => Some("high"),
        "urgent" => Some("urgent"),
        _ => None,
    }
}

/// Brand index (0 = default) of ticket `i`.
pub(crate) fn brand(seed: u64, i: u64) -> u64 {
    u64::from(h(seed, purpose::BRAND, i).is_multiple_of(5))
}

/// Form index (0 = default) of ticket `i`.
pub(crate) fn form(seed: u64, i: u64) -> u64 {
    u64::from(h(seed, purpose::FORM, i).is_multiple_of(4))
}

/// Whether end user `j` was deleted (Zendesk keeps them, `active:false`).
pub(crate) fn contact_deleted(j: u64) -> bool {
    j % 37 == 11
}

/// A satisfaction rating on a solved or closed ticket: `(good, comment)`.
pub(crate) fn rating(seed: u64, i: u64, status: Status) -> Option<(bool, Option<&'static str>)> {
    if !matches!(status, Status::Solved | Status::Closed) {
        return None;
    }
    let x = h(seed, purpose::RATING, i);
    if !x.is_multiple_of(3) {
        return None;
    }
    let good = x % 4 != 1;
    let comment = match (x >> 8) % 3 {
        0 if good => Some("Quick and friendly, thanks! 🙏"),
        0 => Some("Took a week to get an answer."),
        _ => None,
    };
    Some((good, comment))
}

/// Whether comment `id` had part of its text and a file redacted (research §3.2).
pub(crate) fn redacted(seed: u64, comment_id: u64) -> bool {
    h(seed, purpose::REDACT, comment_id).is_multiple_of(41)
}

/// Whether the malware scanner flagged attachment `id`.
pub(crate) fn malware(seed: u64, attachment_id: u64) -> bool {
    h(seed, purpose::MALWARE, attachment_id).is_multiple_of(53)
}

/// Whether article `i` also has a French translation.
pub(crate) fn translated(seed: u64, i: u64) -> bool {
    h(seed, purpose::TRANSLATION, i).is_multiple_of(3)
}
