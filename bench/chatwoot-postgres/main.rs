//! Bulk load of a synthetic history into Chatwoot's schema through the PostgreSQL path, beside
//! the server alone inserting the same rows with the same indexes (`INSERT … SELECT` from
//! `generate_series`). See README.md.
//!
//! ```text
//! cargo run --release -p deskmove-chatwoot --example chatwoot-postgres -- --conversations 100000
//! ```

use std::path::{Path, PathBuf};
use std::time::Instant;

use deskmove_chatwoot::load::{PostgresOptions, PostgresTarget};
use deskmove_core::{Record, RecordKind, Target};
use deskmove_engine::{Engine, EngineOptions, Observer, Progress};
use deskmove_store::{BlobStore, MemoryStore, NewRun, SqliteStore, StagedBatch, Store};
use deskmove_synth::{World, WorldConfig};
use serde_json::json;
use tokio_postgres::{Client, NoTls};

#[path = "../../crates/chatwoot/tests/postgres/world.rs"]
#[allow(dead_code)]
mod world;

fn arg(name: &str) -> Option<String> {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

fn with_db(url: &str, db: &str) -> String {
    let scheme_end = url.find("://").map_or(0, |i| i + 3);
    let path_start = url[scheme_end..]
        .find('/')
        .map_or(url.len(), |i| scheme_end + i);
    format!("{}/{db}", &url[..path_start])
}

async fn connect(url: &str) -> Client {
    let (c, conn) = tokio_postgres::connect(url, NoTls)
        .await
        .expect("connecting to PostgreSQL (set DESKMOVE_BENCH_DATABASE_URL)");
    tokio::spawn(async move {
        let _ = conn.await;
    });
    c
}

/// Peak resident set size so far, in MB (`VmHWM`).
fn peak_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_owned))
        })
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// The 1-, 5- and 15-minute load averages (`/proc/loadavg`).
fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// Resets `VmHWM` to the current RSS, so the load's peak is measured without the staging's.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

fn current_rss_mb() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1).map(str::to_owned))
        })
        .and_then(|kb| kb.parse::<f64>().ok())
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Seconds spent per record kind during the load.
#[derive(Default)]
struct Timer {
    started: std::sync::Mutex<Option<(RecordKind, Instant)>>,
    kinds: std::sync::Mutex<Vec<(String, f64)>>,
}

impl Observer for Timer {
    fn event(&self, event: &Progress) {
        match event {
            Progress::KindStarted { kind } => {
                *self.started.lock().unwrap() = Some((*kind, Instant::now()));
            }
            Progress::KindFinished { kind, .. } => {
                if let Some((k, t)) = self.started.lock().unwrap().take()
                    && k == *kind
                {
                    self.kinds
                        .lock()
                        .unwrap()
                        .push((kind.to_string(), t.elapsed().as_secs_f64()));
                }
            }
            _ => {}
        }
    }
}

/// The target, timing its `load` calls (the rest of the load phase is the engine and store).
struct Timed<T> {
    inner: T,
    nanos: std::sync::atomic::AtomicU64,
}

impl<T: Target> Target for Timed<T> {
    type Error = T::Error;
    fn instance(&self) -> deskmove_core::TargetInstance {
        self.inner.instance()
    }
    fn fidelity(&self) -> deskmove_core::connector::Fidelity {
        self.inner.fidelity()
    }
    fn batch_size(&self) -> usize {
        self.inner.batch_size()
    }
    async fn preflight(&self) -> Result<deskmove_core::connector::Preflight, T::Error> {
        self.inner.preflight().await
    }
    async fn load(
        &self,
        kind: RecordKind,
        records: &[Record],
        refs: &impl deskmove_core::Resolve,
    ) -> Result<Vec<deskmove_core::connector::LoadResult>, T::Error> {
        let t = Instant::now();
        let r = self.inner.load(kind, records, refs).await;
        self.nanos.fetch_add(
            t.elapsed().as_nanos() as u64,
            std::sync::atomic::Ordering::Relaxed,
        );
        r
    }
    async fn read_back(
        &self,
        kind: RecordKind,
        refs: &[deskmove_core::TargetRef],
    ) -> Result<Vec<Record>, T::Error> {
        self.inner.read_back(kind, refs).await
    }
    async fn remove(
        &self,
        created: &[deskmove_core::TargetRef],
    ) -> Result<Vec<deskmove_core::connector::LoadResult>, T::Error> {
        self.inner.remove(created).await
    }
}

