//! One module per command.

pub mod archive;
pub mod connectors;
pub mod demo;
pub mod export;
pub mod import;
pub mod init;
pub mod map;
pub mod rollback;
pub mod run;
pub mod sandbox;
pub mod scan;
pub mod status;
pub mod verify;
