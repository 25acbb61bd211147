//! What one process has learnt about the workspace while loading: the admins, the tags, which
//! marker attributes exist, the conversations it found or created by marker, and the parts of
//! the conversations it looked at or wrote (so a retried batch claims them instead of writing
//! them again).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};

use deskmove_core::connector::LoadResult;
use serde_json::Value;

use super::api::{Api, id_of};
use super::{Cx, TargetError};

/// The workspace's admins.
#[derive(Debug, Clone, Default)]
pub(crate) struct Admins {
    /// Lower-cased email → admin id.
    pub by_email: HashMap<String, String>,
    /// Admin id → display name.
    pub names: HashMap<String, String>,
    /// Who writes for authors nobody matches.
    pub fallback: String,
}

/// One part of a conversation as Intercom holds it (the first message included).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Part {
    pub id: String,
    pub created_at: i64,
    /// `admin`, `user`, `lead`, `contact`, `bot`, `team`.
    pub author_type: String,
    pub author_id: String,
    /// `comment`, `note`, `close`, `assignment`, ... (`source` for the first message).
    pub part_type: String,
    /// File names on it.
    pub files: Vec<String>,
}

/// A conversation as this process knows it.
#[derive(Debug, Clone, Default)]
pub(crate) struct Thread {
    pub contact_id: String,
    pub state: String,
    pub admin_assignee: String,
    pub tags: HashSet<String>,
    pub parts: Vec<Part>,
    /// Parts already answered for in this process (a second message of the same time and
    /// author must not take the first one's part).
    pub claimed: HashSet<String>,
}

impl Thread {
    /// Reads `GET /conversations/{id}`.
    pub(crate) fn from_json(v: &Value) -> Self {
        let contact_id = v
            .pointer("/contacts/contacts/0/id")
            .and_then(Value::as_str)
            .or_else(|| v.pointer("/source/author/id").and_then(Value::as_str))
            .unwrap_or_default()
            .to_owned();
        let mut parts = Vec::new();
        if let Some(source) = v.get("source").filter(|s| s.is_object()) {
            parts.push(part(
                source,
                "source",
                v["created_at"].as_i64().unwrap_or_default(),
            ));
        }
        for p in v
            .pointer("/conversation_parts/conversation_parts")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let kind = p["part_type"].as_str().unwrap_or_default();
            parts.push(part(p, kind, p["created_at"].as_i64().unwrap_or_default()));
        }
        let tags = v
            .pointer("/tags/tags")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(id_of)
            .collect();
        Self {
            contact_id,
            state: v["state"].as_str().unwrap_or("open").to_owned(),
            admin_assignee: match &v["admin_assignee_id"] {
                Value::Number(n) => n.to_string(),
                Value::String(s) => s.clone(),
                _ => "0".into(),
            },
            tags,
            parts,
            claimed: HashSet::new(),
        }
    }

    /// The first unclaimed part written at `created_at` by `author_id` of a type in `types`,
    /// carrying `files` (every one of them; no file at all when empty; anything when `None`);
    /// claimed on return.
    pub(crate) fn claim(
        &mut self,
        created_at: i64,
        author_id: &str,
        types: &[&str],
        files: Option<&[String]>,
    ) -> Option<String> {
        let found = self.parts.iter().find(|p| {
            p.created_at == created_at
                && p.author_id == author_id
                && types.contains(&p.part_type.as_str())
                && !self.claimed.contains(&p.id)
                && files.is_none_or(|f| {
                    if f.is_empty() {
                        p.files.is_empty()
                    } else {
                        f.iter().all(|n| p.files.contains(n))
                    }
                })
        })?;
        let id = found.id.clone();
        self.claimed.insert(id.clone());
        Some(id)
    }

    /// A part this process just wrote.
    pub(crate) fn wrote(&mut self, p: Part) {
        self.claimed.insert(p.id.clone());
        self.parts.push(p);
    }
}

fn part(p: &Value, kind: &str, created_at: i64) -> Part {
    Part {
        id: id_of(p).unwrap_or_default(),
        created_at,
        author_type: p
            .pointer("/author/type")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        author_id: p
            .pointer("/author/id")
            .map(|x| match x {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            })
            .unwrap_or_default(),
        part_type: kind.to_owned(),
        files: p["attachments"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|a| a["name"].as_str().map(str::to_owned))
            .collect(),
    }
}

