//! Text into HTML and SVG. Record content and reasons come from the source and the target, so
//! every piece of data goes through [`esc`] before it reaches the page.

use std::fmt::Write as _;

/// `s` safe as HTML/SVG text and as a quoted attribute value.
pub(crate) fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// `n` with thin spaces between thousands, e.g. `12 345`.
pub(crate) fn num(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{2009}');
        }
        out.push(c);
    }
    out
}

/// A duration in milliseconds as a person says it: `850 ms`, `12 s`, `3 min 5 s`, `2 h 4 min`.
pub(crate) fn duration(ms: u64) -> String {
    let s = ms / 1000;
    let mut out = String::new();
    if ms < 1000 {
        let _ = write!(out, "{ms} ms");
    } else if s < 60 {
        let _ = write!(out, "{s} s");
    } else if s < 3600 {
        let _ = write!(out, "{} min {} s", s / 60, s % 60);
    } else {
        let _ = write!(out, "{} h {} min", s / 3600, (s % 3600) / 60);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup_and_quotes() {
        assert_eq!(
            esc(r#"<script>alert("x")</script> & 'y'"#),
            "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &#39;y&#39;"
        );
    }

    #[test]
    fn numbers_and_durations_read_well() {
        assert_eq!(num(0), "0");
        assert_eq!(num(999), "999");
        assert_eq!(num(1234567), "1\u{2009}234\u{2009}567");
        assert_eq!(duration(850), "850 ms");
        assert_eq!(duration(185_000), "3 min 5 s");
        assert_eq!(duration(7_440_000), "2 h 4 min");
    }
}
