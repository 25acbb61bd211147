//! [`MemoryTarget`]: a reference [`Target`] over a shared in-memory "account". The account
//! ([`MemoryTargetState`]) outlives connector instances, like a real helpdesk outlives a
//! crashed process; every object carries the source key it came from, the way real targets
//! carry a source id, so an idempotent load can find what a crashed attempt created.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};

use deskmove_core::connector::{Fidelity, LoadResult, Preflight, Resolve, TargetRef, references};
use deskmove_core::{
    ContentHash, ErrorKind, Problem, Record, RecordKind, SourceKey, Stage, Target, TargetInstance,
};

use super::harness::TargetInspector;
use super::memory_source::MemoryError;

/// A deliberate bug, for showing that the compliance harness catches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetBug {
    /// Creates whenever the ledger does not know a record, without looking up what an earlier
    /// (crashed) attempt created: writes twice after a crash.
    DuplicatesAfterCrash,
}

/// One write the account received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Write {
    /// An object was created.
    Create(SourceKey, String),
    /// An object was changed.
    Update(SourceKey, String),
    /// An object was removed.
    Remove(SourceKey, String),
}

#[derive(Debug, Clone)]
struct Object {
    key: SourceKey,
    record: Record,
    fingerprint: Option<ContentHash>,
}

#[derive(Debug, Default)]
struct Account {
    next_id: u64,
    objects: BTreeMap<String, Object>,
    writes: Vec<Write>,
    load_calls: u64,
}

/// The account a [`MemoryTarget`] writes into: shared by every connector instance made for it
/// and by the harness, which inspects it independently of the ledger.
#[derive(Debug, Clone, Default)]
pub struct MemoryTargetState {
    account: Arc<Mutex<Account>>,
}

impl MemoryTargetState {
    /// An empty account.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, Account> {
        self.account.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every write so far, in order.
    pub fn writes(&self) -> Vec<Write> {
        self.lock().writes.clone()
    }

    /// How many times `load` was called.
    pub fn load_calls(&self) -> u64 {
        self.lock().load_calls
    }

    /// Every object as (source key, id), in id order; a record created twice appears twice.
    pub fn objects(&self) -> Vec<TargetRef> {
        self.lock()
            .objects
            .iter()
            .map(|(id, o)| TargetRef {
                key: o.key.clone(),
                id: id.clone(),
            })
            .collect()
    }

    /// The record held under `id`.
    pub fn record(&self, id: &str) -> Option<Record> {
        self.lock().objects.get(id).map(|o| o.record.clone())
    }
}

impl TargetInspector for MemoryTargetState {
    async fn contents(&self) -> Result<Vec<TargetRef>, String> {
        Ok(self.objects())
    }

    async fn writes(&self) -> Result<u64, String> {
        Ok(self.lock().writes.len() as u64)
    }
}

/// A target over a [`MemoryTargetState`]. Requires a message's conversation and an
/// attachment's owner to be resolvable (as real targets do) and fails the records it was told
/// to refuse.
#[derive(Debug, Clone)]
pub struct MemoryTarget {
    instance: TargetInstance,
    state: MemoryTargetState,
    mapping: Option<String>,
    refuse: Arc<BTreeSet<SourceKey>>,
    partial: Arc<BTreeSet<SourceKey>>,
    bug: Option<TargetBug>,
    threads: bool,
}

impl MemoryTarget {
    /// A connector for `state`, known to the ledger as `memory/memory.test/<account>/<path>`.
    pub fn new(state: MemoryTargetState, account: &str, path: &str) -> Self {
        Self {
            instance: TargetInstance::new("memory", "memory.test", account, path),
            state,
            mapping: None,
            refuse: Arc::default(),
            partial: Arc::default(),
            bug: None,
            threads: false,
        }
    }

    /// Loads with mapping version `mapping`: every record's fingerprint follows it.
    pub fn with_mapping(mut self, mapping: impl Into<String>) -> Self {
        self.mapping = Some(mapping.into());
        self
    }

    /// Fails these records with a `validation` problem, as a target refusing bad data would.
    pub fn refusing(mut self, keys: impl IntoIterator<Item = SourceKey>) -> Self {
        self.refuse = Arc::new(keys.into_iter().collect());
        self
    }

    /// Loads these records but reports a `partially_kept` problem for each, as a path that
    /// cannot carry every field would.
    pub fn partially(mut self, keys: impl IntoIterator<Item = SourceKey>) -> Self {
        self.partial = Arc::new(keys.into_iter().collect());
        self
    }

    /// This target, with a deliberate bug.
    pub fn with_bug(mut self, bug: TargetBug) -> Self {
        self.bug = Some(bug);
        self
    }

    /// Loads a conversation together with its messages ([`Fidelity::threads`]), as a target
    /// that creates a conversation from its first message does.
    pub fn with_threads(mut self) -> Self {
        self.threads = true;
        self
    }

    /// The account it writes into.
    pub fn state(&self) -> &MemoryTargetState {
        &self.state
    }

