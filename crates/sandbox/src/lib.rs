//! The machinery every vendor sandbox shares: a loopback server, fault injection, latency,
//! fixed-window rate limits, call statistics and OpenAPI response validation.
//!
//! A sandbox that only serves the happy path is a toy; these pieces let each vendor's simulator
//! reproduce the vendor's surprises the same way, so connectors are tested against them all.
//! Vendor-specific shapes (error bodies, rate-limit headers) stay in the vendor crates: the kit
//! decides *when* something happens, the vendor decides *what it looks like*.

#![deny(missing_docs)]

pub mod clock;
pub mod faults;
pub mod openapi;
pub mod rng;
pub mod sandbox;
pub mod server;
pub mod stats;
pub mod window;

pub use clock::SandboxClock;
pub use faults::{FaultInjector, Faults, FaultsParseError, InjectedFault, with_faults};
pub use sandbox::{Sandbox, SandboxError, SandboxStats};
pub use server::{Server, serve, serve_on};
pub use stats::{CallStats, with_call_stats};
pub use window::{FixedWindow, WindowDecision};
