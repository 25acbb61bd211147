//! The registry, read through `deskmove connectors --json`: every registered connector has a
//! sandbox, a config section `init` writes and `status` reads, and, when it is a target, a
//! mapping document per source; and vendor names stay in the vendor crates.

use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::util::{Dir, field, start_sandbox};

/// The registrations, as the binary lists them.
fn registrations() -> Vec<Value> {
    let out = Dir::new()
        .deskmove(&["connectors", "--json"])
        .expect_code(0)
        .stdout();
    let list: Vec<Value> = serde_json::from_str(&out).unwrap();
    assert!(!list.is_empty(), "{out}");
    list
}

fn name(registration: &Value) -> &str {
    registration["name"].as_str().unwrap()
}

/// Registered names of one role (`source_template` or `target_template` set).
fn names_with(list: &[Value], template: &str) -> Vec<String> {
    list.iter()
        .filter(|r| !r[template].is_null())
        .map(|r| name(r).to_owned())
        .collect()
}

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

#[test]
fn connectors_lists_every_helpdesk_with_its_roles() {
    let out = Dir::new().deskmove(&["connectors"]).expect_code(0).stdout();
    for registration in registrations() {
        assert!(out.contains(name(&registration)), "{out}");
    }
}

#[test]
fn every_registered_connector_has_a_sandbox_with_the_common_ready_line() {
    for registration in registrations() {
        let name = name(&registration);
        let dir = Dir::new();
        if registration["sandbox"] == false {
            // Only a source reading saved files goes without one; asking for it is bad usage.
            assert!(registration["target_template"].is_null(), "{name}");
            dir.deskmove(&["sandbox", name]).expect_code(2);
            continue;
        }
        let (_child, line) = start_sandbox(&dir, &["sandbox", name, "--port", "0"]);
        assert!(
            line.starts_with("base_url=http://127.0.0.1:"),
            "{name}: {line}"
        );
        let base = field(&line, "base_url");
        assert!(!base.ends_with('/'), "{name}: no trailing slash: {line}");
        let after_base = line.split_whitespace().nth(1).unwrap_or_default();
        assert!(
            after_base.starts_with("token=") && after_base.len() > "token=".len(),
            "{name}: token= comes second: {line}"
        );
    }
}

#[test]
fn every_registered_connector_has_a_config_section_init_writes_and_status_reads() {
    let list = registrations();
    let sources = names_with(&list, "source_template");
    let targets = names_with(&list, "target_template");
    assert!(!sources.is_empty() && !targets.is_empty(), "{list:?}");
    let mut pairs: Vec<(&str, &str)> = sources.iter().map(|s| (&**s, &*targets[0])).collect();
    pairs.extend(targets.iter().map(|t| (&*sources[0], &**t)));
    for (from, to) in pairs {
        let dir = Dir::new();
        dir.deskmove(&["init", "--from", from, "--to", to])
            .expect_code(0);
        let toml = dir.read("deskmove.toml");
        assert!(toml.contains(&format!("kind = \"{from}\"")), "{toml}");
        assert!(toml.contains(&format!("kind = \"{to}\"")), "{toml}");
        let out = dir.deskmove(&["status"]).expect_code(0).stdout();
        assert!(out.contains(&format!("deskmove: {from} → {to}")), "{out}");
    }
    for registration in &list {
        let is_source = !registration["source_template"].is_null();
        let is_target = !registration["target_template"].is_null();
        assert!(is_source || is_target, "{} is neither", name(registration));
        let paths = registration["load_paths"].as_array().unwrap();
        assert_eq!(
            is_target,
            !paths.is_empty(),
            "load paths of {}",
            name(registration)
        );
    }
}

#[test]
fn every_registered_target_has_a_mapping_document_per_source() {
    let list = registrations();
    let sources = names_with(&list, "source_template");
    for registration in list.iter().filter(|r| !r["target_template"].is_null()) {
        let target = name(registration);
        let docs: Vec<&str> = registration["mapping_docs"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d.as_str().unwrap())
            .collect();
        assert!(!docs.is_empty(), "{target} has no docs/mapping entry");
        for doc in docs {
            let from = doc
                .strip_suffix(&format!("-to-{target}.md"))
                .unwrap_or_else(|| panic!("{doc} is not named <source>-to-{target}.md"));
            assert!(
                sources.iter().any(|s| s == from),
                "{doc}: {from} is not a registered source"
            );
            let path = workspace().join("docs/mapping").join(doc);
            let text = std::fs::read_to_string(&path)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            assert!(text.starts_with("# "), "{doc} has no title");
        }
    }
    // The default pair is documented: the first source, to the first target that is not it.
    let target = names_with(&list, "target_template")
        .into_iter()
        .find(|t| *t != sources[0])
        .expect("a target besides the first source");
    assert!(
        workspace()
            .join(format!("docs/mapping/{}-to-{target}.md", sources[0]))
            .is_file()
    );
}

/// Shared crates: vendor names may appear only in the registry, in tests and benchmarks, and in
/// documentation.
const SHARED_CRATES: &[&str] = &["core", "http", "store", "sandbox", "engine", "synth", "cli"];

fn allowed(relative: &Path) -> bool {
    let text = relative.to_string_lossy().replace('\\', "/");
    text == "crates/cli/src/registry.rs"
        || text == "crates/cli/Cargo.toml"
        || text.ends_with(".md")
        || relative
            .components()
            .any(|c| matches!(c.as_os_str().to_str(), Some("tests" | "benches")))
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n != "target") {
                files_under(&path, out);
            }
        } else {
            out.push(path);
        }
    }
}

#[test]
fn vendor_names_appear_only_in_the_registry_tests_and_docs() {
    let names: Vec<String> = registrations()
        .iter()
        .map(|r| name(r).to_lowercase())
        .collect();
    let root = workspace();
    let mut files = Vec::new();
    for krate in SHARED_CRATES {
        files_under(&root.join("crates").join(krate), &mut files);
    }
    let mut leaks = Vec::new();
    for path in files {
        let relative = path.strip_prefix(&root).unwrap().to_owned();
        if allowed(&relative) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(&path) else {
            continue;
        };
        for (number, line) in text.lines().enumerate() {
            // A source file's own unit tests come last, after `#[cfg(test)]`.
            if line.trim() == "#[cfg(test)]" {
                break;
            }
            let lower = line.to_lowercase();
            if names.iter().any(|n| lower.contains(n.as_str())) {
                leaks.push(format!(
                    "{}:{}: {}",
                    relative.display(),
                    number + 1,
                    line.trim()
                ));
            }
        }
    }
    assert!(
        leaks.is_empty(),
        "vendor names outside the vendor crates, the registry, tests and docs:\n{}",
        leaks.join("\n")
    );
}
