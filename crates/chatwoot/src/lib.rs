//! Chatwoot connector: the local sandbox that reproduces Chatwoot's API rules.
pub mod sandbox;
