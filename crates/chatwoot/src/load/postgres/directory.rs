//! Agents and teams (matched, never created), labels, custom attribute definitions and canned
//! responses (few rows: one statement each, one transaction per batch).

use std::collections::HashMap;

use deskmove_core::connector::{LoadResult, Outcome, Resolve};
use deskmove_core::{ErrorKind, Record, SourceKey};
use tokio_postgres::{Client, Transaction};

use super::{PostgresError, PostgresOptions, problem, ref_id};
use crate::map::{self, marker};

fn skipped_with(key: &SourceKey, id: i64) -> LoadResult {
    LoadResult {
        key: key.clone(),
        outcome: Outcome::Skipped,
        target_id: Some(id.to_string()),
        problem: None,
    }
}

/// Agents: matched by email among the account's users.
pub async fn agents(
    client: &mut Client,
    o: &PostgresOptions,
    records: &[Record],
) -> Result<Vec<LoadResult>, PostgresError> {
    let emails: Vec<String> = records
        .iter()
        .filter_map(|r| match r {
            Record::Agent(a) => a.email.as_ref().map(|e| e.trim().to_lowercase()),
            _ => None,
        })
        .collect();
    let rows = client
        .query(
            "SELECT u.id, lower(u.email) FROM users u
               JOIN account_users au ON au.user_id = u.id AND au.account_id = $1
              WHERE lower(u.email) = ANY($2)",
            &[&o.account_id, &emails],
        )
        .await
        .map_err(PostgresError::db("matching agents"))?;
    let by_email: HashMap<String, i32> = rows.iter().map(|r| (r.get(1), r.get(0))).collect();
    Ok(records
        .iter()
        .filter_map(|r| match r {
            Record::Agent(a) => Some(a),
            _ => None,
        })
        .map(|a| {
            let email = a.email.as_ref().map(|e| e.trim().to_lowercase());
            match email.as_ref().and_then(|e| by_email.get(e)) {
                Some(id) => skipped_with(&a.key, i64::from(*id)),
                None => LoadResult::skipped(problem(
                    &a.key,
                    ErrorKind::NotFound,
                    "agent_not_in_chatwoot",
                    format!(
                        "No agent with the email {} is in Chatwoot account {}: invite them (or create them through the API path) and re-run; until then their messages keep the author in content_attributes.original_author.",
                        email.as_deref().unwrap_or("(none)"),
                        o.account_id
                    ),
                )),
            }
        })
        .collect())
}

/// Teams: matched by name (case-insensitive) in the account.
pub async fn teams(
    client: &mut Client,
    o: &PostgresOptions,
    records: &[Record],
) -> Result<Vec<LoadResult>, PostgresError> {
    let rows = client
        .query(
            "SELECT id, lower(name) FROM teams WHERE account_id = $1",
            &[&o.account_id],
        )
        .await
        .map_err(PostgresError::db("matching teams"))?;
    let by_name: HashMap<String, i64> = rows.iter().map(|r| (r.get(1), r.get(0))).collect();
    Ok(records
        .iter()
        .filter_map(|r| match r {
            Record::Team(t) => Some(t),
            _ => None,
        })
        .map(|t| match by_name.get(&t.name.trim().to_lowercase()) {
            Some(id) => skipped_with(&t.key, *id),
            None => LoadResult::skipped(problem(
                &t.key,
                ErrorKind::NotFound,
                "team_not_in_chatwoot",
                format!(
                    "No team named `{}` is in Chatwoot account {}: create it in Chatwoot (Settings > Teams) and re-run; until then its conversations have no team.",
                    t.name, o.account_id
                ),
            )),
        })
        .collect())
}

/// What provenance says about `key`'s row in `table`: (row id, owned), if the row still exists.
pub(crate) async fn provenance(
    tx: &Transaction<'_>,
    o: &PostgresOptions,
    table: &str,
    keys: &[String],
) -> Result<HashMap<String, (i64, bool)>, PostgresError> {
    // The table name is one of ours, never user input.
    let sql = format!(
        "SELECT p.source_key, p.row_id, p.owned FROM deskmove.provenance p
           JOIN public.{table} t ON t.id = p.row_id
          WHERE p.account_id = $1 AND p.target_table = '{table}' AND p.source_key = ANY($2)"
    );
    let rows = tx
        .query(&sql, &[&o.account_id, &keys])
        .await
        .map_err(PostgresError::db("reading deskmove.provenance"))?;
    Ok(rows
        .iter()
        .map(|r| (r.get(0), (r.get(1), r.get(2))))
        .collect())
}

pub(crate) async fn record_provenance(
    tx: &Transaction<'_>,
    o: &PostgresOptions,
    table: &str,
    rows: &[(i64, String, bool)],
) -> Result<(), PostgresError> {
    if rows.is_empty() {
        return Ok(());
    }
    let ids: Vec<i64> = rows.iter().map(|r| r.0).collect();
    let keys: Vec<&str> = rows.iter().map(|r| r.1.as_str()).collect();
    let owned: Vec<bool> = rows.iter().map(|r| r.2).collect();
    tx.execute(
        "INSERT INTO deskmove.provenance (account_id, target_table, row_id, source_key, owned)
         SELECT $1, $2, * FROM unnest($3::bigint[], $4::text[], $5::bool[])
         ON CONFLICT DO NOTHING",
        &[&o.account_id, &table, &ids, &keys, &owned],
    )
    .await
    .map_err(PostgresError::db("writing deskmove.provenance"))?;
    Ok(())
}

