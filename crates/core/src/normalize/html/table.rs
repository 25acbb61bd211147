//! HTML tables to GFM pipe tables. htmd's own table handler writes a `|` inside a cell as
//! `&#124;`; GFM's own escape is `\|`, valid even inside code spans in a cell, and reads better.
//!
//! Only tables with a header (`<th>` cells or a `<thead>`) become pipe tables. A table without one
//! is usually layout (email signatures, Outlook templates); it is flattened to its text by htmd,
//! which keeps the words without inventing a header row.

use std::rc::Rc;

use htmd::element_handler::{HandlerResult, Handlers};
use htmd::{Element, Node};
use markup5ever_rcdom::NodeData;

/// The `table` handler.
pub(super) fn table(handlers: &dyn Handlers, element: Element) -> Option<HandlerResult> {
    if !has_header(element.node) || inside_cell(element.node) {
        return handlers.fallback(element);
    }
    let mut caption = None;
    let mut rows: Vec<Row> = Vec::new();
    for child in children(element.node) {
        match tag(&child).as_deref() {
            Some("caption") => {
                let text = one_line(&handlers.walk_children(&child).content);
                if !text.is_empty() {
                    caption = Some(text);
                }
            }
            Some("thead" | "tbody" | "tfoot") => {
                let in_head = tag(&child).as_deref() == Some("thead");
                for row in children(&child) {
                    if tag(&row).as_deref() == Some("tr") {
                        rows.push(read_row(handlers, &row, in_head));
                    }
                }
            }
            Some("tr") => rows.push(read_row(handlers, &child, false)),
            _ => {}
        }
    }
    rows.retain(|row| !row.cells.is_empty());
    // The header is the first `thead` row, else the first row made only of `th` cells, else an
    // empty one (GFM requires a header line).
    let header_at = rows
        .iter()
        .position(|row| row.in_head)
        .or_else(|| rows.first().filter(|row| row.all_th).map(|_| 0));
    let header = match header_at {
        Some(index) => rows.remove(index).cells,
        None => Vec::new(),
    };
    let columns = rows
        .iter()
        .map(|row| row.cells.len())
        .chain([header.len()])
        .max()
        .unwrap_or(0);
    if columns == 0 {
        return handlers.fallback(element);
    }
    let mut widths = vec![3usize; columns];
    for cells in std::iter::once(&header).chain(rows.iter().map(|row| &row.cells)) {
        for (width, cell) in widths.iter_mut().zip(cells) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let mut out = String::from("\n\n");
    if let Some(caption) = caption {
        out.push_str(&caption);
        out.push_str("\n\n");
    }
    push_row(&mut out, &header, &widths);
    out.push('|');
    for width in &widths {
        out.push(' ');
        out.push_str(&"-".repeat(*width));
        out.push_str(" |");
    }
    out.push('\n');
    for row in &rows {
        push_row(&mut out, &row.cells, &widths);
    }
    out.push('\n');
    Some(out.into())
}

struct Row {
    cells: Vec<String>,
    in_head: bool,
    all_th: bool,
}

fn read_row(handlers: &dyn Handlers, row: &Rc<Node>, in_head: bool) -> Row {
    let mut cells = Vec::new();
    let mut all_th = true;
    for cell in children(row) {
        match tag(&cell).as_deref() {
            Some("th") => cells.push(cell_text(handlers, &cell)),
            Some("td") => {
                all_th = false;
                cells.push(cell_text(handlers, &cell));
            }
            _ => {}
        }
    }
    Row {
        cells,
        in_head,
        all_th,
    }
}

/// A cell's Markdown on one line (a GFM cell cannot span lines), with `|` escaped.
fn cell_text(handlers: &dyn Handlers, cell: &Rc<Node>) -> String {
    one_line(&handlers.walk_children(cell).content).replace('|', "\\|")
}

fn one_line(markdown: &str) -> String {
    markdown.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn push_row(out: &mut String, cells: &[String], widths: &[usize]) {
    out.push('|');
    for (index, width) in widths.iter().enumerate() {
        let cell = cells.get(index).map(String::as_str).unwrap_or("");
        out.push(' ');
        out.push_str(cell);
        out.push_str(&" ".repeat(width.saturating_sub(cell.chars().count())));
        out.push_str(" |");
    }
    out.push('\n');
}

fn has_header(table: &Rc<Node>) -> bool {
    fn visit(node: &Rc<Node>) -> bool {
        children(node)
            .iter()
            .any(|child| match tag(child).as_deref() {
                Some("table") => false,
                Some("th" | "thead") => true,
                _ => visit(child),
            })
    }
    visit(table)
}

fn inside_cell(node: &Rc<Node>) -> bool {
    let mut current = parent(node);
    while let Some(node) = current {
        if matches!(tag(&node).as_deref(), Some("td" | "th")) {
            return true;
        }
        current = parent(&node);
    }
    false
}

fn children(node: &Rc<Node>) -> Vec<Rc<Node>> {
    node.children.borrow().clone()
}

fn parent(node: &Rc<Node>) -> Option<Rc<Node>> {
    let weak = node.parent.take();
    let parent = weak.as_ref().and_then(std::rc::Weak::upgrade);
    node.parent.set(weak);
    parent
}

/// The element name of `node`, when it is an element.
fn tag(node: &Rc<Node>) -> Option<String> {
    match &node.data {
        NodeData::Element { name, .. } => Some(name.local.to_string()),
        _ => None,
    }
}
