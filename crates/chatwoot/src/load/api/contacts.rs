//! Contacts: `identifier` = the source marker (unique per account, so a create that a crashed
//! attempt already made is refused with "Identifier has already been taken" and then found by
//! it), lower-cased email, E.164 phone; a person already in the account under the same email or
//! phone is matched, never changed (research/chatwoot.md §0.6).

use deskmove_core::Classify;
use deskmove_core::connector::{LoadResult, Resolve};
use deskmove_core::model::{Contact, Record};
use deskmove_core::{ErrorKind, SourceKey};
use deskmove_http::HttpError;
use futures::StreamExt;
use serde_json::{Value, json};
use std::collections::HashMap;

use super::client::{id_of, is_record_error, list};
use super::session::Session;
use super::{ApiError, Cx, current, problem, ref_id, refused};
use crate::map;

/// The first contact a search for `term` lists whose `field` equals `value`.
pub(crate) async fn search(
    cx: &Cx<'_>,
    term: &str,
    field: &str,
    value: &str,
) -> Result<Option<u64>, ApiError> {
    let mut page = 1;
    loop {
        let q = format!(
            "contacts/search?q={}&page={page}&include_contact_inboxes=false",
            url::form_urlencoded::byte_serialize(term.as_bytes()).collect::<String>()
        );
        let found = list(&cx.api.get(&q).await?);
        if let Some(id) = found
            .iter()
            .find(|c| {
                c[field]
                    .as_str()
                    .is_some_and(|v| v.eq_ignore_ascii_case(value))
            })
            .and_then(id_of)
        {
            return Ok(Some(id));
        }
        // 15 a page (contacts_controller.rb RESULTS_PER_PAGE).
        if found.len() < 15 {
            return Ok(None);
        }
        page += 1;
    }
}

fn taken(e: &HttpError, field: &str) -> bool {
    e.vendor_text()
        .is_some_and(|t| t.contains(&format!("{field} has already been taken")))
}

/// Lists the account's labels into the session, once.
pub(crate) async fn list_labels(cx: &Cx<'_>, session: &mut Session) -> Result<(), ApiError> {
    if session.labels.is_none() {
        let rows = list(&cx.api.get("labels").await?);
        session.labels = Some(
            rows.iter()
                .filter_map(|v| Some((v["title"].as_str()?.to_lowercase(), id_of(v)?)))
                .collect(),
        );
    }
    Ok(())
}

/// Label titles for tag keys, from the ledger's label ids and the labels [`list_labels`] read.
pub(crate) fn label_titles(
    session: &Session,
    tags: &[SourceKey],
    refs: &impl Resolve,
) -> Vec<String> {
    let Some(labels) = &session.labels else {
        return Vec::new();
    };
    tags.iter()
        .filter_map(|t| ref_id(refs, t))
        .filter_map(|id| {
            labels
                .iter()
                .find(|(_, v)| **v == id)
                .map(|(k, _)| k.clone())
        })
        .collect()
}

/// Contacts that may collide on a unique column (email, phone) share a lane and are written
/// one after the other: Chatwoot checks uniqueness in a validation before the insert, so two
/// such creates at once could both pass it and one fail on the index instead of being matched.
fn lanes<'r>(contacts: &[&'r Contact]) -> Vec<Vec<&'r Contact>> {
    let mut lane_of: HashMap<String, usize> = HashMap::new();
    let mut lanes: Vec<Vec<&Contact>> = Vec::new();
    for c in contacts {
        let (row, _) = map::contact(c);
        let values: Vec<String> = [
            row.email.map(|e| format!("e:{}", e.to_lowercase())),
            row.phone.map(|p| format!("p:{p}")),
        ]
        .into_iter()
        .flatten()
        .collect();
        let mut hits: Vec<usize> = values
            .iter()
            .filter_map(|v| lane_of.get(v).copied())
            .collect();
        hits.sort_unstable();
        hits.dedup();
        let lane = match hits.split_first() {
            None => {
                lanes.push(Vec::new());
                lanes.len() - 1
            }
            Some((&first, rest)) => {
                // Merge the other lanes this contact joins into the first (their order kept).
                for &other in rest {
                    let moved = std::mem::take(&mut lanes[other]);
                    lanes[first].extend(moved);
                    for l in lane_of.values_mut() {
                        if *l == other {
                            *l = first;
                        }
                    }
                }
                first
            }
        };
        lanes[lane].push(c);
        for v in values {
            lane_of.insert(v, lane);
        }
    }
    lanes.retain(|l| !l.is_empty());
    lanes
}

