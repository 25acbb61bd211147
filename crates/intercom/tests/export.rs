//! Whole exports against the sandbox, compared with the synthetic world itself (the oracle),
//! never with what the extractor thinks it read.

use std::collections::{BTreeMap, BTreeSet};

use deskmove_core::model::{AuthorKind, ConversationState, MessageKind};
use deskmove_core::normalize::html;
use deskmove_core::{Record, RecordKind, SourceKey};
use deskmove_engine::testkit::{SourceExpectation, assert_source_compliance};
use deskmove_intercom::map::to_canonical::{BOT_AGENT_ID, SYSTEM};
use deskmove_intercom_sandbox::{
    RECENT_PART_CAP, RunningSandbox, SEARCH_LAG_SECS, Sandbox, SandboxArgs,
};
use deskmove_synth::html::INLINE_SCHEME;
use deskmove_synth::{Attachment, Author, ConvState, PartKind, View};
use tempfile::TempDir;

use crate::support::{self, calls, export, problems, records};

fn k(kind: RecordKind, id: impl Into<String>) -> SourceKey {
    SourceKey::new(SYSTEM, kind, id)
}

/// The Intercom part type the sandbox renders for a world part (its own table, restated: the
/// oracle must not come from the extractor).
fn part_type(kind: PartKind, author: Author) -> &'static str {
    match kind {
        PartKind::ContactReply
        | PartKind::AgentReply
        | PartKind::AutomatedReply
        | PartKind::BotReply => "comment",
        PartKind::QuickReply => "quick_reply",
        PartKind::Note => "note",
        PartKind::Assignment if matches!(author, Author::Automation(_)) => "default_assignment",
        PartKind::Assignment => "assignment",
        PartKind::Open => "open",
        PartKind::Close => "close",
        PartKind::Snoozed => "snoozed",
        PartKind::Unsnoozed => "unsnoozed",
        PartKind::AttributeUpdated => "conversation_attribute_updated_by_admin",
        PartKind::ParticipantAdded => "participant_added",
        PartKind::Future => "sentiment_analysis_completed",
    }
}

/// What a world body becomes in Markdown once its inline images point at the file host without
/// a signature.
fn markdown(view: &View<'_>, files: &url::Url, body: &str) -> String {
    let mut html_body = String::new();
    let mut rest = body;
    while let Some(at) = rest.find(INLINE_SCHEME) {
        html_body.push_str(&rest[..at]);
        let tail = &rest[at + INLINE_SCHEME.len()..];
        let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
        let id: u64 = tail[..digits].parse().unwrap();
        let name = view.attachment(id).map(|a| a.name).unwrap();
        let mut u = files.clone();
        u.path_segments_mut()
            .unwrap()
            .pop_if_empty()
            .extend(["i", "o", &id.to_string(), &name]);
        html_body.push_str(u.as_str());
        rest = &tail[digits..];
    }
    html_body.push_str(rest);
    html::to_markdown(&html_body).unwrap().markdown
}

