//! [`MemorySource`]: a reference [`Source`] over pages held in memory. Cursors are page numbers;
//! attachments go through [`PageSink::blob`] before the page that carries them.

use std::collections::BTreeMap;
use std::sync::Arc;

use bytes::Bytes;
use deskmove_core::connector::{
    ByteStream, Cursor, KindCount, Page, PageSink, Raw, SinkError, SourceScan, StreamSpec,
};
use deskmove_core::{Classify, ErrorKind, Problem, Record, RecordKind, Source, SourceKey};

use super::harness::SourceExpectation;
use super::world::World;

/// A deliberate bug, for showing that the compliance harness catches it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceBug {
    /// Never delivers the page with this index (in every stream that has it).
    SkipsPage(usize),
    /// On resume, starts one page after the cursor (an off-by-one in cursor handling).
    SkipsPageOnResume,
    /// Delivers records but drops every problem.
    DropsProblems,
    /// Ignores the cursor and reads every stream from its start again (nothing lost, but a
    /// crash late in a large export costs the whole export again).
    RestartsOnResume,
}

/// The memory doubles' error.
#[derive(Debug, Clone, thiserror::Error)]
pub enum MemoryError {
    /// The sink refused.
    #[error(transparent)]
    Sink(#[from] SinkError),
    /// Something else, of this kind.
    #[error("{message}")]
    Other {
        /// Its kind.
        kind: ErrorKind,
        /// What happened.
        message: String,
    },
}

impl Classify for MemoryError {
    fn kind(&self) -> ErrorKind {
        match self {
            Self::Sink(e) => e.kind(),
            Self::Other { kind, .. } => *kind,
        }
    }
}

#[derive(Debug, Clone, Default)]
struct MemoryPage {
    records: Vec<Record>,
    raw: Vec<Raw>,
    problems: Vec<Problem>,
}

#[derive(Debug, Clone)]
struct MemoryStream {
    spec: StreamSpec,
    pages: Vec<MemoryPage>,
}

/// A source over pages in memory. Cheap to clone (the pages are shared).
#[derive(Debug, Clone)]
pub struct MemorySource {
    streams: Arc<Vec<MemoryStream>>,
    files: Arc<BTreeMap<SourceKey, Bytes>>,
    bug: Option<SourceBug>,
}

impl MemorySource {
    /// One stream per kind present in `world` (`<system>/<kind>`, in load order, each after the
    /// previous one so the dependency order is exercised), pages of `page_size` records, each
    /// record with a raw payload (its JSON).
    pub fn from_world(world: &World, page_size: usize) -> Self {
        let page_size = page_size.max(1);
        let mut by_kind: BTreeMap<usize, (RecordKind, Vec<Record>)> = BTreeMap::new();
        for r in &world.records {
            let pos = RecordKind::ALL
                .iter()
                .position(|k| *k == r.kind())
                .unwrap_or(0);
            by_kind
                .entry(pos)
                .or_insert_with(|| (r.kind(), Vec::new()))
                .1
                .push(r.clone());
        }
        let mut streams: Vec<MemoryStream> = Vec::new();
        for (kind, records) in by_kind.into_values() {
            let system = records
                .first()
                .map(|r| r.key().system.clone())
                .unwrap_or_default();
            let mut spec = StreamSpec::new(format!("{system}/{kind}"), vec![kind]);
            // Messages and attachments wait for what they belong to; the rest run concurrently.
            if matches!(kind, RecordKind::Message | RecordKind::Attachment)
                && let Some(prev) = streams.last()
            {
                spec = spec.after(prev.spec.name.clone());
            }
            let pages = records
                .chunks(page_size)
                .map(|chunk| MemoryPage {
                    raw: chunk
                        .iter()
                        .map(|r| {
                            Raw::new(r.key().clone(), serde_json::to_vec(r).unwrap_or_default())
                        })
                        .collect(),
                    records: chunk.to_vec(),
                    problems: Vec::new(),
                })
                .collect();
            streams.push(MemoryStream { spec, pages });
        }
        Self {
            streams: Arc::new(streams),
            files: Arc::new(world.files.clone()),
            bug: None,
        }
    }

