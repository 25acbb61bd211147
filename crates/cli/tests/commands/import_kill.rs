//! `deskmove import` on the PostgreSQL path SIGKILLed at more than 20 seeded random points,
//! then resumed until it completes: Chatwoot's tables end as an uninterrupted import's (the same
//! rows per table, every conversation with the same messages, contacts and labels, no
//! duplicates) and the same files are in the storage folder.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use deskmove_intercom_sandbox::{RunningSandbox, SandboxArgs};
use deskmove_sandbox::Sandbox;

use crate::util::Dir;
use crate::util::chatwoot_db::ChatwootDb;

const TOKEN_ENV: &str = "DESKMOVE_TEST_SOURCE_TOKEN";
const DATABASE_ENV: &str = "DESKMOVE_TEST_CHATWOOT_DATABASE";
/// Planned kill points; at least [`MIN_KILLS`] must land before the import completes.
const KILL_POINTS: usize = 26;
const MIN_KILLS: usize = 20;

/// xorshift64*: a seeded, reproducible sequence of kill points.
struct Seeded(u64);

impl Seeded {
    fn unit(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A working directory importing into `db`, with the staged files in the shared `blobs`, and
/// small batches so a run commits many times.
fn workspace(sandbox: &RunningSandbox, blobs: &Path) -> Dir {
    let dir = Dir::new();
    let files = sandbox.files_url();
    dir.write(
        "deskmove.toml",
        &format!(
            r#"[source]
kind = "intercom"
base_url = "{base}"
token_env = "{TOKEN_ENV}"
file_hosts = ["{host}:{port}"]

[target]
kind = "chatwoot"
base_url = "http://127.0.0.1:1"
account_id = 1
path = "postgres"

[target.postgres]
database_url_env = "{DATABASE_ENV}"
inbox_id = 1
storage_dir = "storage"

[store]
blobs = "{blobs}"
"#,
            base = sandbox.base_url(),
            host = files.host_str().unwrap(),
            port = files.port().unwrap(),
            blobs = blobs.display(),
        ),
    );
    dir
}

fn command(
    dir: &Dir,
    args: &[&str],
    sandbox: &RunningSandbox,
    db: &ChatwootDb,
) -> std::process::Command {
    let mut cmd = dir.command(args);
    cmd.env(TOKEN_ENV, sandbox.token())
        .env(DATABASE_ENV, &db.url);
    cmd
}

/// Runs `args` to its end; its exit code must say it finished.
fn complete(dir: &Dir, args: &[&str], sandbox: &RunningSandbox, db: &ChatwootDb) -> Duration {
    let started = Instant::now();
    let out = command(dir, args, sandbox, db).output().unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 3)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    started.elapsed()
}

/// Chatwoot's tables as the app reads them, without what differs between two databases by
/// construction (serial ids, uuids, `now()` stamps): rows per table, and per record marker its
/// content.
async fn contents(db: &ChatwootDb) -> BTreeMap<String, Vec<String>> {
    let c = db.client().await;
    let mut out = BTreeMap::new();
    let counts = db
        .snapshot()
        .await
        .into_iter()
        .map(|(table, (rows, _))| format!("{table} {rows}"))
        .collect();
    out.insert("rows per table".to_owned(), counts);
    for (name, sql) in [
        (
            "contacts",
            "SELECT coalesce(additional_attributes->>'deskmove_source', '') || ' ' || coalesce(name, '')
                    || ' ' || coalesce(email, '') || ' ' || coalesce(phone_number, '') FROM contacts",
        ),
        (
            "conversations",
            "SELECT coalesce(c.identifier, '') || ' ' || c.status || ' ' || coalesce(c.cached_label_list, '') || ' '
                    || coalesce(k.additional_attributes->>'deskmove_source', k.email, '') || ' '
                    -- the app's own row was stamped with now() when each database was made
                    || CASE WHEN c.identifier IS NULL THEN '' ELSE c.created_at::text END
               FROM conversations c LEFT JOIN contacts k ON k.id = c.contact_id",
        ),
        (
            "messages",
            "SELECT coalesce(c.identifier, '') || ' ' || coalesce(m.source_id, '') || ' '
                    || CASE WHEN c.identifier IS NULL THEN '' ELSE m.created_at::text END
                    || ' ' || m.message_type || ' ' || m.private || ' ' || coalesce(m.sender_type, '')
                    || ' ' || md5(coalesce(m.content, ''))
               FROM messages m JOIN conversations c ON c.id = m.conversation_id",
        ),
        (
            "labels",
            "SELECT title::text FROM labels",
        ),
        (
            "attachments",
            "SELECT b.checksum || ' ' || b.byte_size || ' ' || coalesce(m.source_id, '')
               FROM attachments a JOIN messages m ON m.id = a.message_id
               JOIN active_storage_attachments l ON l.record_type = 'Attachment' AND l.record_id = a.id
               JOIN active_storage_blobs b ON b.id = l.blob_id",
        ),
    ] {
        let mut rows: Vec<String> = c
            .query(sql, &[])
            .await
            .unwrap()
            .iter()
            .map(|r| r.get::<_, Option<String>>(0).unwrap_or_default())
            .collect();
        rows.sort();
        out.insert(name.to_owned(), rows);
    }
    out
}

/// Conversations and messages deskmove has written so far.
async fn written(db: &ChatwootDb) -> (i64, i64) {
    let c = db.client().await;
    let row = c
        .query_one(
            "SELECT (SELECT count(*) FROM conversations WHERE identifier IS NOT NULL),
                    (SELECT count(*) FROM messages WHERE source_id IS NOT NULL)",
            &[],
        )
        .await
        .unwrap();
    (row.get(0), row.get(1))
}

fn files(dir: &Path) -> usize {
    std::fs::read_dir(dir).map_or(0, |entries| {
        entries
            .flatten()
            .map(|e| {
                let p = e.path();
                if p.is_dir() { files(&p) } else { 1 }
            })
            .sum()
    })
}

#[test]
fn import_survives_sigkill_at_random_points_and_ends_as_an_uninterrupted_one() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let sandbox = runtime
        .block_on(RunningSandbox::start(SandboxArgs {
            conversations: 120,
            contacts: 60,
            ..SandboxArgs::default()
        }))
        .unwrap();
    let shared = tempfile::tempdir().unwrap();
    let blobs = shared.path().join("blobs");

