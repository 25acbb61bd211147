//! World → staged canonical records (SQLite) → engine → API path → Chatwoot sandbox, compared
//! with the synthetic world itself through the sandbox's dump, and its side-effect log.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use base64::Engine as _;
use deskmove_chatwoot::ChatwootTarget;
use deskmove_chatwoot::map::{attribute_key, label_title};
use deskmove_chatwoot_sandbox::RunningSandbox;
use deskmove_core::model::Tag;
use deskmove_core::{Record, RecordKind, SourceKey};
use deskmove_sandbox::Sandbox;
use deskmove_synth::{self as synth, World, WorldConfig};
use md5::Digest as _;
use serde_json::{Value, json};

use crate::support::{self, Staged};
use crate::world::{self, Build, markdown};

/// A loaded account.
pub struct Loaded {
    pub sandbox: RunningSandbox,
    pub world: World,
    pub staged: Staged,
    pub target: ChatwootTarget,
}

/// The world's records as a source stages them, each conversation carrying its channel.
pub async fn records(world: &World, staged: &Staged) -> Vec<Record> {
    let v = world.view();
    let mut records = world::records(
        world,
        &staged.blobs,
        Build {
            directory: true,
            attachments: true,
        },
    )
    .await;
    let channels: HashMap<String, &'static str> = (0..v.conversation_count())
        .map(|i| {
            let c = v.conversation(i).unwrap();
            (c.id.clone(), c.channel)
        })
        .collect();
    for r in &mut records {
        if let Record::Conversation(c) = r
            && let Some(ch) = channels.get(&c.key.id)
        {
            c.extra.insert("channel".into(), json!(ch));
        }
    }
    records
}

pub async fn load_world(seed: u64, conversations: u64, batch: usize) -> Loaded {
    let sandbox = support::sandbox(support::quiet_args()).await;
    let world = World::new(WorldConfig::new(seed, conversations, conversations / 2 + 8));
    support::seed_agents(&sandbox, &world).await;
    let staged = support::staging();
    let records = records(&world, &staged).await;
    support::stage(&staged, &records).await;
    let target = support::target(&sandbox, &staged.blobs);
    support::load_all(&staged, &target, &sandbox, batch).await;
    Loaded {
        sandbox,
        world,
        staged,
        target,
    }
}

fn md5_b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(md5::Md5::digest(bytes))
}

fn attr(v: &synth::AttrValue) -> Value {
    match v {
        synth::AttrValue::Str(s) => json!(s),
        synth::AttrValue::Int(i) => json!(i),
        synth::AttrValue::Float(f) => json!(f),
        synth::AttrValue::Bool(b) => json!(b),
    }
}

fn rows<'a>(dump: &'a Value, table: &str) -> &'a Vec<Value> {
    dump[table].as_array().unwrap()
}

