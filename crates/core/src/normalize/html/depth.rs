//! A linear pre-check of how deeply a body nests its elements. The HTML parser under ammonia
//! spends time quadratic in nesting depth (20,000 nested `<div>`s, 100 KB, take over a second in
//! a release build), so a hostile body could stall a run; bodies nested deeper than any real
//! helpdesk message are refused before parsing and kept as received.

/// Bodies nesting deeper than this are not converted (real messages stay far below: Outlook and
/// Gmail quote chains reach a few hundred).
pub const MAX_NESTING: usize = 5_000;

const VOID: &[&str] = &[
    "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param", "source",
    "track", "wbr",
];

/// An upper bound of the element nesting depth of `html`, in one pass: opening tags count up,
/// closing tags down; void and self-closed elements count nothing. Tags the parser would close
/// implicitly (`<p><p>`) are counted as nested, so this can only over-estimate.
pub fn max_nesting(html: &str) -> usize {
    let bytes = html.as_bytes();
    let (mut depth, mut max, mut i) = (0usize, 0usize, 0usize);
    while let Some(offset) = bytes[i..].iter().position(|&b| b == b'<') {
        let start = i + offset + 1;
        let end = bytes[start..]
            .iter()
            .position(|&b| b == b'>')
            .map_or(bytes.len(), |p| start + p);
        let tag = &html[start..end];
        if let Some(rest) = tag.strip_prefix('/') {
            if !rest.is_empty() {
                depth = depth.saturating_sub(1);
            }
        } else if tag.starts_with(|c: char| c.is_ascii_alphabetic()) && !tag.ends_with('/') {
            let name_end = tag
                .find(|c: char| c.is_ascii_whitespace() || c == '/')
                .unwrap_or(tag.len());
            let name = &tag[..name_end];
            if !VOID.iter().any(|v| v.eq_ignore_ascii_case(name)) {
                depth += 1;
                max = max.max(depth);
            }
        }
        i = (end + 1).min(bytes.len());
    }
    max
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_nesting_not_siblings() {
        assert_eq!(max_nesting("<p>a</p><p>b<br>c<img src=x/></p>"), 1);
        assert_eq!(max_nesting("<div><ul><li>x</li></ul></div>"), 3);
        assert_eq!(max_nesting(&"<div>".repeat(50)), 50);
        assert_eq!(max_nesting("a < b and c > d"), 0);
        assert_eq!(max_nesting("<!-- <div> --><br/>"), 0);
        assert_eq!(max_nesting("<div"), 1, "an unterminated tag still counts");
    }
}
