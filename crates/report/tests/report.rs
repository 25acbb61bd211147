//! The JSON report against what the engine and the doubles did, and the HTML's escaping.

use std::collections::BTreeMap;

use deskmove_core::connector::Keep;
use deskmove_core::{RecordKind, Target};
use deskmove_engine::testkit::world::world;
use deskmove_report::{IssueOutcome, KindCounts, Phase, Report, ReportError, render_html, write};
use deskmove_store::RunId;

use crate::support::*;

fn phase(report: &Report, phase: Phase) -> &deskmove_report::PhaseCounts {
    report
        .phases
        .iter()
        .find(|p| p.phase == phase)
        .unwrap_or_else(|| panic!("no {phase:?} phase in {:?}", report.phases))
}

fn kind(counts: &[KindCounts], kind: RecordKind) -> KindCounts {
    counts
        .iter()
        .find(|c| c.kind == Some(kind))
        .copied()
        .unwrap_or(KindCounts {
            kind: Some(kind),
            ..KindCounts::default()
        })
}

fn series_total(report: &Report, phase: Phase) -> u64 {
    report
        .throughput
        .series
        .iter()
        .filter(|s| s.phase == phase)
        .flat_map(|s| s.points.iter().map(|p| p.records))
        .sum()
}

#[tokio::test]
async fn a_run_reports_what_the_doubles_did() {
    let fx = Fixture::new();
    let target = fx.target();
    let (run, extracted, loaded) = fx.run(&target).await;
    assert!(target.calls() > 2, "the storm was retried through");
    let report = Report::build(&fx.store, run, Some(&target.fidelity()))
        .await
        .unwrap();

    assert_eq!(report.run.id, run);
    assert_eq!(report.run.command, "run");
    assert_eq!(
        report.run.target.as_deref(),
        Some("memory/memory.test/1/api")
    );
    let phases: Vec<Phase> = report.phases.iter().map(|p| p.phase).collect();
    assert_eq!(phases, [Phase::Extract, Phase::Load]);

    // Extract: every record of the world staged, per kind; the unreadable conversation failed.
    let mut per_kind: BTreeMap<RecordKind, u64> = BTreeMap::new();
    for r in world("memory", CONVERSATIONS).records {
        *per_kind.entry(r.kind()).or_default() += 1;
    }
    let extract = phase(&report, Phase::Extract);
    for (k, n) in &per_kind {
        assert_eq!(kind(&extract.kinds, *k).loaded, *n, "{k} staged");
    }
    assert_eq!(extract.total.loaded, extracted.records());
    assert_eq!(kind(&extract.kinds, RecordKind::Conversation).failed, 1);
    assert_eq!(extract.total.failed, 1);
    assert_eq!(extract.total.problems, extracted.problems());

    // Load: per kind exactly the engine's outcomes, and the creations the target recorded.
    let load = phase(&report, Phase::Load);
    for (k, counts) in &loaded.kinds {
        let got = kind(&load.kinds, *k);
        assert_eq!(
            (got.loaded, got.updated, got.skipped, got.failed),
            (counts.loaded, counts.updated, counts.skipped, counts.failed),
            "{k}"
        );
        assert_eq!(got.loaded, fx.writes(*k).0, "{k} created in the target");
    }
    let total = load.total;
    // 4 + 5 per conversation; the refused conversation takes its 2 messages and attachment.
    assert_eq!(total.failed, 4);
    assert_eq!(total.skipped, 2);
    assert_eq!(total.loaded, 4 + 5 * CONVERSATIONS as u64 - 6);
    assert_eq!(total.updated, 0);
    assert_eq!(
        kind(&load.kinds, RecordKind::Contact).problems,
        1,
        "partial"
    );

    // Every skipped or failed record, with its reason.
    let issues: Vec<(Phase, String, IssueOutcome, String)> = report
        .records
        .iter()
        .map(|r| {
            (
                r.phase,
                r.key.id.clone(),
                r.outcome,
                r.reasons[0].code.clone(),
            )
        })
        .collect();
    let failed = IssueOutcome::Failed;
    let skip = IssueOutcome::Skipped;
    let expected: Vec<(Phase, String, IssueOutcome, String)> = [
        (Phase::Extract, "c999", failed, "not_found"),
        (Phase::Load, "a2", skip, "skipped_by_mapping"),
        (Phase::Load, "t2", skip, "skipped_by_mapping"),
        (Phase::Load, "c001", failed, "refused"),
        (Phase::Load, "c001-m0", failed, "parent_not_loaded"),
        (Phase::Load, "c001-m1", failed, "parent_not_loaded"),
        (Phase::Load, "c001-f", failed, "parent_not_loaded"),
    ]
    .into_iter()
    .map(|(p, id, o, code)| (p, id.to_owned(), o, code.to_owned()))
    .collect();
    let mut sorted = issues.clone();
    sorted.sort_by_key(|i| (i.0, i.1.clone()));
    let mut want = expected.clone();
    want.sort_by_key(|i| (i.0, i.1.clone()));
    assert_eq!(sorted, want);
    assert_eq!(
        report.records.len() as u64,
        extract.total.failed + total.failed + total.skipped
    );

    // Problems by kind and reason.
    let groups: Vec<(Phase, RecordKind, &str, u64)> = report
        .problems
        .iter()
        .map(|g| (g.phase, g.kind, g.code.as_str(), g.count))
        .collect();
    for want in [
        (Phase::Extract, RecordKind::Contact, "invalid_email", 1),
        (Phase::Extract, RecordKind::Conversation, "not_found", 1),
        (Phase::Load, RecordKind::Contact, "partially_kept", 1),
        (Phase::Load, RecordKind::Conversation, "refused", 1),
        (Phase::Load, RecordKind::Message, "parent_not_loaded", 2),
        (Phase::Load, RecordKind::Attachment, "parent_not_loaded", 1),
        (Phase::Load, RecordKind::Tag, "skipped_by_mapping", 1),
        (Phase::Load, RecordKind::Agent, "skipped_by_mapping", 1),
    ] {
        assert!(groups.contains(&want), "{want:?} in {groups:?}");
    }
    assert_eq!(groups.len(), 8);
    assert!(report.problems.windows(2).all(|w| w[0].count >= w[1].count));

    // What the path could not keep, counted over the records this run wrote.
    let fidelity = report.fidelity.as_ref().unwrap();
    let gaps: Vec<(RecordKind, &str, Keep, u64)> = fidelity
        .gaps
        .iter()
        .map(|g| (g.kind, g.aspect.as_str(), g.keep, g.records))
        .collect();
    assert_eq!(
        gaps,
        [
            (
                RecordKind::Message,
                "created_at",
                Keep::Moved,
                fx.writes(RecordKind::Message).0
            ),
            (
                RecordKind::Attachment,
                "content_type",
                Keep::Lost,
                fx.writes(RecordKind::Attachment).0
            ),
        ]
    );
    assert!(fidelity.not_loadable.is_empty());

    // Throughput: every committed record lands in a bucket.
    assert_eq!(series_total(&report, Phase::Extract), extracted.records());
    assert_eq!(
        series_total(&report, Phase::Load),
        total.loaded + total.updated + total.skipped + total.failed
    );
    let buckets = report.throughput.series[0].points.len();
    assert!(
        buckets >= 1
            && report
                .throughput
                .series
                .iter()
                .all(|s| s.points.len() == buckets)
    );

    // The files: JSON reads back as the same report; the HTML is the rendering.
    let (json, html) = write(&report, &fx.dir.path().join("report")).unwrap();
    let back: Report = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(back, report);
    assert_eq!(
        std::fs::read_to_string(&html).unwrap(),
        render_html(&report)
    );
}

