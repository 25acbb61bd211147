//! Rollback: deletes what the ledger says a run created (`loaded` entries only, so contacts,
//! companies and tags that were there before, matched as `skipped`, are never handed over).
//! Conversations take their parts along (Intercom deletes no single part), so messages and
//! files answer removed with them; a data attribute cannot be deleted and is archived. What is
//! already gone counts as removed.

use deskmove_core::connector::LoadResult;
use deskmove_core::{Classify, RecordKind, TargetRef};
use serde_json::json;

use super::api::{Api, is_record_error, said};
use super::session::Session;
use super::{TargetError, problem};

pub(crate) async fn remove(
    api: &Api,
    session: &mut Session,
    created: &[TargetRef],
) -> Result<Vec<LoadResult>, TargetError> {
    // What this process remembered of the workspace is no longer true.
    *session = Session::default();
    let mut out = Vec::new();
    for r in created {
        let path = match r.key.kind {
            // Parts go with their conversation, removed after them (reverse load order).
            RecordKind::Message | RecordKind::Attachment | RecordKind::Agent => None,
            RecordKind::Conversation => Some(format!("conversations/{}", r.id)),
            RecordKind::Contact => Some(format!("contacts/{}", r.id)),
            RecordKind::Company => Some(format!("companies/{}", r.id)),
            RecordKind::Tag => Some(format!("tags/{}", r.id)),
            RecordKind::AttributeDefinition => {
                let archived = match r.id.strip_prefix("conversation:") {
                    Some(id) => {
                        api.put(
                            &format!("conversations/attributes/{id}"),
                            &json!({"archived": true}),
                        )
                        .await
                    }
                    None => {
                        api.put(
                            &format!("data_attributes/{}", r.id),
                            &json!({"archived": true}),
                        )
                        .await
                    }
                };
                match archived {
                    Ok(_) => out.push(LoadResult::loaded(r.key.clone(), r.id.clone())),
                    Err(e) if super::api::gone(&e) => {
                        out.push(LoadResult::loaded(r.key.clone(), r.id.clone()))
                    }
                    Err(e) if is_record_error(&e) => out.push(LoadResult::failed(problem(
                        &r.key,
                        e.kind(),
                        "archive_refused",
                        said(&e),
                    ))),
                    Err(e) => return Err(e.into()),
                }
                continue;
            }
            _ => None,
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
