//! Synthetic records rendered as Intercom 2.16 JSON, one file per resource
//! (schemas in `../shared/specs/intercom/api.intercom.io.2.16.yaml`). This module holds what
//! every resource shares: the per-request [`Render`] context, Intercom's ids for the world's
//! agents and teams, and bodies as served (signed inline images, plaintext on request).
//!
//! The world says agent, bot and automation; Intercom says admin, Operator (Fin, an admin-typed
//! AI author) and bot. That translation happens here and nowhere else.

pub(crate) mod companies;
pub(crate) mod contacts;
pub(crate) mod conversations;
pub(crate) mod directory;
pub(crate) mod help_center;
pub(crate) mod macros;
pub(crate) mod tickets;

use deskmove_synth::View;
use deskmove_synth::html::INLINE_SCHEME;

use crate::files::Signer;
use crate::plaintext::to_plaintext;

/// Everything rendering needs besides the record.
pub(crate) struct Render<'a> {
    /// The world at the epoch this request sees.
    pub(crate) view: View<'a>,
    pub(crate) signer: &'a Signer,
    /// Sandbox clock (UNIX s) at which attachment URLs are issued.
    pub(crate) now: i64,
    /// `display_as=plaintext`: bodies as text.
    pub(crate) plaintext: bool,
}

/// The sandbox's workspace id (app id).
pub(crate) const WORKSPACE_ID: &str = "sbx4dm";

/// Intercom's numeric admin id of agent `index` (the world's agent ids, as numbers).
pub(crate) fn admin_id(index: u64) -> u64 {
    900_000 + index
}

/// Intercom's numeric team id of team `index`.
pub(crate) fn team_id(index: u64) -> u64 {
    5_000 + index
}

impl<'a> Render<'a> {
    /// The context of one request.
    pub(crate) fn new(view: View<'a>, signer: &'a Signer, now: i64, plaintext: bool) -> Self {
        Self {
            view,
            signer,
            now,
            plaintext,
        }
    }
}

impl Render<'_> {
    /// A body as served: inline images get signed URLs; plaintext on request.
    pub(crate) fn body(&self, html: &str) -> String {
        let html = if html.contains(INLINE_SCHEME) {
            self.sign_inline(html)
        } else {
            html.to_string()
        };
        if self.plaintext {
            to_plaintext(&html)
        } else {
            html
        }
    }

    fn sign_inline(&self, html: &str) -> String {
        let mut out = String::with_capacity(html.len() + 128);
        let mut rest = html;
        while let Some(at) = rest.find(INLINE_SCHEME) {
            out.push_str(&rest[..at]);
            let tail = &rest[at + INLINE_SCHEME.len()..];
            let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
            let id: u64 = tail[..digits].parse().unwrap_or(0);
            let name = self
                .view
                .attachment(id)
                .map_or_else(|| "image.png".to_string(), |a| a.name);
            // Inside an HTML attribute, `&` is written `&amp;`.
            out.push_str(&self.signer.url(id, &name, self.now).replace('&', "&amp;"));
            rest = &tail[digits..];
        }
        out.push_str(rest);
        out
    }
}
