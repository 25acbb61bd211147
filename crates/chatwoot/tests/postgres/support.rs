//! A fresh Chatwoot database per test (DESIGN §6): `DESKMOVE_TEST_DATABASE_URL` when set, else
//! a private throwaway cluster started with the system's `initdb`/`postgres`; Chatwoot's schema
//! (`specs/chatwoot/schema.sql`) loaded into a template once per process and copied per test.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};

use deskmove_chatwoot::load::{PostgresOptions, PostgresTarget};
use deskmove_core::TargetRef;
use deskmove_engine::testkit::TargetInspector;
use deskmove_store::BlobStore;
use tokio_postgres::{Client, NoTls};

pub const ACCOUNT: i64 = 1;
pub const INBOX: i64 = 1;
pub const VERSION: &str = "20260114201315";

static NEXT: AtomicUsize = AtomicUsize::new(0);
static SERVER: OnceLock<Result<String, String>> = OnceLock::new();
static TEMPLATE: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();
static CREATE: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// The `postgres` database URL of a server: the environment's, or a private cluster's.
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
pub fn with_db(url: &str, db: &str) -> String {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let (base, query) = match url.split_once('?') {
            Some((b, q)) => (b, Some(q)),
            None => (url, None),
        };
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
    let (client, conn) = tokio_postgres::connect(url, NoTls)
        .await
        .unwrap_or_else(|e| panic!("connecting to the test PostgreSQL: {e}"));
    tokio::spawn(async move {
        let _ = conn.await;
    });
    client
}

pub fn specs_dir() -> PathBuf {
    match std::env::var_os("DESKMOVE_SPECS_DIR") {
        Some(d) => PathBuf::from(d),
        None => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/specs"),
    }
}

fn pid_alive(pid: &str) -> bool {
    Path::new("/proc").join(pid).exists()
}

/// The template database with Chatwoot's schema, made once per process.
async fn template() -> String {
    TEMPLATE
        .get_or_init(|| async {
            let server = server();
            let admin = connect(&server).await;
            // Databases of earlier test processes that are gone.
            for r in admin
                .query(
                    "SELECT datname FROM pg_database WHERE datname LIKE 'dmcw\\_%'",
                    &[],
                )
                .await
                .unwrap()
            {
                let name: String = r.get(0);
                let pid = name.split('_').nth(2).unwrap_or("");
                if !pid_alive(pid) {
                    let _ = admin
                        .batch_execute(&format!("DROP DATABASE IF EXISTS \"{name}\""))
                        .await;
                }
            }
            let name = format!("dmcw_tpl_{}", std::process::id());
            admin
                .batch_execute(&format!("CREATE DATABASE \"{name}\""))
                .await
                .unwrap();
            let schema_path = specs_dir().join("chatwoot/schema.sql");
            let schema = std::fs::read_to_string(&schema_path).unwrap_or_else(|e| {
                panic!(
                    "reading {} (set DESKMOVE_SPECS_DIR): {e}",
                    schema_path.display()
                )
            });
            let c = connect(&with_db(&server, &name)).await;
            c.batch_execute(&schema).await.unwrap();
            c.batch_execute(&format!(
                "SET search_path = public;
                 INSERT INTO schema_migrations (version) VALUES ('{VERSION}');"
            ))
            .await
            .unwrap();
            drop(c);
            name
        })
        .await
        .clone()
}

/// A fresh Chatwoot database: account 1 with its display-id sequence, an API inbox 1, agents
/// (users 1 and 2, `agent1@example.com`, `agent2@example.com`) and team 1 `Support`.
pub struct TestDb {
    pub url: String,
    pub dir: tempfile::TempDir,
}

impl TestDb {
    pub async fn new() -> Self {
        let tpl = template().await;
        let server = server();
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        let name = format!("dmcw_t_{}_{n}", std::process::id());
        {
            let _one = CREATE.lock().await;
            let admin = connect(&server).await;
            admin
                .batch_execute(&format!("CREATE DATABASE \"{name}\" TEMPLATE \"{tpl}\""))
                .await
                .unwrap();
        }
        let url = with_db(&server, &name);
        let c = connect(&url).await;
        c.batch_execute(SEED).await.unwrap();
        TestDb {
            url,
            dir: tempfile::TempDir::new().unwrap(),
        }
    }

    pub async fn client(&self) -> Client {
        let c = connect(&self.url).await;
        c.batch_execute("SET search_path = public").await.unwrap();
        c
    }

    pub fn storage(&self) -> PathBuf {
        self.dir.path().join("storage")
    }

    pub fn blobs_dir(&self) -> PathBuf {
        self.dir.path().join("blobs")
    }

    pub fn options(&self) -> PostgresOptions {
        PostgresOptions::new(self.url.clone(), ACCOUNT, INBOX, self.storage())
    }

    pub fn target(&self, blobs: &BlobStore) -> PostgresTarget {
        PostgresTarget::new(self.options(), blobs.clone()).unwrap()
    }
}

/// What Chatwoot's app would have created before an import: the account (its trigger makes
/// `conv_dpid_seq_1`), agents, a team, an API inbox; and a counter of writes for the harness.
const SEED: &str = "
SET search_path = public;
INSERT INTO accounts (id, name, created_at, updated_at) VALUES (1, 'Acme', now(), now());
INSERT INTO users (id, name, email, uid, created_at, updated_at) VALUES
  (1, 'Agent 0', 'agent0@example.com', 'agent0@example.com', now(), now()),
  (2, 'Agent 1', 'agent1@example.com', 'agent1@example.com', now(), now());
