//! Rollback into an account that already had data: everything deskmove created goes (rows and
//! files), everything that was there stays exactly as it was — also the rows it matched.

use deskmove_chatwoot::map::label_title;
use deskmove_core::RecordKind;
use deskmove_store::BlobStore;
use deskmove_synth::{World, WorldConfig};

use crate::load::seed_directory;
use crate::support::TestDb;
use crate::world::{self, Build};
use crate::{load, rollback, stage};

const TABLES: &[&str] = &[
    "contacts",
    "contact_inboxes",
    "conversations",
    "messages",
    "attachments",
    "active_storage_blobs",
    "active_storage_attachments",
    "labels",
    "tags",
    "taggings",
    "canned_responses",
    "custom_attribute_definitions",
    "users",
    "teams",
];

/// Every row of the tables deskmove touches, as JSON text, sorted.
async fn snapshot(c: &tokio_postgres::Client) -> Vec<(String, Vec<String>)> {
    let mut out = Vec::new();
    for t in TABLES {
        let rows = c
            .query(
                &format!("SELECT row_to_json(x)::text FROM public.{t} x ORDER BY x.id"),
                &[],
            )
            .await
            .unwrap();
        out.push((
            (*t).to_owned(),
            rows.iter().map(|r| r.get::<_, String>(0)).collect(),
        ));
    }
    out
}

#[tokio::test]
async fn rollback_leaves_pre_existing_data_untouched() {
    let db = TestDb::new().await;
    let w = World::new(WorldConfig::new(5, 12, 10));
    let c = db.client().await;
    seed_directory(&c, &w).await;
    let v = w.view();
    // Before the import the account already has: a contact with a world contact's email (it
    // will be matched), a label equal to a world tag's, and an app-made conversation with a
    // message and a label on a tag row shared with the import.
    let email = (0..v.contact_count())
        .filter_map(|i| v.contact(i).and_then(|c| c.email))
        .map(|e| e.trim().to_lowercase())
        .find(|e| e.contains('@'))
        .unwrap();
    let tag = v.tag(0).unwrap();
    let title = label_title(&deskmove_core::model::Tag {
        key: deskmove_core::SourceKey::new("synth", RecordKind::Tag, tag.id.clone()),
        name: tag.name.clone(),
        extra: Default::default(),
    })
    .title;
    c.execute(
        "INSERT INTO contacts (id, name, email, account_id, created_at, updated_at, last_activity_at)
         VALUES (500, 'Existing customer', $1, 1, '2020-01-01', '2020-01-01', '2020-01-02')",
        &[&email],
    )
    .await
    .unwrap();
    c.execute(
        "INSERT INTO labels (title, color, show_on_sidebar, account_id, created_at, updated_at)
         VALUES ($1, '#ff0000', true, 1, '2020-01-01', '2020-01-01')",
        &[&title],
    )
    .await
    .unwrap();
    c.batch_execute(&format!(
        "INSERT INTO contact_inboxes (id, contact_id, inbox_id, source_id, created_at, updated_at)
           VALUES (500, 500, 1, 'app-made', '2020-01-01', '2020-01-01');
         INSERT INTO conversations (account_id, inbox_id, status, created_at, updated_at, contact_id, contact_inbox_id, cached_label_list)
           VALUES (1, 1, 0, '2020-01-01', '2020-01-01', 500, 500, '{title}');
         INSERT INTO messages (content, account_id, inbox_id, conversation_id, message_type, created_at, updated_at, sender_type, sender_id)
           SELECT 'hello from before', 1, 1, id, 0, '2020-01-01', '2020-01-01', 'Contact', 500 FROM conversations;
         INSERT INTO tags (name, taggings_count) VALUES ('{title}', 1);
         INSERT INTO taggings (tag_id, taggable_type, taggable_id, context, created_at)
           SELECT t.id, 'Conversation', c.id, 'labels', '2020-01-01' FROM tags t, conversations c;
         SELECT setval('contacts_id_seq', 1000); SELECT setval('contact_inboxes_id_seq', 1000);"
    ))
    .await
    .unwrap();
    let before = snapshot(&c).await;

    let blobs = BlobStore::local(db.blobs_dir()).unwrap();
    let records = world::records(
        &w,
        &blobs,
        Build {
            directory: true,
            attachments: true,
        },
    )
    .await;
    let (store, _) = stage(&records).await;
    let target = db.target(&blobs);
    let (run, _) = load(&store, &blobs, &target, 25).await;

    // The matched contact and label are used, not duplicated nor changed.
    let n: i64 = c
        .query_one("SELECT count(*) FROM contacts WHERE email = $1", &[&email])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
    let n: i64 = c
        .query_one("SELECT count(*) FROM labels WHERE title = $1", &[&title])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
    let imported: i64 = c
        .query_one(
            "SELECT count(*) FROM conversations WHERE identifier IS NOT NULL",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(imported as u64, v.conversation_count());
    let shared: i32 = c
        .query_one("SELECT taggings_count FROM tags WHERE name = $1", &[&title])
        .await
        .unwrap()
        .get(0);
    assert!(shared >= 1);
    let files = walk(&db.storage());
    assert!(!files.is_empty());

    rollback(&store, &blobs, &target, run).await;
    let after = snapshot(&c).await;
    for ((t, b), (_, a)) in before.iter().zip(&after) {
        assert_eq!(b, a, "table {t} differs after the rollback");
    }
    assert!(walk(&db.storage()).is_empty(), "attachment files removed");
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return out;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
