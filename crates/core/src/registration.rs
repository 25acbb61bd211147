//! What a connector tells the rest of deskmove about itself: its name, what it can be (source,
//! target), its load paths, whether it has a sandbox, its `deskmove init` templates and its
//! mapping documents. Each vendor crate returns one; the CLI's registry lists them.

use serde::Serialize;

/// One connector's registration: plain data, so the registry, `deskmove connectors`, `init`
/// and the registry's own tests all read the same facts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Registration {
    /// The name in `deskmove.toml` (`kind = "<name>"`), on the command line and in source keys:
    /// lower-case, stable forever.
    pub name: &'static str,
    /// How people write the product's name, for messages.
    pub display_name: &'static str,
    /// The commented `[source]` settings `deskmove init` writes after `kind`, when the connector
    /// can be a source; `None` when it cannot.
    pub source_template: Option<&'static str>,
    /// The commented `[target]` settings `deskmove init` writes after `kind`, when the connector
    /// can be a target; `None` when it cannot.
    pub target_template: Option<&'static str>,
    /// The ways it can write into a target (the `path` setting), the default first; empty for a
    /// connector that is only a source.
    pub load_paths: &'static [&'static str],
    /// Whether `deskmove sandbox <name>` starts a local stand-in of this vendor.
    pub sandbox: bool,
    /// Where the user finds a token, shown by `deskmove init` next to the variable to set.
    pub token_help: &'static str,
    /// The `docs/mapping/<source>-to-<name>.md` files that say what this target keeps of each
    /// source, by file name; empty for a connector that is only a source.
    pub mapping_docs: &'static [&'static str],
}

impl Registration {
    /// Whether history can be read from it.
    pub fn is_source(&self) -> bool {
        self.source_template.is_some()
    }

    /// Whether history can be written to it.
    pub fn is_target(&self) -> bool {
        self.target_template.is_some()
    }
}
