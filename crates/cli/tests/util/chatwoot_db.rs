//! A fresh Chatwoot database per test on a real PostgreSQL (`DESKMOVE_TEST_DATABASE_URL`, else a
//! private throwaway cluster started with the system's `initdb`/`postgres`), with Chatwoot's own schema
//! (`specs/chatwoot/schema.sql`) loaded and what Chatwoot's app holds before an import: the
//! account, an API inbox, the world's current agents and its teams, and one conversation of a
//! customer who was there before deskmove.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use deskmove_synth::World;
use tokio_postgres::{Client, NoTls};

/// The schema version `schema.sql` is (Chatwoot 4.10).
const VERSION: &str = "20260114201315";

static NEXT: AtomicUsize = AtomicUsize::new(0);
static CREATE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

static SERVER: OnceLock<Result<String, String>> = OnceLock::new();

/// The `postgres` database URL of a server: the environment's, or a private cluster's
/// (DESIGN §6; the same helper as the Chatwoot connector's tests).
fn server() -> String {
    SERVER
        .get_or_init(|| match std::env::var("DESKMOVE_TEST_DATABASE_URL") {
            Ok(url) if !url.is_empty() => Ok(url),
            _ => private_cluster(),
        })
        .clone()
        .unwrap_or_else(|e| panic!("{e}"))
}

fn pg_bin(name: &str) -> Option<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    if let Ok(entries) = std::fs::read_dir("/usr/lib/postgresql") {
        let mut versions: Vec<PathBuf> = entries.flatten().map(|e| e.path().join("bin")).collect();
        versions.sort();
        versions.reverse();
        dirs.extend(versions);
    }
    dirs.into_iter().map(|d| d.join(name)).find(|p| p.is_file())
}

/// A cluster in a temporary directory, listening on a Unix socket only; a watchdog shell stops
/// it (`pg_ctl stop`) and removes the directory when this test process exits.
fn private_cluster() -> Result<String, String> {
    let missing = || {
        "PostgreSQL is needed by these tests: set DESKMOVE_TEST_DATABASE_URL to a server's \
         postgres database URL, or install the `postgresql` package (initdb and postgres under \
         /usr/lib/postgresql/<version>/bin)."
            .to_owned()
    };
    let initdb = pg_bin("initdb").ok_or_else(missing)?;
    let postgres = initdb
        .parent()
        .map(|d| d.join("postgres"))
        .filter(|p| p.is_file())
        .or_else(|| pg_bin("postgres"))
        .ok_or_else(missing)?;
    let pg_ctl = initdb
        .parent()
        .map(|d| d.join("pg_ctl"))
        .filter(|p| p.is_file())
        .or_else(|| pg_bin("pg_ctl"))
        .ok_or_else(missing)?;
    let dir = std::env::temp_dir().join(format!("deskmove-pg-{}", std::process::id()));
    let data = dir.join("data");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    // initdb refuses to run as root: then the cluster belongs to the `postgres` user.
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0");
    let as_owner = |program: &Path| -> Command {
        if root {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(program);
            c
        } else {
            Command::new(program)
        }
    };
    if root {
        let _ = Command::new("chown").args(["postgres"]).arg(&dir).status();
    }
    let status = as_owner(&initdb)
        .args([
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--no-sync",
            "-D",
        ])
        .arg(&data)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map_err(|e| format!("running initdb: {e}"))?;
    if !status.success() {
        return Err(format!("initdb failed ({status})"));
    }
    let run = if root { "runuser -u postgres -- " } else { "" };
    let script = format!(
        "{run}'{pg}' -D '{data}' -k '{dir}' -c listen_addresses='' -c fsync=off -c full_page_writes=off \
         -c synchronous_commit=off >/dev/null 2>&1 & \
         while kill -0 {parent} 2>/dev/null; do sleep 1; done; \
         {run}'{pg_ctl}' -D '{data}' -m fast -w stop >/dev/null 2>&1; rm -rf '{dir}'",
        pg = postgres.display(),
        pg_ctl = pg_ctl.display(),
        data = data.display(),
        dir = dir.display(),
        parent = std::process::id()
    );
    Command::new("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("starting postgres: {e}"))?;
    for _ in 0..100 {
        if dir.join(".s.PGSQL.5432").exists() {
            std::thread::sleep(std::time::Duration::from_millis(200));
            return Ok(format!(
                "host={} port=5432 user=postgres dbname=postgres",
                dir.display()
            ));
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    Err("the private PostgreSQL cluster did not start".into())
}

/// `url` with another database name (URL or key/value form).
fn with_db(url: &str, db: &str) -> String {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let (base, query) = url
            .split_once('?')
            .map_or((url, None), |(b, q)| (b, Some(q)));
        let scheme_end = base.find("://").map_or(0, |i| i + 3);
        let path_start = base[scheme_end..]
            .find('/')
            .map_or(base.len(), |i| scheme_end + i);
        let mut out = format!("{}/{db}", &base[..path_start]);
        if let Some(q) = query {
            out.push('?');
            out.push_str(q);
        }
        out
    } else {
        let rest: Vec<&str> = url
            .split_whitespace()
            .filter(|kv| !kv.starts_with("dbname="))
            .collect();
        format!("{} dbname={db}", rest.join(" "))
    }
}

pub async fn connect(url: &str) -> Client {
    let (client, conn) = tokio_postgres::connect(url, NoTls).await.unwrap_or_else(|e| {
        panic!(
            "connecting to the test PostgreSQL (DESKMOVE_TEST_DATABASE_URL, or a private cluster): {e}"
        )
    });
    tokio::spawn(async move {
        let _ = conn.await;
    });
    client
}

fn schema_path() -> PathBuf {
    let specs = match std::env::var_os("DESKMOVE_SPECS_DIR") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/specs"),
    };
    specs.join("chatwoot/schema.sql")
}

/// One test's Chatwoot database; dropped when the value is.
pub struct ChatwootDb {
    pub url: String,
    name: String,
}

impl ChatwootDb {
    /// A new database with Chatwoot's schema and the app's rows for `world`.
    pub async fn create(world: &World) -> Self {
        let server = server();
        let name = format!(
            "dmcli_{}_{}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::SeqCst)
        );
        {
            // Two CREATE DATABASE at once from one template fail; tests run in parallel.
            let _one = CREATE.lock().await;
            let admin = connect(&server).await;
            for sql in [
                format!("DROP DATABASE IF EXISTS \"{name}\""),
                format!("CREATE DATABASE \"{name}\""),
            ] {
                admin.batch_execute(&sql).await.unwrap();
            }
        }
        let url = with_db(&server, &name);
        let schema = std::fs::read_to_string(schema_path())
            .unwrap_or_else(|e| panic!("reading {}: {e}", schema_path().display()));
        let c = connect(&url).await;
        c.batch_execute(&schema).await.unwrap();
        c.batch_execute(&format!(
            "SET search_path = public; INSERT INTO schema_migrations (version) VALUES ('{VERSION}');"
        ))
        .await
        .unwrap();
        c.batch_execute(SEED).await.unwrap();
        let v = world.view();
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
        Self { url, name }
    }

    pub async fn client(&self) -> Client {
        let c = connect(&self.url).await;
        c.batch_execute("SET search_path = public").await.unwrap();
        c
    }

    /// Every row of every table of Chatwoot's schema, as (rows, digest) per table: equal
    /// snapshots mean the app sees the same database.
    pub async fn snapshot(&self) -> BTreeMap<String, (i64, String)> {
        let c = self.client().await;
        let tables = c
            .query(
                "SELECT table_name::text FROM information_schema.tables
                  WHERE table_schema = 'public' AND table_type = 'BASE TABLE'
                    AND table_name NOT IN ('schema_migrations', 'ar_internal_metadata')
                  ORDER BY 1",
                &[],
            )
            .await
            .unwrap();
        let mut out = BTreeMap::new();
        for t in tables {
            let table: String = t.get(0);
            let row = c
                .query_one(
                    &format!(
                        "SELECT count(*), coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '')
                           FROM public.\"{table}\" t"
                    ),
                    &[],
                )
                .await
                .unwrap();
            out.insert(table, (row.get(0), row.get(1)));
        }
        out
    }
}

impl Drop for ChatwootDb {
    fn drop(&mut self) {
        let name = self.name.clone();
        // A runtime of its own: the test's may be gone or busy.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Runtime::new() else {
                return;
            };
            rt.block_on(async {
                if let Ok((c, conn)) = tokio_postgres::connect(&server(), NoTls).await {
                    tokio::spawn(conn);
                    let _ = c
                        .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                        .await;
                }
            });
        })
        .join();
    }
}

