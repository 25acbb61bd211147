//! Counter-based randomness, so fault decisions are reproducible from a seed and a request number
//! without a shared mutable RNG. Built on the one splitmix64 of `deskmove-synth`.

pub use deskmove_synth::splitmix64;

/// A uniform float in `[0, 1)` derived from `seed` and `n`.
pub fn unit(seed: u64, n: u64) -> f64 {
    let bits = splitmix64(seed ^ splitmix64(n)) >> 11;
    bits as f64 / (1u64 << 53) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_is_in_range_and_repeatable() {
        for n in 0..10_000 {
            let u = unit(42, n);
            assert!((0.0..1.0).contains(&u));
            assert_eq!(u, unit(42, n));
        }
        let mean: f64 = (0..10_000).map(|n| unit(7, n)).sum::<f64>() / 10_000.0;
        assert!((mean - 0.5).abs() < 0.02, "mean {mean}");
    }
}
