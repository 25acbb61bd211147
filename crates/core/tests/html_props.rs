//! HTML -> Markdown properties over generated documents: no panic, no script, images reported.

use deskmove_core::normalize::html::to_markdown;
use proptest::prelude::*;

/// One HTML fragment: real tags (including hostile ones), attributes with handlers and
/// `javascript:` URLs, entities, comments and plain text.
fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9 .,!?|*_#>-]{0,12}",
        Just("<script>alert(1)</script>".to_owned()),
        Just("<SCRIPT src=//x.example/a.js></SCRIPT>".to_owned()),
        Just("<style>p{color:red}</style>".to_owned()),
        Just("<img src=x onerror=alert(1)>".to_owned()),
        Just("<svg onload=alert(1)><script>alert(2)</script></svg>".to_owned()),
        Just("<iframe srcdoc='<script>alert(3)</script>'></iframe>".to_owned()),
        Just("<a href='javascript:alert(4)'>x</a>".to_owned()),
        Just("<!-- <script>alert(5)</script> -->".to_owned()),
        Just("&lt;script&gt;".to_owned()),
        Just("&lt;ScRiPt".to_owned()),
        Just("<scr<script>ipt>".to_owned()),
        Just("<br>".to_owned()),
        Just("&nbsp;".to_owned()),
        Just("&amp;copy;".to_owned()),
        Just("<img src='https://cdn.example/a(1).png' alt='a [b]'>".to_owned()),
        "<(p|div|ul|ol|li|table|tr|td|th|thead|blockquote|em|strong|s|sup|sub|h2|span|a|b|i)( [a-z]{1,6}=\"[a-z:()]{0,8}\")?>",
        "</(p|div|ul|ol|li|table|tr|td|th|thead|blockquote|em|strong|s|sup|sub|h2|span|a|b|i)>",
    ]
}

fn document() -> impl Strategy<Value = String> {
    prop::collection::vec(fragment(), 0..24).prop_map(|parts| parts.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// No code elements are generated here, so no `<script` may appear anywhere (in code spans
    /// and blocks, text is shown verbatim and may legitimately spell it).
    #[test]
    fn output_never_contains_script(html in document()) {
        let converted = to_markdown(&html).unwrap();
        let lower = converted.markdown.to_lowercase();
        prop_assert!(!lower.contains("<script"), "{}", converted.markdown);
        prop_assert!(!lower.contains("javascript:"), "{}", converted.markdown);
        prop_assert!(!lower.contains("onerror"), "{}", converted.markdown);
        for image in &converted.images {
            let escaped = image.replace('(', "\\(").replace(')', "\\)");
            let destination = format!("]({escaped})");
            prop_assert!(converted.markdown.contains(&destination), "{}", converted.markdown);
        }
    }

    /// Arbitrary text, including stray `<`, `&` and control characters: never a panic or an error.
    #[test]
    fn never_panics_on_arbitrary_input(input in "\\PC{0,200}") {
        let converted = to_markdown(&input).unwrap();
        prop_assert!(!converted.markdown.to_lowercase().contains("<script") || input.to_lowercase().contains("pre") || input.to_lowercase().contains("code"));
    }

    /// Plain words survive the trip.
    #[test]
    fn plain_words_survive(words in prop::collection::vec("[a-zA-Z]{1,10}", 1..20)) {
        let html = format!("<p>{}</p>", words.join(" "));
        prop_assert_eq!(to_markdown(&html).unwrap().markdown, words.join(" "));
    }
}
