//! Text-level fixes around the converter.
//!
//! Before: htmd writes text as it finds it, escaping a tag-like `<x` as `\<x`. That renders
//! correctly, but still spells `<script` in the Markdown, which some renderers and every naive
//! filter treat as markup; and it writes a literal `&copy;` typed by a customer unescaped, so it
//! would render as ©. [`prepare`] rewrites the sanitised HTML so such text reaches htmd as
//! the entities `&lt;` and `&amp;`, which CommonMark renders back to the literal characters.
//! Code spans and blocks are left alone: Markdown shows their content verbatim.
//!
//! After: [`tidy`] removes lines made only of white space (Outlook's `<p>&nbsp;</p>`) and runs of
//! blank lines, outside fenced code.

/// Element nesting kept for the converter. htmd walks the tree recursively, and a hostile body of
/// a few hundred nested lists overflows a 2 MiB thread stack, which aborts the process rather
/// than panicking. Real mail nests a few dozen levels (Outlook layout tables); deeper elements lose
/// their tags and keep their text.
pub(super) const MAX_DEPTH: usize = 96;

/// Elements the serialiser writes without an end tag (those of the sanitiser's allow-list).
const VOID: &[&str] = &["br", "hr", "img"];

/// Prepares ammonia's serialised output for htmd:
/// - in text outside `pre`/`code`, every `&lt;` becomes `&amp;lt;`,
///   and `&amp;` that starts an entity reference (`&amp;copy;`, `&amp;#169;`) becomes
///   `&amp;amp;` (see the module docs);
/// - elements nested deeper than [`MAX_DEPTH`] are unwrapped.
///
/// The input must be html5ever's serialisation (as ammonia produces): every `<` in text is
/// escaped, attribute values are quoted, end tags match, there are no comments.
pub(super) fn prepare(html: &str) -> String {
    let mut out = String::with_capacity(html.len() + html.len() / 16);
    // Open elements: name, and whether its tags were written.
    let mut open: Vec<(&str, bool)> = Vec::new();
    let mut code_depth: usize = 0;
    let mut rest = html;
    while !rest.is_empty() {
        if rest.starts_with('<') {
            let end = tag_end(rest);
            let tag = &rest[..end];
            rest = &rest[end..];
            let (name, closing) = tag_name(tag);
            let is_void = VOID.iter().any(|void| name.eq_ignore_ascii_case(void));
            if closing {
                if let Some((_, true)) = open.pop() {
                    out.push_str(tag);
                }
                if is_code(name) {
                    code_depth = code_depth.saturating_sub(1);
                }
            } else {
                let written = open.len() < MAX_DEPTH;
                if written {
                    out.push_str(tag);
                }
                if !is_void {
                    open.push((name, written));
                    if is_code(name) {
                        code_depth += 1;
                    }
                }
            }
            continue;
        }
        let end = rest.find('<').unwrap_or(rest.len());
        let text = &rest[..end];
        if code_depth == 0 {
            // "Click!" before a link would write `![text](url)`: an image. The `!` goes in as the
            // entity `&#33;`, which renders as "!" but never starts an image (fuzz finding
            // `seed-regression-bang_before_link`).
            match text.strip_suffix('!') {
                Some(head) if starts_anchor(&rest[end..]) => {
                    push_protected(&mut out, head);
                    out.push_str("&amp;#33;");
                }
                _ => push_protected(&mut out, text),
            }
        } else {
            out.push_str(text);
        }
        rest = &rest[end..];
    }
    out
}

/// Whether `s` starts with an `<a>` start tag, after any end tags (an `<a>` without `href`
/// writes nothing at its end, so `<a>C!</a><a href=..>` puts the `!` against the link too).
fn starts_anchor(mut s: &str) -> bool {
    while s.starts_with("</") {
        s = &s[tag_end(s)..];
    }
    s.strip_prefix("<a")
        .or_else(|| s.strip_prefix("<A"))
        .and_then(|after| after.chars().next())
        .is_some_and(|c| c == '>' || c.is_ascii_whitespace())
}

fn is_code(name: &str) -> bool {
    name.eq_ignore_ascii_case("pre") || name.eq_ignore_ascii_case("code")
}

/// The byte length of the tag at the start of `s` (which starts with `<`), honouring quoted
/// attribute values, which may contain `>`.
fn tag_end(s: &str) -> usize {
    let mut quote: Option<u8> = None;
    for (i, b) in s.bytes().enumerate().skip(1) {
        match (quote, b) {
            (Some(q), _) if b == q => quote = None,
            (Some(_), _) => {}
            (None, b'"' | b'\'') => quote = Some(b),
            (None, b'>') => return i + 1,
            (None, _) => {}
        }
    }
    s.len()
}

/// The element name of a tag and whether it is a closing tag.
fn tag_name(tag: &str) -> (&str, bool) {
    let inner = tag.trim_start_matches('<');
    let (inner, closing) = match inner.strip_prefix('/') {
        Some(rest) => (rest, true),
        None => (inner, false),
    };
    let end = inner
        .find(|c: char| c.is_ascii_whitespace() || c == '>' || c == '/')
        .unwrap_or(inner.len());
    (&inner[..end], closing)
}

