//! The canonical vocabulary every deskmove crate speaks: records, keys, error kinds,
//! per-record problems and the normalisers that turn vendor values into canonical ones.

pub mod connector;
pub mod error;
pub mod hash;
pub mod key;
pub mod model;
pub mod normalize;
pub mod problem;

pub use error::{Classify, ErrorKind};
pub use hash::{ContentHash, canonical_json, content_hash};
pub use key::{RecordKind, SourceKey};
pub use model::Record;
pub use problem::{Problem, Stage};
