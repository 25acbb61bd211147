//! The extract phase: every stream of a source, in dependency order, each page committed with its
//! cursor in one store transaction, so a crash anywhere loses at most the page in flight.

use std::collections::HashSet;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use deskmove_core::connector::{
    BlobRef, ByteStream, Cursor, Page, PageSink, SinkError, StreamSpec,
};
use deskmove_core::{Classify, Source};
use deskmove_store::{RawPayload, RunId, StagedBatch, Store, StoreError};
use futures::StreamExt;
use futures::stream::FuturesUnordered;

use crate::progress::{Observer, Progress};
use crate::{Engine, EngineError};

/// What extracting one stream did in this run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StreamReport {
    /// The stream.
    pub stream: String,
    /// Whether it continued from a stored cursor.
    pub resumed: bool,
    /// Attempts it took (more than 1 after transient failures).
    pub attempts: u32,
    /// Pages committed.
    pub pages: u64,
    /// Records committed.
    pub records: u64,
    /// Problems committed.
    pub problems: u64,
    /// Files stored in the blob store (including ones it already held).
    pub blobs: u64,
}

/// What an extract phase did, per stream in the order they finished.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExtractReport {
    /// Per stream.
    pub streams: Vec<StreamReport>,
}

impl ExtractReport {
    /// Records committed over all streams.
    pub fn records(&self) -> u64 {
        self.streams.iter().map(|s| s.records).sum()
    }

    /// Problems committed over all streams.
    pub fn problems(&self) -> u64 {
        self.streams.iter().map(|s| s.problems).sum()
    }

    /// Pages committed over all streams.
    pub fn pages(&self) -> u64 {
        self.streams.iter().map(|s| s.pages).sum()
    }
}

impl<St: Store> Engine<'_, St> {
    /// Extracts every stream of `source` into the store for `run`.
    ///
    /// Streams start in the order [`Source::streams`] lists them, each once the streams it
    /// depends on have finished, up to [`EngineOptions::concurrency`](crate::EngineOptions) at a
    /// time. Each resumes from its stored cursor. A stream failing with a transient kind resumes
    /// again from its last committed cursor, up to the attempt budget; any other failure stops
    /// the phase (the other streams stop at their next page; what they committed stays).
    pub async fn extract<S: Source>(
        &self,
        run: RunId,
        source: &S,
    ) -> Result<ExtractReport, EngineError> {
        let mut pending = source.streams();
        check_streams(&pending)?;
        let mut done: HashSet<String> = HashSet::new();
        let mut running = FuturesUnordered::new();
        let mut report = ExtractReport::default();
        loop {
            let mut i = 0;
            while running.len() < self.options.concurrency && i < pending.len() {
                if pending[i].depends_on.iter().all(|d| done.contains(d)) {
                    let spec = pending.remove(i);
                    running.push(self.extract_stream(run, source, spec));
                } else {
                    i += 1;
                }
            }
            match running.next().await {
                Some(finished) => {
                    let stream = finished?;
                    done.insert(stream.stream.clone());
                    report.streams.push(stream);
                }
                None if pending.is_empty() => break,
                None => {
                    let names: Vec<_> = pending.iter().map(|s| s.name.as_str()).collect();
                    return Err(EngineError::Plan(format!(
                        "streams {names:?} depend on each other in a cycle"
                    )));
                }
            }
        }
        Ok(report)
    }

    async fn extract_stream<S: Source>(
        &self,
        run: RunId,
        source: &S,
        spec: StreamSpec,
    ) -> Result<StreamReport, EngineError> {
        let mut report = StreamReport {
            stream: spec.name.clone(),
            ..StreamReport::default()
        };
        loop {
            report.attempts += 1;
            let resume = self.store.cursor(&spec.name).await?.map(Cursor);
            if report.attempts == 1 {
                report.resumed = resume.is_some();
                tracing::debug!(stream = %spec.name, resumed = report.resumed, "Stream started.");
                self.observer.event(&Progress::StreamStarted {
                    stream: spec.name.clone(),
                    resumed: report.resumed,
                });
            }
            let mut sink = EngineSink {
                store: self.store,
                blobs: self.blobs,
                observer: self.observer,
                run,
                stream: &spec.name,
                report: &mut report,
                blobs_stored: AtomicU64::new(0),
                failure: Mutex::new(None),
            };
            let result = source.extract(&spec, resume, &mut sink).await;
            let (blobs, failure) = sink.finish();
            report.blobs += blobs;
            // A store failure is the real cause, whatever the source made of it.
            if let Some(failure) = failure {
                return Err(failure.into());
            }
            match result {
                Ok(()) => break,
                Err(e) => {
                    let kind = e.kind();
                    if kind.is_transient() && report.attempts < self.options.attempts {
                        tracing::warn!(stream = %spec.name, %kind, error = %e, attempt = report.attempts,
                            "Stream failed; resuming from its last committed cursor.");
                        self.observer.event(&Progress::StreamRetrying {
                            stream: spec.name.clone(),
                            attempt: report.attempts + 1,
                            kind,
                        });
                        continue;
                    }
                    return Err(EngineError::Source {
                        stream: spec.name.clone(),
                        kind,
                        attempts: report.attempts,
                        source: Box::new(e),
                    });
                }
            }
        }
        tracing::debug!(stream = %spec.name, pages = report.pages, records = report.records, "Stream finished.");
        self.observer.event(&Progress::StreamFinished {
            stream: spec.name.clone(),
            pages: report.pages,
            records: report.records,
            problems: report.problems,
        });
        Ok(report)
    }
}

