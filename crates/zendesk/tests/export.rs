//! Whole exports against the sandbox, compared with the synthetic world itself (the oracle),
//! never with what the extractor thinks it read.

use deskmove_engine::testkit::assert_source_compliance;
use deskmove_zendesk_sandbox::{RunningSandbox, Sandbox, SandboxArgs, TooManyStyle};
use tempfile::TempDir;

use crate::oracle;
use crate::support::{self, Pace, all_records, calls, export, problems};

const COMMENTS: &str = "GET /api/v2/tickets/{id}/comments";
const TICKET_EXPORT: &str = "GET /api/v2/incremental/tickets/cursor";

/// A world with the sandbox's limits off (the speed of the main tests; one test keeps them).
fn unlimited(tickets: u64, contacts: u64) -> SandboxArgs {
    SandboxArgs {
        tickets,
        contacts,
        rate_limit: 0,
        incremental_rate_limit: 0,
        ..SandboxArgs::default()
    }
}

async fn export_and_compare(sandbox: &RunningSandbox, page: u32, pace: Pace) {
    let dir = TempDir::new().unwrap();
    let staging = support::sqlite(&dir);
    let source = support::source(sandbox, page, pace);
    export(&staging, &source)
        .await
        .expect("the export completes");
    let staged = all_records(&staging.store).await;
    oracle::compare(sandbox, &staged, &problems(&staging.store).await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_export_equals_the_world() {
    let sandbox = support::sandbox(unlimited(2_000, 400)).await;
    let totals = sandbox.inspect();
    let (tickets, archived) = (
        totals["tickets"].as_u64().unwrap(),
        totals["tickets_archived"].as_u64().unwrap(),
    );
    assert!(
        tickets >= 2_000 && archived * 5 >= tickets,
        "{archived} of {tickets} archived"
    );
    export_and_compare(&sandbox, 1_000, Pace::Unlimited).await;
    // One comment list per live ticket in pages of 100 (an exactly full last page is followed
    // by an empty one, §1.3), none for deleted ones, whose comments 404; and the ticket export
    // read in pages of 1,000.
    let stats = sandbox.stats();
    let view = sandbox.world().view();
    let deleted = oracle::deleted_tickets(&sandbox).await;
    let pages: u64 = (0..view.conversation_count())
        .filter(|i| !deleted.contains(&(i + 1)))
        .map(|i| {
            let c = view.conversation(i).unwrap();
            let n = 1 + c.parts.iter().filter(|p| p.kind.is_message()).count() as u64;
            n / 100 + 1
        })
        .sum();
    assert_eq!(calls(&stats, COMMENTS), pages);
    assert!(
        stats
            .get(COMMENTS)
            .is_some_and(|s| !s.statuses.contains_key(&404))
    );
    assert_eq!(calls(&stats, TICKET_EXPORT), tickets.div_ceil(1_000).max(1));
    // Never the list or one by one: they miss archived tickets (research §2.3).
    assert!(!stats.contains_key("GET /api/v2/tickets"));
    assert!(!stats.contains_key("GET /api/v2/tickets/{id}"));
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_source_passes_the_compliance_harness() {
    let sandbox = support::sandbox(unlimited(14, 16)).await;
    let totals = sandbox.inspect();
    let dir = TempDir::new().unwrap();
    let deleted = oracle::deleted_tickets(&sandbox).await;
    let expected = oracle::expected(
        &sandbox.world().view(),
        &deleted,
        totals["ticket_fields_custom"].as_u64().unwrap(),
    );
    let report = assert_source_compliance(
        || support::source(&sandbox, 4, Pace::Unlimited),
        || support::sqlite(&dir),
        &expected,
    )
    .await;
    assert!(report.pages > 10, "{report:?}");
    assert!(sandbox.leaked_credentials().is_empty());
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delta_run_reads_only_the_churn_through_the_saved_cursors() {
    let sandbox = support::sandbox(unlimited(600, 200)).await;
    let dir = TempDir::new().unwrap();
    let staging = support::sqlite(&dir);
    export(&staging, &support::source(&sandbox, 100, Pace::Unlimited))
        .await
        .unwrap();
    let before = sandbox.stats();
    let first_pages = calls(&before, TICKET_EXPORT);
    assert!(first_pages >= 6, "{first_pages} ticket export pages");
    let old_count = sandbox.world().view().conversation_count();
    sandbox.world().advance(3);
    let view = sandbox.world().view();
    assert!(view.conversation_count() > old_count, "the world grew");
    export(&staging, &support::source(&sandbox, 100, Pace::Unlimited))
        .await
        .unwrap();
    let after = sandbox.stats();
    let lists = calls(&after, COMMENTS) - calls(&before, COMMENTS);
    let pages = calls(&after, TICKET_EXPORT) - calls(&before, TICKET_EXPORT);
    let new = view.conversation_count() - old_count;
    // The saved cursor resumes after what the first run read: only changed and new tickets
    // come, in a page or two; a restart from `start_time=0` would read every page again.
    assert!(pages < first_pages / 2, "{pages} export pages on the delta");
    assert!(
        lists >= new.saturating_sub(new / 10),
        "{lists} comment lists for {new} new tickets"
    );
    assert!(
        lists < view.conversation_count() / 3,
        "{lists} comment lists: not a delta"
    );
    let users =
        |s: &deskmove_sandbox::SandboxStats| calls(s, "GET /api/v2/incremental/users/cursor");
    assert!(users(&after) - users(&before) <= 2);
    let staged = all_records(&staging.store).await;
    oracle::compare(&sandbox, &staged, &problems(&staging.store).await).await;
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_and_the_ten_per_minute_bucket_lose_nothing() {
    // The account bucket at Enterprise's 700/min, the incremental one at Zendesk's 10/min with
    // the source asking faster than that, and the shared faults on top.
    let sandbox = support::sandbox(SandboxArgs {
        tickets: 300,
        contacts: 120,
        faults: "5xx=0.05,reset=0.01,storm=0.01,truncate=0.01"
            .parse()
            .unwrap(),
        ..SandboxArgs::default()
    })
    .await;
    export_and_compare(&sandbox, 25, Pace::OverIncremental).await;
    let stats = sandbox.stats();
    let throttled: u64 = stats
        .iter()
        .filter(|(route, _)| route.contains("/incremental/"))
        .map(|(_, s)| s.statuses.get(&429).copied().unwrap_or(0))
        .sum();
    assert!(
        throttled > 0,
        "the incremental bucket was hit and ridden out"
    );
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_kind_of_429_is_ridden_out() {
    for style in [
        TooManyStyle::Text,
        TooManyStyle::Edge,
        TooManyStyle::NoRetryAfter,
    ] {
        let sandbox = support::sandbox(SandboxArgs {
            too_many_style: style,
            faults: "storm=0.03".parse().unwrap(),
            ..unlimited(40, 30)
        })
        .await;
        export_and_compare(&sandbox, 10, Pace::Unlimited).await;
        let stormed: u64 = sandbox
            .stats()
            .values()
            .map(|s| s.statuses.get(&429).copied().unwrap_or(0))
            .sum();
        assert!(stormed > 0, "{style:?}: storms were injected");
        sandbox.shutdown().await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_default_budgets_stay_under_zendesks_limits() {
    // The sandbox's default limits (700/min, 10/min incremental) and deskmove's own budgets:
    // never a 429.
    let sandbox = support::sandbox(SandboxArgs {
        tickets: 30,
        contacts: 20,
        ..SandboxArgs::default()
    })
    .await;
    export_and_compare(&sandbox, 1_000, Pace::Zendesk).await;
    let throttled: u64 = sandbox
        .stats()
        .values()
        .map(|s| s.statuses.get(&429).copied().unwrap_or(0))
        .sum();
    assert_eq!(throttled, 0);
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secure_downloads_sign_in_on_the_first_hop_only() {
    // With secure downloads, a `content_url` answers only with the account's credentials, 302 to
    // the pre-signed host (research §3.3): every file arrives, and the file host never sees a
    // credential.
    let sandbox = support::sandbox(SandboxArgs {
        secure_downloads: true,
        ..unlimited(30, 20)
    })
    .await;
    export_and_compare(&sandbox, 10, Pace::Unlimited).await;
    let files = sandbox.file_stats();
    assert!(
        files.values().map(|s| s.calls).sum::<u64>() > 0,
        "the files came from the pre-signed host"
    );
    assert!(sandbox.leaked_credentials().is_empty());
    let stats = sandbox.stats();
    let first_hops = stats
        .iter()
        .filter(|(route, _)| route.contains("/attachments/token/"));
    let (hops, refused) = first_hops.fold((0, 0), |(n, r), (_, s)| {
        (n + s.calls, r + s.statuses.get(&401).copied().unwrap_or(0))
    });
    assert!(hops > 0, "downloads started on the account's host");
    assert_eq!(refused, 0, "every first hop was signed in");
    sandbox.shutdown().await;
}
