//! The synthetic world as a Zendesk export must stage it: the keys of every record, and the
//! values to compare. Zendesk's ids and the few facts the sandbox derives (which comments were
//! redacted) are the sandbox's own rules, restated here: the oracle must not come from the
//! extractor.

use std::collections::{BTreeMap, BTreeSet};

use deskmove_core::model::{AuthorKind, ConversationState, MessageKind};
use deskmove_core::{Record, RecordKind, SourceKey};
use deskmove_engine::testkit::SourceExpectation;
use deskmove_synth::html::INLINE_SCHEME;
use deskmove_synth::{AttributeModel, Author, ConvState, PartKind, View};
use deskmove_zendesk::map::to_canonical::SYSTEM;
use deskmove_zendesk_sandbox::{RunningSandbox, Sandbox};

// The sandbox's id scheme (its `ids` module).
const AGENT_BASE: u64 = 9_000_000_000;
const AUTOMATION_USER: u64 = AGENT_BASE + 999;
const END_USER_BASE: u64 = 10_000_000_000;
const ORG_BASE: u64 = 5_000_000_000;
const GROUP_BASE: u64 = 6_000_000_000;
const USER_FIELD_BASE: u64 = 370_000_000;
const REDACTED_ATTACHMENT_BASE: u64 = 1 << 50;
const GENERAL_SECTION_BASE: u64 = 210_000;
const PART_BLOCK: u64 = 100_000;
/// The sandbox adds two deleted groups after the world's teams.
const DELETED_GROUPS: u64 = 2;

pub fn k(kind: RecordKind, id: impl ToString) -> SourceKey {
    SourceKey::new(SYSTEM, kind, id.to_string())
}

fn agent_user(a: u64) -> u64 {
    AGENT_BASE + a
}

fn end_user(j: u64) -> u64 {
    END_USER_BASE + j
}

/// The description's comment id of world conversation `i`.
fn description_id(i: u64) -> u64 {
    (i + 1) * PART_BLOCK + PART_BLOCK - 1
}

/// Whether the sandbox redacted comment `id` (its `derive::redacted`).
fn redacted(seed: u64, id: u64) -> bool {
    use deskmove_sandbox::rng::splitmix64;
    const REDACT: u64 = 7;
    splitmix64(seed ^ splitmix64(REDACT.wrapping_mul(0x9E37) ^ splitmix64(id))).is_multiple_of(41)
}

/// A world tag name as the Zendesk word.
fn tag_word(name: &str) -> String {
    name.split_whitespace()
        .collect::<Vec<_>>()
        .join("_")
        .to_lowercase()
}

/// Attachment ids referenced inline in a world body.
fn inline_ids(html: &str) -> Vec<u64> {
    html.match_indices(INLINE_SCHEME)
        .filter_map(|(at, _)| {
            let tail = &html[at + INLINE_SCHEME.len()..];
            let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
            tail[..digits].parse().ok()
        })
        .collect()
}

fn num(id: &str) -> u64 {
    id.parse().unwrap()
}

/// The deleted tickets, as the sandbox's own `GET /deleted_tickets` lists them.
pub async fn deleted_tickets(sandbox: &RunningSandbox) -> BTreeSet<u64> {
    let mut out = BTreeSet::new();
    let mut url = sandbox
        .base_url()
        .join("api/v2/deleted_tickets.json?page[size]=100")
        .unwrap()
        .to_string();
    loop {
        let mut body = serde_json::Value::Null;
        // The sandbox may be injecting faults: ask until it answers.
        for _ in 0..50 {
            let Ok(r) = deskmove_http::reqwest::Client::new()
                .get(&url)
                .bearer_auth(sandbox.token())
                .send()
                .await
            else {
                continue;
            };
            if !r.status().is_success() {
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
                continue;
            }
            if let Ok(b) = r.json().await {
                body = b;
                break;
            }
        }
        for t in body["deleted_tickets"].as_array().unwrap() {
            out.insert(t["id"].as_u64().unwrap());
        }
        if body["meta"]["has_more"] != true
            || body["deleted_tickets"].as_array().unwrap().is_empty()
        {
            return out;
        }
        url = body["links"]["next"].as_str().unwrap().to_owned();
    }
}

