//! Comments and attachments. A ticket's comments are its first message (the description) and
//! every message part of the conversation: replies are public, notes private; a phone call's
//! first message is a `VoiceComment` with an external `recording_url`. A few comments had text
//! and a file redacted: their text ends with `▇` characters and they carry an empty
//! `redacted.txt` (research §3.2, §8 item 9). Inline images stay inside `html_body`, pointing at
//! `/attachments/token/…`, and are listed only with `include_inline_images=true` (§3.3, §7.12).

use deskmove_synth::html::INLINE_SCHEME;
use deskmove_synth::{Attachment, Author, Conversation, PartKind, View};
use serde_json::{Value, json};

use crate::derive;
use crate::ids::{self, REDACTED_ATTACHMENT_BASE};
use crate::render::{Render, iso, plain};

/// The world's part id block and attachment slots (ids decode as `part * 32 + slot`).
const PART_BLOCK: u64 = 100_000;
const SLOTS: u64 = 32;
const INLINE_SLOT: u64 = 24;
/// Attachment ids below this are article images.
pub(crate) const ARTICLE_IMAGE_LIMIT: u64 = PART_BLOCK * SLOTS;
/// Audit ids: the comment (or part) id plus this.
pub(crate) const AUDIT_BASE: u64 = 1 << 48;

/// The text redaction leaves behind.
pub(crate) const REDACTED_TEXT: &str = "My card number is ▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇▇";

/// One comment before rendering.
#[derive(Debug, Clone)]
pub(crate) struct CommentModel {
    pub(crate) id: u64,
    pub(crate) voice: bool,
    pub(crate) author_id: u64,
    /// The body as HTML with the world's inline references.
    pub(crate) html: String,
    pub(crate) public: bool,
    pub(crate) created_at: i64,
    pub(crate) files: Vec<Attachment>,
    pub(crate) inline: Vec<Attachment>,
    pub(crate) redacted: bool,
}

/// The user id of a world author.
pub(crate) fn author_user(a: Author) -> u64 {
    match a {
        Author::Contact(j) => ids::end_user(j),
        Author::Agent(a) => ids::agent_user(a),
        Author::Bot(_) | Author::Automation(_) | Author::Team(_) => ids::AUTOMATION_USER,
    }
}

/// Attachment ids referenced inline in an HTML body.
fn inline_ids(html: &str) -> Vec<u64> {
    html.match_indices(INLINE_SCHEME)
        .filter_map(|(at, _)| {
            let tail = &html[at + INLINE_SCHEME.len()..];
            let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
            tail[..digits].parse().ok()
        })
        .collect()
}

/// The placeholder of a redacted file.
fn redacted_file(comment_id: u64) -> Attachment {
    Attachment {
        id: REDACTED_ATTACHMENT_BASE + comment_id,
        name: "redacted.txt".into(),
        content_type: "text/plain",
        size: 0,
        dimensions: None,
    }
}

/// An attachment's metadata and whether it is inline, for any id the sandbox serves.
pub(crate) fn attachment_meta(view: View<'_>, id: u64) -> Option<(Attachment, bool)> {
    if id >= REDACTED_ATTACHMENT_BASE {
        return Some((redacted_file(id - REDACTED_ATTACHMENT_BASE), false));
    }
    let a = view.attachment(id)?;
    let inline = id < ARTICLE_IMAGE_LIMIT || id % SLOTS >= INLINE_SLOT;
    Some((a, inline))
}

/// The comments of conversation `c`, oldest first.
pub(crate) fn comments(view: View<'_>, c: &Conversation) -> Vec<CommentModel> {
    let seed = view.seed();
    let source_id = (c.index + 1) * PART_BLOCK + PART_BLOCK - 1;
    let mut out = vec![CommentModel {
        id: source_id,
        voice: c.channel == "phone_call",
        author_id: ids::end_user(c.contact),
        html: c.source_body.clone(),
        public: true,
        created_at: c.created_at,
        files: c.source_attachments.clone(),
        inline: Vec::new(),
        redacted: false,
    }];
    for p in c.parts.iter().filter(|p| p.kind.is_message()) {
        let mut html = p.body.clone().unwrap_or_default();
        let inline = inline_ids(&html)
            .into_iter()
            .filter_map(|id| view.attachment(id))
            .collect();
        let mut files = p.attachments.clone();
        let redacted = derive::redacted(seed, p.id);
        if redacted {
            html.push_str(&format!("<p>{REDACTED_TEXT}</p>"));
            files.push(redacted_file(p.id));
        }
        out.push(CommentModel {
            id: p.id,
            voice: false,
            author_id: author_user(p.author),
            html,
            public: p.kind != PartKind::Note,
            created_at: p.created_at,
            files,
            inline,
            redacted,
        });
    }
    out
}

