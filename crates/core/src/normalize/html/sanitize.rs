//! The first step of every HTML conversion: an ammonia allow-list that keeps exactly what
//! Markdown can express and removes everything else, so the converter never sees script, event
//! handlers, `javascript:` links or markup it would have to guess about
//! (../shared/research/rust-stack-and-style.md §A.7: "run ammonia first").

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use ammonia::{Builder, UrlRelative};
use url::Url;

/// Elements kept (their attributes are listed in [`builder`]). Everything else is unwrapped:
/// the element goes, its text stays (a mention `<span>` becomes its `@Name` text).
const TAGS: &[&str] = &[
    "p",
    "br",
    "div",
    "hr",
    "ul",
    "ol",
    "li",
    "a",
    "code",
    "pre",
    "table",
    "thead",
    "tbody",
    "tfoot",
    "tr",
    "th",
    "td",
    "caption",
    "blockquote",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "em",
    "i",
    "strong",
    "b",
    "s",
    "del",
    "strike",
    "sup",
    "sub",
    "img",
];

/// Elements removed together with everything inside them: their text is code, styling or
/// document metadata, never message content. `head` and `title` arrive inside full email
/// documents; `iframe`, `noscript`, `noembed`, `noframes` and `xmp` hold raw text that would
/// otherwise surface as literal markup.
const DROP_WITH_CONTENT: &[&str] = &[
    "script", "style", "title", "iframe", "noscript", "noembed", "noframes", "xmp", "template",
    "object", "embed", "textarea", "select",
];

/// URL schemes allowed in `a[href]`. Everything else (`javascript:`, `data:`, `vbscript:`, ...)
/// loses the attribute, so the link text survives without a link.
const LINK_SCHEMES: &[&str] = &["http", "https", "mailto", "tel"];

/// URL schemes allowed in `img[src]`. `cid:` names an attachment of the same email and `data:`
/// embeds the picture; both are returned to the caller for re-hosting like any other source.
const IMAGE_SCHEMES: &[&str] = &["http", "https", "cid", "data"];

/// The sanitiser configuration. `base` resolves relative `href`/`src` values when given; without
/// it they pass through unchanged.
pub(super) fn builder(base: Option<&Url>) -> Builder<'static> {
    let mut builder = Builder::empty();
    let attributes: HashMap<&str, HashSet<&str>> = [
        ("a", HashSet::from(["href"])),
        ("img", HashSet::from(["src", "alt"])),
        ("code", HashSet::from(["class"])),
        ("pre", HashSet::from(["class"])),
        ("th", HashSet::from(["align"])),
        ("td", HashSet::from(["align"])),
    ]
    .into_iter()
    .collect();
    builder
        .tags(TAGS.iter().copied().collect())
        .clean_content_tags(DROP_WITH_CONTENT.iter().copied().collect())
        .tag_attributes(attributes)
        .generic_attributes(HashSet::new())
        .url_schemes(LINK_SCHEMES.iter().chain(IMAGE_SCHEMES).copied().collect())
        .link_rel(None)
        .strip_comments(true)
        .attribute_filter(filter_attribute)
        .url_relative(match base {
            Some(base) => UrlRelative::RewriteWithBase(base.clone()),
            None => UrlRelative::PassThrough,
        });
    builder
}

/// Per-attribute rules ammonia's global lists cannot express.
fn filter_attribute<'u>(element: &str, attribute: &str, value: &'u str) -> Option<Cow<'u, str>> {
    match (element, attribute) {
        ("a", "href") => url_with_scheme(value, LINK_SCHEMES),
        ("img", "src") => image_source(value),
        // Keep only the language of a code block: `language-rust` (the HTML5 convention, which
        // htmd reads) or `lang-rust` (highlight.js), rewritten to `language-`.
        ("code" | "pre", "class") => value
            .split_ascii_whitespace()
            .find_map(|class| {
                class
                    .strip_prefix("language-")
                    .or_else(|| class.strip_prefix("lang-"))
            })
            .filter(|lang| !lang.is_empty() && lang.bytes().all(is_language_byte))
            .map(|lang| Cow::Owned(format!("language-{lang}"))),
        _ => Some(Cow::Borrowed(value)),
    }
}

fn is_language_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'+' | b'#' | b'-' | b'_' | b'.')
}

/// Only `data:image/...` among data URLs: a `data:text/html` source is not a picture.
fn image_source(value: &str) -> Option<Cow<'_, str>> {
    let trimmed = value.trim();
    if let Some(data) = strip_prefix_ignore_case(trimmed, "data:") {
        let raster = [
            "image/png",
            "image/jpeg",
            "image/jpg",
            "image/gif",
            "image/webp",
        ];
        return raster
            .iter()
            .any(|mime| strip_prefix_ignore_case(data, mime).is_some())
            .then(|| Cow::Owned(encode_unsafe(trimmed)));
    }
    url_with_scheme(value, IMAGE_SCHEMES)
}

/// Keeps a URL whose scheme is in `schemes`, or a relative URL; percent-encodes the characters
/// that would end a Markdown link destination or read as markup (`<`, `>`, space, ...).
fn url_with_scheme<'u>(value: &'u str, schemes: &[&str]) -> Option<Cow<'u, str>> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return None;
    }
    match Url::parse(trimmed) {
        // The scheme is judged on the parsed URL (which lower-cases it and drops the tabs and
        // newlines of tricks like "java\tscript:"); the value kept is the original, encoded.
        Ok(url) => schemes
            .contains(&url.scheme())
            .then(|| Cow::Owned(encode_unsafe(trimmed))),
        Err(url::ParseError::RelativeUrlWithoutBase) => Some(Cow::Owned(encode_unsafe(trimmed))),
        Err(_) => None,
    }
}

fn encode_unsafe(url: &str) -> String {
    let mut out = String::with_capacity(url.len());
    for c in url.chars() {
        match c {
            ' ' => out.push_str("%20"),
            '"' => out.push_str("%22"),
            '<' => out.push_str("%3C"),
            '>' => out.push_str("%3E"),
            '`' => out.push_str("%60"),
            // A backslash escapes the next character in a Markdown destination, so the URL a
            // renderer reads would differ from the one reported for re-hosting.
            '\\' => out.push_str("%5C"),
            // A `|` in a table cell is escaped as `\|` by the table writer; encoded, a URL reads
            // the same in a cell and outside one.
            '|' => out.push_str("%7C"),
            c if c.is_control() || c.is_whitespace() => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("%{b:02X}"));
                }
            }
            c => out.push(c),
        }
    }
    out
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| &text[prefix.len()..])
}
