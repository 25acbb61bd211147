//! Test doubles and the compliance harness, behind the `testkit` feature.
//!
//! - [`world`]: a small canonical world (agents, tags, contacts, conversations, messages,
//!   attachments with bytes) to feed the doubles.
//! - [`MemorySource`] / [`MemoryTarget`]: reference connectors over memory, with switchable
//!   [`SourceBug`]s and [`TargetBug`]s, the deliberately broken doubles the harness must catch.
//! - [`FaultySource`] / [`FaultyTarget`]: wrappers that fail the Nth page or call, storm with
//!   `rate_limited` errors, or crash (an error the engine does not retry, after which the
//!   harness starts a fresh engine over the same store).
//! - [`check_source_compliance`] / [`check_target_compliance`] (and the panicking `assert_`
//!   forms): the checks every connector's tests run, returning [`Findings`] naming each
//!   [`Check`] that failed.

mod faults;
mod harness;
mod memory_source;
mod memory_target;
pub mod world;

pub use faults::{Fault, FaultError, FaultySource, FaultyTarget, TargetFault};
pub use harness::{
    Check, Finding, Findings, SourceCompliance, SourceExpectation, Staging, TargetCompliance,
    TargetFixture, TargetInspector, assert_source_compliance, assert_target_compliance,
    check_source_compliance, check_target_compliance,
};
pub use memory_source::{MemoryError, MemorySource, SourceBug};
pub use memory_target::{MemoryTarget, MemoryTargetState, TargetBug, Write};
