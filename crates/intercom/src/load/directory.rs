//! Agents, tags, data attributes and companies (../shared/research/intercom-api.md §7).
//!
//! Agents are matched to admins by email, never invited (an invitation emails the person).
//! Tags are created by name; one already there is matched and never removed. Data attributes
//! are created by type (contact and company models through `/data_attributes`, conversation
//! ones through `/conversations/attributes`). Companies are upserted on `company_id` (the
//! source's own id, else the source key) with `remote_created_at` = the original creation time;
//! one that was there before deskmove is matched and left unchanged.

use deskmove_core::connector::{LoadResult, Resolve};
use deskmove_core::model::{AttributeModel, AttributeType, Company};
use deskmove_core::{ErrorKind, Record, SourceKey};
use serde_json::{Map, Value, json};

use super::api::{id_of, is_record_error, marker_of};
use super::session::Session;
use super::{Cx, MARKER_ATTRIBUTE, TargetError, current, marker, problem, refused};

pub(crate) async fn agents(
    cx: &Cx<'_>,
    session: &mut Session,
    records: &[Record],
) -> Result<Vec<LoadResult>, TargetError> {
    let admins = session.admins(cx).await?.clone();
    let mut out = Vec::new();
    for r in records {
        let Record::Agent(a) = r else { continue };
        let found = a
            .email
            .as_deref()
            .and_then(|e| cx.options.mapping.admin_email(e))
            .and_then(|e| admins.by_email.get(&e).cloned());
        out.push(match found {
            Some(id) => current(&a.key, id),
            None => LoadResult::skipped(problem(
                &a.key,
                ErrorKind::NotFound,
                if a.active {
                    "agent_not_matched"
                } else {
                    "agent_departed"
                },
                format!(
                    "No teammate of the workspace has the email {}; this agent's messages are written by the fallback admin, who is named with the true author in each part's first line.",
                    a.email.as_deref().unwrap_or("(none)")
                ),
            )),
        });
    }
    Ok(out)
}

pub(crate) async fn tags(
    cx: &Cx<'_>,
    session: &mut Session,
    records: &[Record],
    refs: &impl Resolve,
) -> Result<Vec<LoadResult>, TargetError> {
    let mut out = Vec::new();
    for r in records {
        let Record::Tag(tag) = r else { continue };
        let name = tag.name.trim().to_owned();
        let known = session
            .tags(cx.api)
            .await?
            .get(&name.to_lowercase())
            .cloned();
        let had = refs.target_ref(&tag.key).map(|r| r.id);
        let result = match (had, known) {
            (Some(mine), Some(id)) if mine == id => current(&tag.key, id),
            // Renamed at the source: Intercom renames with `{id, name}`.
            (Some(mine), None) => {
                match cx
                    .api
                    .post("tags", &json!({"id": mine, "name": name}))
                    .await
                {
                    Ok(v) => {
                        let id = id_of(&v).unwrap_or(mine);
                        session.remember_tag(cx.api, &name, &id).await?;
                        LoadResult::updated(tag.key.clone(), id)
                    }
                    // Gone (rolled back, deleted by hand): create it again below.
                    Err(e) if is_record_error(&e) => {
                        create_tag(cx, session, &tag.key, &name).await?
                    }
                    Err(e) => return Err(e.into()),
                }
            }
            // There before (or made by an attempt whose ledger entry was lost): matched.
            (_, Some(id)) => current(&tag.key, id),
            (None, None) => create_tag(cx, session, &tag.key, &name).await?,
        };
        out.push(result);
    }
    Ok(out)
}

async fn create_tag(
    cx: &Cx<'_>,
    session: &mut Session,
    key: &SourceKey,
    name: &str,
) -> Result<LoadResult, TargetError> {
    match cx.api.post("tags", &json!({"name": name})).await {
        Ok(v) => {
            let id = id_of(&v)
                .ok_or_else(|| TargetError::Protocol("a created tag without an id".into()))?;
            session.remember_tag(cx.api, name, &id).await?;
            Ok(LoadResult::loaded(key.clone(), id))
        }
        Err(e) if is_record_error(&e) => Ok(refused(key, &e)),
        Err(e) => Err(e.into()),
    }
}