    fn load_one(&self, a: &mut Account, record: &Record, refs: &impl Resolve) -> LoadResult {
        let key = record.key().clone();
        let problem = |kind, code: &str, reason: String| {
            Problem::new(key.clone(), Stage::Load, kind, code, reason)
        };
        if self.refuse.contains(&key) {
            return LoadResult::failed(problem(
                ErrorKind::Validation,
                "refused",
                "The memory target was told to refuse this record.".into(),
            ));
        }
        // The parents a real target cannot do without.
        let required: Vec<&SourceKey> = match record {
            Record::Message(m) => vec![&m.conversation],
            Record::Attachment(x) => vec![&x.owner],
            _ => vec![],
        };
        for parent in references(record) {
            let present = refs
                .target_ref(parent)
                .is_some_and(|r| a.objects.contains_key(&r.id));
            if !present && required.contains(&parent) {
                return LoadResult::failed(problem(
                    ErrorKind::NotFound,
                    "parent_not_loaded",
                    format!("{parent} is not in the target yet; loaded again next run."),
                ));
            }
        }
        let fingerprint = self.mapping_fingerprint(record);
        let own = refs
            .target_ref(&key)
            .map(|r| r.id)
            .filter(|id| a.objects.contains_key(id));
        // Idempotence: find what an earlier attempt created, by the source key it carries.
        let found = match (&own, self.bug) {
            (Some(_), _) | (None, Some(TargetBug::DuplicatesAfterCrash)) => None,
            (None, None) => a
                .objects
                .iter()
                .find(|(_, o)| o.key == key)
                .map(|(id, _)| id.clone()),
        };
        let object = Object {
            key: key.clone(),
            record: record.clone(),
            fingerprint,
        };
        match (own, found) {
            (Some(id), _) => {
                let same = a.objects.get(&id).is_some_and(|o| {
                    o.record == object.record && o.fingerprint == object.fingerprint
                });
                if same {
                    return LoadResult {
                        key,
                        outcome: deskmove_core::connector::Outcome::Skipped,
                        target_id: Some(id),
                        problem: None,
                    };
                }
                a.objects.insert(id.clone(), object);
                a.writes.push(Write::Update(key.clone(), id.clone()));
                LoadResult::updated(key, id)
            }
            (None, Some(id)) => {
                let same = a.objects.get(&id).is_some_and(|o| {
                    o.record == object.record && o.fingerprint == object.fingerprint
                });
                if !same {
                    a.objects.insert(id.clone(), object);
                    a.writes.push(Write::Update(key.clone(), id.clone()));
                }
                LoadResult::loaded(key, id)
            }
            (None, None) => {
                a.next_id += 1;
                let id = a.next_id.to_string();
                a.objects.insert(id.clone(), object);
                a.writes.push(Write::Create(key.clone(), id.clone()));
                LoadResult::loaded(key, id)
            }
        }
    }
}

/// The ledger's refs, and what this load call has created so far.
struct InCall<'r, R> {
    refs: &'r R,
    created: HashMap<SourceKey, TargetRef>,
}

impl<R: Resolve> Resolve for InCall<'_, R> {
    fn target_ref(&self, key: &SourceKey) -> Option<TargetRef> {
        self.created
            .get(key)
            .cloned()
            .or_else(|| self.refs.target_ref(key))
    }
}

impl Target for MemoryTarget {
    type Error = MemoryError;

    fn instance(&self) -> TargetInstance {
        self.instance.clone()
    }

    fn fidelity(&self) -> Fidelity {
        Fidelity {
            threads: self.threads,
            kinds: RecordKind::ALL.to_vec(),
            items: Vec::new(),
        }
    }

    fn mapping_fingerprint(&self, _record: &Record) -> Option<ContentHash> {
        self.mapping
            .as_ref()
            .map(|m| ContentHash(blake3::hash(m.as_bytes()).to_hex().to_string()))
    }

    async fn preflight(&self) -> Result<Preflight, MemoryError> {
        Ok(Preflight::default())
    }

    async fn load(
        &self,
        kind: RecordKind,
        records: &[Record],
        refs: &impl Resolve,
    ) -> Result<Vec<LoadResult>, MemoryError> {
        let mut a = self.state.lock();
        a.load_calls += 1;
        let mut out = Vec::with_capacity(records.len());
        // In a thread batch a message's conversation was created by this very call.
        let mut here = InCall {
            refs,
            created: HashMap::new(),
        };
        for record in records {
            let in_thread = self.threads
                && kind == RecordKind::Conversation
                && record.kind() == RecordKind::Message;
            if record.kind() != kind && !in_thread {
                return Err(MemoryError::Other {
                    kind: ErrorKind::Internal,
                    message: format!("{} handed over as a {kind}", record.key()),
                });
            }
            let mut result = self.load_one(&mut a, record, &here);
            if let Some(id) = &result.target_id {
                here.created.insert(
                    record.key().clone(),
                    TargetRef {
                        key: record.key().clone(),
                        id: id.clone(),
                    },
                );
            }
            if self.partial.contains(record.key()) && result.target_id.is_some() {
                result = result.with_problem(Problem::new(
                    record.key().clone(),
                    Stage::Map,
                    ErrorKind::Validation,
                    "partially_kept",
                    "The memory target was told it cannot keep every field of this record.",
                ));
            }
            out.push(result);
        }
        Ok(out)
    }

    async fn read_back(
        &self,
        _kind: RecordKind,
        refs: &[TargetRef],
    ) -> Result<Vec<Record>, MemoryError> {
        let a = self.state.lock();
        Ok(refs
            .iter()
            .filter_map(|r| a.objects.get(&r.id).map(|o| o.record.clone()))
            .collect())
    }

    async fn remove(&self, created: &[TargetRef]) -> Result<Vec<LoadResult>, MemoryError> {
        let mut a = self.state.lock();
        let mut out = Vec::with_capacity(created.len());
        for r in created {
            if a.objects.get(&r.id).is_some_and(|o| o.key == r.key) {
                a.objects.remove(&r.id);
                a.writes.push(Write::Remove(r.key.clone(), r.id.clone()));
            }
            out.push(LoadResult::loaded(r.key.clone(), r.id.clone()));
        }
        Ok(out)
    }
}
