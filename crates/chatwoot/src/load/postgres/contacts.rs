//! Contacts and their contact inbox, one transaction per batch.
//!
//! A contact the account already has (same identifier, then same lower-cased email — Chatwoot's
//! unique indexes, research/chatwoot.md §0.6) is matched, not duplicated and never changed; a
//! second source contact with the same email or identifier in one run is matched to the first.

use std::collections::HashMap;
use std::pin::pin;

use deskmove_core::connector::{LoadResult, Resolve};
use deskmove_core::{ErrorKind, Record, SourceKey};
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::Type;
use tokio_postgres::{Client, Transaction};

use super::directory::{provenance, record_provenance};
use super::{PostgresError, PostgresOptions, problem, ref_id};
use crate::map::{self, ContactRow, civil, marker};

/// `contact_inboxes.source_id` for a source contact: a UUID (what the app writes for API
/// inboxes, §6) derived from the marker, so a retried batch finds the row it wrote.
pub fn contact_inbox_source_id(contact: &SourceKey) -> String {
    let h = blake3::hash(format!("deskmove contact inbox {}", marker(contact)).as_bytes());
    let b = h.as_bytes();
    let hex: String = b[..16].iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

enum Plan {
    /// Ours already (provenance): update in place. `true` when the ledger knew it.
    Update(i64, bool),
    /// An existing contact of the account, or one created earlier in this batch (index).
    Match(i64, &'static str),
    SameAs(usize, &'static str),
    Insert,
}

/// Loads a batch of contacts.
pub async fn load(
    client: &mut Client,
    o: &PostgresOptions,
    records: &[Record],
    refs: &impl Resolve,
) -> Result<Vec<LoadResult>, PostgresError> {
    let db = PostgresError::db;
    let contacts: Vec<_> = records
        .iter()
        .filter_map(|r| match r {
            Record::Contact(c) => Some(c),
            _ => None,
        })
        .collect();
    let mapped: Vec<(ContactRow, Vec<deskmove_core::Problem>)> =
        contacts.iter().map(|c| map::contact(c)).collect();
    let markers: Vec<String> = contacts.iter().map(|c| marker(&c.key)).collect();

    let tx = client
        .transaction()
        .await
        .map_err(db("starting a transaction"))?;
    let known = provenance(&tx, o, "contacts", &markers).await?;

    // Existing contacts by identifier and email (Chatwoot's unique keys).
    let identifiers: Vec<String> = mapped
        .iter()
        .filter_map(|(r, _)| r.identifier.clone())
        .collect();
    let emails: Vec<String> = mapped.iter().filter_map(|(r, _)| r.email.clone()).collect();
    let account = o.account_id as i32;
    let existing = tx
        .query(
            "SELECT id, identifier, email FROM contacts
              WHERE account_id = $1 AND (identifier = ANY($2) OR email = ANY($3))",
            &[&account, &identifiers, &emails],
        )
        .await
        .map_err(db("matching existing contacts"))?;
    let mut by_identifier: HashMap<String, i64> = HashMap::new();
    let mut by_email: HashMap<String, i64> = HashMap::new();
    for r in &existing {
        let id = i64::from(r.get::<_, i32>(0));
        if let Some(i) = r.get::<_, Option<String>>(1) {
            by_identifier.insert(i, id);
        }
        if let Some(e) = r.get::<_, Option<String>>(2) {
            by_email.insert(e, id);
        }
    }

    let mut plans = Vec::with_capacity(contacts.len());
    let mut claimed_identifier: HashMap<String, usize> = HashMap::new();
    let mut claimed_email: HashMap<String, usize> = HashMap::new();
    for (i, (c, (row, _))) in contacts.iter().zip(&mapped).enumerate() {
        let plan = if let Some((id, owned)) = known.get(&markers[i]) {
            if *owned {
                Plan::Update(*id, ref_id(refs, &c.key) == Some(*id))
            } else {
                Plan::Match(*id, "matched")
            }
        } else if let Some(id) = row
            .identifier
            .as_ref()
            .and_then(|x| by_identifier.get(x))
            .filter(|_| o.match_existing_contacts)
        {
            Plan::Match(*id, "identifier")
        } else if let Some(id) = row
            .email
            .as_ref()
            .and_then(|x| by_email.get(x))
            .filter(|_| o.match_existing_contacts)
        {
            Plan::Match(*id, "email")
        } else if let Some(j) = row
            .identifier
            .as_ref()
            .and_then(|x| claimed_identifier.get(x))
        {
            Plan::SameAs(*j, "identifier")
        } else if let Some(j) = row.email.as_ref().and_then(|x| claimed_email.get(x)) {
            Plan::SameAs(*j, "email")
        } else if row
            .identifier
            .as_ref()
            .is_some_and(|x| by_identifier.contains_key(x))
            || row.email.as_ref().is_some_and(|x| by_email.contains_key(x))
        {
            // Matching is switched off and Chatwoot's unique index would refuse the row.
            Plan::Match(-1, "conflict")
        } else {
            Plan::Insert
        };
        if matches!(plan, Plan::Insert) {
            if let Some(x) = &row.identifier {
                claimed_identifier.insert(x.clone(), i);
            }
            if let Some(x) = &row.email {
                claimed_email.insert(x.clone(), i);
            }
        }
        plans.push(plan);
    }

    // New contacts: COPY into a temporary table, then one INSERT … SELECT.
    let mut ids: Vec<Option<i64>> = vec![None; contacts.len()];
    let inserts: Vec<usize> = (0..contacts.len())
        .filter(|i| matches!(plans[*i], Plan::Insert))
        .collect();
    if !inserts.is_empty() {
        copy_contacts(&tx, &inserts, &mapped, &markers).await?;
        let rows = tx
            .query(
                "INSERT INTO contacts (name, email, phone_number, account_id, identifier, contact_type,
                        additional_attributes, custom_attributes, location, country_code, created_at,
                        updated_at, last_activity_at)
                 SELECT name, email, phone, $1, identifier, contact_type, additional_attributes,
                        custom_attributes, location, country_code, created_at, updated_at, last_activity_at
                   FROM dm_contacts ORDER BY ord
                 RETURNING id, additional_attributes->>'deskmove_source'",
                &[&account],
            )
            .await
            .map_err(db("inserting contacts"))?;
        let by_marker: HashMap<String, i64> = rows
            .iter()
            .map(|r| (r.get::<_, String>(1), i64::from(r.get::<_, i32>(0))))
            .collect();
        for i in &inserts {
            ids[*i] = by_marker.get(&markers[*i]).copied();
        }
    }
    // Changed contacts that are ours: update in place.
    for (i, plan) in plans.iter().enumerate() {
        if let Plan::Update(id, _) = plan {
            let r = &mapped[i].0;
            tx.execute(
                "UPDATE contacts SET name = $2, email = $3, phone_number = $4, identifier = $5,
                        contact_type = $6, additional_attributes = $7, custom_attributes = $8,
                        location = $9, country_code = $10, updated_at = $11,
                        last_activity_at = GREATEST(last_activity_at, $12)
                  WHERE id = $1",
                &[
                    &(*id as i32),
                    &r.name,
                    &r.email,
                    &r.phone,
                    &r.identifier,
                    &r.contact_type,
                    &r.additional_attributes,
                    &r.custom_attributes,
                    &r.location,
                    &r.country_code,
                    &civil(r.updated_at),
                    &r.last_activity_at.map(civil),
                ],
            )
            .await
            .map_err(db("updating a contact"))?;
            ids[i] = Some(*id);
        }
    }
    for (i, plan) in plans.iter().enumerate() {
        match plan {
            Plan::Match(id, _) if *id > 0 => ids[i] = Some(*id),
            Plan::SameAs(j, _) => ids[i] = ids[*j],
            _ => {}
        }
    }

    // Every contact gets its contact inbox in the import inbox.
    let ci_contacts: Vec<i64> = ids.iter().flatten().copied().collect();
    let ci_sources: Vec<String> = ids
        .iter()
        .zip(&contacts)
        .filter(|(id, _)| id.is_some())
        .map(|(_, c)| contact_inbox_source_id(&c.key))
        .collect();
    let ci_markers: Vec<&str> = ids
        .iter()
        .zip(&markers)
        .filter(|(id, _)| id.is_some())
        .map(|(_, m)| m.as_str())
        .collect();
    let created = tx
        .query(
            "INSERT INTO contact_inboxes (contact_id, inbox_id, source_id, hmac_verified, created_at, updated_at)
             SELECT c, $1, s, false, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
               FROM unnest($2::bigint[], $3::text[]) AS u(c, s)
             ON CONFLICT (inbox_id, source_id) DO NOTHING
             RETURNING id, source_id",
            &[&o.inbox_id, &ci_contacts, &ci_sources],
        )
        .await
        .map_err(db("creating contact inboxes"))?;
    let source_to_marker: HashMap<&str, &str> = ci_sources
        .iter()
        .map(String::as_str)
        .zip(ci_markers.iter().copied())
        .collect();
    let mut prov: Vec<(i64, String, bool)> = created
        .iter()
        .filter_map(|r| {
            let s: String = r.get(1);
            source_to_marker
                .get(s.as_str())
                .map(|m| (r.get::<_, i64>(0), (*m).to_owned(), true))
        })
        .collect();
    record_provenance(&tx, o, "contact_inboxes", &prov).await?;
    prov.clear();
    for (i, plan) in plans.iter().enumerate() {
        let Some(id) = ids[i] else { continue };
        match plan {
            Plan::Insert => prov.push((id, markers[i].clone(), true)),
            Plan::Match(..) | Plan::SameAs(..) if !known.contains_key(&markers[i]) => {
                prov.push((id, markers[i].clone(), false))
            }
            _ => {}
        }
    }
    record_provenance(&tx, o, "contacts", &prov).await?;
    tx.commit().await.map_err(db("committing contacts"))?;

    let mut out = Vec::with_capacity(contacts.len());
    for (i, c) in contacts.iter().enumerate() {
        let mut problems = mapped[i].1.clone();
        let result = match (&plans[i], ids[i]) {
            (Plan::Update(id, true), _) => LoadResult::updated(c.key.clone(), id.to_string()),
            (Plan::Update(id, false), _) => LoadResult::loaded(c.key.clone(), id.to_string()),
            (Plan::Insert, Some(id)) => LoadResult::loaded(c.key.clone(), id.to_string()),
            (Plan::Match(_, "conflict"), _) => LoadResult::failed(problem(
                &c.key,
                ErrorKind::Conflict,
                "contact_exists",
                "Chatwoot already has a contact with this identifier or email and matching existing contacts is switched off.",
            )),
            (Plan::Match(_, how) | Plan::SameAs(_, how), Some(id)) => {
                problems.insert(
                    0,
                    problem(
                        &c.key,
                        ErrorKind::Conflict,
                        "matched_existing_contact",
                        format!(
                            "Matched Chatwoot contact {id} by {how}; it is used as it is (not changed) and a rollback keeps it."
                        ),
                    ),
                );
                LoadResult::loaded(c.key.clone(), id.to_string())
            }
            _ => LoadResult::failed(problem(
                &c.key,
                ErrorKind::Internal,
                "contact_not_written",
                "The contact's row was not returned by the insert; it is tried again next run.",
            )),
        };
        // One problem per result: the first, the others are logged.
        let mut problems = problems.into_iter();
        let result = match (result.problem.is_none(), problems.next()) {
            (true, Some(p)) => result.with_problem(p),
            _ => result,
        };
        for p in problems {
            tracing::info!(key = %p.key, code = %p.code, "{}", p.reason);
        }
        out.push(result);
    }
    Ok(out)
}

async fn copy_contacts(
    tx: &Transaction<'_>,
    inserts: &[usize],
    mapped: &[(ContactRow, Vec<deskmove_core::Problem>)],
    markers: &[String],
) -> Result<(), PostgresError> {
    let db = PostgresError::db;
    tx.batch_execute(
        "CREATE TEMP TABLE IF NOT EXISTS dm_contacts (
            ord int, name varchar, email varchar, phone varchar, identifier varchar,
            contact_type int, additional_attributes jsonb, custom_attributes jsonb,
            location varchar, country_code varchar, created_at timestamp, updated_at timestamp,
            last_activity_at timestamp) ON COMMIT DELETE ROWS",
    )
    .await
    .map_err(db("preparing the contacts copy"))?;
    let sink = tx
        .copy_in(
            "COPY dm_contacts (ord, name, email, phone, identifier, contact_type, additional_attributes,
                  custom_attributes, location, country_code, created_at, updated_at, last_activity_at)
             FROM STDIN BINARY",
        )
        .await
        .map_err(db("copying contacts"))?;
    let types = [
        Type::INT4,
        Type::VARCHAR,
        Type::VARCHAR,
        Type::VARCHAR,
        Type::VARCHAR,
        Type::INT4,
        Type::JSONB,
        Type::JSONB,
        Type::VARCHAR,
        Type::VARCHAR,
        Type::TIMESTAMP,
        Type::TIMESTAMP,
        Type::TIMESTAMP,
    ];
    let mut w = pin!(BinaryCopyInWriter::new(sink, &types));
    for i in inserts {
        let r = &mapped[*i].0;
        debug_assert_eq!(
            r.additional_attributes["deskmove_source"].as_str(),
            Some(markers[*i].as_str())
        );
        w.as_mut()
            .write(&[
                &(*i as i32),
                &r.name,
                &r.email,
                &r.phone,
                &r.identifier,
                &r.contact_type,
                &r.additional_attributes,
                &r.custom_attributes,
                &r.location,
                &r.country_code,
                &civil(r.created_at),
                &civil(r.updated_at),
                &r.last_activity_at.map(civil),
            ])
            .await
            .map_err(db("copying contacts"))?;
    }
    w.finish().await.map_err(db("copying contacts"))?;
    Ok(())
}