fn push_protected(out: &mut String, text: &str) {
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let tail = &rest[at..];
        // Every `<` in text stays an entity: whether it could start a tag depends on what
        // follows, and what follows can change when an element vanishes or white space
        // collapses (`<table><\n<table>e>` became `<e>`: fuzz findings
        // `seed-regression-lt_*`). CommonMark renders `&lt;` as "<".
        if let Some(after) = tail.strip_prefix("&lt;") {
            out.push_str("&amp;lt;");
            rest = after;
        } else if let Some(after) = tail.strip_prefix("&amp;")
            && starts_entity_reference(after)
        {
            out.push_str("&amp;amp;");
            rest = after;
        } else {
            out.push('&');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
}

/// Whether `s` starts like the rest of a CommonMark entity reference: `name;`, `#123;` or
/// `#x1F;`.
fn starts_entity_reference(s: &str) -> bool {
    let body = s.strip_prefix('#').unwrap_or(s);
    let name_len = body.bytes().take_while(u8::is_ascii_alphanumeric).count();
    name_len > 0 && body.as_bytes().get(name_len) == Some(&b';')
}

/// Removes white-space-only lines' content, collapses runs of blank lines to one, drops hard
/// breaks that end a block (where they do nothing) and trims blank lines at both ends, leaving
/// fenced code blocks untouched.
pub(super) fn tidy(markdown: &str) -> String {
    // Each kept line, and whether it is verbatim code.
    let mut lines: Vec<(String, bool)> = Vec::new();
    let mut fence: Option<String> = None;
    let mut blank_pending = false;
    for line in markdown.lines() {
        let bare = line.trim_start_matches(['>', ' ']);
        if let Some(open) = &fence {
            if bare.starts_with(open.as_str())
                && bare.trim_end().chars().all(|c| c == '`' || c == '~')
            {
                fence = None;
            }
            lines.push((line.to_owned(), true));
            continue;
        }
        if line.trim().is_empty() {
            blank_pending = true;
            continue;
        }
        if blank_pending && !lines.is_empty() {
            lines.push((String::new(), false));
        }
        blank_pending = false;
        if let Some(marker) = fence_marker(bare) {
            fence = Some(marker);
            lines.push((line.to_owned(), true));
            continue;
        }
        // A blank line inside a block quote (`> ` plus white space, as `<div><br></div>` leaves
        // it): keep only the markers, and only once in a row.
        if bare.trim().is_empty() {
            let markers: String = line.chars().filter(|c| *c == '>').collect();
            if lines.last().is_some_and(|(last, _)| *last == markers) {
                continue;
            }
            lines.push((markers, false));
            continue;
        }
        lines.push((line.to_owned(), false));
    }
    let mut out = String::with_capacity(markdown.len());
    for index in 0..lines.len() {
        let (line, code) = &lines[index];
        let ends_block = lines
            .get(index + 1)
            .is_none_or(|(next, _)| next.trim_start_matches(['>', ' ']).is_empty());
        if !code && ends_block {
            out.push_str(line.trim_end());
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    let end = out.trim_end_matches('\n').len();
    out.truncate(end);
    out
}

/// The opening fence (three or more backticks or tildes) a line starts with, if any.
fn fence_marker(line: &str) -> Option<String> {
    let first = line.chars().next().filter(|c| *c == '`' || *c == '~')?;
    let run = line.chars().take_while(|c| *c == first).count();
    (run >= 3).then(|| first.to_string().repeat(run))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_like_text_and_entity_text_are_protected_outside_code_only() {
        let html = "<p>a &lt;b&gt; &lt; 3 &amp;copy; &amp;#169; AT&amp;T</p><pre><code>&lt;b&gt; &amp;copy;</code></pre>";
        assert_eq!(
            prepare(html),
            "<p>a &amp;lt;b&gt; &amp;lt; 3 &amp;amp;copy; &amp;amp;#169; AT&amp;T</p><pre><code>&lt;b&gt; &amp;copy;</code></pre>"
        );
    }

    #[test]
    fn quoted_greater_than_does_not_end_a_tag() {
        let html = r#"<img alt="a > b" src="x"><p>&lt;i</p>"#;
        assert_eq!(
            prepare(html),
            r#"<img alt="a > b" src="x"><p>&amp;lt;i</p>"#
        );
    }

    #[test]
    fn depth_is_capped_and_text_kept() {
        let html = format!(
            "{}x{}",
            "<div>".repeat(MAX_DEPTH + 5),
            "</div>".repeat(MAX_DEPTH + 5)
        );
        let out = prepare(&html);
        assert_eq!(out.matches("<div>").count(), MAX_DEPTH);
        assert_eq!(out.matches("</div>").count(), MAX_DEPTH);
        assert!(out.contains('x'));
        // Void elements do not count as open.
        let voids = format!("{}y", "<br>".repeat(MAX_DEPTH * 2));
        assert_eq!(prepare(&voids), voids);
    }

    #[test]
    fn tidy_collapses_blank_lines_but_not_code() {
        let markdown = "a  \n\n\u{a0}\n\n\nb\n\n```\n\n\n  code  \n```\n> x\n>   \n>  \n> y";
        assert_eq!(
            tidy(markdown),
            "a\n\nb\n\n```\n\n\n  code  \n```\n> x\n>\n> y"
        );
    }
}