pub(crate) async fn load(
    cx: &Cx<'_>,
    session: &mut Session,
    records: &[Record],
    refs: &impl Resolve,
) -> Result<Vec<LoadResult>, ApiError> {
    list_labels(cx, session).await?;
    let contacts: Vec<&Contact> = records
        .iter()
        .filter_map(|r| match r {
            Record::Contact(c) => Some(c),
            _ => None,
        })
        .collect();
    let view: &Session = session;
    // Lanes side by side, each lane's contacts in turn; every lane reports what it created
    // even when a later call failed, so a retry of the batch finds it.
    // A named async fn per lane (not a closure): the futures must be Send for any lifetime.
    let work: Vec<_> = lanes(&contacts)
        .into_iter()
        .map(|l| lane(cx, view, l, refs))
        .collect();
    let done: Vec<(Vec<LoadResult>, Vec<u64>, Option<ApiError>)> = futures::stream::iter(work)
        .buffer_unordered(cx.options.concurrency.max(1))
        .collect()
        .await;
    let mut out = Vec::new();
    let mut failure = None;
    for (results, fresh, error) in done {
        out.extend(results);
        session.fresh_contacts.extend(fresh);
        failure = failure.or(error);
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(out),
    }
}

/// One lane's contacts in turn: their results, the contacts created, and the error that
/// stopped it.
async fn lane(
    cx: &Cx<'_>,
    session: &Session,
    lane: Vec<&Contact>,
    refs: &impl Resolve,
) -> (Vec<LoadResult>, Vec<u64>, Option<ApiError>) {
    let mut out = Vec::new();
    let mut fresh = Vec::new();
    for c in lane {
        match one(cx, session, c, refs, &mut fresh).await {
            Ok(r) => out.push(r),
            Err(e) => return (out, fresh, Some(e)),
        }
    }
    (out, fresh, None)
}

