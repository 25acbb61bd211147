//! Comment authors carry the Zendesk user's name and email, compared with the world: a target
//! that has no record for the author (Chatwoot sends agent replies as the importing user) can
//! only name them from the message itself.

use std::collections::BTreeMap;

use deskmove_core::connector::{BlobRef, ByteStream, Page, PageSink, SinkError};
use deskmove_core::model::{AuthorKind, Message};
use deskmove_core::{Record, RecordKind, Source, SourceKey};
use deskmove_synth::{Author, View};
use deskmove_zendesk::extract::streams;
use deskmove_zendesk_sandbox::{Sandbox, SandboxArgs};
use futures::StreamExt;
use tempfile::TempDir;

use crate::oracle::{self, k};
use crate::support::{self, Pace, all_records, calls, export};

// The sandbox's id scheme (its `ids` module), as in `oracle`.
const AGENT_BASE: u64 = 9_000_000_000;
const END_USER_BASE: u64 = 10_000_000_000;
const PART_BLOCK: u64 = 100_000;

fn world(tickets: u64, contacts: u64) -> SandboxArgs {
    SandboxArgs {
        tickets,
        contacts,
        rate_limit: 0,
        incremental_rate_limit: 0,
        ..SandboxArgs::default()
    }
}

/// Asserts every agent- and contact-written comment of the world names its author as the world
/// does; returns how many agent comments were checked.
fn assert_authors(
    view: &View<'_>,
    deleted: &std::collections::BTreeSet<u64>,
    messages: &BTreeMap<SourceKey, Message>,
) -> u64 {
    let get = |id: u64| {
        messages
            .get(&k(RecordKind::Message, id))
            .unwrap_or_else(|| panic!("comment {id} was not staged"))
    };
    let mut agents = 0;
    for i in 0..view.conversation_count() {
        if deleted.contains(&(i + 1)) {
            continue;
        }
        let c = view.conversation(i).unwrap();
        // The description, written by the requester.
        let d = get((i + 1) * PART_BLOCK + PART_BLOCK - 1);
        let requester = view.contact(c.contact).unwrap();
        assert_eq!(d.author.kind, AuthorKind::Contact);
        // As the world has it, spacing aside.
        assert_eq!(
            d.author.email,
            requester
                .email
                .map(|e| e.trim().to_owned())
                .filter(|e| !e.is_empty()),
            "ticket {} description author email",
            i + 1
        );
        for p in c.parts.iter().filter(|p| p.kind.is_message()) {
            let m = get(p.id);
            match p.author {
                Author::Agent(a) => {
                    let w = view.agent(a).unwrap();
                    assert_eq!(
                        m.author.key,
                        Some(k(RecordKind::Agent, AGENT_BASE + a)),
                        "comment {}",
                        p.id
                    );
                    assert_eq!(
                        m.author.name.as_deref(),
                        Some(w.name.as_str()),
                        "comment {} author name",
                        p.id
                    );
                    assert_eq!(
                        m.author.email.as_deref(),
                        Some(w.email.as_str()),
                        "comment {} author email",
                        p.id
                    );
                    agents += 1;
                }
                Author::Contact(j) => {
                    let w = view.contact(j).unwrap();
                    assert_eq!(
                        m.author.key,
                        Some(k(RecordKind::Contact, END_USER_BASE + j)),
                        "comment {}",
                        p.id
                    );
                    if let Some(name) = &w.name {
                        assert_eq!(m.author.name.as_ref(), Some(name), "comment {}", p.id);
                    }
                    assert_eq!(
                        m.author.email,
                        w.email
                            .map(|e| e.trim().to_owned())
                            .filter(|e| !e.is_empty()),
                        "comment {} author email",
                        p.id
                    );
                }
                // Bots and automations write as the sandbox's automation user.
                _ => assert!(m.author.email.is_some(), "comment {}", p.id),
            }
        }
    }
    agents
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn comment_authors_carry_the_users_name_and_email() {
    let sandbox = support::sandbox(world(60, 30)).await;
    let dir = TempDir::new().unwrap();
    let staging = support::sqlite(&dir);
    export(&staging, &support::source(&sandbox, 20, Pace::Unlimited))
        .await
        .expect("the export completes");
    let messages: BTreeMap<SourceKey, Message> = all_records(&staging.store)
        .await
        .into_iter()
        .filter_map(|(key, r)| match r {
            Record::Message(m) => Some((key, m)),
            _ => None,
        })
        .collect();
    let deleted = oracle::deleted_tickets(&sandbox).await;
    let agents = assert_authors(&sandbox.world().view(), &deleted, &messages);
    assert!(agents > 0, "the world has agent comments");
    sandbox.shutdown().await;
}

/// Collects pages and drains files (the ticket stream read on its own, as a resumed run reads
/// it after an earlier process finished the user export).
#[derive(Default)]
struct Collect {
    messages: BTreeMap<SourceKey, Message>,
}

impl PageSink for Collect {
    async fn page(&mut self, page: Page) -> Result<(), SinkError> {
        for r in page.records {
            if let Record::Message(m) = r {
                self.messages.insert(m.key.clone(), m);
            }
        }
        Ok(())
    }

    async fn blob(
        &self,
        mut body: ByteStream,
        _content_type: Option<&str>,
    ) -> Result<BlobRef, SinkError> {
        let mut hasher = blake3::Hasher::new();
        let mut size = 0;
        while let Some(chunk) = body.next().await {
            let chunk = chunk.map_err(|e| SinkError::Body(e.to_string()))?;
            size += chunk.len() as u64;
            hasher.update(&chunk);
        }
        Ok(BlobRef {
            hash: hasher.finalize().to_hex().to_string(),
            size,
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authors_unknown_to_a_resumed_run_are_looked_up_with_their_name_and_email() {
    let sandbox = support::sandbox(world(30, 20)).await;
    let source = support::source(&sandbox, 10, Pace::Unlimited);
    let tickets = source
        .streams()
        .into_iter()
        .find(|s| s.name == streams::TICKETS)
        .unwrap();
    let mut out = Collect::default();
    source.extract(&tickets, None, &mut out).await.unwrap();
    // Without the user export, every author came from `show_many`.
    assert!(calls(&sandbox.stats(), "/users/show_many") > 0);
    let deleted = oracle::deleted_tickets(&sandbox).await;
    let agents = assert_authors(&sandbox.world().view(), &deleted, &out.messages);
    assert!(agents > 0, "the world has agent comments");
    sandbox.shutdown().await;
}