/// The account (its trigger makes the display-id sequence), an API inbox with auto-assignment
/// off, a label, and a customer's conversation that was there before any import.
const SEED: &str = "
SET search_path = public;
INSERT INTO accounts (id, name, created_at, updated_at) VALUES (1, 'Acme', now(), now());
INSERT INTO channel_api (id, account_id, created_at, updated_at) VALUES (1, 1, now(), now());
INSERT INTO inboxes (id, channel_id, account_id, name, created_at, updated_at, channel_type, enable_auto_assignment)
  VALUES (1, 1, 1, 'Imported history', now(), now(), 'Channel::Api', false);
INSERT INTO labels (id, title, account_id, created_at, updated_at) VALUES (1, 'vip', 1, now(), now());
INSERT INTO contacts (id, name, email, account_id, created_at, updated_at)
  VALUES (1, 'Customer From Before', 'before@example.org', 1, now(), now());
INSERT INTO contact_inboxes (id, contact_id, inbox_id, source_id, created_at, updated_at)
  VALUES (1, 1, 1, 'before-1', now(), now());
INSERT INTO conversations (id, account_id, inbox_id, status, contact_id, contact_inbox_id, created_at, updated_at)
  VALUES (1, 1, 1, 0, 1, 1, now(), now());
INSERT INTO messages (id, content, account_id, inbox_id, conversation_id, message_type, created_at, updated_at)
  VALUES (1, 'Hello from before the migration', 1, 1, 1, 0, now(), now());
SELECT setval('users_id_seq', 1000); SELECT setval('teams_id_seq', 1000); SELECT setval('inboxes_id_seq', 10);
SELECT setval('accounts_id_seq', 10); SELECT setval('channel_api_id_seq', 10); SELECT setval('labels_id_seq', 10);
SELECT setval('contacts_id_seq', 10); SELECT setval('contact_inboxes_id_seq', 10);
SELECT setval('conversations_id_seq', 10); SELECT setval('messages_id_seq', 10);
";
