//! One test per fixed normaliser bug. Each was found by the fuzzers in `fuzz/` (see its README);
//! the minimised input also lives there as `corpus/<target>/seed-regression-*`.

use deskmove_core::normalize::html::to_markdown;
use deskmove_core::normalize::{email, phone};

/// See: fuzz/corpus/html_to_markdown/seed-regression-code_span_with_blank_line*.html
#[test]
fn inline_code_with_a_blank_line_stays_one_code_span() {
    let md = to_markdown("<p><code>&lt;script&gt;\n\nx</code></p>")
        .unwrap()
        .markdown;
    assert_eq!(md, "`<script> x`");
    let md = to_markdown("<code>a\n\n&lt;javascript:alert(1)&gt;</code>")
        .unwrap()
        .markdown;
    assert!(!md.contains("\n\n"), "{md:?}");
    assert!(md.starts_with('`') && md.ends_with('`'), "{md:?}");
}

/// See: fuzz/corpus/html_to_markdown/seed-regression-data_image_src_*.html
#[test]
fn data_image_sources_are_percent_encoded_like_other_urls() {
    let converted = to_markdown(r#"<img src="data:image/png,x <b>y</b>">"#).unwrap();
    assert!(
        !converted.markdown.contains("<b>"),
        "{}",
        converted.markdown
    );
    assert!(
        converted.markdown.contains("%3Cb%3E"),
        "{}",
        converted.markdown
    );
    assert_eq!(converted.images.len(), 1);
}

/// See: fuzz/corpus/html_to_markdown/seed-regression-image_src_backslash_not_escaped.html
#[test]
fn a_backslash_in_an_image_source_is_encoded() {
    let converted = to_markdown(r#"<img src="https://x.example/a\b.png">"#).unwrap();
    assert!(!converted.markdown.contains('\\'), "{}", converted.markdown);
    assert!(
        converted.markdown.contains("a%5Cb.png"),
        "{}",
        converted.markdown
    );
}

/// See: fuzz/corpus/email/seed-regression-quoted_local_part_with_at.txt
#[test]
fn quoted_local_parts_and_second_at_signs_are_refused() {
    let n = email::normalize(r#""@"@a.bc"#);
    assert_eq!(n.value, None);
    assert!(n.issue.is_some());
    assert_eq!(n.original, r#""@"@a.bc"#, "the original is kept");
}

/// See: fuzz/corpus/phone/seed-regression-de_16_digits.txt
#[test]
fn numbers_longer_than_e164_allows_are_kept_raw() {
    let normalizer = phone::PhoneNormalizer::new(Some("DE")).unwrap();
    let n = normalizer.normalize("+4960445071234568");
    assert_eq!(n.e164, None);
    assert!(n.issue.is_some());
}

/// See: fuzz/corpus/html_to_markdown/seed-regression-lt_before_dropped_image.html
#[test]
fn a_less_than_before_a_dropped_image_never_forms_a_tag() {
    let md = to_markdown("<<img>x>").unwrap().markdown;
    assert!(!md.contains("<x"), "{md:?}");
    assert!(md.contains("&lt;x"), "{md:?}");
}

/// See: fuzz/corpus/html_to_markdown/seed-regression-pipe_in_image_source_in_table.html
#[test]
fn a_pipe_in_an_image_source_reads_the_same_inside_a_table() {
    let html = r#"<table><thead><tr><th>Plan</th></tr></thead><tbody><tr><td><img src="https://x.example/a|b.png"></td></tr></tbody></table>"#;
    let converted = to_markdown(html).unwrap();
    assert_eq!(converted.images, ["https://x.example/a%7Cb.png"]);
    assert!(
        converted
            .markdown
            .contains("](https://x.example/a%7Cb.png)"),
        "{}",
        converted.markdown
    );
}

/// See: fuzz/corpus/html_to_markdown/seed-regression-bang_before_link.html
#[test]
fn an_exclamation_mark_before_a_link_never_makes_it_an_image() {
    let converted =
        to_markdown(r#"<p>Click!<a href="https://x.example/help">here</a></p>"#).unwrap();
    assert!(!converted.markdown.contains("!["), "{}", converted.markdown);
    assert!(
        converted
            .markdown
            .contains("Click&#33;[here](https://x.example/help)"),
        "{}",
        converted.markdown
    );
    assert!(converted.images.is_empty());
}

/// See: fuzz/corpus/html_to_markdown/seed-regression-bang_before_link_after_end_tag.html
#[test]
fn an_exclamation_mark_before_an_end_tag_and_a_link_never_makes_an_image() {
    let converted = to_markdown(r#"<a>C!<a href=el">C"#).unwrap();
    assert!(!converted.markdown.contains("!["), "{}", converted.markdown);
    assert!(converted.images.is_empty());
}

/// See: fuzz/corpus/html_to_markdown/seed-regression-lt_before_vanishing_table.html
#[test]
fn a_less_than_before_collapsing_white_space_never_forms_a_tag() {
    let md = to_markdown("<table><\n<table>e>").unwrap().markdown;
    assert!(!md.contains("<e"), "{md:?}");
}
