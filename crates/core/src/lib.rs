//! The canonical vocabulary every deskmove crate speaks: records, keys, error kinds,
//! per-record problems, the normalisers that turn vendor values into canonical ones, and the
//! connector seams ([`connector`]) between the engine and every vendor.

#![deny(missing_docs)]

pub mod config;
pub mod connector;
pub mod error;
pub mod hash;
pub mod key;
pub mod model;
pub mod normalize;
pub mod problem;
pub mod registration;

pub use connector::{
    ByteStream, Cursor, Page, PageSink, Resolve, SinkError, Source, StreamSpec, Target,
    TargetInstance, TargetRef,
};
pub use error::{Classify, ErrorKind};
pub use hash::{ContentHash, canonical_json, content_hash};
pub use key::{RecordKind, SourceKey};
pub use model::Record;
pub use problem::{Problem, Stage};
pub use registration::Registration;