/// Intercom's data type for a canonical one (`create_data_attribute_request`).
fn data_type(t: AttributeType, conversation: bool) -> &'static str {
    match (t, conversation) {
        (AttributeType::String, _) => "string",
        (AttributeType::Integer, _) => "integer",
        (AttributeType::Float, false) => "float",
        (AttributeType::Float, true) => "decimal",
        (AttributeType::Boolean, _) => "boolean",
        (AttributeType::Date, _) => "datetime",
        (AttributeType::List, false) => "options",
        (AttributeType::List, true) => "list",
    }
}

/// Intercom's attribute names take letters, digits, spaces, hyphens and underscores.
pub(crate) fn attribute_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_alphanumeric() || matches!(c, ' ' | '-' | '_') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

pub(crate) async fn attributes(
    cx: &Cx<'_>,
    _session: &mut Session,
    records: &[Record],
    refs: &impl Resolve,
) -> Result<Vec<LoadResult>, TargetError> {
    let mut listed: std::collections::HashMap<&'static str, Vec<Value>> = Default::default();
    let mut out = Vec::new();
    for r in records {
        let Record::AttributeDefinition(d) = r else {
            continue;
        };
        let (model, list_path, create_path) = match d.model {
            // Archived ones too: Intercom keeps their names taken.
            AttributeModel::Contact => (
                "contact",
                "data_attributes?model=contact&include_archived=true",
                "data_attributes",
            ),
            AttributeModel::Company => (
                "company",
                "data_attributes?model=company&include_archived=true",
                "data_attributes",
            ),
            AttributeModel::Conversation => (
                "conversation",
                "conversations/attributes?include_archived=true",
                "conversations/attributes",
            ),
        };
        if !listed.contains_key(model) {
            let v = cx.api.get(list_path).await?;
            listed.insert(model, v["data"].as_array().cloned().unwrap_or_default());
        }
        let name = attribute_name(&d.name);
        let existing = listed[model]
            .iter()
            .find(|a| {
                a["name"]
                    .as_str()
                    .is_some_and(|n| n.eq_ignore_ascii_case(&name))
            })
            .and_then(id_of);
        let mine = refs.target_ref(&d.key).map(|r| r.id);
        let result = match existing {
            Some(id) if mine.as_deref() == Some(id.as_str()) => current(&d.key, id),
            // There before: matched (Intercom keys attributes by name).
            Some(id) => current(&d.key, id),
            None => {
                let conversation = d.model == AttributeModel::Conversation;
                let mut body = json!({
                    "name": name,
                    "data_type": data_type(d.data_type, conversation),
                });
                if !conversation {
                    body["model"] = json!(model);
                }
                if let Some(desc) = d.description.as_ref().or(d.label.as_ref()) {
                    body["description"] = json!(desc);
                }
                if d.data_type == AttributeType::List {
                    body["options"] = if conversation {
                        json!(
                            d.options
                                .iter()
                                .map(|o| json!({"label": o}))
                                .collect::<Vec<_>>()
                        )
                    } else {
                        json!(
                            d.options
                                .iter()
                                .map(|o| json!({"value": o}))
                                .collect::<Vec<_>>()
                        )
                    };
                }
                match cx.api.post(create_path, &body).await {
                    Ok(v) => {
                        let id = id_of(&v).ok_or_else(|| {
                            TargetError::Protocol("a created data attribute without an id".into())
                        })?;
                        if let Some(l) = listed.get_mut(model) {
                            l.push(v);
                        }
                        // Conversation attributes are addressed by their route's own ids.
                        let id = if conversation {
                            format!("conversation:{id}")
                        } else {
                            id
                        };
                        LoadResult::loaded(d.key.clone(), id)
                    }
                    Err(e) if is_record_error(&e) => refused(&d.key, &e),
                    Err(e) => return Err(e.into()),
                }
            }
        };
        out.push(result);
    }
    Ok(out)
}