#[tokio::test]
async fn a_rerun_reports_only_what_it_did_again() {
    let fx = Fixture::new();
    let target = fx.target();
    fx.run(&target).await;
    let (run, extracted, loaded) = fx.run(&target).await;
    let report = Report::build(&fx.store, run, None).await.unwrap();
    // Every stream resumed at its end: nothing staged anew, so no extract phase.
    assert_eq!(extracted.records(), 0);
    assert!(report.phases.iter().all(|p| p.phase != Phase::Extract));
    // The failed and skipped are tried again; the loaded and the partial one are current.
    let load = phase(&report, Phase::Load);
    let t = loaded.total();
    assert_eq!(
        (load.total.loaded, load.total.skipped, load.total.failed),
        (t.loaded, t.skipped, t.failed)
    );
    assert_eq!((t.loaded, t.skipped, t.failed), (0, 2, 4));
    assert!(!report.problems.iter().any(|g| g.code == "partially_kept"));
    assert!(report.fidelity.is_none());
}

#[tokio::test]
async fn a_rollback_reports_each_removal() {
    let fx = Fixture::new();
    let target = fx.target();
    let (first, _, loaded) = fx.run(&target).await;
    let (run, rolled) = fx.rollback(&target, first).await;
    let report = Report::build(&fx.store, run, Some(&target.fidelity()))
        .await
        .unwrap();
    let phases: Vec<Phase> = report.phases.iter().map(|p| p.phase).collect();
    assert_eq!(phases, [Phase::Rollback]);
    let rollback = phase(&report, Phase::Rollback);
    for kind_ in RecordKind::ALL {
        let removed = fx.writes(kind_).1;
        assert_eq!(kind(&rollback.kinds, kind_).loaded, removed, "{kind_}");
    }
    let removed: u64 = rolled.kinds.iter().map(|(_, c)| c.loaded).sum();
    assert_eq!(rollback.total.loaded, removed);
    assert_eq!(rollback.total.loaded, loaded.total().loaded);
    assert_eq!(rollback.total.failed, 0);
    assert!(report.records.is_empty(), "{:?}", report.records);
    assert!(report.problems.is_empty(), "removals are not problems");
    assert_eq!(series_total(&report, Phase::Rollback), removed);
    // Reverse load order: attachments first.
    assert_eq!(rollback.kinds[0].kind, Some(RecordKind::Attachment));
}

