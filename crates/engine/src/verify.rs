//! Deep verify: a sample of conversations read back from the target, message by message, and
//! compared with what was staged — kinds, authors, bodies, order, attachment bytes, state and
//! labels — as far as the load path keeps them ([`Fidelity`]). Also checks that every staged
//! conversation resolves to a target conversation, and lists the conversations the source
//! truncated (known, not mismatches). Read-only in the store and in the target.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};

use deskmove_core::connector::{Fidelity, Keep, READ_BACK_LABELS, READ_BACK_MESSAGES, TargetRef};
use deskmove_core::model::{Attachment, Conversation, Message};
use deskmove_core::{Classify, Record, RecordKind, SourceKey, Stage, Target, TargetInstance};
use deskmove_store::{Outcome, Store};
use serde::Serialize;

use crate::{Engine, EngineError};

/// Conversations deep-compared when no size is given.
pub const DEFAULT_SAMPLE: usize = 200;

/// Refs handed to one `read_back` call.
const CHUNK: usize = 50;

/// Which conversations to deep-compare.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifyOptions {
    /// At most this many, spread evenly over the staged conversations in key order (the same
    /// ones each time); `None`: every one.
    pub sample: Option<usize>,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        Self {
            sample: Some(DEFAULT_SAMPLE),
        }
    }
}

/// What differs between a staged conversation and the target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Difference {
    /// The ledger names a target conversation the target no longer has.
    ConversationMissing,
    /// A staged message is not in the target conversation.
    MessageMissing,
    /// The target conversation holds a message that was not staged for it, or one twice.
    MessageExtra,
    /// Reply, note or event changed.
    KindDiffers,
    /// The body reads differently.
    BodyDiffers,
    /// Messages are not in their original order.
    OrderDiffers,
    /// The author changed.
    AuthorDiffers,
    /// A staged file is not in the target.
    AttachmentMissing,
    /// A file's bytes differ from the staged ones (blake3).
    AttachmentDiffers,
    /// Open, pending, snoozed or closed changed.
    StateDiffers,
    /// The conversation's labels differ.
    LabelsDiffer,
}

impl Difference {
    /// The stable snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ConversationMissing => "conversation_missing",
            Self::MessageMissing => "message_missing",
            Self::MessageExtra => "message_extra",
            Self::KindDiffers => "kind_differs",
            Self::BodyDiffers => "body_differs",
            Self::OrderDiffers => "order_differs",
            Self::AuthorDiffers => "author_differs",
            Self::AttachmentMissing => "attachment_missing",
            Self::AttachmentDiffers => "attachment_differs",
            Self::StateDiffers => "state_differs",
            Self::LabelsDiffer => "labels_differ",
        }
    }
}

/// One difference found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Mismatch {
    /// What differs.
    pub what: Difference,
    /// The source conversation.
    pub conversation: SourceKey,
    /// The target's id for the conversation.
    pub target_id: String,
    /// The message or file concerned, when it is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<SourceKey>,
    /// The target's id for that record, when it has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record_target_id: Option<String>,
    /// A sentence saying how it differs.
    pub detail: String,
}

/// A staged conversation with no target conversation (never loaded, or its load failed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Unresolved {
    /// The source conversation.
    pub conversation: SourceKey,
    /// What the ledger says.
    pub detail: String,
}

/// A conversation the source returned only in part, with the problem's reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Truncated {
    /// The source conversation.
    pub conversation: SourceKey,
    /// Why, as the export recorded it.
    pub reason: String,
}

/// What deep verify found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DeepReport {
    /// Staged conversations.
    pub conversations: u64,
    /// Of those, how many the ledger maps to a target conversation.
    pub resolved: u64,
    /// Conversations read back and compared.
    pub compared: u64,
    /// Messages and files compared in them.
    pub messages_compared: u64,
    /// Files compared in them.
    pub attachments_compared: u64,
    /// Every difference found in the compared conversations.
    pub mismatches: Vec<Mismatch>,
    /// Every staged conversation without a target conversation.
    pub unresolved: Vec<Unresolved>,
    /// Every conversation the source truncated (known, not a mismatch).
    pub truncated: Vec<Truncated>,
}

impl DeepReport {
    /// Whether the target matches: nothing differs and every conversation resolves.
    pub fn ok(&self) -> bool {
        self.mismatches.is_empty() && self.unresolved.is_empty()
    }
}

