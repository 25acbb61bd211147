//! Fault-injecting wrappers around any source or target (supabase/etl's fault queues): per page
//! or per call index, a queue of faults to fire, each once. A crash is an error of kind
//! `internal`, which the engine never retries: the phase stops where it was, and the harness
//! then runs a fresh engine over the same store, as a restarted process would.

use std::collections::{BTreeMap, VecDeque};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use deskmove_core::connector::{
    BlobRef, ByteStream, Cursor, Fidelity, LoadResult, Page, PageSink, Preflight, Resolve,
    SinkError, SourceScan, StreamSpec, TargetRef,
};
use deskmove_core::{
    Classify, ContentHash, ErrorKind, Record, RecordKind, Source, Target, TargetInstance,
};

/// What to do to one page (source side).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Fail instead of delivering the page, with an error of this kind (e.g. `rate_limited` for
    /// a 429 that outlasted the HTTP client's retries).
    Fail(ErrorKind),
    /// Stop the process here: the page is not delivered and the engine sees a crash.
    Crash,
}

/// What to do to one target call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetFault {
    /// Fail before writing anything, with an error of this kind.
    FailBefore(ErrorKind),
    /// Write, then fail with an error of this kind (the response was lost: a timeout).
    FailAfterWrite(ErrorKind),
    /// Write, then crash before the engine can commit the ledger.
    CrashAfterWrite,
}

/// The wrappers' error: the inner connector's, or an injected one.
#[derive(Debug, thiserror::Error)]
pub enum FaultError<E> {
    /// The wrapped connector failed on its own.
    #[error(transparent)]
    Inner(E),
    /// An injected failure.
    #[error("injected {0} failure")]
    Injected(ErrorKind),
    /// An injected crash.
    #[error("injected crash")]
    Crash,
    /// The sink refused (only when the inner source did not wrap it itself).
    #[error(transparent)]
    Sink(#[from] SinkError),
}

impl<E: Classify> Classify for FaultError<E> {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Inner(e) => e.kind(),
            Self::Injected(kind) => *kind,
            Self::Crash => ErrorKind::Internal,
            Self::Sink(e) => e.kind(),
        }
    }
}

#[derive(Debug)]
struct Plan<F> {
    faults: Mutex<BTreeMap<usize, VecDeque<F>>>,
    /// Pages committed (source) or load calls made (target) through this wrapper.
    count: AtomicUsize,
    /// Pages committed per stream (source only).
    per_stream: Mutex<BTreeMap<String, usize>>,
}

impl<F> Plan<F> {
    fn new() -> Arc<Self> {
        Arc::new(Self {
            faults: Mutex::new(BTreeMap::new()),
            count: AtomicUsize::new(0),
            per_stream: Mutex::new(BTreeMap::new()),
        })
    }

    fn add(&self, at: usize, fault: F) {
        self.faults
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(at)
            .or_default()
            .push_back(fault);
    }

    fn take(&self, at: usize) -> Option<F> {
        self.faults
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_mut(&at)
            .and_then(VecDeque::pop_front)
    }
}

/// A source whose pages can fail or crash. Page indexes count pages committed through this
/// wrapper, over all streams, from 0.
#[derive(Debug)]
pub struct FaultySource<S> {
    inner: S,
    plan: Arc<Plan<Fault>>,
}

impl<S: Source> FaultySource<S> {
    /// `inner` with no faults planned (it still counts committed pages).
    pub fn new(inner: S) -> Self {
        Self {
            inner,
            plan: Plan::new(),
        }
    }

    /// Fails once with `kind` just before page `at`.
    pub fn fail_page(self, at: usize, kind: ErrorKind) -> Self {
        self.plan.add(at, Fault::Fail(kind));
        self
    }

    /// A 429 storm: `times` consecutive attempts at page `at` fail as `rate_limited`.
    pub fn storm(self, at: usize, times: usize) -> Self {
        for _ in 0..times {
            self.plan.add(at, Fault::Fail(ErrorKind::RateLimited));
        }
        self
    }

    /// Crashes after `pages` pages are committed (before the next one is delivered).
    pub fn crash_after(self, pages: usize) -> Self {
        self.plan.add(pages, Fault::Crash);
        self
    }

    /// Pages committed through this wrapper so far.
    pub fn committed(&self) -> usize {
        self.plan.count.load(Ordering::SeqCst)
    }

    /// Pages committed through this wrapper so far, per stream.
    pub fn committed_per_stream(&self) -> BTreeMap<String, usize> {
        self.plan
            .per_stream
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }
}

struct FaultSink<'a, P> {
    inner: &'a mut P,
    stream: &'a str,
    plan: &'a Plan<Fault>,
    fired: Option<Fault>,
}