/// Every record key the export must stage and the problems it must report (deleted tickets).
pub fn expected(
    view: &View<'_>,
    deleted: &BTreeSet<u64>,
    custom_ticket_fields: u64,
) -> SourceExpectation {
    let mut e = SourceExpectation::default();
    let r = &mut e.records;
    let seed = view.seed();
    for a in 0..view.agent_count() {
        r.insert(k(RecordKind::Agent, agent_user(a)));
    }
    r.insert(k(RecordKind::Agent, AUTOMATION_USER));
    let mut tags = BTreeSet::new();
    for j in 0..view.contact_count() {
        let c = view.contact(j).unwrap();
        r.insert(k(RecordKind::Contact, end_user(j)));
        tags.extend(c.tags.iter().map(|t| tag_word(&view.tag(*t).unwrap().name)));
    }
    for c in 0..view.company_count() {
        r.insert(k(RecordKind::Company, ORG_BASE + c));
    }
    for t in 0..view.team_count() + DELETED_GROUPS {
        r.insert(k(RecordKind::Team, GROUP_BASE + t));
    }
    // The custom ticket fields are the sandbox's (360 000 000 + 7 system fields + n).
    for n in 0..custom_ticket_fields {
        r.insert(k(
            RecordKind::AttributeDefinition,
            format!("ticket_field-{}", 360_000_007 + n),
        ));
    }
    for (model, prefix) in [
        (AttributeModel::Contact, "user_field"),
        (AttributeModel::Company, "organization_field"),
    ] {
        for d in view.attributes_of(model) {
            r.insert(k(
                RecordKind::AttributeDefinition,
                format!("{prefix}-{}", USER_FIELD_BASE + d.id),
            ));
        }
    }
    for i in 0..view.conversation_count() {
        let id = i + 1;
        if deleted.contains(&id) {
            e.problems
                .insert((k(RecordKind::Conversation, id), "deleted_ticket".into()));
            continue;
        }
        let c = view.conversation(i).unwrap();
        r.insert(k(RecordKind::Conversation, id));
        tags.extend(c.tags.iter().map(|t| tag_word(&view.tag(*t).unwrap().name)));
        r.insert(k(RecordKind::Message, description_id(i)));
        for a in &c.source_attachments {
            r.insert(k(RecordKind::Attachment, a.id));
        }
        for p in c.parts.iter().filter(|p| p.kind.is_message()) {
            r.insert(k(RecordKind::Message, p.id));
            for a in &p.attachments {
                r.insert(k(RecordKind::Attachment, a.id));
            }
            for a in inline_ids(p.body.as_deref().unwrap_or("")) {
                if view.attachment(a).is_some() {
                    r.insert(k(RecordKind::Attachment, a));
                }
            }
            if redacted(seed, p.id) {
                r.insert(k(RecordKind::Attachment, REDACTED_ATTACHMENT_BASE + p.id));
            }
        }
    }
    for t in tags {
        r.insert(k(RecordKind::Tag, t));
    }
    for i in 0..view.macro_count() {
        r.insert(k(RecordKind::Macro, view.macro_(i).unwrap().id));
    }
    for i in 0..view.collection_count() {
        let c = view.collection(i).unwrap();
        if c.parent.is_none() {
            r.insert(k(RecordKind::Collection, format!("category-{}", c.id)));
            r.insert(k(
                RecordKind::Collection,
                format!("section-{}", GENERAL_SECTION_BASE + c.index),
            ));
        } else {
            r.insert(k(RecordKind::Collection, format!("section-{}", c.id)));
        }
    }
    for i in 0..view.article_count() {
        let a = view.article(i).unwrap();
        r.insert(k(RecordKind::Article, &a.id));
        for img in &a.images {
            r.insert(k(RecordKind::Attachment, img.id));
        }
    }
    e
}

