//! Vendor-style ids that decode back to an index in O(1), so "retrieve by id"
//! never needs a lookup table.

use crate::rng::mix;
use crate::world::View;

/// Numeric id bases per kind: digits-only ids, as most helpdesks use for these.
pub(crate) const AGENT_BASE: u64 = 900_000;
pub(crate) const TEAM_BASE: u64 = 5_000;
pub(crate) const TAG_BASE: u64 = 7_000;
pub(crate) const ATTRIBUTE_BASE: u64 = 100;
pub(crate) const MACRO_BASE: u64 = 300_000;
pub(crate) const COLLECTION_BASE: u64 = 200_000;
pub(crate) const ARTICLE_BASE: u64 = 400_000;
pub(crate) const CONVERSATION_BASE: u64 = 100_000_000;
pub(crate) const TICKET_BASE: u64 = 900_000_000;

/// Parts per conversation id block: part id = (conversation + 1) * PART_BLOCK + position.
pub(crate) const PART_BLOCK: u64 = 100_000;
/// Position used for the conversation's first message (its "source").
pub(crate) const SOURCE_POSITION: u64 = PART_BLOCK - 1;
/// Attachment slots per part: id = part_id * SLOTS + slot.
pub(crate) const SLOTS: u64 = 32;
/// Slots from here on are inline images embedded in the body.
pub(crate) const INLINE_SLOT: u64 = 24;

/// Which kind a hex id belongs to (part of the id's checksum).
#[derive(Debug, Clone, Copy)]
pub(crate) enum HexKind {
    Contact = 1,
    Company = 2,
}

impl View<'_> {
    pub(crate) fn hex_id(&self, kind: HexKind, index: u64) -> String {
        let head = (index as u32) ^ self.core.id_mask;
        let tail = mix(self.core.seed ^ mix(index ^ ((kind as u64) << 56)));
        format!("{head:08x}{tail:016x}")
    }

    pub(crate) fn parse_hex_id(&self, kind: HexKind, id: &str) -> Option<u64> {
        if id.len() != 24 || !id.is_ascii() {
            return None;
        }
        let head = u32::from_str_radix(id.get(..8)?, 16).ok()?;
        let index = u64::from(head ^ self.core.id_mask);
        (self.hex_id(kind, index) == id).then_some(index)
    }
}

/// Parse a digits-only id with a base; `None` when below the base or not digits.
pub(crate) fn parse_numeric(id: &str, base: u64) -> Option<u64> {
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    id.parse::<u64>().ok()?.checked_sub(base)
}
