//! Intercom for deskmove: the local Intercom sandbox (a faithful simulator of
//! Intercom's REST API serving the synthetic world) and, later, the extractor.

pub mod sandbox;
