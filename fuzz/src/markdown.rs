//! A CommonMark reading of the converter's output, so that the HTML invariants judge what a
//! renderer (Chatwoot: CommonMark with GFM tables, ../shared/research/chatwoot.md §2.11) would
//! see, not raw substrings: code spans and blocks show their content verbatim, so they are masked
//! out, and link and image destinations are collected as the renderer decodes them.

use pulldown_cmark::{Event, Options, Parser, Tag};

/// What a Markdown document holds, as a renderer reads it.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Scan {
    /// The document with every code span and code block (fences included) blanked to spaces.
    pub outside_code: String,
    /// Raw HTML (block or inline) that the renderer would pass through.
    pub html: Vec<String>,
    /// Destinations of links, decoded.
    pub links: Vec<String>,
    /// Destinations of images, decoded.
    pub images: Vec<String>,
}

/// Parses `markdown` with the GFM extensions the target renders (tables, strike-through).
pub fn scan(markdown: &str) -> Scan {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH;
    let mut masked = markdown.as_bytes().to_vec();
    let mut out = Scan::default();
    for (event, range) in Parser::new_ext(markdown, options).into_offset_iter() {
        match event {
            Event::Code(_) | Event::Start(Tag::CodeBlock(_)) => {
                for byte in &mut masked[range] {
                    if *byte != b'\n' {
                        *byte = b' ';
                    }
                }
            }
            Event::Html(html) | Event::InlineHtml(html) => out.html.push(html.into_string()),
            Event::Start(Tag::Link { dest_url, .. }) => out.links.push(dest_url.into_string()),
            Event::Start(Tag::Image { dest_url, .. }) => out.images.push(dest_url.into_string()),
            _ => {}
        }
    }
    // Whole UTF-8 sequences were blanked (event ranges fall on char boundaries), so this is
    // lossless; the lossy form only guards against a parser that reported a split range.
    out.outside_code = String::from_utf8_lossy(&masked).into_owned();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn code_is_masked_and_text_kept() {
        let scan = scan("a `<script>` b\n\n```\n<script>\n```\n\nc <script");
        assert!(!scan.outside_code[..20].contains("<script"));
        assert!(scan.outside_code.starts_with("a "));
        assert!(scan.outside_code.ends_with("c <script"));
    }

    #[test]
    fn destinations_and_html_are_collected() {
        let scan = scan("[x](javascript:alert(1)) ![i](cid:a) <b>raw</b>");
        assert_eq!(scan.links, ["javascript:alert(1)"]);
        assert_eq!(scan.images, ["cid:a"]);
        assert_eq!(scan.html, ["<b>", "</b>"]);
    }
}
