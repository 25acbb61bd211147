//! The project-owned htmd configuration: the Markdown dialect deskmove writes (CommonMark + GFM
//! tables and strike-through, which targets render, with no raw HTML, which they omit) and the
//! handlers for what htmd leaves as plain text by default
//! (../shared/research/rust-stack-and-style.md §A.7).

use std::cell::RefCell;

use htmd::element_handler::{HandlerResult, Handlers};
use htmd::options::{
    BrStyle, BulletListMarker, CodeBlockFence, CodeBlockStyle, HeadingStyle, HrStyle, LinkStyle,
    Options,
};
use htmd::{Element, HtmlToMarkdown};
use markup5ever_rcdom::NodeData;

use super::table;

thread_local! {
    /// Image sources met by [`image`] during the conversion running on this thread. A conversion
    /// is synchronous and single-threaded, so the list belongs to exactly one call.
    static IMAGES: RefCell<Vec<String>> = const { RefCell::new(Vec::new()) };
}

/// Starts collecting image sources for one conversion on this thread.
pub(super) fn begin_images() {
    IMAGES.with(|images| images.borrow_mut().clear());
}

/// The image sources collected since [`begin_images`], in document order.
pub(super) fn take_images() -> Vec<String> {
    IMAGES.with(|images| std::mem::take(&mut *images.borrow_mut()))
}

/// Builds the converter.
pub(super) fn build() -> HtmlToMarkdown {
    HtmlToMarkdown::builder()
        .options(Options {
            heading_style: HeadingStyle::Atx,
            hr_style: HrStyle::Dashes,
            // Two trailing spaces: the CommonMark hard break every renderer knows; a backslash
            // break shows as a literal "\" where a renderer lacks it.
            br_style: BrStyle::TwoSpaces,
            link_style: LinkStyle::InlinedPreferAutolinks,
            code_block_style: CodeBlockStyle::Fenced,
            code_block_fence: CodeBlockFence::Backticks,
            bullet_list_marker: BulletListMarker::Dash,
            ul_bullet_spacing: 1,
            ol_number_spacing: 1,
            ..Options::default()
        })
        // Defence in depth: the sanitiser already removed these with their content.
        .skip_tags(vec!["script", "style", "head", "title"])
        .add_handler(vec!["s", "del", "strike"], strike)
        .add_handler(vec!["sup"], superscript)
        .add_handler(vec!["sub"], subscript)
        .add_handler(vec!["img"], image)
        .add_handler(vec!["table"], table::table)
        .add_handler(vec!["pre"], preformatted)
        .add_handler(vec!["code"], code)
        .build()
}

/// `~~text~~` (GFM strike-through). White space stays outside the markers, where GFM needs it.
fn strike(handlers: &dyn Handlers, element: Element) -> Option<HandlerResult> {
    let content = handlers.walk_children(element.node).content;
    let inner = content.trim();
    if inner.is_empty() {
        return Some(content.into());
    }
    let lead = &content[..content.len() - content.trim_start().len()];
    let trail = &content[content.trim_end().len()..];
    Some(format!("{lead}~~{inner}~~{trail}").into())
}

/// Markdown has no superscript; Unicode does for digits and a few signs. `x<sup>2</sup>` becomes
/// `x²`, a footnote mark `<sup>1</sup>` becomes `¹`; anything else (`1<sup>st</sup>`) stays as
/// plain text, which reads the same.
fn superscript(handlers: &dyn Handlers, element: Element) -> Option<HandlerResult> {
    scripted(handlers, element, "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾")
}

/// Like [`superscript`], with the subscript forms (`H<sub>2</sub>O` becomes `H₂O`).
fn subscript(handlers: &dyn Handlers, element: Element) -> Option<HandlerResult> {
    scripted(handlers, element, "₀₁₂₃₄₅₆₇₈₉₊₋₌₍₎")
}

fn scripted(handlers: &dyn Handlers, element: Element, forms: &str) -> Option<HandlerResult> {
    let content = handlers.walk_children(element.node).content;
    let forms: Vec<char> = forms.chars().collect();
    let mapped: Option<String> = content
        .trim()
        .chars()
        .map(|c| {
            let index = match c {
                '0'..='9' => (c as usize) - ('0' as usize),
                '+' => 10,
                '-' => 11,
                '=' => 12,
                '(' => 13,
                ')' => 14,
                _ => return None,
            };
            forms.get(index).copied()
        })
        .collect();
    match mapped {
        Some(text) if !text.is_empty() => Some(text.into()),
        _ => Some(content.into()),
    }
}

