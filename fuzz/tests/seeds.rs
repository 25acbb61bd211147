//! Replays every committed seed (and any minimised finding added as `seed-*`) through its
//! target's check, so a regression shows up in `cargo test` without libFuzzer.

use std::fs;
use std::path::Path;

use deskmove_fuzz::Violation;

fn replay(target: &str, check: fn(&[u8]) -> Result<(), Violation>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target);
    let mut seeds = 0;
    for entry in fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if !name.starts_with("seed-") {
            continue;
        }
        let data = fs::read(&path).unwrap();
        if let Err(violation) = check(&data) {
            panic!("{target}/{name}: {violation}");
        }
        seeds += 1;
    }
    assert!(
        seeds >= 5,
        "{target}: only {seeds} seeds in {}",
        dir.display()
    );
}

#[test]
fn html_to_markdown_seeds() {
    replay("html_to_markdown", deskmove_fuzz::html::check);
}

#[test]
fn timestamps_seeds() {
    replay("timestamps", deskmove_fuzz::time::check);
}

#[test]
fn email_seeds() {
    replay("email", deskmove_fuzz::email::check);
}

#[test]
fn phone_seeds() {
    replay("phone", deskmove_fuzz::phone::check);
}
