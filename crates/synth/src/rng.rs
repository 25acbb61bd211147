//! Counter-based randomness: every value in the world is a pure function of
//! `(seed, stream, a, b)`, so record *i* never depends on records `0..i` and
//! memory stays flat however large the world is.

/// One independent stream of decisions per kind of fact, so adding a new
/// decision to one kind never shifts the values of another. The numbers are
/// part of every world: a stream may be renamed, never renumbered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u64)]
pub(crate) enum Stream {
    Agent = 1,
    Contact = 2,
    ContactEdit = 3,
    Company = 4,
    Conversation = 5,
    PartKind = 6,
    PartBody = 7,
    PartAttach = 8,
    Attachment = 9,
    Touch = 10,
    Ticket = 12,
    Note = 13,
    Article = 14,
    /// Added later: the few contacts with long tag, company and note lists (`people.rs`).
    /// A new stream, so every record the world had before stays byte for byte the same.
    SubList = 15,
}

/// SplitMix64's increment (the golden ratio in 64 bits).
const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;

/// SplitMix64: a well-mixed 64-bit value from any 64-bit input. The one implementation every
/// deskmove crate uses (sandboxes derive tokens and fault decisions from it, tests their timings).
#[inline]
pub fn splitmix64(x: u64) -> u64 {
    mix(x.wrapping_add(GOLDEN))
}

/// The splitmix64 finaliser: a bijective 64-bit mixer with good avalanche.
#[inline]
pub(crate) fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// A tiny splitmix64 generator keyed by a counter tuple.
#[derive(Debug, Clone)]
pub(crate) struct Rng {
    state: u64,
}

impl Rng {
    /// The generator for fact `(stream, a, b)` of the world `seed`.
    #[inline]
    pub(crate) fn new(seed: u64, stream: Stream, a: u64, b: u64) -> Self {
        let s = mix(seed
            ^ mix((stream as u64).wrapping_mul(GOLDEN)
                ^ mix(a ^ mix(b.wrapping_add(0x632b_e59b_d9b4_e019)))));
        Self { state: s }
    }

    #[inline]
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN);
        mix(self.state)
    }

    /// Uniform in `0..n` (0 when `n == 0`), by multiply-shift (no modulo bias worth noting).
    #[inline]
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    #[inline]
    pub(crate) fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi.saturating_sub(lo) + 1)
    }

    /// True with probability `per_million / 1_000_000`.
    #[inline]
    pub(crate) fn chance(&mut self, per_million: u64) -> bool {
        self.below(1_000_000) < per_million
    }

    /// One of a non-empty list of static strings.
    #[inline]
    pub(crate) fn pick_str(&mut self, items: &[&'static str]) -> &'static str {
        let i = self.below(items.len() as u64) as usize;
        items.get(i).copied().unwrap_or("")
    }

    /// One element of a non-empty slice (the first when empty-proofing is needed by the caller).
    #[inline]
    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        let i = self.below(items.len() as u64) as usize;
        &items[i.min(items.len().saturating_sub(1))]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_key_same_values_different_key_different_values() {
        let mut a = Rng::new(7, Stream::Contact, 3, 0);
        let mut b = Rng::new(7, Stream::Contact, 3, 0);
        let mut c = Rng::new(7, Stream::Contact, 4, 0);
        let va: Vec<u64> = (0..4).map(|_| a.next_u64()).collect();
        let vb: Vec<u64> = (0..4).map(|_| b.next_u64()).collect();
        let vc: Vec<u64> = (0..4).map(|_| c.next_u64()).collect();
        assert_eq!(va, vb);
        assert_ne!(va, vc);
    }

    #[test]
    fn below_stays_in_range() {
        let mut r = Rng::new(1, Stream::Agent, 0, 0);
        for n in [1u64, 2, 3, 10, 1_000_003] {
            for _ in 0..1000 {
                assert!(r.below(n) < n);
            }
        }
        assert_eq!(r.below(0), 0);
    }
}
