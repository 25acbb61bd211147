//! One module per command.

pub mod init;
