//! Golden tests for HTML -> Markdown: realistic helpdesk bodies in `tests/html_golden/*.html`,
//! each pinned by a reviewed insta snapshot in `tests/html_golden/snapshots/`.
//!
//! To review a change: `INSTA_UPDATE=always cargo test -p deskmove-core --test html_golden`,
//! then read the diff of the `.snap` files before committing them.

use std::fs;
use std::path::{Path, PathBuf};

use deskmove_core::normalize::html::{Converted, to_markdown};

fn fixtures() -> Vec<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/html_golden");
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.extension().is_some_and(|ext| ext == "html"))
        .collect();
    files.sort();
    files
}

fn convert(name: &str) -> Converted {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/html_golden")
        .join(format!("{name}.html"));
    to_markdown(&fs::read_to_string(path).unwrap()).unwrap()
}

/// What a snapshot holds: the Markdown, then the image list.
fn render(converted: &Converted) -> String {
    let mut out = converted.markdown.clone();
    out.push_str("\n\n---- images ----\n");
    for image in &converted.images {
        out.push_str(image);
        out.push('\n');
    }
    out
}

#[test]
fn every_fixture_matches_its_snapshot() {
    let files = fixtures();
    assert!(files.len() >= 15, "the brief asks for at least 15 bodies");
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/html_golden/snapshots"),
    );
    settings.set_prepend_module_to_snapshot(false);
    settings.bind(|| {
        for path in files {
            let name = path.file_stem().unwrap().to_str().unwrap().to_owned();
            let html = fs::read_to_string(&path).unwrap();
            let converted = to_markdown(&html).unwrap();
            insta::assert_snapshot!(name, render(&converted));
        }
    });
}

/// Strings that must never appear in the Markdown of any malicious fixture: script bodies,
/// handler attributes and their payloads, dangerous URL schemes, style sheet text.
const NEVER: &[&str] = &[
    "<script",
    "</script",
    "document.cookie",
    "localStorage",
    "onerror",
    "onload",
    "onclick",
    "onmouseover",
    "javascript:",
    "vbscript:",
    "data:text/html",
    "<iframe",
    "<svg",
    "<style",
    "display:none",
    "evil.example",
    "alert(1)",
    "alert(2)",
    "alert(3)",
    "alert(5)",
    "alert(6)",
    "alert(7)",
    "alert(8)",
    "alert('img')",
    "alert('svg')",
    "alert('svg script')",
    "alert('stolen",
    "alert(document.domain)",
    "alert('nested comment')",
    "alert('short comment')",
    "alert('style break')",
    "noscript payload",
    "steal()",
];

fn assert_clean(name: &str) -> Converted {
    let converted = convert(name);
    let lower = converted.markdown.to_lowercase();
    for needle in NEVER {
        assert!(
            !lower.contains(&needle.to_lowercase()),
            "{name}: {needle:?} survived in:\n{}",
            converted.markdown
        );
    }
    converted
}

#[test]
fn script_and_style_content_never_survives() {
    let converted = assert_clean("12_malicious_script_style");
    assert_eq!(converted.markdown, "Hello\n\nWorld");
}

#[test]
fn handlers_and_dangerous_links_are_dropped_but_text_kept() {
    let converted = assert_clean("13_malicious_handlers_links");
    // Every link text survives without its link; the safe link keeps its URL.
    assert!(
        converted
            .markdown
            .starts_with("Click here or there or tab or vb or data.")
    );
    assert!(
        converted
            .markdown
            .contains("[safe link](https://ok.example/path?q=1)")
    );
    assert_eq!(converted.images, vec!["x".to_owned()]);
}

#[test]
fn iframe_svg_math_and_object_are_removed() {
    let converted = assert_clean("14_malicious_iframe_svg");
    assert_eq!(converted.markdown, "Before\n\nAfter");
    assert!(converted.images.is_empty());
}

#[test]
fn comment_tricks_do_not_smuggle_script() {
    let converted = assert_clean("15_malicious_comment_tricks");
    // Text that the HTML parser itself reads as text (an escaped tag, the tail of a bogus CDATA
    // comment, the rest of a broken tag name) stays visible text, as a browser shows it; the
    // angle bracket is an entity, so no renderer can read it as a tag.
    assert!(
        converted
            .markdown
            .contains("D &lt;script>alert('escaped text')&lt;/script> E")
    );
    for letter in ["A", "B", "C", "F", "G"] {
        assert!(
            converted.markdown.lines().any(|line| line == letter),
            "{letter} lost"
        );
    }
}

#[test]
fn outlook_head_title_and_style_never_survive() {
    let converted = convert("07_outlook_msonormal");
    for needle in [
        "Invoice 2024-118",
        "MsoNormal",
        "font-family",
        "shapedefaults",
        "&nbsp;",
    ] {
        assert!(!converted.markdown.contains(needle), "{needle:?} survived");
    }
    assert!(
        converted
            .markdown
            .starts_with("Hello team,\n\nPlease find the invoice attached.")
    );
}

#[test]
fn inline_images_are_reported_and_can_be_rehosted() {
    let mut converted = convert("11_inline_images");
    assert_eq!(converted.images.len(), 4);
    let changed = converted.replace_image(
        "https://acme.io/banner(1).png",
        "https://files.example/b3/ab(1)",
    );
    assert_eq!(changed, 1);
    assert!(
        converted
            .markdown
            .contains("![banner](https://files.example/b3/ab\\(1\\))")
    );
    assert!(
        converted
            .images
            .contains(&"https://files.example/b3/ab(1)".to_owned())
    );
    assert!(!converted.markdown.contains("javascript"));
}
