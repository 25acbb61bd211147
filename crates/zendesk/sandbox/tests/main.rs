//! The Zendesk sandbox's integration tests, one binary with a module per area; each checklist
//! item of `../shared/research/zendesk-freshdesk-helpscout.md` §8 has its module. Each test
//! starts its own sandbox on 127.0.0.1 and talks to it over real HTTP.

// Helpers: start a sandbox, call it with its credentials.
mod common;
// §8.1: `.json` or not; Basic and Bearer; 401 otherwise.
mod auth;
// §8.2: links on the caller's own host and path.
mod links;
// §8.3: the cursor ticket and user exports.
mod cursor_exports;
// §8.4: the time-based exports, boundary duplicates, the tie fault.
mod time_exports;
// §8.5: comments in CBP and OBP.
mod comments;
// §8.6: attachments, the pre-signed host, secure downloads, the leak counter.
mod files;
// §8.7: rate limits, every 429 shape, the kit's faults.
mod limits;
// §8.8: archived tickets.
mod archived;
// §8.9: redactions, voice comments, malware flags, deleted users and groups.
mod fixtures;
// Fields, forms, macros, ratings, brands, Help Center, memberships.
mod resources;
// Same seed and frozen clock, same bytes.
mod determinism;
// A full crawl through the exports recovers the world's counts; a delta fetches the churn.
mod crawl;
// Every route against Zendesk's OpenAPI description (ignored without the specs folder).
mod conformance;
