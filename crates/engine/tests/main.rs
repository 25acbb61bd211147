//! The engine's tests, one binary. `support` builds staging areas and the memory world;
//! `compliance` runs the harness against the reference doubles on both stores; `broken` shows
//! the harness failing on each deliberately broken double; `ledger` covers mapping
//! fingerprints and target instances; `phases` the engine's own ordering, retries and events.

mod broken;
mod compliance;
mod ledger;
mod phases;
mod select;
mod support;
mod thread_order;
