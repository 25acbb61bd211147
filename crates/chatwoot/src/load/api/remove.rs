//! Rollback: deletes what the ledger says this path created. Messages are deleted the way
//! Chatwoot deletes them (the text becomes "This message was deleted", files go); their
//! conversations, removed after them, take them along. What is already gone counts as removed
//! and is not deleted again (a second rollback writes nothing): existence is read first.

use std::collections::{HashMap, HashSet};

use deskmove_core::connector::LoadResult;
use deskmove_core::{Classify, ErrorKind, RecordKind, TargetRef};
use serde_json::Value;

use super::client::{Api, conversation_messages, id_of, is_record_error, list, said};
use super::session::Session;
use super::{ApiError, leading_id, problem};

/// What still exists, read once per call.
#[derive(Default)]
struct Existing {
    lists: HashMap<&'static str, HashSet<u64>>,
    /// Display id → live (not deleted) message ids; `None`: the conversation is gone.
    messages: HashMap<u64, Option<HashSet<u64>>>,
}

impl Existing {
    async fn listed(&mut self, api: &Api, route: &'static str, id: u64) -> Result<bool, ApiError> {
        if !self.lists.contains_key(route) {
            let ids = list(&api.get(route).await?)
                .iter()
                .filter_map(id_of)
                .collect();
            self.lists.insert(route, ids);
        }
        Ok(self.lists.get(route).is_some_and(|s| s.contains(&id)))
    }

    async fn message(&mut self, api: &Api, display: u64, id: u64) -> Result<bool, ApiError> {
        if let std::collections::hash_map::Entry::Vacant(e) = self.messages.entry(display) {
            let live = conversation_messages(api, display).await?.map(|all| {
                all.iter()
                    .filter(|m| {
                        m.pointer("/content_attributes/deleted") != Some(&Value::Bool(true))
                    })
                    .filter_map(id_of)
                    .collect()
            });
            e.insert(live);
        }
        Ok(self
            .messages
            .get(&display)
            .and_then(Option::as_ref)
            .is_some_and(|s| s.contains(&id)))
    }
}

async fn exists(api: &Api, rest: &str) -> Result<bool, ApiError> {
    match api.get(rest).await {
        Ok(_) => Ok(true),
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(false),
        Err(e) => Err(e.into()),
    }
}

pub(crate) async fn remove(
    api: &Api,
    session: &mut Session,
    created: &[TargetRef],
) -> Result<Vec<LoadResult>, ApiError> {
    // What this process remembered of the account is no longer true.
    *session = Session::default();
    let mut existing = Existing::default();
    let mut out = Vec::new();
    for r in created {
        let id = leading_id(&r.id).unwrap_or(0);
        let path = match r.key.kind {
            RecordKind::Message | RecordKind::Attachment => {
                match r
                    .id
                    .split_once('/')
                    .and_then(|(d, m)| Some((d.parse().ok()?, leading_id(m)?)))
                {
                    Some((d, m)) if existing.message(api, d, m).await? => {
                        // Several files share one message: delete it once.
                        if let Some(Some(live)) = existing.messages.get_mut(&d) {
                            live.remove(&m);
                        }
                        Some(format!("conversations/{d}/messages/{m}"))
                    }
                    _ => None,
                }
            }
            RecordKind::Conversation => {
                let rest = format!("conversations/{id}");
                exists(api, &rest).await?.then_some(rest)
            }
            RecordKind::Contact => {
                let rest = format!("contacts/{id}");
                exists(api, &rest).await?.then_some(rest)
            }
            kind => {
                let route = match kind {
                    RecordKind::Tag => "labels",
                    RecordKind::Team => "teams",
                    RecordKind::AttributeDefinition => "custom_attribute_definitions",
                    RecordKind::Macro => "canned_responses",
                    // Agents are matched, never created: nothing to remove.
                    _ => "",
                };
                if !route.is_empty() && existing.listed(api, route, id).await? {
                    if let Some(ids) = existing.lists.get_mut(route) {
                        ids.remove(&id);
                    }
                    Some(format!("{route}/{id}"))
                } else {
                    None
                }
            }
        };
        if let Some(path) = path {
            match api.delete(&path).await {
                Ok(()) => {}
                Err(e) if is_record_error(&e) => {
                    out.push(LoadResult::failed(problem(
                        &r.key,
                        e.kind(),
                        "remove_refused",
                        said(&e),
                    )));
                    continue;
                }
                Err(e) => return Err(e.into()),
            }
        }
        out.push(LoadResult::loaded(r.key.clone(), r.id.clone()));
    }
    Ok(out)
}
