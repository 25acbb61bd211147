//! `display_as=plaintext`: Intercom returns bodies as text, with links rendered as
//! `label (url)` (`../shared/research/intercom-api.md` §5, §9). A small tag walker is
//! enough for the sandbox's own synthetic HTML.

/// HTML to plain text: block ends become newlines, links `label (url)`, scripts dropped.
pub fn to_plaintext(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    let mut href: Option<String> = None;
    let mut skip_script = false;
    while let Some(lt) = rest.find('<') {
        if !skip_script {
            out.push_str(&decode(&rest[..lt]));
        }
        let Some(gt) = rest[lt..].find('>') else {
            rest = &rest[lt..];
            break;
        };
        let tag = &rest[lt + 1..lt + gt];
        let name: String = tag
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        let closing = tag.starts_with('/');
        match (name.as_str(), closing) {
            ("script", false) => skip_script = true,
            ("script", true) => skip_script = false,
            ("a", false) => href = attr(tag, "href"),
            ("a", true) => {
                if let Some(h) = href.take() {
                    out.push_str(&format!(" ({})", decode(&h)));
                }
            }
            ("br", _) => out.push('\n'),
            ("p" | "div" | "li" | "tr" | "h1" | "h2" | "h3" | "blockquote" | "pre", true) => {
                out.push('\n')
            }
            ("td" | "th", true) => out.push(' '),
            _ => {}
        }
        rest = &rest[lt + gt + 1..];
    }
    if !skip_script {
        out.push_str(&decode(rest));
    }
    out.trim().to_string()
}

fn attr(tag: &str, name: &str) -> Option<String> {
    let key = format!("{name}=\"");
    let start = tag.find(&key)? + key.len();
    let end = tag[start..].find('"')?;
    Some(tag[start..start + end].to_string())
}

fn decode(s: &str) -> String {
    if !s.contains('&') {
        return s.to_string();
    }
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_blocks_entities_and_scripts() {
        let t = to_plaintext(
            "<p>See <a href=\"https://x.example/?a=1&amp;b=2\">the guide</a></p><p>a &lt; b<script>alert(1)</script></p>",
        );
        assert_eq!(t, "See the guide (https://x.example/?a=1&b=2)\na < b");
    }
}
