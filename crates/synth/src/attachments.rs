//! Attachment metadata and bytes. Both are pure functions of `(seed, id)`, so
//! a test knows every file's size and blake3 without storing anything.

use crate::conversations::part_id;
use crate::ids::{INLINE_SLOT, PART_BLOCK, SLOTS, SOURCE_POSITION};
use crate::model::Attachment;
use crate::rng::{Rng, Stream};
use crate::world::View;

/// Attachment ids below this belong to article images (`article * 8 + k`).
pub(crate) const ARTICLE_IMAGE_LIMIT: u64 = PART_BLOCK * SLOTS;

const TYPES: &[(&str, &str, bool)] = &[
    ("image/png", "png", true),
    ("image/jpeg", "jpg", true),
    ("application/pdf", "pdf", false),
    ("text/plain", "txt", false),
    ("text/csv", "csv", false),
    ("application/zip", "zip", false),
    (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "docx",
        false,
    ),
];
const NAMES: &[&str] = &[
    "screenshot",
    "invoice (1)",
    "скриншот",
    "file with spaces",
    "résumé",
    "report#2 final?",
    "日本語ファイル",
    "a very long file name that keeps going and going for quite a while",
    "IMG_0042",
    "logs-2024-03-01",
];

impl View<'_> {
    /// Metadata for attachment `id` assuming it exists (no existence check).
    pub(crate) fn attachment_meta(&self, id: u64) -> Option<Attachment> {
        let mut r = Rng::new(self.core.seed, Stream::Attachment, id, 0);
        let inline = id < ARTICLE_IMAGE_LIMIT || id % SLOTS >= INLINE_SLOT;
        let (content_type, ext, image) = if inline { TYPES[0] } else { *r.pick(TYPES) };
        let name = if inline {
            format!("image-{id}")
        } else {
            (*r.pick(NAMES)).to_string()
        };
        let size = if r.chance(10_000) {
            r.range(1_000_000, 3_000_000)
        } else {
            r.range(64, 120_000)
        };
        Some(Attachment {
            id,
            name: format!("{name}.{ext}"),
            content_type,
            size,
            dimensions: image.then(|| (r.range(16, 2_400) as u32, r.range(16, 1_600) as u32)),
        })
    }

    /// Attachment `id` if it exists at this epoch (part attachment, inline image or article image).
    pub fn attachment(&self, id: u64) -> Option<Attachment> {
        if id < ARTICLE_IMAGE_LIMIT {
            let (article, k) = (id / 8, id % 8);
            return (k < self.article_image_count(article) && article < self.article_count())
                .then(|| self.attachment_meta(id))
                .flatten();
        }
        let (pid, slot) = (id / SLOTS, id % SLOTS);
        let (conv, pos) = (pid / PART_BLOCK - 1, pid % PART_BLOCK);
        if conv >= self.conversation_count() {
            return None;
        }
        let ok = if pos == SOURCE_POSITION {
            slot < self.source_media(conv)
        } else {
            let plan = self.plan(conv);
            match plan.get(pos as usize) {
                Some(pp) => {
                    let (files, inline) = self.part_media(part_id(conv, pos), pp.kind);
                    slot < files || (slot >= INLINE_SLOT && slot < INLINE_SLOT + inline)
                }
                None => false,
            }
        };
        if ok { self.attachment_meta(id) } else { None }
    }

    /// The bytes of an attachment: a plausible magic header, then keyed blake3 output.
    pub fn attachment_bytes(&self, a: &Attachment) -> Vec<u8> {
        let magic: &[u8] = match a.content_type {
            "image/png" => b"\x89PNG\r\n\x1a\n",
            "image/jpeg" => b"\xff\xd8\xff\xe0",
            "application/pdf" => b"%PDF-1.4\n",
            "application/zip"
            | "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => {
                b"PK\x03\x04"
            }
            _ => b"",
        };
        let size = a.size as usize;
        let mut out = vec![0u8; size];
        let key = blake3::derive_key(
            "deskmove synth attachment bytes v1",
            &self.core.seed.to_le_bytes(),
        );
        let mut h = blake3::Hasher::new_keyed(&key);
        h.update(&a.id.to_le_bytes());
        h.finalize_xof().fill(&mut out);
        if a.content_type.starts_with("text/") {
            // Text files stay printable.
            for b in &mut out {
                *b = b"abcdefghijklmnopqrstuvwxyz ,;\n0123456789"[(*b as usize) % 40];
            }
        }
        let n = magic.len().min(size);
        out[..n].copy_from_slice(&magic[..n]);
        out
    }

    /// blake3 of an attachment's bytes (hex), for oracle comparisons.
    pub fn attachment_blake3(&self, a: &Attachment) -> String {
        blake3::hash(&self.attachment_bytes(a)).to_hex().to_string()
    }
}
