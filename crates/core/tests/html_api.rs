//! The HTML converter's public API: the engine seam, base URLs, small inputs.

use deskmove_core::normalize::html::{Converted, HtmdConverter, HtmlToMarkdown, to_markdown};
use url::Url;

#[test]
fn callers_can_hold_any_engine() {
    let engine: Box<dyn HtmlToMarkdown> = Box::new(HtmdConverter::new());
    let converted = engine.convert("<p>Hi <b>there</b></p>").unwrap();
    assert_eq!(
        converted,
        Converted {
            markdown: "Hi **there**".to_owned(),
            images: vec![]
        }
    );
}

#[test]
fn relative_urls_resolve_against_a_base() {
    let base = Url::parse("https://help.acme.io/en/articles/").unwrap();
    let engine = HtmdConverter::with_base_url(&base);
    let converted = engine
        .convert(r#"<p><a href="42-setup">Setup</a> <img src="/img/a.png" alt="A"></p>"#)
        .unwrap();
    assert_eq!(
        converted.markdown,
        "[Setup](https://help.acme.io/en/articles/42-setup) ![A](https://help.acme.io/img/a.png)"
    );
    assert_eq!(
        converted.images,
        vec!["https://help.acme.io/img/a.png".to_owned()]
    );
    // Without a base they pass through.
    let plain = to_markdown(r#"<a href="42-setup">Setup</a>"#).unwrap();
    assert_eq!(plain.markdown, "[Setup](42-setup)");
}

#[test]
fn small_and_empty_inputs() {
    assert_eq!(to_markdown("").unwrap().markdown, "");
    assert_eq!(to_markdown("   ").unwrap().markdown, "");
    assert_eq!(to_markdown("<p></p><div><br></div>").unwrap().markdown, "");
    assert_eq!(to_markdown("plain text").unwrap().markdown, "plain text");
}

#[test]
fn markdown_syntax_in_text_is_escaped() {
    let converted = to_markdown("<p>*not bold* _not em_ [not](link) `not code`</p>").unwrap();
    assert_eq!(
        converted.markdown,
        r"\*not bold\* \_not em\_ \[not\](link) \`not code\`"
    );
}

#[test]
fn links_keep_safe_schemes_only() {
    let converted = to_markdown(
        r#"<a href="mailto:a@b.io">mail</a> <a href="tel:+14155550132">call</a> <a href="ftp://x.io/f">ftp</a> <a href="https://x.io/a b">space</a>"#,
    )
    .unwrap();
    assert_eq!(
        converted.markdown,
        "[mail](mailto:a@b.io) [call](tel:+14155550132) ftp [space](https://x.io/a%20b)"
    );
}

#[test]
fn code_language_classes_are_kept() {
    for (class, lang) in [
        ("language-rust", "rust"),
        ("lang-js", "js"),
        ("hljs language-c++", "c++"),
    ] {
        let html = format!(r#"<pre><code class="{class}">fn main() {{}}</code></pre>"#);
        assert_eq!(
            to_markdown(&html).unwrap().markdown,
            format!("```{lang}\nfn main() {{}}\n```")
        );
    }
    // A class that is not a language is dropped.
    let html = r#"<pre><code class="x onmouseover">a</code></pre>"#;
    assert_eq!(to_markdown(html).unwrap().markdown, "```\na\n```");
}