/// The world's channel as Zendesk's `via.channel`.
pub(crate) fn via_channel(channel: &str) -> &'static str {
    match channel {
        "email" => "email",
        "phone_call" => "voice",
        "whatsapp" => "whatsapp",
        "sms" => "sms",
        "facebook" => "facebook",
        "instagram" => "instagram_dm",
        "twitter" => "twitter",
        _ => "web",
    }
}

impl Render<'_> {
    /// `https://{host}/attachments/token/{token}/?name={file}` on the caller's host.
    pub(crate) fn content_url(&self, a: &Attachment) -> String {
        let name: String = url::form_urlencoded::byte_serialize(a.name.as_bytes()).collect();
        format!(
            "{}/attachments/token/{}/?name={name}",
            self.origin.base,
            self.signer.token(a.id)
        )
    }

    /// An attachment object.
    pub(crate) fn attachment(&self, a: &Attachment, inline: bool) -> Value {
        let url = self.content_url(a);
        json!({
            "id": a.id,
            "url": self.origin.api(&format!("attachments/{}", a.id)),
            "file_name": a.name,
            "content_url": url,
            "mapped_content_url": url,
            "content_type": a.content_type,
            "size": a.size,
            // Zendesk documents pixel sizes as strings.
            "width": a.dimensions.map(|d| d.0.to_string()),
            "height": a.dimensions.map(|d| d.1.to_string()),
            "inline": inline,
            "deleted": false,
            "malware_access_override": false,
            "malware_scan_result": if derive::malware(self.seed(), a.id) { "malware_found" } else { "malware_not_found" },
            "thumbnails": [],
        })
    }

    /// An HTML body with inline references pointing at the caller's attachment URLs.
    pub(crate) fn html_body(&self, html: &str) -> String {
        let mut out = String::with_capacity(html.len() + 64);
        let mut rest = html;
        while let Some(at) = rest.find(INLINE_SCHEME) {
            out.push_str(&rest[..at]);
            let tail = &rest[at + INLINE_SCHEME.len()..];
            let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
            let id: u64 = tail[..digits].parse().unwrap_or(0);
            match self.view.attachment(id) {
                Some(a) => out.push_str(&self.content_url(&a)),
                None => out.push_str(&tail[..digits]),
            }
            rest = &tail[digits..];
        }
        out.push_str(rest);
        format!("<div class=\"zd-comment\" dir=\"auto\">{out}</div>")
    }

    /// A comment object; inline images are listed only when asked for.
    pub(crate) fn comment(&self, c: &CommentModel, channel: &str, with_inline: bool) -> Value {
        let text = plain(&c.html);
        let mut attachments: Vec<Value> =
            c.files.iter().map(|a| self.attachment(a, false)).collect();
        if with_inline {
            attachments.extend(c.inline.iter().map(|a| self.attachment(a, true)));
        }
        let channel = if c.author_id >= ids::END_USER_BASE {
            via_channel(channel)
        } else {
            "web"
        };
        let mut v = json!({
            "id": c.id,
            "type": if c.voice { "VoiceComment" } else { "Comment" },
            "author_id": c.author_id,
            "body": text,
            "html_body": self.html_body(&c.html),
            "plain_body": text,
            "public": c.public,
            "attachments": attachments,
            "audit_id": AUDIT_BASE + c.id,
            "via": {"channel": channel, "source": {"from": {}, "to": {}, "rel": null}},
            "created_at": iso(c.created_at),
            "metadata": {"system": {"client": "deskmove-sandbox", "ip_address": "192.0.2.10", "location": "Dublin, Ireland", "latitude": 53.35, "longitude": -6.26}, "custom": {}},
        });
        if c.voice {
            let files = self
                .signer
                .base()
                .map(|b| b.as_str().trim_end_matches('/').to_string())
                .unwrap_or_default();
            v["data"] = json!({
                "recording_url": format!("{files}/recordings/{}.mp3", c.id),
                "transcription_text": text,
                "transcription_status": "completed",
                "call_duration": 60 + c.id % 600,
                "from": "+1 415 555 0100",
                "to": "+1 415 555 0199",
                "answered_by_id": null,
                "location": "Dublin, Ireland",
                "started_at": iso(c.created_at),
            });
        }
        v
    }
}
