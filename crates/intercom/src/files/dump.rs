//! Reading a dump folder: which files it has, and the objects each file holds, one
//! [`Entry`] per object (list answers are opened into their items) or per unreadable line.

use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_json::value::RawValue;

/// The fields of an Intercom list answer that hold its items (`data` for most lists,
/// the resource's plural for the older typed lists).
const LIST_FIELDS: &[&str] = &[
    "data",
    "conversations",
    "tickets",
    "contacts",
    "companies",
    "admins",
    "teams",
    "tags",
    "segments",
    "notes",
    "articles",
    "macros",
];

/// One object of a file, or a part of it that could not be read.
#[derive(Debug)]
pub enum Entry {
    /// An object, as its bytes appear in the file.
    Item {
        /// Its line in the file (1-based; the document's first line for a `.json` file).
        line: usize,
        /// The object's bytes, as in the file.
        raw: Box<RawValue>,
    },
    /// A line (or a whole `.json` file) that is not JSON.
    Malformed {
        /// Where the parser stopped.
        line: usize,
        /// What the parser said.
        why: String,
    },
}

/// The dump files under `dir`, as `/`-separated paths relative to it, sorted.
pub fn list(dir: &Path) -> std::io::Result<Vec<String>> {
    fn walk(base: &Path, at: &Path, out: &mut Vec<String>) -> std::io::Result<()> {
        for entry in std::fs::read_dir(at)? {
            let entry = entry?;
            let path = entry.path();
            if entry.file_type()?.is_dir() {
                walk(base, &path, out)?;
            } else if is_dump_file(&path)
                && let Ok(rel) = path.strip_prefix(base)
            {
                let parts: Vec<String> = rel
                    .components()
                    .map(|c| c.as_os_str().to_string_lossy().into_owned())
                    .collect();
                out.push(parts.join("/"));
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out)?;
    out.sort();
    Ok(out)
}

fn is_dump_file(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|e| e.to_str()),
        Some("json" | "jsonl" | "ndjson")
    )
}

/// Where `rel` is under `dir`.
pub fn path_of(dir: &Path, rel: &str) -> PathBuf {
    rel.split('/').fold(dir.to_path_buf(), |p, s| p.join(s))
}

/// Every object in the file at `rel`, in file order.
pub async fn read(dir: &Path, rel: &str) -> std::io::Result<Vec<Entry>> {
    let bytes = tokio::fs::read(path_of(dir, rel)).await?;
    let text = String::from_utf8_lossy(&bytes);
    let mut out = Vec::new();
    if rel.ends_with(".json") {
        document(&text, 1, &mut out);
    } else {
        for (n, line) in text.lines().enumerate() {
            if !line.trim().is_empty() {
                document(line, n + 1, &mut out);
            }
        }
    }
    Ok(out)
}

/// One JSON document starting at `line`: its objects (a list answer's items, an array's
/// elements, or the object itself).
fn document(text: &str, line: usize, out: &mut Vec<Entry>) {
    let doc: Box<RawValue> = match serde_json::from_str(text) {
        Ok(d) => d,
        Err(e) => {
            out.push(Entry::Malformed {
                line: line + e.line().saturating_sub(1),
                why: e.to_string(),
            });
            return;
        }
    };
    let body = doc.get().trim_start();
    if body.starts_with('[') {
        if let Ok(items) = serde_json::from_str::<Vec<Box<RawValue>>>(body) {
            out.extend(items.into_iter().map(|raw| Entry::Item { line, raw }));
        }
        return;
    }
    match list_items(body) {
        Some(items) => out.extend(items.into_iter().map(|raw| Entry::Item { line, raw })),
        None => out.push(Entry::Item { line, raw: doc }),
    }
}

