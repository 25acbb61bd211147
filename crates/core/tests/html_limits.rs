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
