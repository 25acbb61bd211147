//! Synthetic records rendered as Zendesk Support JSON, one file per resource (schemas in
//! `../shared/specs/zendesk/support-oas.yaml`). This module holds what they share: the
//! per-request [`Render`] context, ISO times, plain text from HTML and Zendesk's tag words.
//!
//! The world says agent, contact, company, team and conversation; Zendesk says agent/admin user,
//! end user, organization, group and ticket. That translation happens here and nowhere else.

pub(crate) mod audits;
pub(crate) mod comments;
pub(crate) mod directory;
pub(crate) mod fields;
pub(crate) mod help_center;
pub(crate) mod macros;
pub(crate) mod tickets;
pub(crate) mod users;

use deskmove_synth::View;

use crate::files::Signer;
use crate::origin::Origin;

/// Everything rendering needs besides the record.
pub(crate) struct Render<'a> {
    /// The world at the epoch this request sees.
    pub(crate) view: View<'a>,
    pub(crate) origin: &'a Origin,
    pub(crate) signer: &'a Signer,
}

impl Render<'_> {
    /// The seed (for the sandbox's derived facts).
    pub(crate) fn seed(&self) -> u64 {
        self.view.seed()
    }
}

/// `2009-07-20T22:55:29Z`.
pub(crate) fn iso(t: i64) -> String {
    jiff::Timestamp::from_second(t)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// `YYYY-MM-DD` (date custom fields).
pub(crate) fn date(t: i64) -> String {
    iso(t)[..10].to_string()
}

/// Text of an HTML body, as Zendesk's `body`/`plain_body` carry it: tags dropped, block ends as
/// line breaks, the common entities decoded.
pub(crate) fn plain(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(lt) = rest.find('<') {
        out.push_str(&rest[..lt]);
        let Some(gt) = rest[lt..].find('>') else {
            rest = "";
            break;
        };
        let tag = &rest[lt + 1..lt + gt];
        let name = tag
            .trim_start_matches('/')
            .split([' ', '>'])
            .next()
            .unwrap_or("");
        if matches!(
            name,
            "br" | "p" | "li" | "tr" | "h1" | "h2" | "pre" | "blockquote"
        ) && (tag.starts_with('/') || name == "br")
            && !out.ends_with('\n')
        {
            out.push('\n');
        } else if matches!(name, "td" | "th") && tag.starts_with('/') {
            out.push(' ');
        }
        rest = &rest[lt + gt + 1..];
    }
    out.push_str(rest);
    out.replace(" \n", "\n")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
        .trim()
        .to_string()
}

/// A world tag name as a Zendesk tag: no spaces, lower case (Zendesk stores tags that way).
pub(crate) fn tag_word(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join("_")
        .to_lowercase()
}

/// A field key (`[a-z0-9_]`) from a world attribute name.
pub(crate) fn field_key(name: &str) -> String {
    name.chars()
        .map(|c| match c {
            'é' | 'è' | 'ê' => 'e',
            'à' | 'á' => 'a',
            'ü' | 'ú' => 'u',
            'ö' | 'ó' => 'o',
            c if c.is_ascii_alphanumeric() => c.to_ascii_lowercase(),
            _ => '_',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_keeps_lines_and_cells_apart() {
        assert_eq!(
            plain(
                "<p>Hi &amp; bye</p><p>a<br>b</p><table><tr><td>Pro</td><td>12</td></tr></table>"
            ),
            "Hi & bye\na\nb\nPro 12"
        );
        assert_eq!(tag_word(" Needs  review "), "needs_review");
        assert_eq!(field_key("Favourite colour"), "favourite_colour");
        assert_eq!(iso(0), "1970-01-01T00:00:00Z");
    }
}