/// Which aspects this load path keeps, from its [`Fidelity`]: what it loses is not compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Compared {
    /// Message authors.
    pub author: bool,
    /// Message bodies.
    pub body: bool,
    /// Conversation states.
    pub state: bool,
    /// Conversation labels.
    pub labels: bool,
    /// Files.
    pub attachments: bool,
}

impl Compared {
    /// Everything but what `fidelity` says is lost.
    pub fn from_fidelity(fidelity: &Fidelity) -> Self {
        let kept = |kind: RecordKind, aspects: &[&str]| {
            fidelity.kinds.contains(&kind)
                && !fidelity.items.iter().any(|i| {
                    i.kind == kind
                        && i.keep == Keep::Lost
                        && (i.aspect == "record" || aspects.contains(&i.aspect.as_str()))
                })
        };
        Self {
            author: kept(RecordKind::Message, &["author"]),
            body: kept(RecordKind::Message, &["body"]),
            state: kept(RecordKind::Conversation, &["state"]),
            labels: kept(RecordKind::Conversation, &["tags", "labels"]),
            attachments: kept(RecordKind::Attachment, &["bytes", "content"]),
        }
    }
}

/// One conversation as staged, with the target ids the ledger holds for its parts.
#[derive(Debug, Clone)]
pub struct Staged {
    /// The conversation.
    pub conversation: Conversation,
    /// Its target id.
    pub target_id: String,
    /// Its messages, each with its target id when it was loaded.
    pub messages: Vec<(Message, Option<String>)>,
    /// Their files, each with its target id when it was loaded.
    pub attachments: Vec<(Attachment, Option<String>)>,
    /// The target ids of the labels its tags became.
    pub labels: BTreeSet<String>,
}

/// The same conversation as read back from the target.
#[derive(Debug, Clone, Default)]
pub struct Found {
    /// The conversation, `None` when the target no longer has it.
    pub conversation: Option<Conversation>,
    /// The messages found, by source key.
    pub messages: HashMap<SourceKey, Message>,
    /// The files found, by source key.
    pub attachments: HashMap<SourceKey, Attachment>,
    /// The target ids of the labels it carries.
    pub labels: BTreeSet<String>,
}

/// A body as both sides are compared: line ends unified, trailing blanks and outer blank lines
/// dropped (targets trim them, and they do not change what a reader sees).
pub fn normalise_body(body: &str) -> String {
    body.replace("\r\n", "\n")
        .lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_owned()
}

fn snippet(s: &str) -> String {
    let short: String = s.chars().take(60).collect();
    if short.len() < s.len() {
        format!("{short:?}…")
    } else {
        format!("{short:?}")
    }
}

