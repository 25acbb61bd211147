//! The Intercom sandbox's integration tests, one binary with a module per area. Each test starts
//! its own sandbox on 127.0.0.1 and talks to it over real HTTP.

// Helpers: start a sandbox, call it with its token.
mod common;
// Every route against the 2.16 OpenAPI description (ignored without the specs folder).
mod conformance;
// Same seed, same bytes.
mod determinism;
// The signed-URL file host.
mod files;
// The gaps clients stopped on (R2.1 item 10): 2.16 routes, merged contacts, scroll after a 500,
// long sub-lists, search rules, faults behind auth and on the file host.
mod gaps;
// Auth, rate limits and injected faults.
mod limits;
// Pagination styles, caps and per-resource behaviour.
mod routes;
// The search query language.
mod search;
// The write side: contacts, conversations and replies, companies/tags/attributes/help center,
// tickets, outbound messages and the notification log.
mod write_contacts;
mod write_conversations;
mod write_directory;
// What a target needs: written records on the read routes, seeded conversations written into,
// uploads served back, deletes, a conversation attribute to find a conversation by.
mod write_readback;
mod write_tickets;
// The write routes' requests (2.14 and 2.16) and responses against the specs (ignored without them).
mod write_conformance;