/// Names unique, dependencies known (cycles show up while scheduling).
fn check_streams(specs: &[StreamSpec]) -> Result<(), EngineError> {
    let mut names = HashSet::new();
    for s in specs {
        if !names.insert(s.name.as_str()) {
            return Err(EngineError::Plan(format!(
                "stream `{}` is listed twice",
                s.name
            )));
        }
    }
    for s in specs {
        if let Some(d) = s.depends_on.iter().find(|d| !names.contains(d.as_str())) {
            return Err(EngineError::Plan(format!(
                "stream `{}` depends on `{d}`, which the source does not list",
                s.name
            )));
        }
    }
    Ok(())
}

/// The engine's [`PageSink`]: one stream of one run, over the staging store.
struct EngineSink<'e, St> {
    store: &'e St,
    blobs: &'e deskmove_store::BlobStore,
    observer: &'e dyn Observer,
    run: RunId,
    stream: &'e str,
    report: &'e mut StreamReport,
    /// Files stored; counted apart from `report` because several `blob` calls run at once.
    blobs_stored: AtomicU64,
    /// The first store failure, the real cause whatever the source made of it.
    failure: Mutex<Option<StoreError>>,
}

impl<St: Store> EngineSink<'_, St> {
    fn store_failed(&self, e: StoreError) -> SinkError {
        let err = SinkError::Store {
            kind: e.kind(),
            message: e.to_string(),
        };
        let mut failure = self.failure.lock().unwrap_or_else(|p| p.into_inner());
        failure.get_or_insert(e);
        err
    }

    /// Files stored and the first store failure, once the source has returned.
    fn finish(self) -> (u64, Option<StoreError>) {
        let failure = self.failure.into_inner().unwrap_or_else(|p| p.into_inner());
        (self.blobs_stored.into_inner(), failure)
    }
}

impl<St: Store> PageSink for EngineSink<'_, St> {
    async fn page(&mut self, page: Page) -> Result<(), SinkError> {
        if let Some(r) = page.records.iter().find(|r| r.key().kind != r.kind()) {
            return Err(SinkError::Invalid(format!(
                "record {} is a {} record",
                r.key(),
                r.kind()
            )));
        }
        let (records, raw, problems) = (page.records.len(), page.raw.len(), page.problems.len());
        let batch = StagedBatch {
            run: self.run,
            stream: self.stream.to_owned(),
            cursor: page.cursor.map(|c| c.0),
            records: page.records,
            raw: page
                .raw
                .into_iter()
                .map(|r| RawPayload::new(r.key, r.body.to_vec()))
                .collect(),
            problems: page.problems,
        };
        if let Err(e) = self.store.put_batch(batch).await {
            return Err(self.store_failed(e));
        }
        self.report.pages += 1;
        self.report.records += records as u64;
        self.report.problems += problems as u64;
        self.observer.event(&Progress::PageCommitted {
            stream: self.stream.to_owned(),
            records,
            raw,
            problems,
        });
        Ok(())
    }

    async fn blob(
        &self,
        body: ByteStream,
        content_type: Option<&str>,
    ) -> Result<BlobRef, SinkError> {
        // Tells a broken download (the source may fetch it again) from a failing blob store.
        let mut broken: Option<String> = None;
        let body = body.inspect(|chunk| {
            if let Err(e) = chunk {
                broken = Some(e.to_string());
            }
        });
        let stored = self.blobs.put_stream(self.store, body, content_type).await;
        let meta = match (stored, broken) {
            (Ok(m), _) => m,
            (Err(_), Some(reason)) => return Err(SinkError::Body(reason)),
            (Err(e), None) => return Err(self.store_failed(e)),
        };
        self.blobs_stored.fetch_add(1, Ordering::Relaxed);
        self.observer.event(&Progress::BlobStored {
            stream: self.stream.to_owned(),
            bytes: meta.size,
        });
        Ok(BlobRef {
            hash: meta.hash,
            size: meta.size,
        })
    }
}
