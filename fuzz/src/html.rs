//! Invariants of `normalize::html::to_markdown` on arbitrary bytes (decoded as lossy UTF-8, so
//! every input reaches the converter).
//!
//! When the conversion succeeds:
//! - outside code spans and blocks the Markdown never spells `<script` (any case): text that
//!   looked like a tag must arrive escaped (`&lt;script`), and script content must be gone;
//! - a renderer finds no raw HTML in it (the converter's contract: "never contains markup that
//!   renders as HTML");
//! - no link or image destination has a scheme outside the allow-lists of
//!   `crates/core/src/normalize/html/sanitize.rs` (links: http, https, mailto, tel; images: http,
//!   https, cid and `data:image/...`), so `javascript:` never becomes a link; relative URLs pass;
//! - every image the renderer finds is reported in `Converted::images` (it must be re-hosted:
//!   vendor image URLs are signed and expire), and every reported image is written as `](src)`.
//!
//! `javascript:` as plain text ("type javascript:void(0) in the console") is kept as text, which
//! renders inert; the check is on destinations, where it would be live.

use deskmove_core::normalize::html::to_markdown;

use crate::markdown::scan;
use crate::{Violation, ensure};

/// Schemes a link may keep.
pub const LINK_SCHEMES: &[&str] = &["http", "https", "mailto", "tel"];
/// Schemes an image may keep (`data:` only for `data:image/...`).
pub const IMAGE_SCHEMES: &[&str] = &["http", "https", "cid", "data"];

/// The check run by the `html_to_markdown` target.
pub fn check(data: &[u8]) -> Result<(), Violation> {
    let html = String::from_utf8_lossy(data);
    let Ok(converted) = to_markdown(&html) else {
        // An error is an allowed outcome (the caller keeps the HTML and records a problem).
        return Ok(());
    };
    let md = &converted.markdown;
    let scanned = scan(md);
    ensure!(
        !scanned.outside_code.to_lowercase().contains("<script"),
        "`<script` outside code in {md:?}"
    );
    ensure!(
        scanned.html.is_empty(),
        "raw HTML {:?} renders in {md:?}",
        scanned.html
    );
    for link in &scanned.links {
        ensure!(
            allowed(link, LINK_SCHEMES),
            "link destination {link:?} has a forbidden scheme in {md:?}"
        );
    }
    for image in scanned.images.iter().chain(&converted.images) {
        ensure!(
            allowed(image, IMAGE_SCHEMES),
            "image source {image:?} has a forbidden scheme in {md:?}"
        );
    }
    for image in &scanned.images {
        ensure!(
            converted.images.contains(image),
            "image {image:?} is in the Markdown but not reported for re-hosting: {md:?}"
        );
    }
    for image in &converted.images {
        let escaped = image.replace('(', "\\(").replace(')', "\\)");
        ensure!(
            md.contains(&format!("]({escaped})")),
            "reported image {image:?} is not written as `](src)` in {md:?}"
        );
    }
    Ok(())
}

/// Whether `url` is relative or has a scheme in `schemes`, judged as a browser would: leading
/// and trailing C0 controls and spaces trimmed, tabs and newlines removed anywhere (WHATWG URL),
/// scheme compared case-insensitively.
pub fn allowed(url: &str, schemes: &[&str]) -> bool {
    let cleaned: String = url
        .trim_matches(|c: char| c <= ' ')
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    let Some(scheme) = scheme_of(&cleaned) else {
        return true;
    };
    let scheme = scheme.to_ascii_lowercase();
    if !schemes.contains(&scheme.as_str()) {
        return false;
    }
    scheme != "data" || cleaned[5..].to_ascii_lowercase().starts_with("image/")
}

/// The scheme of an absolute URL: `[A-Za-z][A-Za-z0-9+.-]*` before the first `:`.
fn scheme_of(url: &str) -> Option<&str> {
    let (head, _) = url.split_once(':')?;
    let mut bytes = head.bytes();
    let first = bytes.next()?;
    (first.is_ascii_alphabetic()
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'.' | b'-')))
    .then_some(head)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_are_judged_like_a_browser() {
        assert!(allowed("https://x.example/a.png", IMAGE_SCHEMES));
        assert!(allowed("cid:part1", IMAGE_SCHEMES));
        assert!(allowed("data:image/png;base64,AA", IMAGE_SCHEMES));
        assert!(allowed("images/a.png", IMAGE_SCHEMES));
        assert!(!allowed("data:text/html,<b>", IMAGE_SCHEMES));
        assert!(!allowed("java\tscript:alert(1)", LINK_SCHEMES));
        assert!(!allowed(" JavaScript:alert(1)", LINK_SCHEMES));
        assert!(!allowed("cid:part1", LINK_SCHEMES));
        assert!(allowed("mailto:a@b.example", LINK_SCHEMES));
    }

    #[test]
    fn hostile_bodies_pass() {
        for body in [
            "<a href='javascript:alert(1)'>x</a><script>alert(2)</script>",
            "<p>&lt;script&gt;alert(3)&lt;/script&gt;</p>",
            "<img src=x onerror=alert(1)><img src='data:text/html,<script>'>",
            "<pre><code>&lt;script&gt;</code></pre>",
        ] {
            check(body.as_bytes()).unwrap();
        }
    }
}
