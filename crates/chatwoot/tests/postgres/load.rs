//! A synthetic world loaded through the engine, read back the way Chatwoot's own code reads it,
//! and compared message by message with the world itself.

use std::collections::{BTreeMap, HashMap};

use base64::Engine as _;
use deskmove_chatwoot::map::{attribute_key, label_title};
use deskmove_core::RecordKind;
use deskmove_store::BlobStore;
use deskmove_synth::{self as synth, World, WorldConfig};
use md5::{Digest, Md5};
use tokio_postgres::Client;

use crate::support::TestDb;
use crate::world::{self, Build, markdown};
use crate::{load, stage};

/// What the app held before the import: the world's active agents (departed ones were never
/// invited, so their messages keep the author in content_attributes) and its teams.
pub async fn seed_directory(c: &Client, w: &World) {
    let v = w.view();
    for i in 0..v.agent_count() {
        let a = v.agent(i).unwrap();
        if a.departed {
            continue;
        }
        let id = 100 + i as i32;
        c.execute(
            "INSERT INTO users (id, name, email, uid, created_at, updated_at) VALUES ($1, $2, $3, $3, now(), now())",
            &[&id, &a.name, &a.email.to_lowercase()],
        )
        .await
        .unwrap();
        c.execute(
            "INSERT INTO account_users (account_id, user_id, role, created_at, updated_at) VALUES (1, $1, 0, now(), now())",
            &[&i64::from(id)],
        )
        .await
        .unwrap();
    }
    for i in 0..v.team_count() {
        let t = v.team(i).unwrap();
        c.execute(
            "INSERT INTO teams (id, name, account_id, created_at, updated_at) VALUES ($1, $2, 1, now(), now())",
            &[&(100 + i as i64), &t.name],
        )
        .await
        .unwrap();
    }
}

pub struct Loaded {
    pub db: TestDb,
    pub world: World,
    pub store: deskmove_store::MemoryStore,
    pub staging: BlobStore,
    pub run: deskmove_store::RunId,
    pub target: deskmove_chatwoot::load::PostgresTarget,
}

pub async fn load_world(conversations: u64, batch: usize) -> Loaded {
    let db = TestDb::new().await;
    let world = World::new(WorldConfig::new(7, conversations, conversations / 2 + 8));
    seed_directory(&db.client().await, &world).await;
    let blobs = BlobStore::local(db.blobs_dir()).unwrap();
    let records = world::records(
        &world,
        &blobs,
        Build {
            directory: true,
            attachments: true,
        },
    )
    .await;
    let (store, _) = stage(&records).await;
    let target = db.target(&blobs);
    let (run, report) = load(&store, &blobs, &target, batch).await;
    let total = report.total();
    assert_eq!(total.failed, 0, "{report:?}");
    Loaded {
        db,
        world,
        store,
        staging: blobs,
        run,
        target,
    }
}

/// One expected message: time, author, body, files, note, event.
type Expected = (
    i64,
    synth::Author,
    Option<String>,
    Vec<synth::Attachment>,
    bool,
    bool,
);

fn ts(t: jiff::civil::DateTime) -> i64 {
    t.to_zoned(jiff::tz::TimeZone::UTC)
        .unwrap()
        .timestamp()
        .as_second()
}