/// Everything that differs between `staged` and `found`, comparing only what `compared` says
/// the path keeps. Pure.
pub fn compare(staged: &Staged, found: &Found, compared: Compared) -> Vec<Mismatch> {
    let conv = &staged.conversation.key;
    let mismatch = |what, record: Option<(&SourceKey, Option<&String>)>, detail: String| Mismatch {
        what,
        conversation: conv.clone(),
        target_id: staged.target_id.clone(),
        record: record.map(|(k, _)| k.clone()),
        record_target_id: record.and_then(|(_, id)| id.cloned()),
        detail,
    };
    let Some(back) = &found.conversation else {
        return vec![mismatch(
            Difference::ConversationMissing,
            None,
            format!(
                "the ledger says it is target conversation {}, which the target does not have",
                staged.target_id
            ),
        )];
    };
    let mut out = Vec::new();
    if compared.state && back.state != staged.conversation.state {
        out.push(mismatch(
            Difference::StateDiffers,
            None,
            format!(
                "state is {:?} in the target, {:?} at the source",
                back.state, staged.conversation.state
            ),
        ));
    }
    if compared.labels && found.labels != staged.labels {
        let lost: Vec<&String> = staged.labels.difference(&found.labels).collect();
        let added: Vec<&String> = found.labels.difference(&staged.labels).collect();
        out.push(mismatch(
            Difference::LabelsDiffer,
            None,
            format!("labels missing in the target: {lost:?}; labels only in the target: {added:?}"),
        ));
    }
    let staged_keys: HashSet<&SourceKey> = staged.messages.iter().map(|(m, _)| &m.key).collect();
    for (m, id) in &staged.messages {
        let record = Some((&m.key, id.as_ref()));
        let Some(b) = (id.is_some()).then(|| found.messages.get(&m.key)).flatten() else {
            out.push(mismatch(
                Difference::MessageMissing,
                record,
                match id {
                    Some(id) => format!("target message {id} is gone (deleted in the target)"),
                    None => "never loaded (the ledger holds no target id)".to_owned(),
                },
            ));
            continue;
        };
        if b.kind != m.kind {
            out.push(mismatch(
                Difference::KindDiffers,
                record,
                format!("a {:?} in the target, a {:?} at the source", b.kind, m.kind),
            ));
        }
        if compared.author {
            let key_differs =
                matches!((&b.author.key, &m.author.key), (Some(x), Some(y)) if x != y);
            if b.author.kind != m.author.kind || key_differs {
                out.push(mismatch(
                    Difference::AuthorDiffers,
                    record,
                    format!(
                        "written by {:?} {} in the target, by {:?} {} at the source",
                        b.author.kind,
                        b.author
                            .key
                            .as_ref()
                            .map(ToString::to_string)
                            .unwrap_or_default(),
                        m.author.kind,
                        m.author
                            .key
                            .as_ref()
                            .map(ToString::to_string)
                            .unwrap_or_default(),
                    ),
                ));
            }
        }
        if compared.body {
            let want = m.body_markdown.as_deref().or(m.body_html.as_deref());
            if let Some(want) = want.map(normalise_body).filter(|w| !w.is_empty()) {
                let have = normalise_body(b.body_markdown.as_deref().unwrap_or_default());
                if have != want {
                    out.push(mismatch(
                        Difference::BodyDiffers,
                        record,
                        format!(
                            "the target reads {}, the source {}",
                            snippet(&have),
                            snippet(&want)
                        ),
                    ));
                }
            }
        }
    }
    if let Some(order) = back
        .extra
        .get(READ_BACK_MESSAGES)
        .and_then(|v| v.as_array())
    {
        let created: HashMap<String, (&Message, Option<&String>)> = staged
            .messages
            .iter()
            .map(|(m, id)| (m.key.to_string(), (m, id.as_ref())))
            .collect();
        let mut seen = HashSet::new();
        let mut last: Option<&Message> = None;
        let mut out_of_order = false;
        for key in order.iter().filter_map(|v| v.as_str()) {
            match created.get(key) {
                Some((m, id)) => {
                    if !seen.insert(key) {
                        out.push(mismatch(
                            Difference::MessageExtra,
                            Some((&m.key, *id)),
                            "the target holds this message twice".to_owned(),
                        ));
                        continue;
                    }
                    if let Some(prev) = last.filter(|p| p.created_at > m.created_at)
                        && !out_of_order
                    {
                        out_of_order = true;
                        out.push(mismatch(
                            Difference::OrderDiffers,
                            Some((&m.key, *id)),
                            format!(
                                "comes after {} in the target but was written before it",
                                prev.key
                            ),
                        ));
                    }
                    last = Some(m);
                }
                None => {
                    let parsed = parse_key(key);
                    if parsed.as_ref().is_some_and(|k| staged_keys.contains(k)) {
                        continue;
                    }
                    out.push(Mismatch {
                        what: Difference::MessageExtra,
                        conversation: conv.clone(),
                        target_id: staged.target_id.clone(),
                        record: parsed,
                        record_target_id: None,
                        detail: format!(
                            "the target holds {key}, which was not staged for this conversation"
                        ),
                    });
                }
            }
        }
    }
    if compared.attachments {
        for (a, id) in &staged.attachments {
            let record = Some((&a.key, id.as_ref()));
            let Some(b) = (id.is_some())
                .then(|| found.attachments.get(&a.key))
                .flatten()
            else {
                out.push(mismatch(
                    Difference::AttachmentMissing,
                    record,
                    match id {
                        Some(_) => format!("{} is not in the target any more", a.file_name),
                        None => format!(
                            "{} was never loaded (the ledger holds no target id)",
                            a.file_name
                        ),
                    },
                ));
                continue;
            };
            match (&a.blob, &b.blob) {
                (Some(want), Some(have)) if want.hash != have.hash => out.push(mismatch(
                    Difference::AttachmentDiffers,
                    record,
                    format!(
                        "{}: the target's bytes ({} bytes, blake3 {}) differ from the staged ones ({} bytes, blake3 {})",
                        a.file_name,
                        have.size,
                        &have.hash[..have.hash.len().min(12)],
                        want.size,
                        &want.hash[..want.hash.len().min(12)]
                    ),
                )),
                (Some(_), None) => out.push(mismatch(
                    Difference::AttachmentMissing,
                    record,
                    format!("{}: the target did not serve its bytes", a.file_name),
                )),
                _ => {}
            }
        }
    }
    out
}