/// Asserts the account holds exactly the world, as a person reading Chatwoot would see it.
pub fn assert_matches_world(dump: &Value, world: &World) {
    let v = world.view();
    let users: HashMap<u64, String> = rows(dump, "users")
        .iter()
        .map(|u| {
            (
                u["id"].as_u64().unwrap(),
                u["email"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let teams: HashMap<u64, String> = rows(dump, "teams")
        .iter()
        .map(|t| {
            (
                t["id"].as_u64().unwrap(),
                t["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect();

    // Contacts: one per world contact, by identifier, or matched by email to an earlier one.
    let contacts = rows(dump, "contacts");
    let by_identifier: HashMap<&str, &Value> = contacts
        .iter()
        .filter_map(|c| Some((c["identifier"].as_str()?, c)))
        .collect();
    let identifiers: Vec<&str> = contacts
        .iter()
        .filter_map(|c| c["identifier"].as_str())
        .collect();
    let unique: BTreeSet<&str> = identifiers.iter().copied().collect();
    assert_eq!(
        identifiers.len(),
        unique.len(),
        "a contact was created twice"
    );
    let mut contact_pk: HashMap<u64, u64> = HashMap::new();
    for i in 0..v.contact_count() {
        let c = v.contact(i).unwrap();
        let marker = format!("synth:contact:{}", c.id);
        let found = by_identifier.get(marker.as_str()).copied().or_else(|| {
            let email = c.email.as_deref()?.trim().to_lowercase();
            contacts
                .iter()
                .find(|x| x["email"].as_str() == Some(email.as_str()))
        });
        let found = found.unwrap_or_else(|| panic!("{marker} is not in Chatwoot"));
        contact_pk.insert(i, found["id"].as_u64().unwrap());
        if found["identifier"].as_str() == Some(marker.as_str()) {
            for (k, val) in &c.custom_attributes {
                assert_eq!(
                    found["custom_attributes"][attribute_key(k)],
                    attr(val),
                    "{marker} attribute {k}"
                );
            }
            let labels: BTreeSet<String> = found["labels"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|l| l.as_str().map(str::to_lowercase))
                        .collect()
                })
                .unwrap_or_default();
            for t in &c.tags {
                let tag = v.tag(*t).unwrap();
                assert!(
                    labels.contains(&title(&tag.name)),
                    "{marker} label {}",
                    tag.name
                );
            }
        }
    }

    // Conversations and their messages.
    let conversations = rows(dump, "conversations");
    let messages = rows(dump, "messages");
    let mut by_conversation: BTreeMap<u64, Vec<&Value>> = BTreeMap::new();
    for m in messages {
        by_conversation
            .entry(m["conversation_id"].as_u64().unwrap())
            .or_default()
            .push(m);
    }
    assert_eq!(
        conversations.len() as u64,
        v.conversation_count(),
        "conversation count"
    );
    for i in 0..v.conversation_count() {
        let conv = v.conversation(i).unwrap();
        let marker = format!("synth:conversation:{}", conv.id);
        let mine: Vec<&Value> = conversations
            .iter()
            .filter(|c| {
                c["additional_attributes"]["deskmove_source"].as_str() == Some(marker.as_str())
            })
            .collect();
        assert_eq!(mine.len(), 1, "{marker} once");
        let c = mine[0];
        let pk = c["id"].as_u64().unwrap();
        assert_eq!(
            c["contact_id"].as_u64(),
            contact_pk.get(&conv.contact).copied(),
            "{marker} contact"
        );
        let status = match conv.state {
            synth::ConvState::Open => "open",
            synth::ConvState::Closed => "resolved",
            synth::ConvState::Snoozed => "snoozed",
        };
        assert_eq!(c["status"].as_str(), Some(status), "{marker} status");
        if conv.state == synth::ConvState::Snoozed {
            let until: jiff::Timestamp = c["snoozed_until"].as_str().unwrap().parse().unwrap();
            assert_eq!(
                Some(until.as_second()),
                conv.snoozed_until,
                "{marker} snoozed_until"
            );
        }
        let assignee = conv
            .agent_assignee
            .and_then(|a| v.agent(a))
            .filter(|a| !a.departed)
            .map(|a| a.email.to_lowercase());
        assert_eq!(
            c["assignee_id"]
                .as_u64()
                .and_then(|u| users.get(&u).cloned()),
            assignee,
            "{marker} assignee"
        );
        assert_eq!(
            c["team_id"].as_u64().and_then(|t| teams.get(&t).cloned()),
            conv.team_assignee
                .and_then(|t| v.team(t))
                .map(|t| t.name.to_lowercase()),
            "{marker} team"
        );
        let mut labels: Vec<String> = conv
            .tags
            .iter()
            .map(|t| title(&v.tag(*t).unwrap().name))
            .collect();
        labels.push("from-synth".into());
        labels.sort();
        labels.dedup();
        let mut got: Vec<String> = c["labels"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l.as_str().unwrap().to_lowercase())
            .collect();
        got.sort();
        assert_eq!(got, labels, "{marker} labels");

        // Messages: the first message, then every part, in time order.
        let all = by_conversation.remove(&pk).unwrap_or_default();
        let mut written: Vec<&Value> = all
            .iter()
            .copied()
            .filter(|m| m["source_id"].is_string())
            .collect();
        written.sort_by_key(|m| m["id"].as_u64());
        let mut want = vec![(
            conv.created_at,
            world::message_id(i, 0),
            synth::Author::Contact(conv.contact),
            Some(conv.source_body.clone()),
            conv.source_attachments.clone(),
            false,
            false,
        )];
        for p in &conv.parts {
            want.push((
                p.created_at,
                world::message_id(i, u64::from(p.position) + 1),
                p.author,
                p.body.clone(),
                p.attachments.clone(),
                p.kind == synth::PartKind::Note,
                !p.kind.is_message() && p.kind != synth::PartKind::Note,
            ));
        }
        want.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
        assert_eq!(written.len(), want.len(), "{marker} message count");
        for (m, (at, id, author, body, files, note, event)) in written.iter().zip(&want) {
            let attrs = &m["content_attributes"];
            assert_eq!(
                m["source_id"].as_str(),
                Some(format!("synth:{id}").as_str()),
                "{marker} order"
            );
            let original: jiff::Timestamp = attrs["original_created_at"]
                .as_str()
                .unwrap()
                .parse()
                .unwrap();
            assert_eq!(original.as_second(), *at, "{marker} {id} time");
            assert_eq!(m["private"].as_bool(), Some(*note), "{marker} {id} note");
            let kind = m["message_type"].as_str().unwrap();
            match author {
                _ if *event => assert_eq!(kind, "activity", "{marker} {id}"),
                synth::Author::Contact(ci) => {
                    assert_eq!(kind, "incoming", "{marker} {id}");
                    assert_eq!(m["sender_type"].as_str(), Some("Contact"));
                    assert_eq!(m["sender_id"].as_u64(), contact_pk.get(ci).copied());
                }
                synth::Author::Agent(ai) => {
                    let agent = v.agent(*ai).unwrap();
                    assert_eq!(kind, "outgoing", "{marker} {id}");
                    assert_eq!(
                        attrs["original_author"]["email"].as_str(),
                        Some(agent.email.as_str()),
                        "{marker} {id} recorded author"
                    );
                }
                _ => assert_eq!(kind, "outgoing", "{marker} {id}"),
            }
            if let Some(b) = body {
                assert_eq!(
                    m["content"].as_str(),
                    Some(markdown(b).as_str()),
                    "{marker} {id} body (Liquid kept verbatim)"
                );
            }
            // The files, by hash, in the message that carries this message's files.
            let mut want_sums: Vec<String> = files
                .iter()
                .map(|f| md5_b64(&v.attachment_bytes(f)))
                .collect();
            want_sums.sort();
            let source = format!("synth:{id}");
            let mut got_sums: Vec<String> = all
                .iter()
                .filter(|x| {
                    x["content_attributes"]["attachments_of"].as_str() == Some(source.as_str())
                })
                .flat_map(|x| x["attachments"].as_array().cloned().unwrap_or_default())
                .map(|a| a["checksum"].as_str().unwrap().to_owned())
                .collect();
            got_sums.sort();
            assert_eq!(got_sums, want_sums, "{marker} {id} attachments");
        }
        // Nothing reopened, nothing unread.
        for m in &all {
            let text = m["content"].as_str().unwrap_or_default();
            assert!(
                !text.contains("reopened the conversation due to"),
                "{marker}: {text}"
            );
        }
        let seen: jiff::Timestamp = c["agent_last_seen_at"]
            .as_str()
            .expect("marked seen")
            .parse()
            .unwrap();
        for m in all.iter().filter(|m| m["message_type"] == "incoming") {
            let at: jiff::Timestamp = m["created_at"].as_str().unwrap().parse().unwrap();
            assert!(at <= seen, "{marker} has unread messages");
        }
    }
    assert!(
        by_conversation.is_empty(),
        "messages outside the world's conversations"
    );

    // Inboxes: API channels, one per source channel, quiet.
    let channels: BTreeSet<&str> = (0..v.conversation_count())
        .map(|i| v.conversation(i).unwrap().channel)
        .collect();
    let inboxes = rows(dump, "inboxes");
    assert_eq!(inboxes.len(), channels.len(), "one inbox per channel");
    for i in inboxes {
        assert_eq!(i["channel_type"], "Channel::Api");
        assert_eq!(i["enable_auto_assignment"], false);
    }
}

fn title(name: &str) -> String {
    label_title(&Tag {
        key: SourceKey::new("synth", RecordKind::Tag, "0"),
        name: name.into(),
        extra: Default::default(),
    })
    .title
}

/// Nothing reached a customer, an agent, a webhook or an automation; no template was sent.
pub fn assert_no_side_effects(dump: &Value) {
    let effects = &dump["side_effects"];
    for list in [
        "webhook_deliveries",
        "customer_deliveries",
        "agent_notifications",
        "automation_rule_runs",
        "template_messages",
    ] {
        let all = effects[list].as_array().unwrap();
        assert!(
            all.is_empty(),
            "{} {list}, the first: {}",
            all.len(),
            all[0]
        );
    }
}

#[tokio::test]
async fn the_account_holds_the_world_and_nobody_was_told() {
    let l = load_world(7, 24, 37).await;
    let dump = l.sandbox.inspect();
    assert_matches_world(&dump, &l.world);
    assert_no_side_effects(&dump);
    // Canned responses from macros, placeholders as Chatwoot's drops.
    let canned = rows(&dump, "canned_responses");
    assert_eq!(canned.len() as u64, l.world.view().macro_count());
    for c in canned {
        let text = c["content"].as_str().unwrap();
        assert!(
            !text.contains("{{user.") && !text.contains("{{admin."),
            "{text}"
        );
    }
    let _ = (&l.staged, &l.target);
}

#[tokio::test]
async fn a_rerun_writes_nothing() {
    let l = load_world(8, 12, 25).await;
    let before = support::writes(&l.sandbox);
    let report = support::load(&l.staged, &l.target, 25).await;
    let t = report.total();
    assert_eq!((t.loaded, t.updated, t.failed), (0, 0, 0), "{report:?}");
    assert_eq!(
        support::writes(&l.sandbox),
        before,
        "{:?}",
        l.sandbox.stats()
    );
}