async fn timed(c: &Client, sql: &str) -> f64 {
    let t = Instant::now();
    c.batch_execute(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    t.elapsed().as_secs_f64()
}

#[tokio::main]
async fn main() {
    let n: u64 = arg("--conversations")
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    // Default: the PostgreSQL path's own `Target::batch_size`, which `deskmove run` loads with.
    let batch: usize = arg("--batch").and_then(|s| s.parse().ok()).unwrap_or(5_000);
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let out: PathBuf = arg("--out")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("bench/results/chatwoot-postgres.json"));
    let server = std::env::var("DESKMOVE_BENCH_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let specs = std::env::var_os("DESKMOVE_SPECS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("../shared/specs"));

    // A fresh Chatwoot database with the account, an API inbox, agents and teams.
    let admin = connect(&server).await;
    admin
        .batch_execute("DROP DATABASE IF EXISTS dmcw_bench")
        .await
        .unwrap();
    admin
        .batch_execute("CREATE DATABASE dmcw_bench")
        .await
        .unwrap();
    let url = with_db(&server, "dmcw_bench");
    let c = connect(&url).await;
    let schema = std::fs::read_to_string(specs.join("chatwoot/schema.sql")).unwrap();
    c.batch_execute(&schema).await.unwrap();
    c.batch_execute(
        "SET search_path = public;
         INSERT INTO schema_migrations VALUES ('20260114201315');
         INSERT INTO accounts (id, name, created_at, updated_at) VALUES (1, 'Acme', now(), now());
         INSERT INTO channel_api (id, account_id, created_at, updated_at) VALUES (1, 1, now(), now());
         INSERT INTO inboxes (id, channel_id, account_id, name, created_at, updated_at, channel_type, enable_auto_assignment)
           VALUES (1, 1, 1, 'Imported history', now(), now(), 'Channel::Api', false);",
    )
    .await
    .unwrap();
    let w = World::new(WorldConfig::new(42, n, (n / 2).max(8)));
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
            "INSERT INTO teams (name, account_id, created_at, updated_at) VALUES ($1, 1, now(), now())",
            &[&t.name],
        )
        .await
        .unwrap();
    }

    // Other work on the machine slows both sides: recorded beside the figures.
    let load_before = loadavg();
    // Stage straight from the world (no API), as an export would leave it.
    let work = tempfile::TempDir::new().unwrap();
    let in_memory = arg("--store").as_deref() == Some("memory");
    let (staging_secs, staged_messages, load_secs, peak, rss_before, total, kinds) = if in_memory {
        stage_and_load(&MemoryStore::new(), &work, &v, &url, batch).await
    } else {
        let store = SqliteStore::open(work.path().join("store.sqlite")).unwrap();
        stage_and_load(&store, &work, &v, &url, batch).await
    };
    let _ = staged_messages;
    let count = |sql: &'static str| {
        let c = &c;
        async move { c.query_one(sql, &[]).await.unwrap().get::<_, i64>(0) }
    };
    let conversations = count("SELECT count(*) FROM conversations").await;
    let messages = count("SELECT count(*) FROM messages").await;
    let contacts = count("SELECT count(*) FROM contacts").await;
    let avg_len: f64 = c
        .query_one(
            "SELECT coalesce(avg(length(content)), 0)::float8 FROM messages",
            &[],
        )
        .await
        .unwrap()
        .get(0);

    // The server alone: the same rows, the same indexes, INSERT … SELECT from generate_series
    // (message bodies taken from the loaded rows, so the trigram index does the same work).
    c.batch_execute(
        "CREATE SCHEMA baseline;
         CREATE TABLE baseline.contacts (LIKE public.contacts INCLUDING ALL);
         CREATE TABLE baseline.conversations (LIKE public.conversations INCLUDING ALL);
         CREATE TABLE baseline.messages (LIKE public.messages INCLUDING ALL);
         CREATE TABLE baseline.bodies AS SELECT row_number() OVER (ORDER BY id) AS n, content FROM public.messages;
         CREATE UNIQUE INDEX ON baseline.bodies (n);
         ANALYZE baseline.bodies;",
    )
    .await
    .unwrap();
    let base_contacts = timed(
        &c,
        &format!(
            "INSERT INTO baseline.contacts (name, email, phone_number, account_id, identifier, created_at, updated_at,
                    additional_attributes, last_activity_at)
             SELECT 'Contact ' || g, 'c' || g || '@example.com', '+1415' || lpad(g::text, 7, '0'), 1, 'ext-' || g,
                    now(), now(), jsonb_build_object('deskmove_source', 'synth:contact:' || g), now()
               FROM generate_series(1, {contacts}) g"
        ),
    )
    .await;
    let base_conversations = timed(
        &c,
        &format!(
            "INSERT INTO baseline.conversations (account_id, inbox_id, status, created_at, updated_at, contact_id,
                    display_id, additional_attributes, contact_inbox_id, identifier, last_activity_at,
                    agent_last_seen_at, assignee_last_seen_at, cached_label_list)
             SELECT 1, 1, g % 3, now(), now(), g, g, jsonb_build_object('deskmove_source', 'synth:conversation:' || g),
                    g, 'synth:conversation:' || g, now(), now(), now(), 'billing, vip'
               FROM generate_series(1, {conversations}) g"
        ),
    )
    .await;
    let insert_messages = format!(
        "INSERT INTO baseline.messages (content, account_id, inbox_id, conversation_id, message_type, created_at,
                updated_at, private, status, source_id, content_type, content_attributes, sender_type, sender_id,
                processed_message_content)
         SELECT b.content, 1, 1, 1 + g % {conversations}, g % 3, now(), now(), false, 0, 'synth:' || g, 0, '{{}}',
                'Contact', g % 1000, b.content
           FROM generate_series(1, {messages}) g JOIN baseline.bodies b ON b.n = g"
    );
    let base_messages = timed(&c, &insert_messages).await;
    let baseline_secs = base_contacts + base_conversations + base_messages;
    // The same messages without the trigram index, then the index built afterwards.
    c.batch_execute(
        "TRUNCATE baseline.messages;
         DO $$ DECLARE i text; BEGIN
           SELECT indexname INTO i FROM pg_indexes WHERE schemaname = 'baseline' AND tablename = 'messages'
             AND indexdef LIKE '%gin_trgm_ops%';
           EXECUTE format('DROP INDEX baseline.%I', i);
         END $$;",
    )
    .await
    .unwrap();
    let base_messages_no_trgm = timed(&c, &insert_messages).await;
    let trgm_build = timed(
        &c,
        "CREATE INDEX ON baseline.messages USING gin (content gin_trgm_ops)",
    )
    .await;
    // The same messages once more with the session settings the loader uses (work_mem,
    // gin_pending_list_limit): what the server alone gets from the same tuning.
    c.batch_execute("TRUNCATE baseline.messages").await.unwrap();
    let base_messages_tuned = timed(
        &c,
        &format!(
            "SET work_mem = '64MB'; SET gin_pending_list_limit = '32MB'; {insert_messages};
             RESET work_mem; RESET gin_pending_list_limit"
        ),
    )
    .await;
    c.batch_execute("DROP SCHEMA baseline CASCADE")
        .await
        .unwrap();

    let ratio = baseline_secs / load_secs;
    let baseline_tuned_secs = base_contacts + base_conversations + base_messages_tuned;
    let result = json!({
        "benchmark": "chatwoot-postgres",
        "machine": format!(
            "{} cores; other work on it shows in load_average_before_and_after",
            std::thread::available_parallelism().map_or(0, |n| n.get())
        ),
        "postgres": c.query_one("SHOW server_version", &[]).await.unwrap().get::<_, String>(0),
        "conversations": conversations,
        "messages": messages,
        "contacts": contacts,
        "attachments": 0,
        "avg_message_chars": avg_len.round(),
        "batch_size": batch,
        "staging_store": if in_memory { "memory" } else { "sqlite" },
        "staging_seconds": staging_secs,
        "load": {
            "wall_seconds": load_secs,
            "conversations_per_second": conversations as f64 / load_secs,
            "messages_per_second": messages as f64 / load_secs,
            "peak_rss_mb": peak,
            "rss_at_start_mb": rss_before,
            "loaded": total.loaded,
            "failed": total.failed,
            "seconds_per_kind": kinds.iter().map(|(k, s)| (k.clone(), json!(s))).collect::<serde_json::Map<_, _>>(),
        },
        "server_alone": {
            "contacts_seconds": base_contacts,
            "conversations_seconds": base_conversations,
            "messages_seconds": base_messages,
            "total_seconds": baseline_secs,
            "messages_without_trigram_index_seconds": base_messages_no_trgm,
            "trigram_index_build_after_seconds": trgm_build,
            "messages_with_loader_session_settings_seconds": base_messages_tuned,
            "total_with_loader_session_settings_seconds": baseline_tuned_secs,
        },
        "deskmove_rate_over_server_rate": ratio,
        "deskmove_rate_over_server_rate_same_session_settings": baseline_tuned_secs / load_secs,
        "load_average_before_and_after": [load_before, loadavg()],
        "goals": {"ratio": 0.8, "minutes_for_1m": 10, "peak_rss_mb": 300},
    });
    let text = serde_json::to_string_pretty(&result).unwrap();
    println!("{text}");
    if let Some(dir) = out.parent() {
        std::fs::create_dir_all(dir).unwrap();
    }
    std::fs::write(&out, text + "\n").unwrap();
    drop(c);
    let _ = admin
        .batch_execute("DROP DATABASE IF EXISTS dmcw_bench")
        .await;
}