#[tokio::test]
async fn an_unknown_run_is_named() {
    let fx = Fixture::new();
    let err = Report::build(&fx.store, RunId(7), None).await.unwrap_err();
    assert!(matches!(err, ReportError::UnknownRun(RunId(7))), "{err}");
}

#[tokio::test]
async fn the_html_shows_planted_markup_as_text_and_links_nothing() {
    let fx = Fixture::new();
    let target = fx.target();
    let (run, ..) = fx.run(&target).await;
    let report = Report::build(&fx.store, run, Some(&target.fidelity()))
        .await
        .unwrap();
    assert!(
        report
            .records
            .iter()
            .any(|r| r.reasons.iter().any(|x| x.reason == PLANTED)),
        "the planted reason is in the report"
    );
    let html = render_html(&report);
    assert!(
        html.contains(
            "&lt;script&gt;document.title=&#39;pwned&#39;&lt;/script&gt; skipped by the mapping"
        ),
        "the reason shows as text"
    );
    let lower = html.to_ascii_lowercase();
    for banned in [
        "<script", "http:", "https:", "src=", "href=", "url(", "@import", "<link", "<img",
        "<iframe", "<object",
    ] {
        assert!(!lower.contains(banned), "the page contains `{banned}`");
    }
    // The charts are there, with one element per data point.
    let points: usize = report
        .throughput
        .series
        .iter()
        .map(|s| s.points.len())
        .sum();
    assert_eq!(html.matches(r#"<circle class="point""#).count(), points);
    let bars = report.problems.len() + report.fidelity.as_ref().unwrap().gaps.len();
    assert_eq!(html.matches(r#"<rect class="bar""#).count(), bars);
}

#[tokio::test]
async fn a_verify_run_lists_each_difference() {
    use deskmove_core::{ErrorKind, Problem, Stage};
    use deskmove_store::{LoadBatch, Store};

    let fx = Fixture::new();
    let target = fx.target();
    fx.run(&target).await;
    let run = fx.start(deskmove_report::VERIFY_COMMAND, &target).await;
    let edited = key(RecordKind::Message, "c002-m1");
    let removed = key(RecordKind::Tag, "t1");
    let problems = vec![
        Problem::new(
            edited.clone(),
            Stage::Verify,
            ErrorKind::Conflict,
            "body_differs",
            "The target's body reads <b>edited</b>.",
        ),
        Problem::new(
            removed.clone(),
            Stage::Verify,
            ErrorKind::NotFound,
            "missing_in_target",
            "The label is gone from the target.",
        ),
    ];
    fx.store
        .put_loads(LoadBatch {
            run,
            entries: vec![],
            problems,
        })
        .await
        .unwrap();
    let report = Report::build(&fx.store, run, None).await.unwrap();
    let phases: Vec<Phase> = report.phases.iter().map(|p| p.phase).collect();
    assert_eq!(phases, [Phase::Verify]);
    assert_eq!(report.phases[0].total.failed, 2);
    let listed: Vec<_> = report
        .records
        .iter()
        .map(|r| {
            (
                r.phase,
                r.key.clone(),
                r.outcome,
                r.reasons[0].code.as_str(),
            )
        })
        .collect();
    assert_eq!(
        listed,
        [
            (
                Phase::Verify,
                removed,
                IssueOutcome::Failed,
                "missing_in_target"
            ),
            (Phase::Verify, edited, IssueOutcome::Failed, "body_differs"),
        ]
    );
    assert_eq!(series_total(&report, Phase::Verify), 2);
    let html = render_html(&report);
    assert!(html.contains("reads &lt;b&gt;edited&lt;/b&gt;."));
    assert!(!html.contains("<b>"));
}

/// Every text field of a report carries markup; none of it may reach the page as markup.
#[test]
fn every_field_is_escaped() {
    use deskmove_core::connector::Keep;
    use deskmove_core::{ErrorKind, SourceKey, Stage};
    use deskmove_report::{
        FidelityGap, FidelityReport, NotLoadable, PhaseCounts, Point, ProblemGroup, Reason,
        RecordIssue, RunInfo, Series, Throughput,
    };
    use deskmove_store::RunStatus;

    let evil = |what: &str| format!("<i>{what}</i>\"'&");
    let at = jiff::Timestamp::from_second(1_800_000_000).unwrap();
    let counts = KindCounts {
        kind: Some(RecordKind::Contact),
        loaded: 3,
        updated: 1,
        skipped: 1,
        failed: 1,
        problems: 2,
    };
    let report = Report {
        format: deskmove_report::REPORT_FORMAT,
        generated_at: at,
        run: RunInfo {
            id: RunId(4),
            command: evil("command"),
            status: RunStatus::CompletedWithProblems,
            started_at: at,
            finished_at: Some(at),
            source: Some(evil("source")),
            target: Some(evil("target")),
        },
        phases: vec![PhaseCounts {
            phase: Phase::Load,
            kinds: vec![counts],
            total: counts,
        }],
        problems: vec![ProblemGroup {
            phase: Phase::Load,
            kind: RecordKind::Contact,
            code: evil("code"),
            count: 2,
            example: evil("example"),
        }],
        records: vec![RecordIssue {
            phase: Phase::Load,
            key: SourceKey::new(evil("system"), RecordKind::Contact, evil("id")),
            outcome: IssueOutcome::Failed,
            reasons: vec![Reason {
                stage: Stage::Load,
                code: evil("reason code"),
                reason: evil("reason"),
                error_kind: ErrorKind::Validation,
            }],
        }],
        throughput: Throughput {
            start: Some(at),
            bucket_ms: 1000,
            series: vec![Series {
                phase: Phase::Load,
                points: vec![Point {
                    offset_ms: 0,
                    records: 5,
                    problems: 1,
                }],
            }],
        },
        fidelity: Some(FidelityReport {
            gaps: vec![FidelityGap {
                kind: RecordKind::Message,
                aspect: evil("aspect"),
                keep: Keep::Lost,
                note: evil("note"),
                records: 3,
            }],
            not_loadable: vec![NotLoadable {
                kind: RecordKind::Article,
                staged: 2,
            }],
        }),
    };
    let html = render_html(&report);
    assert!(!html.contains("<i>"), "raw markup in the page");
    for what in [
        "command",
        "source",
        "target",
        "code",
        "example",
        "system",
        "id",
        "reason code",
        "reason",
        "aspect",
        "note",
    ] {
        assert!(
            html.contains(&format!("&lt;i&gt;{what}&lt;/i&gt;&quot;&#39;&amp;")),
            "{what} is shown escaped"
        );
    }
    // The JSON keeps the text as it was.
    let json = serde_json::to_string(&report).unwrap();
    let back: Report = serde_json::from_str(&json).unwrap();
    assert_eq!(back, report);
}