/// The items of a list answer (`type` ending in `list`), `None` for any other object.
fn list_items(body: &str) -> Option<Vec<Box<RawValue>>> {
    #[derive(Deserialize)]
    struct Head {
        #[serde(default, rename = "type")]
        kind: Option<String>,
    }
    let head: Head = serde_json::from_str(body).ok()?;
    if !head.kind.as_deref().is_some_and(|k| k.ends_with("list")) {
        return None;
    }
    let fields: serde_json::Map<String, serde_json::Value> = serde_json::from_str(body).ok()?;
    let name = LIST_FIELDS
        .iter()
        .find(|f| fields.get(**f).is_some_and(serde_json::Value::is_array))?;
    // The items again, this time as their own bytes.
    let raw: std::collections::HashMap<String, Box<RawValue>> = serde_json::from_str(body).ok()?;
    serde_json::from_str(raw.get(*name)?.get()).ok()
}

/// The type of the objects a file holds when they do not say, from its path
/// (`contacts.jsonl` → `contact`).
pub fn type_from_path(rel: &str) -> Option<&'static str> {
    let p = rel.to_ascii_lowercase();
    if p.contains("attribute") {
        return Some(if p.contains("conversation") {
            "conversation_attribute"
        } else {
            "data_attribute"
        });
    }
    [
        ("ticket", "ticket"),
        ("conversation", "conversation"),
        ("contact", "contact"),
        ("compan", "company"),
        ("admin", "admin"),
        ("team", "team"),
        ("segment", "segment"),
        ("tag", "tag"),
        ("macro", "macro"),
        ("collection", "collection"),
        ("article", "article"),
        ("note", "note"),
    ]
    .into_iter()
    .find(|(word, _)| p.contains(word))
    .map(|(_, t)| t)
}

/// Whether `rel` is one of a contact's own sub-lists (`contacts/<id>/tags.json`), read with
/// that contact rather than as objects of its own.
pub fn is_sub_list(rel: &str) -> bool {
    let parts: Vec<&str> = rel.split('/').collect();
    parts.len() >= 3 && parts[0] == "contacts"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(text: &str, rel: &str) -> Vec<Entry> {
        let mut out = Vec::new();
        if rel.ends_with(".json") {
            document(text, 1, &mut out);
        } else {
            for (n, line) in text.lines().enumerate() {
                document(line, n + 1, &mut out);
            }
        }
        out
    }

    #[test]
    fn list_answers_open_into_their_items_byte_for_byte() {
        let e = items(
            r#"{"type":"conversation.list","pages":{},"conversations":[{"id": "1"},{"id":"2"}]}"#,
            "c.json",
        );
        let raws: Vec<&str> = e
            .iter()
            .map(|e| match e {
                Entry::Item { raw, .. } => raw.get(),
                Entry::Malformed { .. } => "bad",
            })
            .collect();
        assert_eq!(raws, [r#"{"id": "1"}"#, r#"{"id":"2"}"#]);
        let single = items(r#"{"type":"conversation","id":"3"}"#, "c/3.json");
        assert!(matches!(&single[..], [Entry::Item { line: 1, .. }]));
    }

    #[test]
    fn a_bad_line_is_reported_with_its_number_and_the_rest_is_read() {
        let e = items("{\"id\":\"1\"}\n{oops\n{\"id\":\"3\"}", "contacts.jsonl");
        assert!(matches!(e[0], Entry::Item { line: 1, .. }));
        assert!(matches!(e[1], Entry::Malformed { line: 2, .. }));
        assert!(matches!(e[2], Entry::Item { line: 3, .. }));
        let e = items("{\n  \"id\": \"1\",\n  oops\n}", "x.json");
        assert!(matches!(e[..], [Entry::Malformed { line: 3, .. }]), "{e:?}");
    }

    #[test]
    fn file_names_say_what_untyped_objects_are() {
        assert_eq!(type_from_path("contacts.jsonl"), Some("contact"));
        assert_eq!(
            type_from_path("export/conversations-2.json"),
            Some("conversation")
        );
        assert_eq!(
            type_from_path("conversation_attributes.json"),
            Some("conversation_attribute")
        );
        assert_eq!(type_from_path("companies.json"), Some("company"));
        assert!(is_sub_list("contacts/42/tags.json") && !is_sub_list("contacts.jsonl"));
    }
}