/// `company_id`: the customer's own id, else the source key.
pub(crate) fn company_id(c: &Company) -> String {
    c.external_id
        .clone()
        .filter(|x| !x.trim().is_empty())
        .unwrap_or_else(|| marker(&c.key))
}

fn company_body(c: &Company) -> Value {
    let mut attrs: Map<String, Value> = c
        .attributes
        .iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| (attribute_name(k), v.clone()))
        .collect();
    attrs.insert(MARKER_ATTRIBUTE.into(), json!(marker(&c.key)));
    let mut body = json!({
        "company_id": company_id(c),
        "remote_created_at": c.created_at.as_second(),
        "custom_attributes": attrs,
    });
    if let Some(n) = &c.name {
        body["name"] = json!(n);
    }
    if let Some(w) = &c.website {
        body["website"] = json!(w);
    }
    if let Some(i) = &c.industry {
        body["industry"] = json!(i);
    }
    if let Some(s) = c.size {
        body["size"] = json!(s);
    }
    body
}

pub(crate) async fn companies(
    cx: &Cx<'_>,
    session: &mut Session,
    records: &[Record],
    refs: &impl Resolve,
) -> Result<Vec<LoadResult>, TargetError> {
    session.marker_attribute(cx.api, "company").await?;
    let mut out = Vec::new();
    for r in records {
        let Record::Company(c) = r else { continue };
        let mine = refs.target_ref(&c.key).map(|r| r.id);
        let cid = company_id(c);
        let before = if mine.is_some() {
            None
        } else {
            let path = format!("companies?company_id={}", urlencode(&cid));
            cx.api
                .find(&path)
                .await?
                .and_then(|v| v["data"].get(0).cloned().or(Some(v)))
                .filter(|v| id_of(v).is_some())
        };
        if let Some(existing) = &before
            && marker_of(existing) != Some(marker(&c.key).as_str())
        {
            // There before deskmove: matched and left as it is.
            out.push(current(&c.key, id_of(existing).unwrap_or_default()).with_problem(
                problem(
                    &c.key,
                    ErrorKind::Conflict,
                    "company_matched",
                    format!("A company with company_id {cid} was already in the workspace; it was matched and left unchanged."),
                ),
            ));
            continue;
        }
        let result = match cx.api.post("companies", &company_body(c)).await {
            Ok(v) => {
                let id = id_of(&v).ok_or_else(|| {
                    TargetError::Protocol("an upserted company without an id".into())
                })?;
                match mine {
                    Some(_) => LoadResult::updated(c.key.clone(), id),
                    None => LoadResult::loaded(c.key.clone(), id),
                }
            }
            Err(e) if is_record_error(&e) => refused(&c.key, &e),
            Err(e) => return Err(e.into()),
        };
        // Tags on the company: `POST /tags {name, companies: [{id}]}`.
        if let Some(id) = result.target_id.clone() {
            let names = tag_names(cx, session, &c.tags, refs).await?;
            for name in names {
                if let Err(e) = cx
                    .api
                    .post("tags", &json!({"name": name, "companies": [{"id": id}]}))
                    .await
                    && !is_record_error(&e)
                {
                    return Err(e.into());
                }
            }
        }
        out.push(result);
    }
    Ok(out)
}

/// The Intercom names of the tags `keys` name that are in the workspace.
pub(crate) async fn tag_names(
    cx: &Cx<'_>,
    session: &mut Session,
    keys: &[SourceKey],
    refs: &impl Resolve,
) -> Result<Vec<String>, TargetError> {
    let ids: Vec<String> = keys
        .iter()
        .filter_map(|k| refs.target_ref(k).map(|r| r.id))
        .collect();
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    session.tags(cx.api).await?;
    Ok(ids
        .iter()
        .filter_map(|id| session.tag_names.get(id).cloned())
        .collect())
}

/// Percent-encodes a query value.
pub(crate) fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
