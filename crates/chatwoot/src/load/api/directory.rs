//! Agents, teams, labels, attribute definitions and canned responses.
//!
//! What deskmove creates carries the source marker (in a description, or the canned response's
//! own content), so a later run — after a crash between a create and its ledger commit — knows
//! the row as its own (`loaded`, removed by a rollback) rather than as one the account already
//! had (`skipped` with its id, never removed).

use std::collections::HashMap;

use deskmove_core::Classify;
use deskmove_core::connector::{LoadResult, Resolve};
use deskmove_core::model::{AttributeModel, Record};
use deskmove_core::{ErrorKind, SourceKey};
use serde_json::{Value, json};

use super::client::{id_of, is_record_error, list};
use super::session::Session;
use super::{ApiError, Cx, current, leading_id, problem, ref_id, refused};
use crate::map;

/// Agent email (lower-case) → user id, listed once per process.
pub(crate) async fn agent_ids<'s>(
    cx: &Cx<'_>,
    session: &'s mut Session,
) -> Result<&'s HashMap<String, u64>, ApiError> {
    if session.agents.is_none() {
        let listed = list(&cx.api.get("agents").await?);
        let map = listed
            .iter()
            .filter_map(|a| Some((a["email"].as_str()?.to_lowercase(), id_of(a)?)))
            .collect();
        session.agents = Some(map);
    }
    Ok(session.agents.get_or_insert_default())
}

/// Agents are matched by email, never invited: an invitation emails the person.
pub(crate) async fn agents(
    cx: &Cx<'_>,
    session: &mut Session,
    records: &[Record],
) -> Result<Vec<LoadResult>, ApiError> {
    let ids = agent_ids(cx, session).await?.clone();
    Ok(records
        .iter()
        .filter_map(|r| match r {
            Record::Agent(a) => Some(a),
            _ => None,
        })
        .map(|a| {
            let email = a.email.as_deref().and_then(|e| cx.options.mapping.agent_email(e));
            match email.as_ref().and_then(|e| ids.get(e)) {
                Some(id) => current(&a.key, id.to_string()),
                None => {
                    let who = a.name.clone().or(a.email.clone()).unwrap_or_else(|| a.key.id.clone());
                    let why = if a.active {
                        "has no Chatwoot agent with the same email (agents are never invited by deskmove)"
                    } else {
                        "has left and has no Chatwoot agent"
                    };
                    LoadResult::skipped(problem(
                        &a.key,
                        ErrorKind::NotFound,
                        if a.active { "agent_not_matched" } else { "agent_departed" },
                        format!("The agent {who} {why}; their messages are sent as the importing user and name them in content_attributes.original_author."),
                    ))
                }
            }
        })
        .collect())
}

/// `Imported by deskmove (<marker>)`.
fn provenance(key: &SourceKey) -> String {
    format!("Imported by deskmove ({})", map::marker(key))
}

/// Finds `wanted` in a listed resource: by the ref's id, else by `same` (name); says whether the
/// row is ours (its `mark_field` says deskmove created it — for this record, or for another
/// record that maps to the same row, such as two tags slugged to one label).
fn find<'a>(
    rows: &'a [Value],
    by_ref: Option<u64>,
    same: impl Fn(&Value) -> bool,
    mark_field: &str,
    key: &SourceKey,
) -> Option<(&'a Value, bool)> {
    let prefix = format!("Imported by deskmove ({}:", key.system);
    let ours = |v: &Value| v[mark_field].as_str().is_some_and(|d| d.contains(&prefix));
    if let Some(id) = by_ref
        && let Some(v) = rows.iter().find(|v| id_of(v) == Some(id))
    {
        return Some((v, true));
    }
    rows.iter().find(|v| same(v)).map(|v| (v, ours(v)))
}