/// One small-table record's fate: which row it is, and whether it was ours before.
enum Found {
    Ours(i64, bool),
    Matched(i64),
    New,
}

async fn find(
    tx: &Transaction<'_>,
    key: &SourceKey,
    refs: &impl Resolve,
    known: &HashMap<String, (i64, bool)>,
    natural: (&str, &[&(dyn tokio_postgres::types::ToSql + Sync)]),
) -> Result<Found, PostgresError> {
    let m = marker(key);
    if let Some((id, owned)) = known.get(&m) {
        let ledger_knew = ref_id(refs, key) == Some(*id);
        return Ok(if *owned {
            Found::Ours(*id, ledger_knew)
        } else {
            Found::Matched(*id)
        });
    }
    let row = tx
        .query_opt(natural.0, natural.1)
        .await
        .map_err(PostgresError::db("matching existing rows"))?;
    Ok(match row {
        Some(r) => Found::Matched(r.get::<_, i64>(0)),
        None => Found::New,
    })
}

/// A row deskmove already owns: `updated` when the ledger knew it, else `loaded` (a crashed
/// earlier attempt created it and this run now owns it).
fn owned(key: &SourceKey, id: i64, ledger_knew: bool) -> LoadResult {
    if ledger_knew {
        LoadResult::updated(key.clone(), id.to_string())
    } else {
        LoadResult::loaded(key.clone(), id.to_string())
    }
}

/// Opens the batch's transaction and reads what provenance knows of its records in `table`.
async fn begin<'c>(
    client: &'c mut Client,
    o: &PostgresOptions,
    table: &str,
    records: &[Record],
) -> Result<(Transaction<'c>, HashMap<String, (i64, bool)>), PostgresError> {
    let tx = client
        .transaction()
        .await
        .map_err(PostgresError::db("starting a transaction"))?;
    let keys: Vec<String> = records.iter().map(|r| marker(r.key())).collect();
    let known = provenance(&tx, o, table, &keys).await?;
    Ok((tx, known))
}

/// Records the batch's provenance in `table` and commits, so rows and provenance land together.
async fn finish(
    tx: Transaction<'_>,
    o: &PostgresOptions,
    table: &str,
    rows: &[(i64, String, bool)],
    what: &'static str,
) -> Result<(), PostgresError> {
    record_provenance(&tx, o, table, rows).await?;
    tx.commit().await.map_err(PostgresError::db(what))
}

fn matched(key: &SourceKey, id: i64, what: &str) -> LoadResult {
    LoadResult::loaded(key.clone(), id.to_string()).with_problem(problem(
        key,
        ErrorKind::Conflict,
        "matched_existing",
        format!("Chatwoot already had {what}; deskmove uses it as it is and a rollback keeps it."),
    ))
}

