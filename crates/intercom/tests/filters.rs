//! `[source.filters]` against the sandbox: what the rules keep is staged, what they exclude is
//! neither retrieved nor staged and is reported one problem each, compared with the world.

use std::collections::BTreeSet;

use deskmove_core::{RecordKind, SourceKey};
use deskmove_intercom::filter::{EXCLUDED, ThreadFilter};
use deskmove_intercom::map::to_canonical::SYSTEM;
use deskmove_intercom::{Filters, IntercomSource};
use deskmove_intercom_sandbox::{Sandbox, SandboxArgs};
use secrecy::SecretString;
use tempfile::TempDir;

use crate::support::{self, calls, export, problems, records};

fn k(kind: RecordKind, id: impl Into<String>) -> SourceKey {
    SourceKey::new(SYSTEM, kind, id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_keep_what_they_name_and_report_each_exclusion() {
    let sandbox = support::sandbox(SandboxArgs {
        conversations: 240,
        contacts: 60,
        ..SandboxArgs::default()
    })
    .await;
    let view = sandbox.world().view();
    // The cut: the median creation time of the world's conversations, as an RFC 3339 time.
    let mut created: Vec<i64> = (0..view.conversation_count())
        .map(|i| view.conversation(i).unwrap().created_at)
        .collect();
    created.sort_unstable();
    let cut = created[created.len() / 2];
    let filters = Filters {
        created_after: Some(jiff::Timestamp::from_second(cut).unwrap().to_string()),
        states: vec!["open".into(), "snoozed".into()],
        channels: vec!["conversation".into(), "email".into()],
        ..Filters::default()
    };

    let mut kept = BTreeSet::new();
    let mut excluded = BTreeSet::new();
    for i in 0..view.conversation_count() {
        let c = view.conversation(i).unwrap();
        let keep = c.created_at >= cut
            && ["open", "snoozed"].contains(&c.state.as_str())
            && ["conversation", "email"].contains(&c.channel);
        let key = k(RecordKind::Conversation, c.id);
        if keep { &mut kept } else { &mut excluded }.insert(key);
    }
    // Tickets are held to the dates only (they have no conversation state or channel).
    let mut tickets_kept = 0u64;
    for i in 0..view.ticket_count() {
        let t = view.ticket(i).unwrap();
        let key = k(RecordKind::Conversation, format!("ticket-{}", t.id));
        if t.created_at >= cut {
            tickets_kept += 1;
            kept.insert(key);
        } else {
            excluded.insert(key);
        }
    }
    assert!(
        kept.len() > 10 && excluded.len() > 10,
        "the world exercises both sides: {} kept, {} excluded",
        kept.len(),
        excluded.len()
    );

    let mut options = support::options(&sandbox, 50);
    options.filter = ThreadFilter::new(&filters).unwrap();
    let source =
        IntercomSource::with_options(options, &SecretString::from(sandbox.token().to_owned()))
            .unwrap();
    let dir = TempDir::new().unwrap();
    let staging = support::sqlite(&dir);
    let report = export(&staging, &source).await.unwrap();

    let staged: BTreeSet<SourceKey> = records(&staging.store, RecordKind::Conversation)
        .await
        .into_keys()
        .collect();
    assert_eq!(staged, kept, "exactly what the filters keep is staged");
    let reported: BTreeSet<SourceKey> = problems(&staging.store)
        .await
        .into_iter()
        .filter(|p| p.code == EXCLUDED)
        .map(|p| p.key)
        .collect();
    assert_eq!(reported, excluded, "every exclusion is reported, once");
    assert!(report.problems() >= excluded.len() as u64, "{report:?}");

    // Excluded threads cost no retrieval.
    let stats = sandbox.stats();
    let conversations_kept = kept.len() as u64 - tickets_kept;
    assert_eq!(
        calls(&stats, "GET /conversations/{conversation_id}"),
        conversations_kept
    );
    assert_eq!(calls(&stats, "GET /tickets/{ticket_id}"), tickets_kept);
    // The budget the progress line shows is Intercom's own, from its headers.
    let (left, limit) = source.budget().expect("the sandbox sends X-RateLimit-*");
    assert!(left < limit && limit > 1_000, "{left}/{limit}");
    sandbox.shutdown().await;
}