/// Runs `work` on each group with a [`Session::fork`] of its own, [`LANES`] at a time, and joins
/// every fork back, finished or failed, so what a lane created is never forgotten (a retried
/// batch must find it). After a call-level error no further group starts; the first error is
/// returned.
pub(crate) async fn side_by_side<G, F, Fut>(
    session: &mut Session,
    groups: Vec<(Vec<String>, Vec<String>, G)>,
    work: F,
) -> Result<Vec<LoadResult>, TargetError>
where
    F: Fn(G, Session) -> Fut,
    Fut: Future<Output = (Session, Result<Vec<LoadResult>, TargetError>)>,
{
    use futures::StreamExt as _;
    let forks: Vec<(Session, G)> = groups
        .into_iter()
        .map(|(ids, markers, g)| (session.fork(&ids, &markers), g))
        .collect();
    let stop = AtomicBool::new(false);
    let (stop, work) = (&stop, &work);
    let mut lanes = futures::stream::iter(forks)
        .map(|(sub, g)| async move {
            if stop.load(Ordering::Relaxed) {
                return (sub, Ok(Vec::new()));
            }
            let (sub, r) = work(g, sub).await;
            if r.is_err() {
                stop.store(true, Ordering::Relaxed);
            }
            (sub, r)
        })
        .buffer_unordered(LANES);
    let mut out = Vec::new();
    let mut failed = None;
    while let Some((sub, r)) = lanes.next().await {
        session.join(sub);
        match r {
            Ok(v) => out.extend(v),
            Err(e) if failed.is_none() => failed = Some(e),
            Err(_) => {}
        }
    }
    failed.map_or(Ok(out), Err)
}

/// The session's caches.
#[derive(Debug, Default)]
pub(crate) struct Session {
    pub admins: Option<Admins>,
    /// Lower-cased tag name → id, once listed.
    pub tags: Option<HashMap<String, String>>,
    /// Tag id → its name as Intercom holds it.
    pub tag_names: HashMap<String, String>,
    /// Models (`contact`, `company`, `conversation`) whose marker attribute is known to exist.
    pub markers: HashSet<&'static str>,
    /// Source systems whose marked conversations were listed.
    pub swept: HashSet<String>,
    /// Conversation marker → conversation id, found or created.
    pub conversations: HashMap<String, String>,
    /// Conversation id → what it holds.
    pub threads: HashMap<String, Thread>,
    /// Contacts this process created: no earlier attempt can have left a conversation of theirs.
    pub created_contacts: HashSet<String>,
}

/// Conversations written side by side within one load call: each lane writes one
/// conversation's parts in order, so a lane never waits on another's round trips.
pub(crate) const LANES: usize = 16;

impl Session {
    /// A session for work on conversations `ids` (Intercom ids) and `markers` alone, beside
    /// others: the shared caches copied, those conversations moved in. [`join`](Self::join)
    /// puts them back.
    pub(crate) fn fork(&mut self, ids: &[String], markers: &[String]) -> Session {
        let mut sub = Session {
            admins: self.admins.clone(),
            tags: self.tags.clone(),
            tag_names: HashMap::new(),
            markers: self.markers.clone(),
            swept: self.swept.clone(),
            conversations: HashMap::new(),
            threads: HashMap::new(),
            // Read before the fork (`conversations::threads`), never by a lane.
            created_contacts: HashSet::new(),
        };
        for m in markers {
            if let Some((m, id)) = self.conversations.remove_entry(m) {
                if let Some(t) = self.threads.remove(&id) {
                    sub.threads.insert(id.clone(), t);
                }
                sub.conversations.insert(m, id);
            }
        }
        for id in ids {
            if let Some((id, t)) = self.threads.remove_entry(id) {
                sub.threads.insert(id, t);
            }
        }
        sub
    }

    /// Takes back what a [`fork`](Self::fork) learnt and wrote.
    pub(crate) fn join(&mut self, sub: Session) {
        self.conversations.extend(sub.conversations);
        self.threads.extend(sub.threads);
        self.markers.extend(sub.markers);
        self.swept.extend(sub.swept);
        if self.admins.is_none() {
            self.admins = sub.admins;
        }
    }