/// Tags → account labels (`labels`); the conversation side (`tags`, `taggings`) is written with
/// the conversations.
pub async fn labels(
    client: &mut Client,
    o: &PostgresOptions,
    records: &[Record],
    refs: &impl Resolve,
) -> Result<Vec<LoadResult>, PostgresError> {
    let (tx, known) = begin(client, o, "labels", records).await?;
    let mut out = Vec::new();
    let mut prov = Vec::new();
    for r in records {
        let Record::Tag(t) = r else { continue };
        let title = map::label_title(t);
        let found = find(
            &tx,
            &t.key,
            refs,
            &known,
            (
                "SELECT id FROM labels WHERE account_id = $1 AND title = $2",
                &[&o.account_id, &title.title],
            ),
        )
        .await?;
        let result = match found {
            Found::Ours(id, ledger_knew) => {
                tx.execute(
                    "UPDATE labels SET title = $2, updated_at = now() AT TIME ZONE 'UTC' WHERE id = $1 AND title IS DISTINCT FROM $2",
                    &[&id, &title.title],
                )
                .await
                .map_err(PostgresError::db("updating a label"))?;
                owned(&t.key, id, ledger_knew)
            }
            Found::Matched(id) => {
                prov.push((id, marker(&t.key), false));
                matched(&t.key, id, &format!("the label `{}`", title.title))
            }
            Found::New => {
                let id: i64 = tx
                    .query_one(
                        "INSERT INTO labels (title, description, color, show_on_sidebar, account_id, created_at, updated_at)
                         VALUES ($1, $2, '#1f93ff', true, $3, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC') RETURNING id",
                        &[&title.title, &format!("Imported from {} tag `{}`", t.key.system, t.name), &o.account_id],
                    )
                    .await
                    .map_err(PostgresError::db("creating a label"))?
                    .get(0);
                prov.push((id, marker(&t.key), true));
                LoadResult::loaded(t.key.clone(), id.to_string())
            }
        };
        out.push(match (title.problem, result.problem.is_none()) {
            (Some(p), true) => result.with_problem(p),
            _ => result,
        });
    }
    finish(tx, o, "labels", &prov, "committing labels").await?;
    Ok(out)
}

/// Custom attribute definitions, by type.
pub async fn attribute_definitions(
    client: &mut Client,
    o: &PostgresOptions,
    records: &[Record],
    refs: &impl Resolve,
) -> Result<Vec<LoadResult>, PostgresError> {
    let (tx, known) = begin(client, o, "custom_attribute_definitions", records).await?;
    let mut out = Vec::new();
    let mut prov = Vec::new();
    for r in records {
        let Record::AttributeDefinition(d) = r else {
            continue;
        };
        let row = map::attribute_definition(d);
        let found = find(
            &tx,
            &d.key,
            refs,
            &known,
            (
                "SELECT id FROM custom_attribute_definitions WHERE account_id = $1 AND attribute_key = $2 AND attribute_model = $3",
                &[&o.account_id, &row.key, &row.model],
            ),
        )
        .await?;
        out.push(match found {
            Found::Ours(id, ledger_knew) => {
                tx.execute(
                    "UPDATE custom_attribute_definitions SET attribute_display_name = $2, attribute_display_type = $3,
                            attribute_description = $4, attribute_values = $5, updated_at = now() AT TIME ZONE 'UTC'
                      WHERE id = $1",
                    &[&id, &row.display_name, &row.display_type, &row.description, &row.values],
                )
                .await
                .map_err(PostgresError::db("updating an attribute definition"))?;
                owned(&d.key, id, ledger_knew)
            }
            Found::Matched(id) => {
                prov.push((id, marker(&d.key), false));
                matched(&d.key, id, &format!("the attribute `{}`", row.key))
            }
            Found::New => {
                let id: i64 = tx
                    .query_one(
                        "INSERT INTO custom_attribute_definitions (attribute_display_name, attribute_key, attribute_display_type,
                                attribute_model, account_id, attribute_description, attribute_values, created_at, updated_at)
                         VALUES ($1, $2, $3, $4, $5, $6, $7, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC') RETURNING id",
                        &[&row.display_name, &row.key, &row.display_type, &row.model, &o.account_id, &row.description, &row.values],
                    )
                    .await
                    .map_err(PostgresError::db("creating an attribute definition"))?
                    .get(0);
                prov.push((id, marker(&d.key), true));
                LoadResult::loaded(d.key.clone(), id.to_string())
            }
        });
    }
    finish(
        tx,
        o,
        "custom_attribute_definitions",
        &prov,
        "committing attribute definitions",
    )
    .await?;
    Ok(out)
}

/// Macros → canned responses.
pub async fn canned_responses(
    client: &mut Client,
    o: &PostgresOptions,
    records: &[Record],
    refs: &impl Resolve,
) -> Result<Vec<LoadResult>, PostgresError> {
    let (tx, known) = begin(client, o, "canned_responses", records).await?;
    let account = o.account_id as i32;
    let mut out = Vec::new();
    let mut prov = Vec::new();
    for r in records {
        let Record::Macro(m) = r else { continue };
        let row = map::canned_response(m);
        let found = find(
            &tx,
            &m.key,
            refs,
            &known,
            (
                "SELECT id::bigint FROM canned_responses WHERE account_id = $1 AND short_code = $2",
                &[&account, &row.short_code],
            ),
        )
        .await?;
        out.push(match found {
            Found::Ours(id, ledger_knew) => {
                tx.execute(
                    "UPDATE canned_responses SET short_code = $2, content = $3, updated_at = now() AT TIME ZONE 'UTC' WHERE id = $1",
                    &[&(id as i32), &row.short_code, &row.content],
                )
                .await
                .map_err(PostgresError::db("updating a canned response"))?;
                owned(&m.key, id, ledger_knew)
            }
            Found::Matched(id) => {
                prov.push((id, marker(&m.key), false));
                matched(
                    &m.key,
                    id,
                    &format!("the canned response `{}`", row.short_code),
                )
            }
            Found::New => {
                let id: i32 = tx
                    .query_one(
                        "INSERT INTO canned_responses (account_id, short_code, content, created_at, updated_at)
                         VALUES ($1, $2, $3, $4, $5) RETURNING id",
                        &[
                            &account,
                            &row.short_code,
                            &row.content,
                            &map::civil(m.created_at.unwrap_or_else(jiff::Timestamp::now)),
                            &map::civil(m.updated_at.or(m.created_at).unwrap_or_else(jiff::Timestamp::now)),
                        ],
                    )
                    .await
                    .map_err(PostgresError::db("creating a canned response"))?
                    .get(0);
                prov.push((i64::from(id), marker(&m.key), true));
                LoadResult::loaded(m.key.clone(), id.to_string())
            }
        });
    }
    finish(
        tx,
        o,
        "canned_responses",
        &prov,
        "committing canned responses",
    )
    .await?;
    Ok(out)
}
