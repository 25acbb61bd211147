//! `run --only labels|states` on the API path: one aspect of conversations already in Chatwoot
//! written again under the current mapping, and nothing else (no message, no attribute). Each
//! conversation is read first and written only where it differs, so a second re-sync writes
//! nothing.

use deskmove_core::connector::{Aspect, LoadResult, Resolve};
use deskmove_core::model::{Conversation, Record};
use deskmove_core::{Classify, ErrorKind};
use futures::StreamExt;
use serde_json::{Value, json};

use super::client::is_record_error;
use super::contacts::{label_titles, list_labels};
use super::conversations::{finish, finishing, standing};
use super::directory::ensure_label;
use super::session::Session;
use super::{ApiError, Cx, current, problem, ref_id, refused};

pub(crate) async fn resync(
    cx: &Cx<'_>,
    session: &mut Session,
    aspect: Aspect,
    records: &[Record],
    refs: &impl Resolve,
) -> Result<Vec<LoadResult>, ApiError> {
    let conversations: Vec<&Conversation> = records
        .iter()
        .filter_map(|r| match r {
            Record::Conversation(c) => Some(c),
            _ => None,
        })
        .collect();
    if aspect == Aspect::Labels {
        list_labels(cx, session).await?;
        for c in &conversations {
            if let Some(p) = cx.options.mapping.provenance(&c.key.system) {
                ensure_label(cx, session, &p).await?;
            }
        }
    }
    let view: &Session = session;
    // Futures built first (not in a stream's closure): they must be Send for any lifetime.
    let work: Vec<_> = conversations
        .into_iter()
        .map(|c| one(cx, view, aspect, c, refs))
        .collect();
    let done: Vec<Result<LoadResult, ApiError>> = futures::stream::iter(work)
        .buffer_unordered(cx.options.concurrency.max(1))
        .collect()
        .await;
    let mut out = Vec::with_capacity(records.len());
    for r in records
        .iter()
        .filter(|r| !matches!(r, Record::Conversation(_)))
    {
        out.push(LoadResult::skipped(problem(
            r.key(),
            ErrorKind::Validation,
            "not_resyncable",
            format!("Only conversations have {aspect} to re-sync."),
        )));
    }
    for r in done {
        out.push(r?);
    }
    Ok(out)
}

/// One conversation: read, compared, written when it differs.
async fn one(
    cx: &Cx<'_>,
    session: &Session,
    aspect: Aspect,
    c: &Conversation,
    refs: &impl Resolve,
) -> Result<LoadResult, ApiError> {
    let Some(display) = ref_id(refs, &c.key) else {
        return Ok(LoadResult::skipped(problem(
            &c.key,
            ErrorKind::NotFound,
            "not_in_target",
            "The conversation is not in Chatwoot yet; a plain `deskmove run` loads it.",
        )));
    };
    let v = match cx.api.get(&format!("conversations/{display}")).await {
        Ok(v) => v,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return Ok(LoadResult::failed(problem(
                &c.key,
                ErrorKind::NotFound,
                "gone_from_target",
                format!(
                    "Conversation {display} is no longer in Chatwoot; a plain `deskmove run` writes it again."
                ),
            )));
        }
        Err(e) => return Err(e.into()),
    };
    let written = match aspect {
        Aspect::Labels => labels(cx, session, c, display, &v, refs).await,
        Aspect::States => state(cx, c, display, &v, refs).await,
    };
    match written {
        Ok(true) => Ok(LoadResult::updated(c.key.clone(), display.to_string())),
        Ok(false) => Ok(current(&c.key, display.to_string())),
        Err(ApiError::Http(e)) if is_record_error(&e) => Ok(refused(&c.key, &e)),
        Err(e) => Err(e),
    }
}

/// The labels the tags and the provenance label give under the current mapping, set when they
/// differ from Chatwoot's (`POST labels` sets the whole list: research/chatwoot.md §2.5).
async fn labels(
    cx: &Cx<'_>,
    session: &Session,
    c: &Conversation,
    display: u64,
    v: &Value,
    refs: &impl Resolve,
) -> Result<bool, ApiError> {
    let mut want = label_titles(session, &c.tags, refs);
    if let Some(p) = cx.options.mapping.provenance(&c.key.system) {
        want.push(p.to_lowercase());
    }
    want.sort();
    want.dedup();
    let mut have: Vec<String> = v["labels"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|l| l.as_str().map(str::to_lowercase))
                .collect()
        })
        .unwrap_or_default();
    have.sort();
    if have == want {
        return Ok(false);
    }
    cx.api
        .post(
            &format!("conversations/{display}/labels"),
            &json!({"labels": want}),
        )
        .await?;
    Ok(true)
}

/// The final state under the current mapping, given by [`finish`] (assigned while pending, so
/// nobody is notified) when status, snooze or assignee differ.
async fn state(
    cx: &Cx<'_>,
    c: &Conversation,
    display: u64,
    v: &Value,
    refs: &impl Resolve,
) -> Result<bool, ApiError> {
    let f = finishing(cx, c, refs);
    let mut now = standing(v);
    let differs = f.assignee != now.assignee
        || f.status != now.status
        || (f.status == "snoozed" && f.snoozed_until != now.snoozed_until);
    if !differs {
        return Ok(false);
    }
    finish(cx, display, &f, &mut now, false).await?;
    Ok(true)
}
