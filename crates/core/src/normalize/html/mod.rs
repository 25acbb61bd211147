//! HTML message and article bodies to Markdown, the body format of the targets (CommonMark with
//! GFM tables, and no raw HTML, which targets drop).
//!
//! Every conversion sanitises first (ammonia allow-list, `sanitize.rs`), then converts with htmd
//! and project-owned handlers (`engine.rs`, `table.rs`), then tidies blank lines (`text.rs`). The
//! result carries the sources of inline images so the caller can re-host them, because vendor
//! image URLs are often signed and expire.
//!
//! The [`HtmlToMarkdown`] trait is the seam: callers hold a `dyn HtmlToMarkdown`, so the engine
//! can be replaced (mdka is the runner-up of the bake-off, §A.7) without touching them.

mod depth;
mod engine;
mod sanitize;
mod table;
mod text;

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};
use url::Url;

use crate::error::{Classify, ErrorKind};

/// The outcome of one conversion.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Converted {
    /// The Markdown body.
    pub markdown: String,
    /// The `src` of every inline image kept in `markdown`, in document order (duplicates kept),
    /// as the HTML gave it. Use [`Converted::replace_image`] to point one at its re-hosted copy.
    pub images: Vec<String>,
}

impl Converted {
    /// Replaces every image destination `from` with `to` in `markdown` and `images`, returning
    /// how many Markdown images were changed. Destinations are written with `(` and `)`
    /// backslash-escaped; this applies the same escaping, so callers pass plain URLs. A link whose
    /// destination is the very same URL changes too, which is what a re-hosted copy wants.
    pub fn replace_image(&mut self, from: &str, to: &str) -> usize {
        let escape = |url: &str| url.replace('(', "\\(").replace(')', "\\)");
        let (from_md, to_md) = (format!("]({})", escape(from)), format!("]({})", escape(to)));
        let count = self.markdown.matches(&from_md).count();
        if count > 0 {
            self.markdown = self.markdown.replace(&from_md, &to_md);
        }
        for image in &mut self.images {
            if image == from {
                to.clone_into(image);
            }
        }
        count
    }
}

/// The conversion engine failed on a body. The caller keeps the original HTML and records a
/// problem; the run goes on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the HTML body could not be converted to Markdown: {0}")]
pub struct HtmlError(pub String);

impl HtmlError {
    /// The stable problem code for this failure.
    pub const CODE: &'static str = "html_conversion_failed";
}

impl Classify for HtmlError {
    fn kind(&self) -> ErrorKind {
        ErrorKind::Validation
    }
}

/// Turns an untrusted HTML body into safe Markdown.
///
/// Contract: the output never contains markup that renders as HTML; `<script>`/`<style>` content
/// never survives (not even as text); links keep only http, https, mailto and tel URLs; lists,
/// links, code (with its language), tables, quotes, headings, emphasis, strike-through and line
/// breaks survive.
pub trait HtmlToMarkdown: Send + Sync + std::fmt::Debug {
    /// Converts one body.
    fn convert(&self, html: &str) -> Result<Converted, HtmlError>;
}

/// The default engine: ammonia, then htmd with deskmove's handlers.
pub struct HtmdConverter {
    sanitizer: ammonia::Builder<'static>,
    converter: htmd::HtmlToMarkdown,
}

impl std::fmt::Debug for HtmdConverter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HtmdConverter").finish_non_exhaustive()
    }
}

impl Default for HtmdConverter {
    fn default() -> Self {
        Self::new()
    }
}

impl HtmdConverter {
    /// A converter that leaves relative URLs as they are.
    pub fn new() -> Self {
        Self::build(None)
    }

    /// A converter that resolves relative `href` and `src` values against `base` (for example
    /// the help-center URL an article was read from).
    pub fn with_base_url(base: &Url) -> Self {
        Self::build(Some(base))
    }

    fn build(base: Option<&Url>) -> Self {
        Self {
            sanitizer: sanitize::builder(base),
            converter: engine::build(),
        }
    }
}

impl HtmlToMarkdown for HtmdConverter {
    fn convert(&self, html: &str) -> Result<Converted, HtmlError> {
        let nesting = depth::max_nesting(html);
        if nesting > depth::MAX_NESTING {
            return Err(HtmlError(format!(
                "the body nests elements {nesting} deep (more than {}); it is kept as received, not converted",
                depth::MAX_NESTING
            )));
        }
        // ammonia and htmd are third-party code walking arbitrary documents; a panic in them
        // must cost one body, not the run. Nothing is shared across the boundary but the
        // thread-local image list, which is reset before and taken after.
        engine::begin_images();
        let converted = catch_unwind(AssertUnwindSafe(|| {
            let clean = self.sanitizer.clean(html).to_string();
            self.converter.convert(&text::prepare(&clean))
        }));
        let images = engine::take_images();
        match converted {
            Ok(Ok(markdown)) => Ok(Converted {
                markdown: text::tidy(&markdown),
                images,
            }),
            Ok(Err(error)) => Err(HtmlError(error.to_string())),
            Err(_) => Err(HtmlError("the converter panicked".to_owned())),
        }
    }
}

/// Converts one body with the default [`HtmdConverter`] (built once per process).
pub fn to_markdown(html: &str) -> Result<Converted, HtmlError> {
    static DEFAULT: LazyLock<HtmdConverter> = LazyLock::new(HtmdConverter::new);
    DEFAULT.convert(html)
}
