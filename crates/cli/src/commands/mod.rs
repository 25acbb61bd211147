//! One module per command.

pub mod connectors;
pub mod demo;
pub mod export;
pub mod init;
pub mod sandbox;
pub mod status;
