//! Hostile shapes that must cost one slow body at worst, never the process.

use deskmove_core::normalize::html::to_markdown;

/// Runs `f` on a thread with tokio's default worker stack (2 MiB), where the migration runs.
fn on_small_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> T {
    std::thread::Builder::new()
        .stack_size(2 << 20)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap()
}

#[test]
fn deep_nesting_does_not_overflow_the_stack() {
    // Before the depth cap, 500 nested list items aborted the process with a stack overflow.
    for open in [
        "<ul><li>",
        "<blockquote>",
        "<table><tr><td>",
        "<div>",
        "<b><i>",
    ] {
        let html = format!("{}deep text", open.repeat(1500));
        let converted = on_small_stack(move || to_markdown(&html).unwrap());
        assert!(
            converted.markdown.contains("deep text"),
            "{open}: text lost"
        );
    }
}

#[test]
fn unclosed_and_garbage_markup_converts() {
    for html in [
        "<p><b><i>unclosed",
        "</p></div></li>stray end tags",
        "<table><td>cell without row</td>",
        "<<<>>>&&&;;;&#xFFFFFF;&#0;",
        "<a href=\"https://x.example/\"><a href=\"https://y.example/\">nested links</a></a>",
        "\u{0}\u{1}\u{7f}control characters",
    ] {
        let converted = on_small_stack(move || to_markdown(html).unwrap());
        assert!(!converted.markdown.contains('\u{0}'), "{html:?}");
    }
}

#[test]
fn nesting_deeper_than_any_real_message_is_refused_before_parsing() {
    // The parser's cost grows with the square of nesting depth: 20,000 nested divs took over a
    // second in a release build. Such a body is refused, kept as received, and becomes a problem.
    let html = format!(
        "{}payload{}",
        "<div>".repeat(20_000),
        "</div>".repeat(20_000)
    );
    let err = to_markdown(&html).unwrap_err();
    assert!(err.to_string().contains("20000 deep"), "{err}");
    let siblings = "<div>x</div>".repeat(20_000);
    assert!(to_markdown(&siblings).is_ok(), "many siblings are not deep");
}
