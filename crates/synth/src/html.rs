//! HTML bodies with everything a converter must survive: lists, links, code,
//! tables, quotes, emoji, RTL and CJK text, inline images and hostile markup.
//!
//! Inline images reference attachments as `deskmove-attachment://<id>`; a
//! sandbox rewrites that into its own signed file URL.

use crate::rng::Rng;

/// The URL scheme inline images use inside synthetic bodies.
pub const INLINE_SCHEME: &str = "deskmove-attachment://";

const SENTENCES: &[&str] = &[
    "I can't log in since this morning.",
    "The invoice shows the wrong VAT number.",
    "Could you export my data as CSV?",
    "Thanks, that fixed it!",
    "We were charged twice for March & April.",
    "The app crashes when I upload a 2 GB file.",
    "Is there an API limit of <100> requests?",
    "Please cancel my subscription before the 31st.",
    "Our SSO integration stopped working after the update.",
    "Can you add my colleague to the workspace?",
];

fn sentence(r: &mut Rng) -> String {
    escape(r.pick_str(SENTENCES))
}

/// HTML-escape text.
pub fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A body of 1–3 fragments, embedding `inline` inline images (by attachment id).
pub(crate) fn body(r: &mut Rng, inline: &[u64]) -> String {
    let mut out = String::with_capacity(256);
    let n = r.range(1, 3);
    for _ in 0..n {
        out.push_str(&fragment(r));
    }
    for id in inline {
        out.push_str(&format!(
            "<p><img src=\"{INLINE_SCHEME}{id}\" alt=\"screenshot {id}\"></p>"
        ));
    }
    out
}

fn fragment(r: &mut Rng) -> String {
    match r.below(100) {
        0..=44 => format!("<p>{} {}</p>", sentence(r), sentence(r)),
        45..=50 => format!("<ul><li>{}</li><li>{}</li></ul>", sentence(r), sentence(r)),
        51..=54 => format!("<ol><li>Open <b>Settings</b></li><li>Click <i>Billing</i></li><li>{}</li></ol>", sentence(r)),
        55..=61 => "<p>See <a href=\"https://docs.example.com/guide?a=1&amp;b=2\" target=\"_blank\">the setup guide</a> for details.</p>".to_string(),
        62..=65 => "<pre><code>curl -H \"Authorization: Bearer $TOKEN\" https://api.example.com/v1/items?limit=10\nif (a &lt; b &amp;&amp; c &gt; d) { return; }</code></pre>".to_string(),
        66..=68 => "<table><thead><tr><th>Plan</th><th>Seats</th></tr></thead><tbody><tr><td>Pro</td><td>12</td></tr><tr><td>Enterprise</td><td>250</td></tr></tbody></table>".to_string(),
        69..=73 => format!("<blockquote><p>{}</p></blockquote><p>Any update?</p>", sentence(r)),
        74..=79 => "<p>Thank you so much 🙏🎉 👍🏽 — works now ✅</p>".to_string(),
        80..=83 => "<p dir=\"rtl\">שלום, אני צריך עזרה עם החשבון שלי. مرحبا، لا أستطيع تسجيل الدخول.</p>".to_string(),
        84..=88 => "<p>我的账户无法登录，请帮忙。ログインできません。계정에 문제가 있습니다.</p>".to_string(),
        89..=91 => "<p>Hello<script>alert('xss')</script><img src=\"x\" onerror=\"alert(1)\"></p>".to_string(),
        92..=94 => "<p>Line one<br>Line two<br><br><strong>Bold</strong> and <em>emphasis</em> and <code>inline code</code></p>".to_string(),
        _ => "<h2>Steps to reproduce</h2><p>1. Go to /settings<br>2. Press “Save” → nothing happens…</p>".to_string(),
    }
}

/// A help-center article body with headings, lists and images.
pub(crate) fn article_body(r: &mut Rng, title: &str, images: &[u64]) -> String {
    let mut out = format!("<h1>{}</h1><p>{}</p>", escape(title), sentence(r));
    out.push_str(
        "<h2>Before you start</h2><ul><li>Admin access</li><li>A recent browser</li></ul>",
    );
    for (n, id) in images.iter().enumerate() {
        out.push_str(&format!(
            "<p><img src=\"{INLINE_SCHEME}{id}\" alt=\"Step {}\"></p>",
            n + 1
        ));
    }
    out.push_str(&fragment(r));
    out
}