#[allow(clippy::type_complexity)]
async fn stage_and_load<St: Store>(
    store: &St,
    work: &tempfile::TempDir,
    v: &deskmove_synth::View<'_>,
    url: &str,
    batch: usize,
) -> (
    f64,
    u64,
    f64,
    f64,
    f64,
    deskmove_engine::LoadCounts,
    Vec<(String, f64)>,
) {
    let blobs = BlobStore::local(work.path().join("blobs")).unwrap();
    let index = MemoryStore::new();
    let build = world::Build {
        directory: true,
        attachments: false,
    };
    let t = Instant::now();
    let run = store
        .start_run(NewRun {
            command: "export".into(),
            source_system: Some("synth".into()),
            target_system: None,
            target: None,
            started_at: jiff::Timestamp::now(),
        })
        .await
        .unwrap();
    let mut staged_messages = 0u64;
    let directory = world::directory(v, build);
    for chunk in directory.chunks(1_000) {
        let mut b = StagedBatch::new(run, "bench/directory");
        b.records = chunk.to_vec();
        store.put_batch(b).await.unwrap();
    }
    drop(directory);
    let mut pending: Vec<Record> = Vec::new();
    for i in 0..v.conversation_count() {
        let recs = world::conversation(v, i, &blobs, &index, build).await;
        staged_messages += recs
            .iter()
            .filter(|r| r.kind() == RecordKind::Message)
            .count() as u64;
        pending.extend(recs);
        if pending.len() >= 5_000 {
            let mut b = StagedBatch::new(run, "bench/conversations");
            b.records = std::mem::take(&mut pending);
            store.put_batch(b).await.unwrap();
        }
    }
    if !pending.is_empty() {
        let mut b = StagedBatch::new(run, "bench/conversations");
        b.records = std::mem::take(&mut pending);
        store.put_batch(b).await.unwrap();
    }
    let staging_secs = t.elapsed().as_secs_f64();
    eprintln!(
        "staged {} conversations, {staged_messages} messages in {staging_secs:.1} s",
        v.conversation_count()
    );

    // The load, measured alone.
    reset_peak_rss();
    let rss_before = current_rss_mb();
    let target = Timed {
        inner: PostgresTarget::new(
            PostgresOptions::new(url.to_owned(), 1, 1, work.path().join("storage")),
            blobs.clone(),
        )
        .unwrap(),
        nanos: Default::default(),
    };
    if batch != target.batch_size() {
        eprintln!(
            "batches of {batch}; deskmove run uses {}",
            target.batch_size()
        );
    }
    let t = Instant::now();
    let pre = target.preflight().await.unwrap();
    assert!(pre.ok(), "{:?}", pre.refusals);
    let load_run = store
        .start_run(NewRun {
            command: "import".into(),
            source_system: Some("synth".into()),
            target_system: Some("chatwoot".into()),
            target: Some(target.instance()),
            started_at: jiff::Timestamp::now(),
        })
        .await
        .unwrap();
    let timer = Timer::default();
    let report = Engine::new(store, &blobs)
        .with_observer(&timer)
        .with_options(EngineOptions {
            concurrency: 1,
            attempts: 3,
            batch_size: batch,
        })
        .load(load_run, &target)
        .await
        .unwrap();
    let load_secs = t.elapsed().as_secs_f64();
    let peak = peak_rss_mb();
    let total = report.total();
    eprintln!("loaded in {load_secs:.1} s: {report:?}");
    let mut kinds = timer.kinds.lock().unwrap().clone();
    kinds.push((
        "target_load_calls_total".into(),
        target.nanos.load(std::sync::atomic::Ordering::Relaxed) as f64 / 1e9,
    ));
    (
        staging_secs,
        staged_messages,
        load_secs,
        peak,
        rss_before,
        total,
        kinds,
    )
}
