//! The Chatwoot API load path against the Chatwoot sandbox on loopback, staged in a real SQLite
//! store, compared with the synthetic world (never with deskmove's own store).

#[path = "../postgres/world.rs"]
#[allow(dead_code)]
mod world;

mod compliance;
mod delta;
mod end_to_end;
mod faults;
mod preflight;
mod seam;
mod support;