/// A key from its `system:kind:id` form.
fn parse_key(s: &str) -> Option<SourceKey> {
    let mut parts = s.splitn(3, ':');
    let system = parts.next()?;
    let kind: RecordKind = parts.next()?.parse().ok()?;
    Some(SourceKey::new(system, kind, parts.next()?))
}

/// The `sample` keys spread evenly over `all` (sorted), the same each time.
pub fn spread<T: Clone>(all: &[T], sample: Option<usize>) -> Vec<T> {
    match sample {
        Some(n) if n < all.len() => (0..n).map(|i| all[i * all.len() / n].clone()).collect(),
        _ => all.to_vec(),
    }
}

impl<St: Store> Engine<'_, St> {
    /// Deep-compares a sample of staged conversations with what `target` holds (see the module
    /// docs). Reads only.
    pub async fn verify_deep<T: Target>(
        &self,
        target: &T,
        options: VerifyOptions,
    ) -> Result<DeepReport, EngineError> {
        let instance = target.instance();
        let compared = Compared::from_fidelity(&target.fidelity());
        let mut report = DeepReport::default();

        // Every staged conversation, and what the ledger says it is.
        let ledger = self.ledger_of(&instance, RecordKind::Conversation).await?;
        let mut resolved: Vec<(SourceKey, String)> = Vec::new();
        let mut after: Option<SourceKey> = None;
        loop {
            let page = self
                .store
                .records(RecordKind::Conversation, after.as_ref(), 500)
                .await?;
            let Some(last) = page.last() else { break };
            after = Some(last.record.key().clone());
            for r in &page {
                let key = r.record.key().clone();
                report.conversations += 1;
                match ledger.get(&key) {
                    Some((Some(id), _)) => resolved.push((key, id.clone())),
                    Some((_, outcome)) => report.unresolved.push(Unresolved {
                        conversation: key,
                        detail: format!(
                            "its last load was {outcome} and left no target conversation"
                        ),
                    }),
                    None => report.unresolved.push(Unresolved {
                        conversation: key,
                        detail: "never loaded into this target".to_owned(),
                    }),
                }
            }
        }
        report.resolved = resolved.len() as u64;
        self.truncated(&mut report).await?;

        let sample = spread(&resolved, options.sample);
        let wanted: HashMap<SourceKey, String> = sample.iter().cloned().collect();

        // Their messages and files, from one pass over each kind.
        let mut messages: HashMap<SourceKey, Vec<Message>> = HashMap::new();
        let mut owner_of: HashMap<SourceKey, SourceKey> = HashMap::new();
        self.each_record(RecordKind::Message, |r| {
            if let Record::Message(m) = r
                && wanted.contains_key(&m.conversation)
            {
                owner_of.insert(m.key.clone(), m.conversation.clone());
                messages.entry(m.conversation.clone()).or_default().push(m);
            }
        })
        .await?;
        let mut files: HashMap<SourceKey, Vec<Attachment>> = HashMap::new();
        self.each_record(RecordKind::Attachment, |r| {
            if let Record::Attachment(a) = r
                && let Some(conv) = owner_of.get(&a.owner)
            {
                files.entry(conv.clone()).or_default().push(a);
            }
        })
        .await?;

        let skipped = self.skipped_on_load(RecordKind::Attachment).await?;
        let mut tag_ids: HashMap<SourceKey, Option<String>> = HashMap::new();
        for chunk in sample.chunks(CHUNK) {
            let mut staged = Vec::new();
            for (key, id) in chunk {
                let Some(stored) = self.store.record(key).await? else {
                    continue;
                };
                let Record::Conversation(conversation) = stored.record else {
                    continue;
                };
                let mut ms = messages.remove(key).unwrap_or_default();
                ms.sort_by(|a, b| a.created_at.cmp(&b.created_at).then(a.key.cmp(&b.key)));
                let mut with_ids = Vec::new();
                for m in ms {
                    let id = self.loaded_id(&m.key, &instance).await?;
                    with_ids.push((m, id));
                }
                let mut attachments = Vec::new();
                for a in files.remove(key).unwrap_or_default() {
                    let entry = self.store.ledger(&a.key, &instance).await?;
                    // Skipped with its reason (an empty file the target refuses, say): the
                    // report lists it; it is not missing. A failed one has an entry.
                    if entry.is_none() && skipped.contains(&a.key) {
                        continue;
                    }
                    attachments.push((a, entry.and_then(|e| e.target_id)));
                }
                let mut labels = BTreeSet::new();
                for t in &conversation.tags {
                    if let Some(id) = self.tag_id(t, &instance, &mut tag_ids).await? {
                        labels.insert(id);
                    }
                }
                staged.push(Staged {
                    conversation,
                    target_id: id.clone(),
                    messages: with_ids,
                    attachments,
                    labels,
                });
            }
            let conv_refs: Vec<TargetRef> = staged
                .iter()
                .map(|s| TargetRef {
                    key: s.conversation.key.clone(),
                    id: s.target_id.clone(),
                })
                .collect();
            let message_refs: Vec<TargetRef> = staged
                .iter()
                .flat_map(|s| &s.messages)
                .filter_map(|(m, id)| {
                    id.as_ref().map(|id| TargetRef {
                        key: m.key.clone(),
                        id: id.clone(),
                    })
                })
                .collect();
            let file_refs: Vec<TargetRef> = if compared.attachments {
                staged
                    .iter()
                    .flat_map(|s| &s.attachments)
                    .filter_map(|(a, id)| {
                        id.as_ref().map(|id| TargetRef {
                            key: a.key.clone(),
                            id: id.clone(),
                        })
                    })
                    .collect()
            } else {
                Vec::new()
            };
            let mut back: HashMap<SourceKey, Record> = HashMap::new();
            for (kind, refs) in [
                (RecordKind::Conversation, conv_refs),
                (RecordKind::Message, message_refs),
                (RecordKind::Attachment, file_refs),
            ] {
                if refs.is_empty() {
                    continue;
                }
                for r in self.call_read_back(target, kind, &refs).await? {
                    back.insert(r.key().clone(), r);
                }
            }
            for s in &staged {
                let mut found = Found::default();
                if let Some(Record::Conversation(c)) = back.remove(&s.conversation.key) {
                    match c.extra.get(READ_BACK_LABELS).and_then(|v| v.as_array()) {
                        Some(ids) => found
                            .labels
                            .extend(ids.iter().filter_map(|v| v.as_str().map(str::to_owned))),
                        None => {
                            for t in &c.tags {
                                if let Some(id) = self.tag_id(t, &instance, &mut tag_ids).await? {
                                    found.labels.insert(id);
                                }
                            }
                        }
                    }
                    found.conversation = Some(c);
                }
                for (m, _) in &s.messages {
                    if let Some(Record::Message(b)) = back.remove(&m.key) {
                        found.messages.insert(m.key.clone(), b);
                    }
                }
                for (a, _) in &s.attachments {
                    if let Some(Record::Attachment(b)) = back.remove(&a.key) {
                        found.attachments.insert(a.key.clone(), b);
                    }
                }
                report.compared += 1;
                report.messages_compared += s.messages.len() as u64;
                report.attachments_compared += s.attachments.len() as u64;
                report.mismatches.extend(compare(s, &found, compared));
            }
        }
        Ok(report)
    }

    /// Key → (target id, outcome) for every ledger entry of `kind` in `instance`.
    async fn ledger_of(
        &self,
        instance: &TargetInstance,
        kind: RecordKind,
    ) -> Result<BTreeMap<SourceKey, (Option<String>, Outcome)>, EngineError> {
        let mut out = BTreeMap::new();
        let mut after: Option<SourceKey> = None;
        loop {
            let page = self
                .store
                .ledger_page(instance, kind, after.as_ref(), 1_000)
                .await?;
            let Some(last) = page.last() else { break };
            after = Some(last.key.clone());
            for e in page {
                out.insert(e.key, (e.target_id, e.outcome));
            }
        }
        Ok(out)
    }

    /// The target id the ledger holds for `key`, when the record is in the target.
    async fn loaded_id(
        &self,
        key: &SourceKey,
        instance: &TargetInstance,
    ) -> Result<Option<String>, EngineError> {
        Ok(self
            .store
            .ledger(key, instance)
            .await?
            .and_then(|e| e.target_id))
    }

    /// The records of `kind` a load left out on purpose: no ledger entry, a load problem
    /// saying why (the engine keeps no entry for a skip without a target id).
    async fn skipped_on_load(&self, kind: RecordKind) -> Result<HashSet<SourceKey>, EngineError> {
        let mut out = HashSet::new();
        let mut after = None;
        loop {
            let page = self.store.problems(after.as_ref(), 1_000).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.problem.clone());
            out.extend(
                page.into_iter()
                    .map(|p| p.problem)
                    .filter(|p| p.stage == Stage::Load && p.key.kind == kind)
                    .map(|p| p.key),
            );
        }
        Ok(out)
    }

    async fn tag_id(
        &self,
        tag: &SourceKey,
        instance: &TargetInstance,
        cache: &mut HashMap<SourceKey, Option<String>>,
    ) -> Result<Option<String>, EngineError> {
        if let Some(id) = cache.get(tag) {
            return Ok(id.clone());
        }
        let id = self.loaded_id(tag, instance).await?;
        cache.insert(tag.clone(), id.clone());
        Ok(id)
    }

    /// Calls `each` with every staged record of `kind`, page by page.
    async fn each_record(
        &self,
        kind: RecordKind,
        mut each: impl FnMut(Record),
    ) -> Result<(), EngineError> {
        let mut after: Option<SourceKey> = None;
        loop {
            let page = self.store.records(kind, after.as_ref(), 1_000).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.record.key().clone());
            for r in page {
                each(r.record);
            }
        }
        Ok(())
    }

    /// Every conversation with a `truncated_*` problem.
    async fn truncated(&self, report: &mut DeepReport) -> Result<(), EngineError> {
        let mut after = None;
        loop {
            let page = self.store.problems(after.as_ref(), 1_000).await?;
            let Some(last) = page.last() else { break };
            after = Some(last.problem.clone());
            for p in page {
                if p.problem.key.kind == RecordKind::Conversation
                    && p.problem.code.starts_with("truncated")
                {
                    report.truncated.push(Truncated {
                        conversation: p.problem.key,
                        reason: p.problem.reason,
                    });
                }
            }
        }
        Ok(())
    }

    async fn call_read_back<T: Target>(
        &self,
        target: &T,
        kind: RecordKind,
        refs: &[TargetRef],
    ) -> Result<Vec<Record>, EngineError> {
        let mut attempt = 0;
        loop {
            attempt += 1;
            match target.read_back(kind, refs).await {
                Ok(r) => return Ok(r),
                Err(e) if e.kind().is_transient() && attempt < self.options.attempts => {}
                Err(e) => {
                    return Err(EngineError::Target {
                        target: target.instance().to_string(),
                        kind,
                        error_kind: e.kind(),
                        attempts: attempt,
                        source: Box::new(e),
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use deskmove_core::model::Timestamp;
    use deskmove_core::model::{Author, AuthorKind, BlobRef, ConversationState, MessageKind};

    fn key(kind: RecordKind, id: &str) -> SourceKey {
        SourceKey::new("x", kind, id)
    }

    fn conversation() -> Conversation {
        Conversation {
            key: key(RecordKind::Conversation, "c1"),
            subject: None,
            contacts: Vec::new(),
            assignee: None,
            team: None,
            state: ConversationState::Closed,
            snoozed_until: None,
            priority: None,
            tags: Vec::new(),
            attributes: Default::default(),
            source_message_count: None,
            created_at: Timestamp::UNIX_EPOCH,
            updated_at: None,
            extra: Default::default(),
        }
    }

    fn message(id: &str, second: i64, body: &str) -> Message {
        Message {
            key: key(RecordKind::Message, id),
            conversation: key(RecordKind::Conversation, "c1"),
            kind: MessageKind::Reply,
            author: Author {
                kind: AuthorKind::Contact,
                key: None,
                name: None,
                email: None,
            },
            body_html: None,
            body_markdown: Some(body.into()),
            inline_images: Vec::new(),
            event: None,
            attachments: Vec::new(),
            created_at: Timestamp::from_second(second).unwrap(),
            updated_at: None,
            extra: Default::default(),
        }
    }

    fn file(hash: &str) -> Attachment {
        Attachment {
            key: key(RecordKind::Attachment, "a1"),
            owner: key(RecordKind::Message, "m1"),
            file_name: "f.txt".into(),
            content_type: None,
            size: None,
            source_url: None,
            blob: Some(BlobRef {
                hash: hash.into(),
                size: 3,
            }),
            extra: Default::default(),
        }
    }

    fn all() -> Compared {
        Compared {
            author: true,
            body: true,
            state: true,
            labels: true,
            attachments: true,
        }
    }

    fn pair() -> (Staged, Found) {
        let staged = Staged {
            conversation: conversation(),
            target_id: "7".into(),
            messages: vec![
                (message("m1", 1, "hello"), Some("7/1".into())),
                (message("m2", 2, "bye"), Some("7/2".into())),
            ],
            attachments: vec![(file("aa"), Some("7/3".into()))],
            labels: ["4".to_owned()].into(),
        };
        let mut back = conversation();
        back.extra.insert(
            READ_BACK_MESSAGES.into(),
            serde_json::json!(["x:message:m1", "x:message:m2"]),
        );
        let found = Found {
            conversation: Some(back),
            messages: staged
                .messages
                .iter()
                .map(|(m, _)| (m.key.clone(), m.clone()))
                .collect(),
            attachments: [(file("aa").key, file("aa"))].into(),
            labels: ["4".to_owned()].into(),
        };
        (staged, found)
    }

    fn whats(m: &[Mismatch]) -> Vec<Difference> {
        m.iter().map(|x| x.what).collect()
    }

    #[test]
    fn an_equal_conversation_has_no_mismatch() {
        let (s, f) = pair();
        assert_eq!(compare(&s, &f, all()), Vec::new());
    }

    #[test]
    fn each_planted_difference_is_named() {
        let (s, mut f) = pair();
        f.messages
            .get_mut(&key(RecordKind::Message, "m1"))
            .unwrap()
            .body_markdown = Some("edited".into());
        f.messages.remove(&key(RecordKind::Message, "m2"));
        f.attachments.insert(file("bb").key, file("bb"));
        f.labels.clear();
        f.conversation.as_mut().unwrap().state = ConversationState::Open;
        let found = compare(&s, &f, all());
        assert_eq!(
            whats(&found),
            vec![
                Difference::StateDiffers,
                Difference::LabelsDiffer,
                Difference::BodyDiffers,
                Difference::MessageMissing,
                Difference::AttachmentDiffers,
            ],
            "{found:#?}"
        );
        assert_eq!(found[2].record_target_id.as_deref(), Some("7/1"));
    }

    #[test]
    fn order_doubles_and_strangers_are_found_and_lost_aspects_are_not_compared() {
        let (s, mut f) = pair();
        f.conversation.as_mut().unwrap().extra.insert(
            READ_BACK_MESSAGES.into(),
            serde_json::json!([
                "x:message:m2",
                "x:message:m1",
                "x:message:m1",
                "x:message:zz"
            ]),
        );
        f.labels.clear();
        let found = compare(
            &s,
            &f,
            Compared {
                labels: false,
                ..all()
            },
        );
        assert_eq!(
            whats(&found),
            vec![
                Difference::OrderDiffers,
                Difference::MessageExtra,
                Difference::MessageExtra
            ],
            "{found:#?}"
        );
    }

    #[test]
    fn bodies_compare_after_line_end_and_blank_normalisation() {
        assert_eq!(normalise_body("a  \r\nb\n\n"), normalise_body("a\nb"));
        assert_ne!(normalise_body("a b"), normalise_body("a  b"));
    }

    #[test]
    fn the_sample_is_spread_and_stable() {
        let all: Vec<u32> = (0..10).collect();
        assert_eq!(spread(&all, Some(3)), vec![0, 3, 6]);
        assert_eq!(spread(&all, Some(20)), all);
        assert_eq!(spread(&all, None), all);
    }
}