/// Writes one contact; `fresh` gets its id when this call created it (so it has no
/// conversations this process does not know of).
async fn one(
    cx: &Cx<'_>,
    session: &Session,
    c: &Contact,
    refs: &impl Resolve,
    fresh: &mut Vec<u64>,
) -> Result<LoadResult, ApiError> {
    let (row, problems) = map::contact(c);
    let marker = map::marker(&c.key);
    let mut additional = row.additional_attributes.clone();
    if let (Some(ext), Value::Object(o)) = (&c.external_id, &mut additional) {
        o.insert("source_external_id".into(), json!(ext));
    }
    let body = json!({
        "name": row.name,
        "email": row.email,
        "phone_number": row.phone,
        "identifier": marker,
        "additional_attributes": additional,
        "custom_attributes": row.custom_attributes,
    });
    let mut result = None;
    if let Some(id) = ref_id(refs, &c.key) {
        match cx.api.put(&format!("contacts/{id}"), &body).await {
            Ok(_) => result = Some(LoadResult::updated(c.key.clone(), id.to_string())),
            Err(e) if e.kind() == ErrorKind::NotFound => {}
            Err(e) if is_record_error(&e) => return Ok(refused(&c.key, &e)),
            Err(e) => return Err(e.into()),
        }
    }
    let result = match result {
        Some(r) => r,
        None => match cx.api.post("contacts", &body).await {
            Ok(v) => match v.pointer("/payload/contact").and_then(id_of) {
                Some(id) => {
                    fresh.push(id);
                    LoadResult::loaded(c.key.clone(), id.to_string())
                }
                None => {
                    return Err(ApiError::Protocol("a created contact without an id".into()));
                }
            },
            Err(e) if taken(&e, "Identifier") => {
                match search(cx, &marker, "identifier", &marker).await? {
                    Some(id) => LoadResult::loaded(c.key.clone(), id.to_string()),
                    None => refused(&c.key, &e),
                }
            }
            Err(e) if taken(&e, "Email") || taken(&e, "Phone number") => {
                let (term, field) = match (&row.email, &row.phone) {
                    (Some(m), _) if taken(&e, "Email") => (m.clone(), "email"),
                    (_, Some(p)) => (p.clone(), "phone_number"),
                    _ => (String::new(), "email"),
                };
                match search(cx, &term, field, &term).await? {
                    Some(id) => current(&c.key, id.to_string()).with_problem(problem(
                        &c.key,
                        ErrorKind::Conflict,
                        "contact_matched",
                        format!("A contact with the same {field} was already in the account; it was matched and left unchanged."),
                    )),
                    None => refused(&c.key, &e),
                }
            }
            Err(e) if is_record_error(&e) => refused(&c.key, &e),
            Err(e) => return Err(e.into()),
        },
    };
    let Some(id) = result.target_id.as_deref().and_then(super::leading_id) else {
        return Ok(result);
    };
    let titles = label_titles(session, &c.tags, refs);
    if !titles.is_empty() && result.outcome != deskmove_core::connector::Outcome::Skipped {
        match cx
            .api
            .post(&format!("contacts/{id}/labels"), &json!({"labels": titles}))
            .await
        {
            Ok(_) => {}
            Err(e) if is_record_error(&e) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(match problems.into_iter().next() {
        Some(p) if result.problem.is_none() => result.with_problem(p),
        _ => result,
    })
}

#[cfg(test)]
mod tests {
    use deskmove_core::model::{Contact, ContactRole};
    use deskmove_core::{RecordKind, SourceKey};

    use super::lanes;

    fn person(id: &str, email: Option<&str>, phone: Option<&str>) -> Contact {
        Contact {
            key: SourceKey::new("intercom", RecordKind::Contact, id),
            role: ContactRole::User,
            name: None,
            email: email.map(str::to_owned),
            email_original: None,
            phone: phone.map(str::to_owned),
            phone_original: None,
            external_id: None,
            companies: Vec::new(),
            tags: Vec::new(),
            attributes: Default::default(),
            avatar_url: None,
            created_at: "2024-01-01T00:00:00Z".parse().unwrap(),
            updated_at: None,
            last_seen_at: None,
            extra: Default::default(),
        }
    }

    fn ids(lanes: &[Vec<&Contact>]) -> Vec<Vec<String>> {
        let mut out: Vec<Vec<String>> = lanes
            .iter()
            .map(|l| l.iter().map(|c| c.key.id.clone()).collect())
            .collect();
        out.sort();
        out
    }

    #[test]
    fn contacts_sharing_an_email_or_phone_share_a_lane_in_order() {
        let a = person("a", Some("x@example.com"), None);
        let b = person("b", Some("y@example.com"), Some("+4930123"));
        let c = person("c", None, None);
        // Joins a's lane by email (any case) and b's by phone: the two lanes merge.
        let d = person("d", Some("X@example.com"), Some("+4930123"));
        let e = person("e", None, None);
        let all = [&a, &b, &c, &d, &e];
        assert_eq!(
            ids(&lanes(&all)),
            vec![
                vec!["a".to_owned(), "b".to_owned(), "d".to_owned()],
                vec!["c".to_owned()],
                vec!["e".to_owned()],
            ]
        );
    }
}