    /// Adds `problem` to the page holding its record (or to the first page of the first
    /// stream when no page holds it: a record that could not be read at all).
    pub fn plant_problem(mut self, problem: Problem) -> Self {
        let streams = Arc::make_mut(&mut self.streams);
        let page = streams
            .iter_mut()
            .flat_map(|s| s.pages.iter_mut())
            .find(|p| p.records.iter().any(|r| r.key() == &problem.key));
        match page {
            Some(p) => p.problems.push(problem),
            None => {
                if let Some(p) = streams.first_mut().and_then(|s| s.pages.first_mut()) {
                    p.problems.push(problem);
                }
            }
        }
        self
    }

    /// This source, with a deliberate bug.
    pub fn with_bug(mut self, bug: SourceBug) -> Self {
        self.bug = Some(bug);
        self
    }

    /// What the harness should find in the store after extracting this source (without bugs).
    pub fn expected(&self) -> SourceExpectation {
        let mut e = SourceExpectation::default();
        for p in self.streams.iter().flat_map(|s| &s.pages) {
            e.records.extend(p.records.iter().map(|r| r.key().clone()));
            e.problems
                .extend(p.problems.iter().map(|x| (x.key.clone(), x.code.clone())));
        }
        e
    }

    /// Pages over all streams.
    pub fn pages(&self) -> usize {
        self.streams.iter().map(|s| s.pages.len()).sum()
    }
}

impl Source for MemorySource {
    type Error = MemoryError;

    fn streams(&self) -> Vec<StreamSpec> {
        self.streams.iter().map(|s| s.spec.clone()).collect()
    }

    async fn scan(&self) -> Result<SourceScan, MemoryError> {
        let mut scan = SourceScan::default();
        for p in self.streams.iter().flat_map(|s| &s.pages) {
            for r in &p.records {
                scan.kinds
                    .entry(r.kind())
                    .or_insert(KindCount {
                        count: 0,
                        exact: true,
                    })
                    .count += 1;
            }
        }
        scan.attachment_bytes = Some(self.files.values().map(|b| b.len() as u64).sum());
        Ok(scan)
    }

    async fn extract(
        &self,
        stream: &StreamSpec,
        resume: Option<Cursor>,
        out: &mut impl PageSink,
    ) -> Result<(), MemoryError> {
        let Some(s) = self.streams.iter().find(|s| s.spec.name == stream.name) else {
            return Err(MemoryError::Other {
                kind: ErrorKind::Internal,
                message: format!("no stream `{}`", stream.name),
            });
        };
        let mut start = match &resume {
            None => 0,
            Some(c) => c.0.parse::<usize>().map_err(|_| MemoryError::Other {
                kind: ErrorKind::Protocol,
                message: format!("cursor `{c}` is not a page number"),
            })?,
        };
        match self.bug {
            Some(SourceBug::SkipsPageOnResume) if resume.is_some() => start += 1,
            Some(SourceBug::RestartsOnResume) => start = 0,
            _ => {}
        }
        for (i, page) in s.pages.iter().enumerate().skip(start) {
            if self.bug == Some(SourceBug::SkipsPage(i)) {
                continue;
            }
            let mut records = page.records.clone();
            for r in &mut records {
                if let Record::Attachment(a) = r
                    && let Some(bytes) = self.files.get(&a.key)
                {
                    // Two chunks, so sinks see a real stream.
                    let (head, tail) = bytes.split_at(bytes.len() / 2);
                    let chunks: Vec<Result<Bytes, std::io::Error>> = vec![
                        Ok(Bytes::copy_from_slice(head)),
                        Ok(Bytes::copy_from_slice(tail)),
                    ];
                    let body: ByteStream = Box::pin(futures::stream::iter(chunks));
                    a.blob = Some(out.blob(body, a.content_type.as_deref()).await?);
                }
            }
            let problems = if self.bug == Some(SourceBug::DropsProblems) {
                Vec::new()
            } else {
                page.problems.clone()
            };
            out.page(Page {
                records,
                raw: page.raw.clone(),
                problems,
                cursor: Some(Cursor((i + 1).to_string())),
            })
            .await?;
        }
        Ok(())
    }
}
