//! Inputs the fuzzers found that break a normaliser invariant, minimised, in
//! `findings/<target>/` (see the README). They are kept out of `corpus/` so `cargo fuzz run` can
//! explore past them; this test asserts they still reproduce. When a normaliser fix makes one
//! pass, this test fails: move the file to `corpus/<target>/seed-regression-<name>`, where
//! `tests/seeds.rs` then guards the fix.

use std::fs;
use std::path::Path;

use deskmove_fuzz::Violation;

fn still_reproduce(target: &str, check: fn(&[u8]) -> Result<(), Violation>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("findings")
        .join(target);
    let Ok(entries) = fs::read_dir(&dir) else {
        return;
    };
    for entry in entries {
        let path = entry.unwrap().path();
        let data = fs::read(&path).unwrap();
        assert!(
            check(&data).is_err(),
            "{} no longer breaks an invariant: move it to corpus/{target}/seed-regression-*",
            path.display()
        );
    }
}

#[test]
fn html_to_markdown_findings() {
    still_reproduce("html_to_markdown", deskmove_fuzz::html::check);
}

#[test]
fn timestamps_findings() {
    still_reproduce("timestamps", deskmove_fuzz::time::check);
}

#[test]
fn email_findings() {
    still_reproduce("email", deskmove_fuzz::email::check);
}

#[test]
fn phone_findings() {
    still_reproduce("phone", deskmove_fuzz::phone::check);
}