/// Every key the export must stage for the world as the sandbox serves it, and the problems it
/// must report (truncated conversations). The keying scheme is the connector's contract.
fn expected(view: &View<'_>, conversation_attributes: &[String]) -> (SourceExpectation, u64) {
    let mut e = SourceExpectation::default();
    let r = &mut e.records;
    for id in conversation_attributes {
        r.insert(k(
            RecordKind::AttributeDefinition,
            format!("conversation-{id}"),
        ));
    }
    for i in 0..view.agent_count() {
        let a = view.agent(i).unwrap();
        if !a.departed {
            r.insert(k(RecordKind::Agent, a.id));
        }
    }
    r.insert(k(RecordKind::Agent, BOT_AGENT_ID));
    for i in 0..view.team_count() {
        r.insert(k(RecordKind::Team, view.team(i).unwrap().id));
    }
    for i in 0..view.tag_count() {
        r.insert(k(RecordKind::Tag, view.tag(i).unwrap().id));
    }
    for i in 0..view.attribute_count() {
        r.insert(k(
            RecordKind::AttributeDefinition,
            view.attribute(i).unwrap().id.to_string(),
        ));
    }
    for i in 0..view.company_count() {
        r.insert(k(RecordKind::Company, view.company(i).unwrap().id));
    }
    for j in 0..view.contact_count() {
        r.insert(k(RecordKind::Contact, view.contact(j).unwrap().id));
    }
    let files = |r: &mut BTreeSet<SourceKey>, owner: &str, list: &[Attachment]| {
        for n in 0..list.len() {
            r.insert(k(RecordKind::Attachment, format!("{owner}/{n}")));
        }
    };
    let mut truncated = 0;
    for i in 0..view.conversation_count() {
        let c = view.conversation(i).unwrap();
        r.insert(k(RecordKind::Conversation, c.id.clone()));
        let source = format!("{}-source", c.id);
        r.insert(k(RecordKind::Message, source.clone()));
        files(r, &source, &c.source_attachments);
        let skip = c.parts.len().saturating_sub(RECENT_PART_CAP as usize);
        if skip > 0 {
            truncated += 1;
            e.problems.insert((
                k(RecordKind::Conversation, c.id.clone()),
                "truncated_conversation".into(),
            ));
        }
        for p in &c.parts[skip..] {
            let id = p.id.to_string();
            r.insert(k(RecordKind::Message, id.clone()));
            files(r, &id, &p.attachments);
            let inline = p
                .body
                .as_deref()
                .map_or(0, |b| b.matches(INLINE_SCHEME).count());
            for n in 0..inline {
                r.insert(k(RecordKind::Attachment, format!("{id}/inline/{n}")));
            }
            if let Author::Agent(a) = p.author {
                let a = view.agent(a).unwrap();
                if a.departed {
                    r.insert(k(RecordKind::Agent, a.id));
                }
            }
        }
    }
    for i in 0..view.ticket_count() {
        let t = view.ticket(i).unwrap();
        r.insert(k(RecordKind::Conversation, format!("ticket-{}", t.id)));
        r.insert(k(
            RecordKind::Message,
            format!("ticket-{}-description", t.id),
        ));
        for n in 0..t.parts.len() {
            r.insert(k(RecordKind::Message, format!("ticket-{}{:02}", t.id, n)));
            if let Author::Agent(a) = t.parts[n].0 {
                let a = view.agent(a).unwrap();
                if a.departed {
                    r.insert(k(RecordKind::Agent, a.id));
                }
            }
        }
    }
    for i in 0..view.macro_count() {
        r.insert(k(RecordKind::Macro, view.macro_(i).unwrap().id));
    }
    for i in 0..view.collection_count() {
        r.insert(k(RecordKind::Collection, view.collection(i).unwrap().id));
    }
    for i in 0..view.article_count() {
        let a = view.article(i).unwrap();
        r.insert(k(RecordKind::Article, a.id.clone()));
        for n in 0..a.images.len() {
            r.insert(k(RecordKind::Attachment, format!("{}/inline/{n}", a.id)));
        }
    }
    (e, truncated)
}

