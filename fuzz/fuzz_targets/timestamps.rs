//! Fuzz target `timestamps`: the invariants of `deskmove_fuzz::time` (see that module's docs).

#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| deskmove_fuzz::run(deskmove_fuzz::time::check, data));
