//! A synthetic support company, vendor-neutral, deterministic and lazy.
//!
//! Every record is a pure function of the seed, its index and the clock epoch
//! (counter-based randomness, see `rng`), so building a world of a million
//! conversations is O(1), memory stays flat, and two worlds with the same seed
//! are identical. Sandboxes serve it in each vendor's wire format; end-to-end
//! tests compare what reached the target with it (the world is the oracle).
//!
//! ```
//! use deskmove_synth::{World, WorldConfig};
//! let world = World::new(WorldConfig::new(42, 1_000, 300));
//! let conv = world.view().conversation(0).unwrap();
//! assert_eq!(conv.parts.len() as u64, world.view().conversation_shape(0).unwrap().parts);
//! world.advance(3); // churn: new conversations, new parts, edits
//! assert!(world.view().conversation_count() > 1_000);
//! ```
#![deny(missing_docs)]

mod attachments;
mod content;
mod conversations;
mod directory;
pub mod html;
mod ids;
pub mod model;
mod people;
mod rng;
mod totals;
mod world;

pub use model::*;
pub use rng::splitmix64;
pub use totals::Totals;
pub use world::{HISTORY_START, T0, TICK_SECS, View, World, WorldConfig};