    /// A new load call: parts answered for by an attempt that did not commit may be claimed
    /// again (the engine retries a batch whose answer was lost).
    pub(crate) fn new_call(&mut self) {
        for t in self.threads.values_mut() {
            t.claimed.clear();
        }
    }

    /// The admins, listed once.
    pub(crate) async fn admins(&mut self, cx: &Cx<'_>) -> Result<&Admins, TargetError> {
        if self.admins.is_none() {
            let list = cx.api.get("admins").await?;
            let mut admins = Admins::default();
            for a in list["admins"].as_array().into_iter().flatten() {
                let Some(id) = id_of(a) else { continue };
                if let Some(e) = a["email"].as_str() {
                    admins.by_email.insert(e.to_lowercase(), id.clone());
                }
                if let Some(n) = a["name"].as_str() {
                    admins.names.insert(id.clone(), n.to_owned());
                }
            }
            admins.fallback = match &cx.options.fallback_admin {
                Some(email) => admins
                    .by_email
                    .get(&email.trim().to_lowercase())
                    .cloned()
                    .ok_or_else(|| {
                        TargetError::Config(format!(
                            "[target] `fallback_admin = \"{email}\"` is not a teammate of this workspace."
                        ))
                    })?,
                None => id_of(&cx.api.get("me").await?)
                    .ok_or_else(|| TargetError::Protocol("`GET /me` answered no id".into()))?,
            };
            self.admins = Some(admins);
        }
        Ok(self.admins.as_ref().expect("set above"))
    }

    /// The tags, listed once.
    pub(crate) async fn tags(
        &mut self,
        api: &Api,
    ) -> Result<&mut HashMap<String, String>, TargetError> {
        if self.tags.is_none() {
            let v = api.get("tags").await?;
            let mut map = HashMap::new();
            for t in v["data"].as_array().into_iter().flatten() {
                if let (Some(name), Some(id)) = (t["name"].as_str(), id_of(t)) {
                    map.insert(name.to_lowercase(), id.clone());
                    self.tag_names.insert(id, name.to_owned());
                }
            }
            self.tags = Some(map);
        }
        Ok(self.tags.as_mut().expect("set above"))
    }

    /// A tag this process created or renamed.
    pub(crate) async fn remember_tag(
        &mut self,
        api: &Api,
        name: &str,
        id: &str,
    ) -> Result<(), TargetError> {
        self.tags(api)
            .await?
            .insert(name.to_lowercase(), id.to_owned());
        self.tag_names.insert(id.to_owned(), name.to_owned());
        Ok(())
    }

    /// Makes sure `model`'s marker attribute exists (a custom attribute must be defined before
    /// a value is written, research §7).
    pub(crate) async fn marker_attribute(
        &mut self,
        api: &Api,
        model: &'static str,
    ) -> Result<(), TargetError> {
        if self.markers.contains(model) {
            return Ok(());
        }
        let name = super::MARKER_ATTRIBUTE;
        let description = "Where deskmove copied this record from (system:kind:id).";
        if model == "conversation" {
            // Conversation attributes have their own routes (2.16 `/conversations/attributes`).
            let v = api.get("conversations/attributes").await?;
            let exists = v["data"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|a| a["name"].as_str() == Some(name));
            if !exists {
                let body = serde_json::json!({"name": name, "data_type": "string", "description": description});
                if let Err(e) = api.post("conversations/attributes", &body).await
                    && !super::api::is_record_error(&e)
                {
                    return Err(e.into());
                }
            }
        } else {
            let v = api.get(&format!("data_attributes?model={model}")).await?;
            let exists = v["data"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|a| a["name"].as_str() == Some(name));
            if !exists {
                let body = serde_json::json!({"name": name, "model": model, "data_type": "string", "description": description});
                // A 400 "already exists" is a race with ourselves: fine.
                if let Err(e) = api.post("data_attributes", &body).await
                    && !super::api::is_record_error(&e)
                {
                    return Err(e.into());
                }
            }
        }
        self.markers.insert(model);
        Ok(())
    }
}