INSERT INTO account_users (account_id, user_id, role, created_at, updated_at) VALUES
  (1, 1, 1, now(), now()), (1, 2, 0, now(), now());
INSERT INTO teams (id, name, account_id, created_at, updated_at) VALUES (1, 'Support', 1, now(), now());
INSERT INTO channel_api (id, account_id, created_at, updated_at) VALUES (1, 1, now(), now());
INSERT INTO inboxes (id, channel_id, account_id, name, created_at, updated_at, channel_type, enable_auto_assignment)
  VALUES (1, 1, 1, 'Imported history', now(), now(), 'Channel::Api', false);
SELECT setval('users_id_seq', 10); SELECT setval('teams_id_seq', 10); SELECT setval('inboxes_id_seq', 10);
SELECT setval('accounts_id_seq', 10); SELECT setval('channel_api_id_seq', 10);
CREATE TABLE deskmove_test_writes (n bigint NOT NULL);
INSERT INTO deskmove_test_writes VALUES (0);
CREATE FUNCTION deskmove_test_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    UPDATE deskmove_test_writes SET n = n + (SELECT count(*) FROM old_rows);
  ELSE
    UPDATE deskmove_test_writes SET n = n + (SELECT count(*) FROM new_rows);
  END IF;
  RETURN NULL;
END $$;
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['contacts','contact_inboxes','conversations','messages','attachments',
      'active_storage_blobs','active_storage_attachments','labels','tags','taggings',
      'canned_responses','custom_attribute_definitions'] LOOP
    EXECUTE format('CREATE TRIGGER dm_ins_%1$s AFTER INSERT ON %1$I REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION deskmove_test_count()', t);
    EXECUTE format('CREATE TRIGGER dm_upd_%1$s AFTER UPDATE ON %1$I REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION deskmove_test_count()', t);
    EXECUTE format('CREATE TRIGGER dm_del_%1$s AFTER DELETE ON %1$I REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION deskmove_test_count()', t);
  END LOOP;
END $$;
";

/// Looks at the database the way Chatwoot holds it, not through the ledger: rows carrying
/// deskmove's marker in Chatwoot's own columns, and labels, definitions and canned responses
/// recorded in `deskmove.provenance` (and contacts it matched instead of creating).
#[derive(Debug, Clone)]
pub struct Inspector {
    pub url: String,
    pub storage: PathBuf,
}

impl Inspector {
    pub fn of(db: &TestDb) -> Self {
        Inspector {
            url: db.url.clone(),
            storage: db.storage(),
        }
    }
}

fn parse_marker(m: &str) -> Option<deskmove_core::SourceKey> {
    let mut parts = m.splitn(3, ':');
    let system = parts.next()?;
    let kind: deskmove_core::RecordKind = parts.next()?.parse().ok()?;
    Some(deskmove_core::SourceKey::new(system, kind, parts.next()?))
}

impl TargetInspector for Inspector {
    async fn contents(&self) -> Result<Vec<TargetRef>, String> {
        let c = connect(&self.url).await;
        let rows = c
            .query(
                "SELECT additional_attributes->>'deskmove_source', id::bigint FROM public.contacts
                  WHERE additional_attributes ? 'deskmove_source'
                 UNION ALL SELECT identifier, id::bigint FROM public.conversations WHERE identifier IS NOT NULL
                 UNION ALL SELECT meta->>'deskmove_source', id::bigint FROM public.attachments WHERE meta ? 'deskmove_source'
                 UNION ALL SELECT p.source_key, p.row_id FROM deskmove.provenance p
                   WHERE p.target_table IN ('labels', 'custom_attribute_definitions', 'canned_responses')
                 UNION ALL SELECT p.source_key, p.row_id FROM deskmove.provenance p
                   WHERE p.target_table = 'contacts' AND NOT p.owned",
                &[],
            )
            .await
            .or_else(|e| {
                // Before the first preflight there is no deskmove schema.
                if e.to_string().contains("deskmove") {
                    Ok(Vec::new())
                } else {
                    Err(e.to_string())
                }
            })?;
        let mut out: Vec<TargetRef> = rows
            .iter()
            .filter_map(|r| {
                let m: String = r.get(0);
                parse_marker(&m).map(|key| TargetRef {
                    key,
                    id: r.get::<_, i64>(1).to_string(),
                })
            })
            .collect();
        for r in c
            .query(
                "SELECT source_id, id FROM public.messages WHERE source_id IS NOT NULL",
                &[],
            )
            .await
            .map_err(|e| e.to_string())?
        {
            let s: String = r.get(0);
            if let Some((system, id)) = s.split_once(':') {
                out.push(TargetRef {
                    key: deskmove_core::SourceKey::new(
                        system,
                        deskmove_core::RecordKind::Message,
                        id,
                    ),
                    id: r.get::<_, i32>(1).to_string(),
                });
            }
        }
        Ok(out)
    }

    async fn writes(&self) -> Result<u64, String> {
        let c = connect(&self.url).await;
        let n: i64 = c
            .query_one("SELECT n FROM public.deskmove_test_writes", &[])
            .await
            .map_err(|e| e.to_string())?
            .get(0);
        Ok(n as u64)
    }
}