/// Conversation attributes are the sandbox's own (the world does not model them): their ids,
/// read from the sandbox as any client would.
async fn conversation_attributes(sandbox: &RunningSandbox) -> Vec<String> {
    let url = sandbox
        .base_url()
        .join("conversations/attributes?include_archived=true")
        .unwrap();
    // The sandbox may be injecting faults: ask until it answers.
    let mut v = serde_json::Value::Null;
    for _ in 0..50 {
        let Ok(r) = deskmove_http::reqwest::Client::new()
            .get(url.clone())
            .bearer_auth(sandbox.token())
            .send()
            .await
        else {
            continue;
        };
        if r.status() == 404 {
            return Vec::new();
        }
        if !r.status().is_success() {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            continue;
        }
        if let Ok(body) = r.json().await {
            v = body;
            break;
        }
    }
    v["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| match &a["id"] {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect()
}

/// Compares the staged records of every kind with the world, field by field where the world says.
async fn compare_with_world(
    sandbox: &RunningSandbox,
    staging: &deskmove_engine::testkit::Staging<deskmove_store::SqliteStore>,
) {
    let view = sandbox.world().view();
    let files_url = sandbox.files_url();
    let (expected, truncated) = expected(&view, &conversation_attributes(sandbox).await);
    let mut staged: BTreeMap<SourceKey, Record> = BTreeMap::new();
    for kind in RecordKind::ALL {
        staged.extend(records(&staging.store, kind).await);
    }
    let keys: BTreeSet<SourceKey> = staged.keys().cloned().collect();
    // Contacts created within the search lag are for the next delta (§9); parts a truncated
    // conversation showed earlier stay staged after newer ones pushed them out of the window.
    let now = view.now();
    let lagging: BTreeSet<SourceKey> = (0..view.contact_count())
        .filter_map(|j| view.contact(j))
        .filter(|c| c.created_at > now - SEARCH_LAG_SECS && view.epoch() > 0)
        .map(|c| k(RecordKind::Contact, c.id))
        .collect();
    let mut history: BTreeSet<SourceKey> = BTreeSet::new();
    for i in 0..view.conversation_count() {
        let s = view.conversation_shape(i).unwrap();
        if s.parts <= RECENT_PART_CAP {
            continue;
        }
        let c = view.conversation(i).unwrap();
        for p in &c.parts {
            let id = p.id.to_string();
            history.insert(k(RecordKind::Message, id.clone()));
            for n in 0..p.attachments.len() {
                history.insert(k(RecordKind::Attachment, format!("{id}/{n}")));
            }
            for n in 0..p
                .body
                .as_deref()
                .map_or(0, |b| b.matches(INLINE_SCHEME).count())
            {
                history.insert(k(RecordKind::Attachment, format!("{id}/inline/{n}")));
            }
        }
    }
    let missing: Vec<_> = expected
        .records
        .difference(&keys)
        .filter(|k| !lagging.contains(k))
        .take(10)
        .collect();
    let unexpected: Vec<_> = keys
        .difference(&expected.records)
        .filter(|k| !history.contains(k))
        .take(10)
        .collect();
    assert!(
        missing.is_empty(),
        "missing records, e.g. {missing:?} (and unexpected {unexpected:?})"
    );
    assert!(
        unexpected.is_empty(),
        "records the world does not have, e.g. {unexpected:?}"
    );
    let problems = problems(&staging.store).await;
    let reported: BTreeSet<(SourceKey, String)> = problems
        .iter()
        .map(|p| (p.key.clone(), p.code.clone()))
        .collect();
    let silent: Vec<_> = expected.problems.difference(&reported).collect();
    assert!(silent.is_empty(), "truncations not reported: {silent:?}");
    assert!(truncated > 0, "the world has conversations over the cap");
    // Nothing lost along the way: the only extract problems are the truncations.
    let lost: Vec<_> = problems
        .iter()
        .filter(|p| p.stage == deskmove_core::Stage::Extract && p.code != "truncated_conversation")
        .take(10)
        .collect();
    assert!(lost.is_empty(), "extract problems: {lost:?}");

    let get = |kind, id: &str| {
        staged
            .get(&k(kind, id))
            .unwrap_or_else(|| panic!("{kind} {id}"))
    };
    for i in 0..view.agent_count() {
        let a = view.agent(i).unwrap();
        if a.departed {
            continue;
        }
        let Record::Agent(r) = get(RecordKind::Agent, &a.id) else {
            unreachable!()
        };
        assert_eq!(r.name.as_deref(), Some(a.name.as_str()));
        assert_eq!(r.email.as_deref(), Some(a.email.to_lowercase().as_str()));
        assert!(r.active);
    }
    for i in 0..view.team_count() {
        let t = view.team(i).unwrap();
        let Record::Team(r) = get(RecordKind::Team, &t.id) else {
            unreachable!()
        };
        assert_eq!(r.name, t.name);
        assert_eq!(r.members.len(), t.agent_indexes.len());
    }
    for i in 0..view.tag_count() {
        let t = view.tag(i).unwrap();
        let Record::Tag(r) = get(RecordKind::Tag, &t.id) else {
            unreachable!()
        };
        assert_eq!(r.name, t.name, "tag names are kept exactly");
    }
    for i in 0..view.attribute_count() {
        let d = view.attribute(i).unwrap();
        let Record::AttributeDefinition(r) =
            get(RecordKind::AttributeDefinition, &d.id.to_string())
        else {
            unreachable!()
        };
        assert_eq!((r.name.as_str(), r.archived), (d.name.as_str(), d.archived));
        assert_eq!(r.options, d.options);
    }
    for i in 0..view.company_count() {
        let c = view.company(i).unwrap();
        let Record::Company(r) = get(RecordKind::Company, &c.id) else {
            unreachable!()
        };
        assert_eq!(r.name.as_deref(), Some(c.name.as_str()));
        assert_eq!(r.external_id.as_deref(), Some(c.company_id.as_str()));
        assert_eq!(r.created_at.as_second(), c.created_at);
    }
    for j in 0..view.contact_count() {
        let c = view.contact(j).unwrap();
        if lagging.contains(&k(RecordKind::Contact, c.id.clone())) {
            continue;
        }
        let Record::Contact(r) = get(RecordKind::Contact, &c.id) else {
            unreachable!()
        };
        assert_eq!(
            r.email_original,
            c.email.clone().filter(|e| !e.trim().is_empty()),
            "{}",
            c.id
        );
        assert_eq!(r.phone_original, c.phone, "{}", c.id);
        assert_eq!(r.name, c.name);
        assert_eq!(r.external_id, c.external_id);
        assert_eq!(r.created_at.as_second(), c.created_at);
        let tags: BTreeSet<String> = c.tags.iter().map(|t| view.tag(*t).unwrap().id).collect();
        let got: BTreeSet<String> = r.tags.iter().map(|t| t.id.clone()).collect();
        assert_eq!(got, tags, "tags of {}", c.id);
        let companies: BTreeSet<String> = c
            .company
            .iter()
            .chain(&c.more_companies)
            .map(|k| view.company(*k).unwrap().id)
            .collect();
        let got: BTreeSet<String> = r.companies.iter().map(|t| t.id.clone()).collect();
        assert_eq!(got, companies, "companies of {}", c.id);
        let notes = r.extra["notes"].as_array().map_or(0, Vec::len) as u64;
        assert_eq!(notes, c.notes, "notes of {}", c.id);
    }
    let blob_of = |id: String| match staged.get(&k(RecordKind::Attachment, id.clone())) {
        Some(Record::Attachment(a)) => a
            .blob
            .clone()
            .unwrap_or_else(|| panic!("no bytes for {id}")),
        _ => panic!("no attachment {id}"),
    };
    let mut files = 0;
    for i in 0..view.conversation_count() {
        let c = view.conversation(i).unwrap();
        let Record::Conversation(r) = get(RecordKind::Conversation, &c.id) else {
            unreachable!()
        };
        let state = match c.state {
            ConvState::Open => ConversationState::Open,
            ConvState::Closed => ConversationState::Closed,
            ConvState::Snoozed => ConversationState::Snoozed,
        };
        assert_eq!(r.state, state, "{}", c.id);
        assert_eq!(
            r.contacts,
            vec![k(RecordKind::Contact, view.contact(c.contact).unwrap().id)]
        );
        assert_eq!(r.tags.len(), c.tags.len());
        assert_eq!(r.created_at.as_second(), c.created_at);
        assert_eq!(r.source_message_count, Some(c.parts.len() as u64 + 1));
        let skip = c.parts.len().saturating_sub(RECENT_PART_CAP as usize);
        assert_eq!(r.extra.get("incomplete").is_some(), skip > 0, "{}", c.id);
        let source = format!("{}-source", c.id);
        let Record::Message(m) = get(RecordKind::Message, &source) else {
            unreachable!()
        };
        assert_eq!(m.author.kind, AuthorKind::Contact);
        assert_eq!(
            m.body_markdown.as_deref(),
            Some(markdown(&view, &files_url, &c.source_body).as_str())
        );
        for (n, a) in c.source_attachments.iter().enumerate() {
            let b = blob_of(format!("{source}/{n}"));
            assert_eq!((b.hash, b.size), (view.attachment_blake3(a), a.size));
            files += 1;
        }
        for p in &c.parts[skip..] {
            let id = p.id.to_string();
            let Record::Message(m) = get(RecordKind::Message, &id) else {
                unreachable!()
            };
            assert_eq!(m.created_at.as_second(), p.created_at);
            assert_eq!(m.extra["part_type"], part_type(p.kind, p.author), "{id}");
            let (kind, author) = match (p.kind, p.author) {
                (PartKind::Note, _) => (MessageKind::Note, AuthorKind::Agent),
                (PartKind::ContactReply, _) => (MessageKind::Reply, AuthorKind::Contact),
                (PartKind::AgentReply | PartKind::QuickReply, _) => {
                    (MessageKind::Reply, AuthorKind::Agent)
                }
                (PartKind::BotReply | PartKind::AutomatedReply, _) => {
                    (MessageKind::Reply, AuthorKind::Bot)
                }
                (_, Author::Automation(_) | Author::Bot(_)) => {
                    (MessageKind::Event, AuthorKind::Bot)
                }
                (_, Author::Contact(_)) => (MessageKind::Event, AuthorKind::Contact),
                _ => (MessageKind::Event, AuthorKind::Agent),
            };
            assert_eq!((m.kind, m.author.kind), (kind, author), "{id} {:?}", p.kind);
            match p.author {
                Author::Agent(a) => assert_eq!(
                    m.author.key,
                    Some(k(RecordKind::Agent, view.agent(a).unwrap().id))
                ),
                Author::Bot(_) | Author::Automation(_) => {
                    assert_eq!(m.author.key, Some(k(RecordKind::Agent, BOT_AGENT_ID)))
                }
                Author::Contact(j) => assert_eq!(
                    m.author.key,
                    Some(k(RecordKind::Contact, view.contact(j).unwrap().id))
                ),
                Author::Team(_) => {}
            }
            if p.kind == PartKind::Future {
                let e = m.event.as_ref().unwrap();
                assert_eq!(
                    e.detail["unknown_part_type"], true,
                    "unknown parts keep their payload"
                );
            }
            if let Some(body) = &p.body {
                assert_eq!(
                    m.body_markdown.as_deref(),
                    Some(markdown(&view, &files_url, body).as_str()),
                    "{id}"
                );
                let inline: Vec<u64> = body
                    .match_indices(INLINE_SCHEME)
                    .map(|(at, _)| {
                        let t = &body[at + INLINE_SCHEME.len()..];
                        t[..t.bytes().take_while(u8::is_ascii_digit).count()]
                            .parse()
                            .unwrap()
                    })
                    .collect();
                for (n, aid) in inline.iter().enumerate() {
                    let a = view.attachment(*aid).unwrap();
                    let b = blob_of(format!("{id}/inline/{n}"));
                    assert_eq!(b.hash, view.attachment_blake3(&a));
                    files += 1;
                }
            }
            for (n, a) in p.attachments.iter().enumerate() {
                let b = blob_of(format!("{id}/{n}"));
                assert_eq!(
                    (b.hash, b.size),
                    (view.attachment_blake3(a), a.size),
                    "{id}/{n}"
                );
                files += 1;
            }
        }
    }
    assert!(files > 0);
    for i in 0..view.ticket_count() {
        let t = view.ticket(i).unwrap();
        let Record::Conversation(r) = get(RecordKind::Conversation, &format!("ticket-{}", t.id))
        else {
            unreachable!()
        };
        assert_eq!(r.subject.as_deref(), Some(t.title.as_str()));
        assert_eq!(r.state == ConversationState::Closed, t.state == "resolved");
        for (n, (_, at, _)) in t.parts.iter().enumerate() {
            let Record::Message(m) = get(RecordKind::Message, &format!("ticket-{}{n:02}", t.id))
            else {
                unreachable!()
            };
            assert_eq!(m.created_at.as_second(), *at);
        }
    }
    for i in 0..view.macro_count() {
        let mw = view.macro_(i).unwrap();
        let Record::Macro(r) = get(RecordKind::Macro, &mw.id) else {
            unreachable!()
        };
        assert_eq!(r.name, mw.name);
        assert_eq!(r.updated_at.map(|t| t.as_second()), Some(mw.updated_at));
        if mw.body_template.contains("{{") {
            assert!(
                r.body_markdown.as_deref().unwrap_or("").contains("{{"),
                "placeholders kept: {:?}",
                r.body_markdown
            );
        }
    }
    for i in 0..view.collection_count() {
        let c = view.collection(i).unwrap();
        let Record::Collection(r) = get(RecordKind::Collection, &c.id) else {
            unreachable!()
        };
        assert_eq!(r.name, c.name);
        assert_eq!(
            r.parent.as_ref().map(|p| p.id.clone()),
            c.parent.map(|p| view.collection(p).unwrap().id)
        );
    }
    for i in 0..view.article_count() {
        let a = view.article(i).unwrap();
        let Record::Article(r) = get(RecordKind::Article, &a.id) else {
            unreachable!()
        };
        assert_eq!(r.title, a.title);
        assert_eq!(
            r.collection.as_ref().map(|c| c.id.clone()),
            Some(view.collection(a.collection).unwrap().id)
        );
        for (n, img) in a.images.iter().enumerate() {
            let b = blob_of(format!("{}/inline/{n}", a.id));
            assert_eq!(b.hash, view.attachment_blake3(img));
        }
    }
    assert!(
        sandbox.leaked_credentials().is_empty(),
        "credentials reached the file host"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_export_equals_the_world() {
    let sandbox = support::sandbox(SandboxArgs {
        conversations: 2_000,
        contacts: 400,
        ..SandboxArgs::default()
    })
    .await;
    let dir = TempDir::new().unwrap();
    let staging = support::sqlite(&dir);
    let source = support::source(&sandbox, 150);
    let report = export(&staging, &source)
        .await
        .expect("the export completes");
    assert!(report.records() > 2_000);
    compare_with_world(&sandbox, &staging).await;
    // One list page per 150 conversations and one retrieve each: no call wasted.
    let stats = sandbox.stats();
    let view = sandbox.world().view();
    assert_eq!(
        calls(&stats, "GET /conversations/{conversation_id}"),
        view.conversation_count()
    );
    assert!(sandbox.leaked_credentials().is_empty());
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_and_expired_urls_lose_nothing() {
    let sandbox = support::sandbox(SandboxArgs {
        conversations: 2_000,
        contacts: 400,
        faults: "5xx=0.05,reset=0.01,storm=0.01,truncate=0.01"
            .parse()
            .unwrap(),
        attachment_ttl: std::time::Duration::from_secs(2),
        ..SandboxArgs::default()
    })
    .await;
    let dir = TempDir::new().unwrap();
    let staging = support::sqlite(&dir);
    let source = support::source(&sandbox, 150);
    export(&staging, &source)
        .await
        .expect("the export completes despite faults");
    compare_with_world(&sandbox, &staging).await;
    let refused: u64 = sandbox
        .file_stats()
        .values()
        .map(|s| s.statuses.get(&403).copied().unwrap_or(0))
        .sum();
    eprintln!("file host refusals (expired URLs) ridden out: {refused}");
    assert!(sandbox.leaked_credentials().is_empty());
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_urls_are_refreshed_by_refetching_the_conversation() {
    // A frozen clock: URLs stay valid for 60 s of sandbox time. Right after each list page the
    // clock jumps 61 s, so every URL retrieved before the jump and downloaded after it has
    // expired; a URL re-fetched after the jump stays valid (the clock moves only on list calls).
    let sandbox = support::sandbox(SandboxArgs {
        conversations: 120,
        contacts: 40,
        frozen_clock: Some(1_780_000_000),
        attachment_ttl: std::time::Duration::from_secs(60),
        ..SandboxArgs::default()
    })
    .await;
    let dir = TempDir::new().unwrap();
    let staging = support::sqlite(&dir);
    let source = support::source(&sandbox, 20);
    let sandbox = std::sync::Arc::new(sandbox);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let h = {
        let (sb, stop) = (sandbox.clone(), stop.clone());
        tokio::spawn(async move {
            let lists =
                |sb: &RunningSandbox| sb.stats().get("GET /conversations").map_or(0, |r| r.calls);
            let mut seen = 0;
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
                let now = lists(&sb);
                if now > seen {
                    seen = now;
                    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
                    sb.advance_clock(std::time::Duration::from_secs(61));
                }
            }
        })
    };
    export(&staging, &source)
        .await
        .expect("the export completes");
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    h.await.unwrap();
    let refused: u64 = sandbox
        .file_stats()
        .values()
        .map(|s| s.statuses.get(&403).copied().unwrap_or(0))
        .sum();
    assert!(refused > 0, "some URLs expired before their download");
    let refetches = calls(&sandbox.stats(), "GET /conversations/{conversation_id}")
        - sandbox.world().view().conversation_count();
    assert!(refetches > 0, "expired URLs were refreshed by re-fetching");
    let problems = problems(&staging.store).await;
    let gone: Vec<_> = problems
        .iter()
        .filter(|p| p.code == "attachment_unavailable")
        .collect();
    eprintln!(
        "{refused} expired downloads, {refetches} re-fetches, {} files given up",
        gone.len()
    );
    assert!(gone.is_empty(), "files lost: {gone:?}");
    compare_with_world(&sandbox, &staging).await;
    assert!(sandbox.leaked_credentials().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_source_passes_the_compliance_harness() {
    let sandbox = support::sandbox(SandboxArgs {
        conversations: 12,
        contacts: 16,
        // A frozen clock keeps signed URLs byte-identical between runs; it would also freeze
        // the rate window, so limits are off here (the other tests run with them).
        frozen_clock: Some(1_780_000_000),
        rate_limit: 0,
        ..SandboxArgs::default()
    })
    .await;
    let dir = TempDir::new().unwrap();
    let (expected, truncated) = expected(
        &sandbox.world().view(),
        &conversation_attributes(&sandbox).await,
    );
    assert!(truncated > 0);
    let report = assert_source_compliance(
        || support::source(&sandbox, 5),
        || support::sqlite(&dir),
        &expected,
    )
    .await;
    assert!(report.pages > 10, "{report:?}");
    assert!(sandbox.leaked_credentials().is_empty());
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delta_run_reads_only_the_churn() {
    let sandbox = support::sandbox(SandboxArgs {
        conversations: 600,
        contacts: 200,
        ..SandboxArgs::default()
    })
    .await;
    let dir = TempDir::new().unwrap();
    let staging = support::sqlite(&dir);
    export(&staging, &support::source(&sandbox, 150))
        .await
        .unwrap();
    let before = sandbox.stats();
    let old = sandbox.world().view();
    let old_count = old.conversation_count();
    let old_updated: Vec<i64> = (0..old_count)
        .map(|i| old.conversation_shape(i).unwrap().updated_at)
        .collect();
    let watermark = *old_updated.iter().max().unwrap();
    sandbox.world().advance(3);
    let view = sandbox.world().view();
    export(&staging, &support::source(&sandbox, 150))
        .await
        .unwrap();
    let after = sandbox.stats();
    let retrieves = calls(&after, "GET /conversations/{conversation_id}")
        - calls(&before, "GET /conversations/{conversation_id}");
    // What changed, plus what the day of overlap re-reads (search days are the workspace's).
    let day_start = watermark - 86_400;
    let churn = (0..view.conversation_count())
        .filter(|&i| {
            let s = view.conversation_shape(i).unwrap();
            i >= old_count || s.updated_at != old_updated[i as usize]
        })
        .count() as u64;
    let overlap = (0..view.conversation_count())
        .filter(|&i| view.conversation_shape(i).unwrap().updated_at > day_start)
        .count() as u64;
    assert!(churn > 0);
    assert!(
        retrieves >= churn,
        "{retrieves} retrievals for {churn} changed conversations"
    );
    assert!(
        retrieves <= overlap,
        "{retrieves} retrievals, at most {overlap} expected"
    );
    assert!(
        retrieves < view.conversation_count() / 2,
        "a delta is not a full export"
    );
    let list =
        |s: &deskmove_sandbox::SandboxStats| s.get("GET /conversations").map_or(0, |r| r.calls);
    assert_eq!(list(&after), list(&before), "no list pages on a delta");
    // Contacts: searched by `updated_at`, never listed again; sub-lists only for those read.
    let route = |s: &deskmove_sandbox::SandboxStats, r: &str| s.get(r).map_or(0, |x| x.calls);
    assert_eq!(
        route(&after, "GET /contacts"),
        route(&before, "GET /contacts")
    );
    assert!(route(&after, "POST /contacts/search") > route(&before, "POST /contacts/search"));
    let notes = route(&after, "GET /contacts/{contact_id}/notes")
        - route(&before, "GET /contacts/{contact_id}/notes");
    assert!(
        notes < view.contact_count() / 2,
        "{notes} note lists read again for {} contacts",
        view.contact_count()
    );
    compare_with_world(&sandbox, &staging).await;
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rerun_with_nothing_changed_retrieves_nothing_again() {
    // The delta's day of overlap lists the last day again; what it finds unchanged since the
    // last pass (the cursor remembers that day's threads) is not retrieved a second time.
    let sandbox = support::sandbox(SandboxArgs {
        conversations: 120,
        contacts: 30,
        ..SandboxArgs::default()
    })
    .await;
    let dir = TempDir::new().unwrap();
    let staging = support::sqlite(&dir);
    export(&staging, &support::source(&sandbox, 50))
        .await
        .unwrap();
    let route = "GET /conversations/{conversation_id}";
    let before = calls(&sandbox.stats(), route);
    assert_eq!(before, sandbox.world().view().conversation_count());
    let report = export(&staging, &support::source(&sandbox, 50))
        .await
        .unwrap();
    assert_eq!(calls(&sandbox.stats(), route), before, "{report:?}");
    assert!(
        calls(&sandbox.stats(), "POST /conversations/search") > 0,
        "the delta did search"
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retrieved_article_reads_as_the_listed_one() {
    // Refused article images get fresh URLs by retrieving the article again: that answer must
    // read as the listed article, with the same images under the same keys, and its URLs work.
    use deskmove_intercom::client::{self, Api};
    use deskmove_intercom::map::to_canonical::{self as map, Context};
    use deskmove_intercom::wire;
    let sandbox = support::sandbox(SandboxArgs {
        conversations: 5,
        contacts: 5,
        ..SandboxArgs::default()
    })
    .await;
    let o = support::options(&sandbox, 150);
    let token = secrecy::SecretString::from(sandbox.token().to_owned());
    let api = Api::new(
        client::connect_export(&o.base_url, o.policy, &token).unwrap(),
        client::connect_files(o.file_policy, &o.file_hosts).unwrap(),
    );
    let files = api.files().clone();
    let (admin, file_host) = (|_: &str| true, |u: &str| files.allows(u));
    let cx = Context {
        listed_admin: &admin,
        file_host: &file_host,
    };
    let listed = api.all_pages("articles", 150).await.unwrap();
    assert_eq!(
        listed.len() as u64,
        sandbox.world().view().article_count(),
        "every article listed"
    );
    let mut images = 0;
    for r in &listed {
        let a: wire::Article = serde_json::from_str(r.get()).unwrap();
        let body = api.get(&format!("articles/{}", a.id), &[]).await.unwrap();
        let fresh: wire::Article =
            client::decode("articles", &body).expect("a retrieved article reads");
        let (was, was_images) = map::article(&a, &cx);
        let (is, is_images) = map::article(&fresh, &cx);
        assert_eq!(is, was, "article {}", a.id);
        let keyed = |t: &map::Thread| -> Vec<(SourceKey, String)> {
            t.downloads
                .iter()
                .map(|d| (d.key.clone(), map::stable_url(&d.url)))
                .collect()
        };
        assert_eq!(keyed(&is_images), keyed(&was_images), "article {}", a.id);
        for d in &is_images.downloads {
            files.download(&d.url).await.expect("a fresh URL downloads");
        }
        images += is_images.downloads.len();
    }
    assert!(images > 0, "some articles have images");
    sandbox.shutdown().await;
}