/// A `pre` that is not exactly one `code` element (`<pre class="lang-python">text</pre>`, as
/// several helpdesks write it) as a fenced block; htmd would otherwise turn it into a
/// paragraph and lose its line breaks. `<pre><code>` goes to htmd, which fences it already.
fn preformatted(handlers: &dyn Handlers, element: Element) -> Option<HandlerResult> {
    let single_code = {
        let children = element.node.children.borrow();
        children.len() == 1
            && matches!(&children[0].data, NodeData::Element { name, .. } if &*name.local == "code")
    };
    if single_code {
        return handlers.fallback(element);
    }
    let content = handlers.walk_children(element.node).content;
    let content = content.trim_matches('\n');
    if content.trim().is_empty() {
        return None;
    }
    let language = element
        .attrs
        .iter()
        .find(|attr| &*attr.name.local == "class")
        .and_then(|attr| {
            attr.value
                .split_ascii_whitespace()
                .find_map(|class| class.strip_prefix("language-"))
                .map(str::to_owned)
        })
        .unwrap_or_default();
    let longest_run = content.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest_run.max(2) + 1);
    Some(format!("\n\n{fence}{language}\n{content}\n{fence}\n\n").into())
}

/// Inline `code`: a Markdown code span cannot contain a blank line (the paragraph ends there and
/// what was code becomes live Markdown, even raw HTML), and CommonMark turns its line endings into
/// spaces anyway; so every white-space run holding a line break becomes one space. Code inside
/// `pre` is a block and goes to htmd.
fn code(handlers: &dyn Handlers, element: Element) -> Option<HandlerResult> {
    let in_pre = {
        let parent = element.node.parent.take();
        let is_pre = parent
            .as_ref()
            .and_then(std::rc::Weak::upgrade)
            .is_some_and(
                |p| matches!(&p.data, NodeData::Element { name, .. } if &*name.local == "pre"),
            );
        element.node.parent.set(parent);
        is_pre
    };
    if in_pre {
        return handlers.fallback(element);
    }
    let content = handlers.walk_children(element.node).content;
    let mut flat = String::with_capacity(content.len());
    for (i, line) in content.split('\n').enumerate() {
        if i == 0 {
            flat.push_str(line);
        } else {
            flat.truncate(flat.trim_end().len());
            flat.push(' ');
            flat.push_str(line.trim_start());
        }
    }
    let flat = flat.trim();
    if flat.is_empty() {
        return None;
    }
    let longest_run = flat.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest_run + 1);
    let pad = if flat.starts_with('`') || flat.ends_with('`') {
        " "
    } else {
        ""
    };
    Some(format!("{fence}{pad}{flat}{pad}{fence}").into())
}

/// `![alt](src)`, recording `src` so the caller can re-host the picture.
fn image(_handlers: &dyn Handlers, element: Element) -> Option<HandlerResult> {
    let mut src = None;
    let mut alt = String::new();
    for attr in element.attrs {
        match &*attr.name.local {
            "src" => src = Some(attr.value.to_string()),
            "alt" => alt = attr.value.to_string(),
            _ => {}
        }
    }
    // An image without a source has nothing to show; its alt text is all that is left of it.
    let Some(src) = src.filter(|src| !src.trim().is_empty()) else {
        return Some(escape_alt(&alt).into());
    };
    IMAGES.with(|images| images.borrow_mut().push(src.clone()));
    let destination = src.replace('(', "\\(").replace(')', "\\)");
    Some(format!("![{}]({destination})", escape_alt(&alt)).into())
}

/// Alt text is Markdown inline content: escape what would end or restructure it, and write `<`
/// as an entity so no tag-like text appears.
fn escape_alt(alt: &str) -> String {
    let mut out = String::with_capacity(alt.len());
    for word in alt.split_whitespace() {
        if !out.is_empty() {
            out.push(' ');
        }
        for c in word.chars() {
            match c {
                '\\' | '[' | ']' | '*' | '_' | '`' => {
                    out.push('\\');
                    out.push(c);
                }
                '<' => out.push_str("&lt;"),
                '&' => out.push_str("&amp;"),
                c => out.push(c),
            }
        }
    }
    out
}