#[tokio::test]
async fn loaded_history_reads_as_chatwoot_reads_it() {
    let l = load_world(40, 37).await;
    let c = l.db.client().await;
    let v = l.world.view();
    let n = v.conversation_count() as i64;

    // The conversation list (conversation_finder.rb: ORDER BY last_activity_at DESC) shows the
    // world's conversations by their last message.
    let rows = c
        .query(
            "SELECT identifier, last_activity_at FROM conversations WHERE account_id = 1
              ORDER BY last_activity_at DESC, id DESC",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(rows.len() as i64, n);
    let mut expected: Vec<(i64, String)> = (0..v.conversation_count())
        .map(|i| {
            let conv = v.conversation(i).unwrap();
            (conv.updated_at, format!("synth:conversation:{}", conv.id))
        })
        .collect();
    for (r, (last, _)) in rows.iter().zip(&{
        let mut e = expected.clone();
        e.sort_by_key(|x| std::cmp::Reverse(x.0));
        e
    }) {
        assert_eq!(ts(r.get(1)), *last);
    }
    expected.sort_by(|a, b| a.1.cmp(&b.1));
    for r in &rows {
        let id: String = r.get(0);
        let last = expected.iter().find(|e| e.1 == id).unwrap().0;
        assert_eq!(ts(r.get(1)), last, "{id}");
    }

    // Message pages by id, shown by created_at: the two orders agree in every conversation.
    let bad: i64 = c
        .query_one(
            "SELECT count(*) FROM (
               SELECT conversation_id, id, created_at,
                      lag(created_at) OVER (PARTITION BY conversation_id ORDER BY id) AS prev
                 FROM messages) x WHERE prev > created_at",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(bad, 0, "ids follow created_at in each conversation");

    // Labels through cached_label_list and taggings, counts exact.
    let tags: HashMap<u64, String> = (0..v.tag_count())
        .map(|i| {
            let t = v.tag(i).unwrap();
            let title = label_title(&deskmove_core::model::Tag {
                key: deskmove_core::SourceKey::new("synth", RecordKind::Tag, t.id.clone()),
                name: t.name.clone(),
                extra: Default::default(),
            })
            .title;
            (i, title)
        })
        .collect();
    for i in 0..v.conversation_count() {
        let conv = v.conversation(i).unwrap();
        let mut want: Vec<String> = Vec::new();
        for t in &conv.tags {
            if !want.contains(&tags[t]) {
                want.push(tags[t].clone());
            }
        }
        let r = c
            .query_one(
                "SELECT c.cached_label_list,
                        ARRAY(SELECT t.name::text FROM taggings g JOIN tags t ON t.id = g.tag_id
                               WHERE g.taggable_type = 'Conversation' AND g.taggable_id = c.id
                                 AND g.context = 'labels' ORDER BY g.id)
                   FROM conversations c WHERE c.identifier = $1",
                &[&format!("synth:conversation:{}", conv.id)],
            )
            .await
            .unwrap();
        let cached: Option<String> = r.get(0);
        let tagged: Vec<String> = r.get(1);
        assert_eq!(
            cached,
            (!want.is_empty()).then(|| want.join(", ")),
            "{}",
            conv.id
        );
        assert_eq!(tagged, want);
    }
    let wrong: i64 = c
        .query_one(
            "SELECT count(*) FROM tags t WHERE taggings_count <> (SELECT count(*) FROM taggings g WHERE g.tag_id = t.id)",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(wrong, 0, "taggings_count is exact");
    let labelled: i64 = c
        .query_one(
            "SELECT count(*) FROM tags t WHERE NOT EXISTS (SELECT 1 FROM labels l WHERE l.title = t.name AND l.account_id = 1)",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(labelled, 0, "every conversation label is an account label");

    // Display ids: 1..n, in created_at order; the app's next conversation gets n + 1.
    let ids: Vec<i32> = c
        .query(
            "SELECT display_id FROM conversations WHERE account_id = 1 ORDER BY created_at, id",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(ids, (1..=n as i32).collect::<Vec<_>>());
    let next: i32 = c
        .query_one(
            "INSERT INTO conversations (account_id, inbox_id, status, created_at, updated_at, contact_id, contact_inbox_id)
             SELECT 1, 1, 0, now(), now(), contact_id, id FROM contact_inboxes LIMIT 1 RETURNING display_id",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(next, n as i32 + 1);
    c.batch_execute("DELETE FROM conversations WHERE identifier IS NULL")
        .await
        .unwrap();

    // Nothing unread: Conversation#unread_messages counts incoming messages newer than
    // agent_last_seen_at (and assignee_last_seen_at for the assignee's badge).
    let unread: i64 = c
        .query_one(
            "SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id
              WHERE m.message_type = 0 AND (c.agent_last_seen_at IS NULL OR m.created_at > c.agent_last_seen_at
                    OR c.assignee_last_seen_at IS NULL OR m.created_at > c.assignee_last_seen_at)",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(unread, 0);

    // waiting_since and first_reply_created_at as the app keeps them.
    let wrong: i64 = c
        .query_one(
            "SELECT count(*) FROM conversations c WHERE
               (c.status = 1 AND c.waiting_since IS NOT NULL)
               OR c.first_reply_created_at IS DISTINCT FROM (SELECT min(created_at) FROM messages m
                    WHERE m.conversation_id = c.id AND m.message_type = 1 AND NOT m.private AND m.sender_type = 'User')",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(wrong, 0);

    // Attachment files present in the Disk layout, checksums matching.
    let rows = c
        .query(
            "SELECT b.key, b.checksum, b.byte_size, b.service_name FROM active_storage_blobs b
               JOIN active_storage_attachments l ON l.blob_id = b.id AND l.record_type = 'Attachment' AND l.name = 'file'
               JOIN attachments a ON a.id = l.record_id",
            &[],
        )
        .await
        .unwrap();
    assert!(!rows.is_empty(), "the world has attachments");
    for r in &rows {
        let key: String = r.get(0);
        assert_eq!(key.len(), 28);
        assert!(
            key.bytes()
                .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
        );
        let path = l.db.storage().join(&key[0..2]).join(&key[2..4]).join(&key);
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let sum = base64::engine::general_purpose::STANDARD.encode(Md5::digest(&bytes));
        assert_eq!(r.get::<_, String>(1), sum);
        assert_eq!(r.get::<_, i64>(2), bytes.len() as i64);
        assert_eq!(r.get::<_, String>(3), "local");
    }

    // Custom attribute definitions by type.
    for i in 0..v.attribute_count() {
        let d = v.attribute(i).unwrap();
        let r = c
            .query_one(
                "SELECT attribute_display_type, attribute_model FROM custom_attribute_definitions WHERE attribute_key = $1 LIMIT 1",
                &[&attribute_key(&d.name)],
            )
            .await
            .unwrap();
        let want = match d.data_type {
            synth::AttributeType::String => 0,
            synth::AttributeType::Integer | synth::AttributeType::Float => 1,
            synth::AttributeType::Date => 5,
            synth::AttributeType::List => 6,
            synth::AttributeType::Boolean => 7,
        };
        assert_eq!(r.get::<_, i32>(0), want, "{}", d.name);
        assert_eq!(
            r.get::<_, i32>(1),
            1,
            "contact and company attributes are contact attributes"
        );
    }
    let canned: i64 = c
        .query_one("SELECT count(*) FROM canned_responses", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(canned as u64, v.macro_count());
}

#[tokio::test]
async fn every_message_matches_the_world() {
    let l = load_world(30, 50).await;
    let c = l.db.client().await;
    let v = l.world.view();
    let users: HashMap<i64, String> = c
        .query("SELECT id::bigint, email FROM users", &[])
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    let contacts: HashMap<i64, String> = c
        .query(
            "SELECT id::bigint, additional_attributes->>'deskmove_source' FROM contacts",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .filter_map(|r| r.get::<_, Option<String>>(1).map(|m| (r.get(0), m)))
        .collect();
    let mut checked = 0;
    for i in 0..v.conversation_count() {
        let conv = v.conversation(i).unwrap();
        let rows = c
            .query(
                "SELECT m.id, m.created_at, m.message_type, m.private, m.sender_type, m.sender_id,
                        m.content, m.processed_message_content, m.content_attributes::text, c.status,
                        ARRAY(SELECT b.filename || '/' || b.key FROM attachments a
                                JOIN active_storage_attachments l ON l.record_type = 'Attachment' AND l.record_id = a.id
                                JOIN active_storage_blobs b ON b.id = l.blob_id
                               WHERE a.message_id = m.id ORDER BY a.id)
                   FROM messages m JOIN conversations c ON c.id = m.conversation_id
                  WHERE c.identifier = $1 ORDER BY m.id",
                &[&format!("synth:conversation:{}", conv.id)],
            )
            .await
            .unwrap();
        // The first message, then every part, in order.
        let mut want: Vec<Expected> = vec![(
            conv.created_at,
            synth::Author::Contact(conv.contact),
            Some(conv.source_body.clone()),
            conv.source_attachments.clone(),
            false,
            false,
        )];
        for p in &conv.parts {
            want.push((
                p.created_at,
                p.author,
                p.body.clone(),
                p.attachments.clone(),
                p.kind == synth::PartKind::Note,
                !p.kind.is_message() && p.kind != synth::PartKind::Note,
            ));
        }
        // Same instant, stable: the world's order within one second is its position.
        let mut want_sorted = want.clone();
        want_sorted.sort_by_key(|w| w.0);
        assert_eq!(rows.len(), want.len(), "{}", conv.id);
        for (r, (at, author, body, files, note, event)) in rows.iter().zip(&want_sorted) {
            assert_eq!(ts(r.get(1)), *at, "{} time", conv.id);
            let mt: i32 = r.get(2);
            assert_eq!(r.get::<_, bool>(3), *note);
            let sender_type: Option<String> = r.get(4);
            let sender_id: Option<i64> = r.get(5);
            match author {
                synth::Author::Contact(ci) => {
                    assert_eq!(mt, if *event { 2 } else { 0 });
                    assert_eq!(sender_type.as_deref(), Some("Contact"));
                    let contact = v.contact(*ci).unwrap();
                    assert_eq!(
                        contacts.get(&sender_id.unwrap()),
                        Some(&format!("synth:contact:{}", contact.id))
                    );
                }
                synth::Author::Agent(ai) => {
                    let agent = v.agent(*ai).unwrap();
                    assert_eq!(mt, if *event { 2 } else { 1 });
                    if agent.departed {
                        assert_eq!(sender_type, None);
                        let attrs: serde_json::Value =
                            serde_json::from_str(&r.get::<_, String>(8)).unwrap();
                        assert_eq!(
                            attrs["original_author"]["email"].as_str(),
                            Some(agent.email.as_str())
                        );
                    } else {
                        assert_eq!(sender_type.as_deref(), Some("User"));
                        assert_eq!(
                            users.get(&sender_id.unwrap()).map(String::as_str),
                            Some(agent.email.to_lowercase().as_str())
                        );
                    }
                }
                _ => {
                    assert_eq!(sender_type, None);
                }
            }
            let content: Option<String> = r.get(6);
            if let Some(b) = body {
                assert_eq!(
                    content.as_deref(),
                    Some(markdown(b).as_str()),
                    "{} body",
                    conv.id
                );
                assert_eq!(content, r.get::<_, Option<String>>(7));
            }
            let got: Vec<String> = r.get(10);
            assert_eq!(got.len(), files.len(), "{} attachments", conv.id);
            for (g, f) in got.iter().zip(files) {
                let (name, key) = g.rsplit_once('/').unwrap();
                assert_eq!(name, f.name);
                let path = l.db.storage().join(&key[0..2]).join(&key[2..4]).join(key);
                let bytes = std::fs::read(path).unwrap();
                assert_eq!(
                    blake3::hash(&bytes).to_hex().to_string(),
                    v.attachment_blake3(f)
                );
            }
            checked += 1;
        }
        let status: i32 = rows[0].get(9);
        let want_status = match conv.state {
            synth::ConvState::Open => 0,
            synth::ConvState::Closed => 1,
            synth::ConvState::Snoozed => 3,
        };
        assert_eq!(status, want_status);
    }
    assert!(checked > 100, "{checked} messages checked");

    // Assignee and team as the world has them (matched by email and name).
    let mut wrong = BTreeMap::new();
    for i in 0..v.conversation_count() {
        let conv = v.conversation(i).unwrap();
        let r = c
            .query_one(
                "SELECT u.email, t.name FROM conversations c LEFT JOIN users u ON u.id = c.assignee_id
                   LEFT JOIN teams t ON t.id = c.team_id WHERE c.identifier = $1",
                &[&format!("synth:conversation:{}", conv.id)],
            )
            .await
            .unwrap();
        let want_agent = conv
            .agent_assignee
            .and_then(|a| v.agent(a))
            .filter(|a| !a.departed)
            .map(|a| a.email.to_lowercase());
        let want_team = conv.team_assignee.and_then(|t| v.team(t)).map(|t| t.name);
        if r.get::<_, Option<String>>(0) != want_agent || r.get::<_, Option<String>>(1) != want_team
        {
            wrong.insert(conv.id.clone(), (want_agent, want_team));
        }
    }
    assert!(wrong.is_empty(), "{wrong:?}");
    let _ = (&l.store, &l.staging, l.run, &l.target);
}
