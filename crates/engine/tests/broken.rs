//! The harness fails, naming the rule, against each deliberately broken double.

use deskmove_engine::testkit::{
    Check, MemoryTargetState, SourceBug, TargetBug, check_source_compliance,
    check_target_compliance,
};
use tempfile::TempDir;

use crate::support::{self, fixture, source, target};

#[tokio::test]
async fn a_source_that_skips_a_page_fails_pagination() {
    let dir = TempDir::new().unwrap();
    let good = source();
    let expected = good.expected();
    let broken = good.with_bug(SourceBug::SkipsPage(1));
    let findings = check_source_compliance(|| broken.clone(), || support::memory(&dir), &expected)
        .await
        .expect_err("a skipped page must be found");
    println!("{findings}");
    assert!(findings.has(Check::Pagination), "{findings}");
    assert!(findings.has(Check::Counts), "{findings}");
    let pagination = findings
        .0
        .iter()
        .find(|f| f.check == Check::Pagination)
        .unwrap();
    // Page 1 of the contacts stream holds p004 and p005.
    assert!(
        pagination.detail.contains("memory:contact:p004"),
        "{findings}"
    );
}

#[tokio::test]
async fn a_source_that_skips_the_page_after_its_cursor_fails_resume() {
    let dir = TempDir::new().unwrap();
    let good = source();
    let expected = good.expected();
    let broken = good.with_bug(SourceBug::SkipsPageOnResume);
    let findings = check_source_compliance(|| broken.clone(), || support::memory(&dir), &expected)
        .await
        .expect_err("a page lost on resume must be found");
    println!("{findings}");
    // An uninterrupted extraction is complete; only the crash scenarios see the loss.
    assert!(!findings.has(Check::Pagination), "{findings}");
    assert!(findings.has(Check::Resume), "{findings}");
    assert!(
        findings
            .0
            .iter()
            .any(|f| f.check == Check::Resume && f.detail.contains("records lost")),
        "{findings}"
    );
}

#[tokio::test]
async fn a_source_that_restarts_on_resume_fails_resume_for_refetching() {
    let dir = TempDir::new().unwrap();
    let good = source();
    let expected = good.expected();
    let broken = good.with_bug(SourceBug::RestartsOnResume);
    let findings = check_source_compliance(|| broken.clone(), || support::memory(&dir), &expected)
        .await
        .expect_err("re-fetching a stream from its start must be found");
    println!("{findings}");
    // Nothing is lost, so only the re-fetch count gives it away.
    assert!(
        findings.0.iter().all(|f| f.check == Check::Resume),
        "{findings}"
    );
    assert!(
        findings
            .0
            .iter()
            .all(|f| f.detail.contains("fetched again")),
        "{findings}"
    );
}

#[tokio::test]
async fn a_source_that_drops_a_problem_fails_problems() {
    let dir = TempDir::new().unwrap();
    let good = source();
    let expected = good.expected();
    let broken = good.with_bug(SourceBug::DropsProblems);
    let findings = check_source_compliance(|| broken.clone(), || support::sqlite(&dir), &expected)
        .await
        .expect_err("a dropped problem must be found");
    println!("{findings}");
    assert!(findings.has(Check::Problems), "{findings}");
    let f = findings
        .0
        .iter()
        .find(|f| f.check == Check::Problems)
        .unwrap();
    assert!(
        f.detail.contains("memory:contact:p001 (invalid_email)"),
        "{findings}"
    );
    assert!(
        f.detail.contains("memory:conversation:c999 (not_found)"),
        "{findings}"
    );
    assert!(!findings.has(Check::Pagination), "{findings}");
}

#[tokio::test]
async fn a_target_that_writes_twice_after_a_crash_fails_resume() {
    let dir = TempDir::new().unwrap();
    let findings = check_target_compliance(
        || async { MemoryTargetState::new() },
        |state: &MemoryTargetState| target(state).with_bug(TargetBug::DuplicatesAfterCrash),
        || support::memory(&dir),
        &fixture(),
        3,
    )
    .await
    .expect_err("duplicates after a crash must be found");
    println!("{findings}");
    assert!(findings.has(Check::Resume), "{findings}");
    assert!(
        findings
            .0
            .iter()
            .any(|f| f.check == Check::Resume && f.detail.contains("arrived more than once")),
        "{findings}"
    );
    // A lost response is the same gap inside one run.
    assert!(findings.has(Check::Faults), "{findings}");
    // Without a crash it behaves: the first load and the re-run are clean.
    assert!(!findings.has(Check::Arrived), "{findings}");
    assert!(!findings.has(Check::Rerun), "{findings}");
}