    // The uninterrupted import. Both directories stage the same company into their own store
    // (the world does not change), sharing one blob folder.
    let reference_db = runtime.block_on(ChatwootDb::create(sandbox.world()));
    let reference = workspace(&sandbox, &blobs);
    complete(&reference, &["export"], &sandbox, &reference_db);
    let whole = complete(&reference, &["import"], &sandbox, &reference_db);
    eprintln!("the uninterrupted import took {whole:?}");
    let want = runtime.block_on(contents(&reference_db));
    assert!(
        want["messages"].len() > 1_000,
        "{} messages",
        want["messages"].len()
    );

    let db = runtime.block_on(ChatwootDb::create(sandbox.world()));
    let dir = workspace(&sandbox, &blobs);
    complete(&dir, &["export"], &sandbox, &db);
    let mut rng = Seeded(0x1A40_27C1_11ED_0042);
    let mut points: Vec<f64> = (0..KILL_POINTS).map(|_| 0.05 + 0.9 * rng.unit()).collect();
    points.sort_by(f64::total_cmp);
    let mut kills = 0;
    let mut mid_import = 0;
    let full = runtime.block_on(written(&reference_db));
    let mut previous = 0.0;
    for point in points {
        let wait = whole.mul_f64(point - previous);
        previous = point;
        let mut child = command(&dir, &["import"], &sandbox, &db)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(wait);
        if child.try_wait().unwrap().is_some() {
            break;
        }
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        kills += 1;
        let (conversations, messages) = runtime.block_on(written(&db));
        if (conversations, messages) != (0, 0) && (conversations, messages) != full {
            mid_import += 1;
        }
    }
    assert!(
        mid_import >= MIN_KILLS / 2,
        "only {mid_import} kills landed while the import was writing"
    );
    assert!(
        kills >= MIN_KILLS,
        "only {kills} kills landed before the import finished"
    );
    complete(&dir, &["import"], &sandbox, &db);
    let got = runtime.block_on(contents(&db));
    for (part, rows) in &want {
        let empty = Vec::new();
        let have = got.get(part).unwrap_or(&empty);
        let missing: Vec<_> = rows.iter().filter(|r| !have.contains(r)).take(10).collect();
        let extra: Vec<_> = have.iter().filter(|r| !rows.contains(r)).take(10).collect();
        assert!(
            have == rows,
            "after {kills} kills, {part} differ from the uninterrupted import's ({} vs {} rows):\n  missing {missing:?}\n  extra {extra:?}",
            have.len(),
            rows.len()
        );
    }
    assert_eq!(
        files(&dir.join("storage")),
        files(&reference.join("storage")),
        "the same files are in Chatwoot's storage"
    );
    runtime.block_on(sandbox.shutdown());
}