/// Compares what was staged with the world, kind by kind and field by field where the world
/// says; the sandbox's totals (`/__sandbox/expected`) check what only Zendesk knows.
pub async fn compare(
    sandbox: &RunningSandbox,
    staged: &BTreeMap<SourceKey, Record>,
    problems: &[deskmove_core::Problem],
) {
    let view = sandbox.world().view();
    let totals = sandbox.inspect();
    let total = |key: &str| totals[key].as_u64().unwrap();
    let deleted = deleted_tickets(sandbox).await;
    assert_eq!(deleted.len() as u64, total("tickets_deleted"));
    let expected = expected(&view, &deleted, total("ticket_fields_custom"));
    let keys: BTreeSet<&SourceKey> = staged.keys().collect();
    let missing: Vec<_> = expected
        .records
        .iter()
        .filter(|k| !keys.contains(k))
        .take(10)
        .collect();
    let unexpected: Vec<_> = keys
        .iter()
        .filter(|k| !expected.records.contains(**k))
        .take(10)
        .collect();
    assert!(
        missing.is_empty(),
        "missing records, e.g. {missing:?} (unexpected {unexpected:?})"
    );
    assert!(
        unexpected.is_empty(),
        "records the world does not have, e.g. {unexpected:?}"
    );
    let count = |kind: RecordKind| keys.iter().filter(|k| k.kind == kind).count() as u64;
    assert_eq!(
        count(RecordKind::Conversation) + total("tickets_deleted"),
        total("tickets"),
        "every ticket, archived ones too"
    );
    assert_eq!(count(RecordKind::Message), total("comments"));
    assert_eq!(
        count(RecordKind::Attachment),
        total("attachments")
            + total("attachments_redacted")
            + total("inline_images")
            + total("article_attachments")
    );
    assert_eq!(
        count(RecordKind::Agent) + count(RecordKind::Contact),
        total("users")
    );
    assert_eq!(
        count(RecordKind::Company),
        total("organizations"),
        "no boundary duplicate"
    );
    assert_eq!(count(RecordKind::Team), total("groups"));
    assert_eq!(count(RecordKind::Macro), total("macros"));
    assert_eq!(count(RecordKind::Article), total("articles"));
    assert_eq!(
        count(RecordKind::Tag),
        total("tags") + contact_only_tags(&view, staged)
    );
    let reported: BTreeSet<(SourceKey, String)> = problems
        .iter()
        .map(|p| (p.key.clone(), p.code.clone()))
        .collect();
    let silent: Vec<_> = expected.problems.difference(&reported).collect();
    assert!(
        silent.is_empty(),
        "deleted tickets not recorded: {silent:?}"
    );
    let lost: Vec<_> = problems
        .iter()
        .filter(|p| p.stage == deskmove_core::Stage::Extract && p.code != "deleted_ticket")
        .take(10)
        .collect();
    assert!(lost.is_empty(), "extract problems: {lost:?}");

    let get = |kind, id: String| {
        staged
            .get(&k(kind, &id))
            .unwrap_or_else(|| panic!("{kind} {id}"))
    };
    for a in 0..view.agent_count() {
        let w = view.agent(a).unwrap();
        let Record::Agent(r) = get(RecordKind::Agent, agent_user(a).to_string()) else {
            unreachable!()
        };
        assert_eq!(r.name.as_deref(), Some(w.name.as_str()));
        assert_eq!(r.email.as_deref(), Some(w.email.to_lowercase().as_str()));
        assert_eq!(r.active, !w.departed, "departed agents are deleted users");
    }
    for j in 0..view.contact_count() {
        let c = view.contact(j).unwrap();
        let Record::Contact(r) = get(RecordKind::Contact, end_user(j).to_string()) else {
            unreachable!()
        };
        assert_eq!(
            r.email_original,
            c.email.clone().filter(|e| !e.trim().is_empty())
        );
        assert_eq!(r.phone_original, c.phone);
        assert_eq!(r.external_id, c.external_id);
        assert_eq!(r.created_at.as_second(), c.created_at);
        assert_eq!(
            r.companies,
            c.company
                .map(|o| k(RecordKind::Company, ORG_BASE + o))
                .into_iter()
                .collect::<Vec<_>>()
        );
        let tags: BTreeSet<String> = c
            .tags
            .iter()
            .map(|t| tag_word(&view.tag(*t).unwrap().name))
            .collect();
        let got: BTreeSet<String> = r.tags.iter().map(|t| t.id.clone()).collect();
        assert_eq!(got, tags);
    }
    for o in 0..view.company_count() {
        let c = view.company(o).unwrap();
        let Record::Company(r) = get(RecordKind::Company, (ORG_BASE + o).to_string()) else {
            unreachable!()
        };
        assert_eq!(r.name.as_deref(), Some(c.name.as_str()));
        assert_eq!(r.external_id.as_deref(), Some(c.company_id.as_str()));
        assert_eq!(r.created_at.as_second(), c.created_at);
    }
    for t in 0..view.team_count() {
        let w = view.team(t).unwrap();
        let Record::Team(r) = get(RecordKind::Team, (GROUP_BASE + t).to_string()) else {
            unreachable!()
        };
        assert_eq!(r.name, w.name);
        let members: BTreeSet<SourceKey> = w
            .agent_indexes
            .iter()
            .map(|a| k(RecordKind::Agent, agent_user(*a)))
            .collect();
        assert_eq!(r.members.iter().cloned().collect::<BTreeSet<_>>(), members);
    }
    let blob = |id: u64| match staged.get(&k(RecordKind::Attachment, id)) {
        Some(Record::Attachment(a)) => a
            .blob
            .clone()
            .unwrap_or_else(|| panic!("no bytes for {id}")),
        _ => panic!("no attachment {id}"),
    };
    let mut files = 0;
    for i in 0..view.conversation_count() {
        let id = i + 1;
        if deleted.contains(&id) {
            continue;
        }
        let c = view.conversation(i).unwrap();
        let Record::Conversation(r) = get(RecordKind::Conversation, id.to_string()) else {
            unreachable!()
        };
        let state = match c.state {
            ConvState::Open => ConversationState::Open,
            ConvState::Snoozed => ConversationState::Pending,
            ConvState::Closed => ConversationState::Closed,
        };
        assert_eq!(r.state, state, "ticket {id}");
        if let Some(title) = &c.title {
            assert_eq!(r.subject.as_deref(), Some(title.as_str()));
        }
        assert_eq!(
            r.contacts,
            vec![k(RecordKind::Contact, end_user(c.contact))]
        );
        assert_eq!(
            r.assignee,
            c.agent_assignee
                .map(|a| k(RecordKind::Agent, agent_user(a)))
        );
        assert_eq!(
            r.team,
            c.team_assignee.map(|t| k(RecordKind::Team, GROUP_BASE + t))
        );
        assert_eq!(r.created_at.as_second(), c.created_at);
        let tags: BTreeSet<String> = c
            .tags
            .iter()
            .map(|t| tag_word(&view.tag(*t).unwrap().name))
            .collect();
        assert_eq!(
            r.tags.iter().map(|t| t.id.clone()).collect::<BTreeSet<_>>(),
            tags
        );
        assert!(
            !r.attributes.is_empty(),
            "custom field values of ticket {id}"
        );
        let Record::Message(d) = get(RecordKind::Message, description_id(i).to_string()) else {
            unreachable!()
        };
        assert_eq!(d.kind, MessageKind::Reply);
        assert_eq!(
            d.author.key,
            Some(k(RecordKind::Contact, end_user(c.contact)))
        );
        assert_eq!(
            d.extra["description"], true,
            "the description is the first message"
        );
        assert_eq!(d.created_at.as_second(), c.created_at);
        for a in &c.source_attachments {
            let b = blob(a.id);
            assert_eq!((b.hash, b.size), (view.attachment_blake3(a), a.size));
            files += 1;
        }
        for p in c.parts.iter().filter(|p| p.kind.is_message()) {
            let Record::Message(m) = get(RecordKind::Message, p.id.to_string()) else {
                unreachable!()
            };
            assert_eq!(m.conversation, r.key);
            assert_eq!(m.created_at.as_second(), p.created_at);
            let kind = if p.kind == PartKind::Note {
                MessageKind::Note
            } else {
                MessageKind::Reply
            };
            let author = match p.author {
                Author::Contact(j) => (AuthorKind::Contact, k(RecordKind::Contact, end_user(j))),
                Author::Agent(a) => (AuthorKind::Agent, k(RecordKind::Agent, agent_user(a))),
                _ => (AuthorKind::Agent, k(RecordKind::Agent, AUTOMATION_USER)),
            };
            assert_eq!(
                (m.kind, m.author.kind),
                (kind, author.0),
                "comment {}",
                p.id
            );
            assert_eq!(m.author.key, Some(author.1));
            for a in &p.attachments {
                let b = blob(a.id);
                assert_eq!((b.hash, b.size), (view.attachment_blake3(a), a.size));
                files += 1;
            }
            let inline = inline_ids(p.body.as_deref().unwrap_or(""));
            // Inline images point at their `/attachments/token/…` URLs (other images are the
            // world's hostile markup, kept as they are).
            let hosted = m
                .inline_images
                .iter()
                .filter(|u| u.contains("/attachments/token/"))
                .count();
            assert_eq!(hosted, inline.len(), "inline images of {}", p.id);
            for a in inline {
                let w = view.attachment(a).unwrap();
                assert_eq!(blob(a).hash, view.attachment_blake3(&w));
                files += 1;
            }
        }
    }
    assert!(files > 0);
    for i in 0..view.macro_count() {
        let w = view.macro_(i).unwrap();
        let Record::Macro(r) = get(RecordKind::Macro, w.id.clone()) else {
            unreachable!()
        };
        assert_eq!(r.name, w.name);
        if w.body_template.contains("{{") {
            assert!(
                r.body_markdown.as_deref().unwrap_or("").contains("{{"),
                "placeholders kept"
            );
        }
    }
    for i in 0..view.article_count() {
        let a = view.article(i).unwrap();
        let Record::Article(r) = get(RecordKind::Article, a.id.clone()) else {
            unreachable!()
        };
        assert_eq!(r.title, a.title);
        let c = view.collection(a.collection).unwrap();
        let section = if c.parent.is_none() {
            GENERAL_SECTION_BASE + c.index
        } else {
            num(&c.id)
        };
        assert_eq!(
            r.collection,
            Some(k(RecordKind::Collection, format!("section-{section}")))
        );
        for img in &a.images {
            assert_eq!(blob(img.id).hash, view.attachment_blake3(img));
        }
    }
    assert!(
        sandbox.leaked_credentials().is_empty(),
        "credentials reached the file host"
    );
}

/// Tags only end users carry (the sandbox's tag list counts tags on tickets).
fn contact_only_tags(view: &View<'_>, staged: &BTreeMap<SourceKey, Record>) -> u64 {
    let on_tickets: BTreeSet<&str> = staged
        .values()
        .filter_map(|r| match r {
            Record::Conversation(c) => Some(c.tags.iter().map(|t| t.id.as_str())),
            _ => None,
        })
        .flatten()
        .collect();
    let on_contacts: BTreeSet<String> = (0..view.contact_count())
        .flat_map(|j| view.contact(j).unwrap().tags)
        .map(|t| tag_word(&view.tag(t).unwrap().name))
        .collect();
    on_contacts
        .iter()
        .filter(|t| !on_tickets.contains(t.as_str()))
        .count() as u64
}