/// Teams by name (Chatwoot lower-cases team names), created when absent, members set from the
/// matched agents.
pub(crate) async fn teams(
    cx: &Cx<'_>,
    _session: &mut Session,
    records: &[Record],
    refs: &impl Resolve,
) -> Result<Vec<LoadResult>, ApiError> {
    let mut rows = list(&cx.api.get("teams").await?);
    let mut out = Vec::new();
    for r in records {
        let Record::Team(t) = r else { continue };
        let name = t.name.trim().to_lowercase();
        let had_ref = refs.target_ref(&t.key).is_some();
        let found = find(
            &rows,
            ref_id(refs, &t.key),
            |v| v["name"].as_str() == Some(&name),
            "description",
            &t.key,
        )
        .map(|(v, ours)| (id_of(v), ours));
        let (id, result) = match found {
            Some((Some(id), ours)) => {
                let result = if had_ref {
                    LoadResult::updated(t.key.clone(), id.to_string())
                } else if ours {
                    LoadResult::loaded(t.key.clone(), id.to_string())
                } else {
                    current(&t.key, id.to_string())
                };
                (id, result)
            }
            _ => {
                let body = json!({"name": name, "description": provenance(&t.key), "allow_auto_assign": false});
                match cx.api.post("teams", &body).await {
                    Ok(v) => {
                        let Some(id) = id_of(&v) else {
                            return Err(ApiError::Protocol("a created team without an id".into()));
                        };
                        rows.push(v);
                        (id, LoadResult::loaded(t.key.clone(), id.to_string()))
                    }
                    Err(e) if is_record_error(&e) => {
                        out.push(refused(&t.key, &e));
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        };
        let members: Vec<u64> = t.members.iter().filter_map(|m| ref_id(refs, m)).collect();
        if !members.is_empty() {
            match cx
                .api
                .patch(
                    &format!("teams/{id}/team_members"),
                    &json!({"user_ids": members}),
                )
                .await
            {
                Ok(_) => {}
                Err(e) if is_record_error(&e) => {
                    out.push(result.with_problem(problem(
                        &t.key,
                        e.kind(),
                        "team_members_refused",
                        super::client::said(&e),
                    )));
                    continue;
                }
                Err(e) => return Err(e.into()),
            }
        }
        out.push(result);
    }
    Ok(out)
}

/// Labels from tags, slugged to Chatwoot's title rule (renames reported).
pub(crate) async fn labels(
    cx: &Cx<'_>,
    session: &mut Session,
    records: &[Record],
    refs: &impl Resolve,
) -> Result<Vec<LoadResult>, ApiError> {
    let mut rows = list(&cx.api.get("labels").await?);
    let mut out = Vec::new();
    for r in records {
        let Record::Tag(tag) = r else { continue };
        let mut renamed = tag.clone();
        renamed.name = cx.options.mapping.label_name(&tag.name).to_owned();
        let title = map::label_title(&renamed);
        let had_ref = refs.target_ref(&tag.key).is_some();
        let found = find(
            &rows,
            ref_id(refs, &tag.key),
            |v| v["title"].as_str() == Some(&title.title),
            "description",
            &tag.key,
        )
        .and_then(|(v, ours)| Some((id_of(v)?, ours, v["title"].as_str() == Some(&title.title))));
        let result = match found {
            Some((id, _, same)) if had_ref => {
                if !same
                    && let Err(e) = cx
                        .api
                        .patch(&format!("labels/{id}"), &json!({"title": title.title}))
                        .await
                {
                    if is_record_error(&e) {
                        out.push(refused(&tag.key, &e));
                        continue;
                    }
                    return Err(e.into());
                }
                LoadResult::updated(tag.key.clone(), id.to_string())
            }
            Some((id, true, _)) => LoadResult::loaded(tag.key.clone(), id.to_string()),
            Some((id, false, _)) => current(&tag.key, id.to_string()),
            None => {
                let body = json!({"title": title.title, "description": provenance(&tag.key), "show_on_sidebar": true});
                match cx.api.post("labels", &body).await {
                    Ok(v) => {
                        let id = id_of(&v).ok_or_else(|| {
                            ApiError::Protocol("a created label without an id".into())
                        })?;
                        rows.push(v);
                        LoadResult::loaded(tag.key.clone(), id.to_string())
                    }
                    Err(e) if is_record_error(&e) => {
                        out.push(refused(&tag.key, &e));
                        continue;
                    }
                    Err(e) => return Err(e.into()),
                }
            }
        };
        out.push(match title.problem {
            Some(p) => result.with_problem(p),
            None => result,
        });
    }
    session.labels = None;
    Ok(out)
}

/// The provenance label (created once when absent; never removed: it may be shared).
pub(crate) async fn ensure_label(
    cx: &Cx<'_>,
    session: &mut Session,
    title: &str,
) -> Result<(), ApiError> {
    if session.labels.is_none() {
        let rows = list(&cx.api.get("labels").await?);
        session.labels = Some(
            rows.iter()
                .filter_map(|v| Some((v["title"].as_str()?.to_lowercase(), id_of(v)?)))
                .collect(),
        );
    }
    let labels = session.labels.get_or_insert_default();
    if labels.contains_key(&title.to_lowercase()) {
        return Ok(());
    }
    let body = json!({"title": title, "description": "Conversations imported by deskmove", "show_on_sidebar": true});
    let v = cx.api.post("labels", &body).await?;
    if let Some(id) = id_of(&v) {
        labels.insert(title.to_lowercase(), id);
    }
    Ok(())
}

fn display_type(t: i32) -> &'static str {
    match t {
        1 => "number",
        5 => "date",
        6 => "list",
        7 => "checkbox",
        _ => "text",
    }
}

/// Custom attribute definitions by type; company attributes become contact attributes
/// (community Chatwoot has no companies).
pub(crate) async fn attribute_definitions(
    cx: &Cx<'_>,
    _session: &mut Session,
    records: &[Record],
    refs: &impl Resolve,
) -> Result<Vec<LoadResult>, ApiError> {
    let mut rows = list(&cx.api.get("custom_attribute_definitions").await?);
    let mut out = Vec::new();
    for r in records {
        let Record::AttributeDefinition(d) = r else {
            continue;
        };
        let mut row = map::attribute_definition(d);
        row.display_type = cx.options.mapping.attribute_display_type(d);
        let model = if d.model == AttributeModel::Conversation {
            "conversation_attribute"
        } else {
            "contact_attribute"
        };
        let had_ref = refs.target_ref(&d.key).is_some();
        let found = find(
            &rows,
            ref_id(refs, &d.key),
            |v| {
                v["attribute_key"].as_str() == Some(&row.key)
                    && v["attribute_model"].as_str() == Some(model)
            },
            "attribute_description",
            &d.key,
        )
        .and_then(|(v, ours)| Some((id_of(v)?, ours)));
        let description = match &row.description {
            Some(text) => format!("{text} — {}", provenance(&d.key)),
            None => provenance(&d.key),
        };
        let body = json!({
            "attribute_display_name": row.display_name,
            "attribute_display_type": display_type(row.display_type),
            "attribute_key": row.key,
            "attribute_model": model,
            "attribute_description": description,
            "attribute_values": row.values,
        });
        let result = match found {
            Some((id, _)) if had_ref => match cx
                .api
                .patch(&format!("custom_attribute_definitions/{id}"), &body)
                .await
            {
                Ok(_) => LoadResult::updated(d.key.clone(), id.to_string()),
                Err(e) if is_record_error(&e) => refused(&d.key, &e),
                Err(e) => return Err(e.into()),
            },
            Some((id, true)) => LoadResult::loaded(d.key.clone(), id.to_string()),
            Some((id, false)) => current(&d.key, id.to_string()),
            None => match cx.api.post("custom_attribute_definitions", &body).await {
                Ok(v) => {
                    let id = id_of(&v).ok_or_else(|| {
                        ApiError::Protocol("a created definition without an id".into())
                    })?;
                    rows.push(v);
                    LoadResult::loaded(d.key.clone(), id.to_string())
                }
                Err(e) if is_record_error(&e) => refused(&d.key, &e),
                Err(e) => return Err(e.into()),
            },
        };
        let result = if d.archived {
            result.with_problem(problem(
                &d.key,
                ErrorKind::Validation,
                "attribute_archived",
                "The attribute is archived in the source; Chatwoot has no archived attributes, so it is listed like the others.",
            ))
        } else {
            result
        };
        out.push(result);
    }
    Ok(out)
}

/// Macros → canned responses (placeholders translated to Chatwoot's Liquid drops).
pub(crate) async fn canned_responses(
    cx: &Cx<'_>,
    _session: &mut Session,
    records: &[Record],
    refs: &impl Resolve,
) -> Result<Vec<LoadResult>, ApiError> {
    let mut rows = list(&cx.api.get("canned_responses").await?);
    let mut out = Vec::new();
    for r in records {
        let Record::Macro(m) = r else { continue };
        let row = map::canned_response(m);
        if row.content.trim().is_empty() || row.short_code.is_empty() {
            out.push(LoadResult::skipped(problem(
                &m.key,
                ErrorKind::Validation,
                "empty_macro",
                "The macro has no name or no text; Chatwoot needs both for a canned response.",
            )));
            continue;
        }
        let by_ref = refs.target_ref(&m.key).and_then(|r| leading_id(&r.id));
        let found = rows
            .iter()
            .find(|v| by_ref.is_some() && id_of(v) == by_ref)
            .or_else(|| {
                rows.iter()
                    .find(|v| v["short_code"].as_str() == Some(&row.short_code))
            })
            .and_then(|v| Some((id_of(v)?, v["content"].as_str() == Some(&row.content))));
        let body = json!({"short_code": row.short_code, "content": row.content});
        let result = match found {
            Some((id, _)) if by_ref == Some(id) => {
                match cx.api.patch(&format!("canned_responses/{id}"), &body).await {
                    Ok(_) => LoadResult::updated(m.key.clone(), id.to_string()),
                    Err(e) if is_record_error(&e) => refused(&m.key, &e),
                    Err(e) => return Err(e.into()),
                }
            }
            // Same short code and text: what a crashed attempt wrote, or an identical one.
            Some((id, true)) => LoadResult::loaded(m.key.clone(), id.to_string()),
            Some((id, false)) => current(&m.key, id.to_string()).with_problem(problem(
                &m.key,
                ErrorKind::Conflict,
                "canned_response_exists",
                format!(
                    "A canned response `{}` already exists with other text; it was left as it is.",
                    row.short_code
                ),
            )),
            None => match cx.api.post("canned_responses", &body).await {
                Ok(v) => {
                    let id = id_of(&v).ok_or_else(|| {
                        ApiError::Protocol("a created canned response without an id".into())
                    })?;
                    rows.push(v);
                    LoadResult::loaded(m.key.clone(), id.to_string())
                }
                Err(e) if is_record_error(&e) => refused(&m.key, &e),
                Err(e) => return Err(e.into()),
            },
        };
        out.push(result);
    }
    Ok(out)
}