impl<P: PageSink> PageSink for FaultSink<'_, P> {
    async fn page(&mut self, page: Page) -> Result<(), SinkError> {
        let at = self.plan.count.load(Ordering::SeqCst);
        if let Some(f) = self.plan.take(at) {
            self.fired = Some(f);
            return Err(SinkError::Aborted);
        }
        self.inner.page(page).await?;
        self.plan.count.fetch_add(1, Ordering::SeqCst);
        *self
            .plan
            .per_stream
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .entry(self.stream.to_owned())
            .or_default() += 1;
        Ok(())
    }

    async fn blob(
        &self,
        body: ByteStream,
        content_type: Option<&str>,
    ) -> Result<BlobRef, SinkError> {
        self.inner.blob(body, content_type).await
    }
}

impl<S: Source> Source for FaultySource<S> {
    type Error = FaultError<S::Error>;

    fn streams(&self) -> Vec<StreamSpec> {
        self.inner.streams()
    }

    async fn scan(&self) -> Result<SourceScan, Self::Error> {
        self.inner.scan().await.map_err(FaultError::Inner)
    }

    async fn extract(
        &self,
        stream: &StreamSpec,
        resume: Option<Cursor>,
        out: &mut impl PageSink,
    ) -> Result<(), Self::Error> {
        let mut sink = FaultSink {
            inner: out,
            stream: &stream.name,
            plan: &self.plan,
            fired: None,
        };
        let result = self.inner.extract(stream, resume, &mut sink).await;
        match sink.fired {
            Some(Fault::Fail(kind)) => Err(FaultError::Injected(kind)),
            Some(Fault::Crash) => Err(FaultError::Crash),
            None => result.map_err(FaultError::Inner),
        }
    }
}

/// A target whose load calls can fail or crash. Call indexes count `load` calls through this
/// wrapper, from 0.
#[derive(Debug)]
pub struct FaultyTarget<T> {
    inner: T,
    plan: Arc<Plan<TargetFault>>,
}

impl<T: Target> FaultyTarget<T> {
    /// `inner` with no faults planned (it still counts calls).
    pub fn new(inner: T) -> Self {
        Self {
            inner,
            plan: Plan::new(),
        }
    }

    /// Fires `fault` at load call `at` (several faults at one index fire on successive calls).
    pub fn at(self, at: usize, fault: TargetFault) -> Self {
        self.plan.add(at, fault);
        self
    }

    /// A 429 storm: `times` consecutive calls from index `at` fail as `rate_limited`.
    pub fn storm(self, at: usize, times: usize) -> Self {
        for i in 0..times {
            self.plan
                .add(at + i, TargetFault::FailBefore(ErrorKind::RateLimited));
        }
        self
    }

    /// Load calls made through this wrapper so far.
    pub fn calls(&self) -> usize {
        self.plan.count.load(Ordering::SeqCst)
    }

    /// The wrapped target.
    pub fn into_inner(self) -> T {
        self.inner
    }
}

impl<T: Target> Target for FaultyTarget<T> {
    type Error = FaultError<T::Error>;

    fn instance(&self) -> TargetInstance {
        self.inner.instance()
    }

    fn fidelity(&self) -> Fidelity {
        self.inner.fidelity()
    }

    fn mapping_fingerprint(&self, record: &Record) -> Option<ContentHash> {
        self.inner.mapping_fingerprint(record)
    }

    async fn preflight(&self) -> Result<Preflight, Self::Error> {
        self.inner.preflight().await.map_err(FaultError::Inner)
    }

    async fn load(
        &self,
        kind: RecordKind,
        records: &[Record],
        refs: &impl Resolve,
    ) -> Result<Vec<LoadResult>, Self::Error> {
        let at = self.plan.count.fetch_add(1, Ordering::SeqCst);
        let fault = self.plan.take(at);
        if let Some(TargetFault::FailBefore(error)) = fault {
            return Err(FaultError::Injected(error));
        }
        let results = self
            .inner
            .load(kind, records, refs)
            .await
            .map_err(FaultError::Inner)?;
        match fault {
            Some(TargetFault::FailAfterWrite(error)) => Err(FaultError::Injected(error)),
            Some(TargetFault::CrashAfterWrite) => Err(FaultError::Crash),
            _ => Ok(results),
        }
    }

    async fn read_back(
        &self,
        kind: RecordKind,
        refs: &[TargetRef],
    ) -> Result<Vec<Record>, Self::Error> {
        self.inner
            .read_back(kind, refs)
            .await
            .map_err(FaultError::Inner)
    }

    async fn remove(&self, created: &[TargetRef]) -> Result<Vec<LoadResult>, Self::Error> {
        self.inner.remove(created).await.map_err(FaultError::Inner)
    }
}
