//! The store contract, written once and run against every implementation (`store_suite!` at the
//! bottom instantiates each case for the memory and the SQLite store).

use std::sync::Arc;

use crate::common::*;
use deskmove_core::connector::TargetInstance;
use deskmove_core::{ContentHash, RecordKind, Stage};
use deskmove_store::{
    ActivityPhase, BlobMeta, LedgerEntry, LoadBatch, Outcome, RunId, RunStatus, StagedBatch, Store,
    StoreError,
};

async fn empty_store_holds_nothing<S: Store>(s: &S) {
    let status = s.status(3).await.unwrap();
    assert!(status.kinds.is_empty() && status.problems.is_empty());
    assert!(status.cursors.is_empty() && status.runs.is_empty());
    assert_eq!(s.cursor("intercom/contacts").await.unwrap(), None);
    assert_eq!(s.record(&key(RecordKind::Tag, "1")).await.unwrap(), None);
    assert_eq!(s.dump().await.unwrap().rows(), 0);
}

async fn runs_start_and_finish<S: Store>(s: &S) {
    let a = s.start_run(new_run("export")).await.unwrap();
    let b = s.start_run(new_run("run")).await.unwrap();
    assert_eq!((a, b), (RunId(1), RunId(2)));
    s.finish_run(
        a,
        RunStatus::CompletedWithProblems,
        t("2026-01-02T04:00:00Z"),
    )
    .await
    .unwrap();
    let runs = s.runs().await.unwrap();
    assert_eq!(runs.len(), 2);
    assert_eq!(runs[0].command, "export");
    assert_eq!(runs[0].status, RunStatus::CompletedWithProblems);
    assert_eq!(runs[0].finished_at, Some(t("2026-01-02T04:00:00Z")));
    assert_eq!(runs[1].status, RunStatus::Running);
    assert_eq!(runs[1].finished_at, None);
    assert_eq!(runs[1].started_at, t("2026-01-02T03:04:05Z"));
    assert_eq!(runs[1].target_system.as_deref(), Some("chatwoot"));
    assert_eq!(runs[1].target, Some(chatwoot()));
    let mut bare = new_run("export");
    bare.target = None;
    let c = s.start_run(bare).await.unwrap();
    assert_eq!(s.runs().await.unwrap()[2].id, c);
    assert_eq!(s.runs().await.unwrap()[2].target, None);
    let err = s
        .finish_run(RunId(9), RunStatus::Failed, t("2026-01-02T04:00:00Z"))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::UnknownRun(RunId(9))), "{err}");
}

async fn a_batch_is_stored_whole<S: Store>(s: &S) {
    let run = s.start_run(new_run("export")).await.unwrap();
    let c = contact("7", "zoe@example.com", "2024-05-06T07:08:09.5Z");
    let mut b = batch(
        run,
        "intercom/contacts",
        Some("page-2"),
        vec![c.clone(), tag("1", "VIP")],
    );
    b.problems
        .push(problem(c.key(), Stage::Normalize, "invalid_phone"));
    s.put_batch(b).await.unwrap();

    let stored = s.record(c.key()).await.unwrap().unwrap();
    assert_eq!(stored.record, c);
    assert_eq!(stored.hash, c.content_hash().unwrap());
    assert_eq!(stored.updated_at, Some(t("2024-05-06T07:08:09.5Z")));
    assert_eq!(stored.run, run);
    let raw = s.raw(c.key()).await.unwrap().unwrap();
    assert_eq!(
        raw.payload,
        raw_of(&c),
        "raw bytes come back exactly as received"
    );
    assert_eq!(
        raw.hash.0,
        blake3::hash(&raw.payload.body).to_hex().to_string()
    );
    assert_eq!(
        s.cursor("intercom/contacts").await.unwrap().as_deref(),
        Some("page-2")
    );

    let status = s.status(5).await.unwrap();
    let kinds: Vec<_> = status
        .kinds
        .iter()
        .map(|k| (k.kind, k.staged, k.problems))
        .collect();
    assert_eq!(
        kinds,
        [(RecordKind::Tag, 1, 0), (RecordKind::Contact, 1, 1)]
    );
    assert_eq!(status.problems.len(), 1);
    assert_eq!(status.problems[0].code, "invalid_phone");
    assert_eq!(status.problems[0].examples[0].problem.key, *c.key());
    assert_eq!(status.problems[0].examples[0].run, run);
    assert_eq!(status.cursors[0].cursor, "page-2");
}

async fn every_shape_of_record_reads_back_equal<S: Store>(s: &S) {
    let run = s.start_run(new_run("export")).await.unwrap();
    let records = vec![
        message("m1", "c1"),
        conversation("c1"),
        attachment("9"),
        agent("42", "ana@example.com"),
        tag("1", "VIP"),
        contact("7", "zoe@example.com", "2024-05-06T07:08:09Z"),
    ];
    s.put_batch(batch(
        run,
        "intercom/conversations",
        Some("1"),
        records.clone(),
    ))
    .await
    .unwrap();
    for r in records {
        let stored = s.record(r.key()).await.unwrap().unwrap();
        assert_eq!(stored.record, r);
        assert_eq!(stored.hash, r.content_hash().unwrap());
    }
    let m = s
        .record(&key(RecordKind::Message, "m1"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(m.updated_at, Some(t("2023-07-08T09:10:12Z")));
}

async fn a_batch_without_cursor_keeps_the_cursor<S: Store>(s: &S) {
    let run = s.start_run(new_run("export")).await.unwrap();
    s.put_batch(batch(run, "intercom/tags", Some("c1"), vec![tag("1", "a")]))
        .await
        .unwrap();
    s.put_batch(batch(run, "intercom/tags", None, vec![tag("2", "b")]))
        .await
        .unwrap();
    assert_eq!(
        s.cursor("intercom/tags").await.unwrap().as_deref(),
        Some("c1")
    );
    assert!(
        s.record(&key(RecordKind::Tag, "2"))
            .await
            .unwrap()
            .is_some()
    );
}

async fn a_bad_batch_changes_nothing<S: Store>(s: &S) {
    let run = s.start_run(new_run("export")).await.unwrap();
    s.put_batch(batch(run, "intercom/tags", Some("c1"), vec![tag("1", "a")]))
        .await
        .unwrap();
    let before = s.dump().await.unwrap();

    let err = s
        .put_batch(batch(
            RunId(42),
            "intercom/tags",
            Some("c2"),
            vec![tag("2", "b")],
        ))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::UnknownRun(RunId(42))), "{err}");

    // A record whose kind disagrees with its key, after valid ones: nothing of the batch lands.
    let mut wrong = tag("3", "c");
    if let deskmove_core::Record::Tag(t) = &mut wrong {
        t.key.kind = RecordKind::Contact;
    }
    let err = s
        .put_batch(batch(
            run,
            "intercom/tags",
            Some("c3"),
            vec![tag("4", "d"), wrong],
        ))
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err}");

    let err = s.put_batch(batch(run, "", None, vec![])).await.unwrap_err();
    assert!(matches!(err, StoreError::Invalid(_)), "{err}");
    assert_eq!(s.dump().await.unwrap(), before);
}

async fn replaying_a_batch_is_a_no_op<S: Store>(s: &S) {
    let first = s.start_run(new_run("export")).await.unwrap();
    let c = contact("7", "zoe@example.com", "2024-05-06T07:08:09Z");
    let mut b = batch(
        first,
        "intercom/contacts",
        Some("p1"),
        vec![c.clone(), tag("1", "VIP")],
    );
    b.problems
        .push(problem(c.key(), Stage::Extract, "truncated"));
    s.put_batch(b.clone()).await.unwrap();
    let once = s.dump().await.unwrap();
    s.put_batch(b.clone()).await.unwrap();
    assert_eq!(s.dump().await.unwrap(), once);

    // Same content from a later run leaves records and raw payloads with the first run.
    let second = s.start_run(new_run("export")).await.unwrap();
    b.run = second;
    b.problems.clear();
    s.put_batch(b).await.unwrap();
    assert_eq!(s.record(c.key()).await.unwrap().unwrap().run, first);
    assert_eq!(s.raw(c.key()).await.unwrap().unwrap().run, first);
    assert_eq!(
        s.status(1).await.unwrap().problems.len(),
        0,
        "re-staging cleared it"
    );
}

async fn changed_content_replaces_the_old<S: Store>(s: &S) {
    let first = s.start_run(new_run("export")).await.unwrap();
    s.put_batch(batch(
        first,
        "intercom/contacts",
        Some("p1"),
        vec![contact("7", "a@x.io", "2024-01-01T00:00:00Z")],
    ))
    .await
    .unwrap();
    let second = s.start_run(new_run("export")).await.unwrap();
    let newer = contact("7", "b@x.io", "2024-02-01T00:00:00Z");
    let mut b = batch(second, "intercom/contacts", Some("p9"), vec![newer.clone()]);
    b.raw[0].body = b"{\"id\":\"7\",\"email\":\"b@x.io\"}".to_vec();
    s.put_batch(b).await.unwrap();
    let stored = s.record(newer.key()).await.unwrap().unwrap();
    assert_eq!((stored.record, stored.run), (newer.clone(), second));
    assert_eq!(stored.updated_at, Some(t("2024-02-01T00:00:00Z")));
    let raw = s.raw(newer.key()).await.unwrap().unwrap();
    assert_eq!(
        (raw.payload.body.as_slice(), raw.run),
        (&b"{\"id\":\"7\",\"email\":\"b@x.io\"}"[..], second)
    );
    assert_eq!(s.status(0).await.unwrap().kinds[0].staged, 1);
}

async fn staging_replaces_only_staging_problems<S: Store>(s: &S) {
    let run = s.start_run(new_run("export")).await.unwrap();
    let c = contact("7", "zoe@example.com", "2024-05-06T07:08:09Z");
    // Problems may arrive for records that could not be staged at all.
    let mut b = StagedBatch::new(run, "intercom/contacts");
    b.problems = vec![
        problem(c.key(), Stage::Normalize, "invalid_email"),
        problem(c.key(), Stage::Extract, "truncated"),
        problem(c.key(), Stage::Verify, "missing_in_target"),
    ];
    s.put_batch(b).await.unwrap();
    assert_eq!(s.status(0).await.unwrap().problems.len(), 3);

    let mut b = batch(run, "intercom/contacts", None, vec![c.clone()]);
    b.problems = vec![problem(c.key(), Stage::Normalize, "invalid_phone")];
    s.put_batch(b).await.unwrap();
    let codes: Vec<_> = s
        .status(0)
        .await
        .unwrap()
        .problems
        .into_iter()
        .map(|g| g.code)
        .collect();
    assert_eq!(codes, ["invalid_phone", "missing_in_target"]);
}

async fn records_page_by_kind_in_key_order<S: Store>(s: &S) {
    let run = s.start_run(new_run("export")).await.unwrap();
    let ids = ["10", "2", "1", "b", "a", "ü"];
    let tags = ids.iter().map(|i| tag(i, i)).collect();
    s.put_batch(batch(run, "intercom/tags", None, tags))
        .await
        .unwrap();
    s.put_batch(batch(
        run,
        "intercom/admins",
        None,
        vec![agent("0", "a@x.io")],
    ))
    .await
    .unwrap();
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = s.records(RecordKind::Tag, after.as_ref(), 4).await.unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 4);
        after = Some(page.last().unwrap().record.key().clone());
        seen.extend(page.into_iter().map(|r| r.record.key().id.clone()));
    }
    assert_eq!(seen, ["1", "10", "2", "a", "b", "ü"]);
    assert_eq!(
        s.records(RecordKind::Agent, None, 10).await.unwrap().len(),
        1
    );
    assert!(
        s.records(RecordKind::Message, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn the_ledger_remembers_what_the_target_holds<S: Store>(s: &S) {
    let run = s.start_run(new_run("run")).await.unwrap();
    let k = key(RecordKind::Contact, "7");
    let mut first = LoadBatch {
        run,
        entries: vec![],
        problems: vec![problem(&k, Stage::Load, "conflict_email")],
    };
    first.entries.push(LedgerEntry {
        key: k.clone(),
        target: chatwoot(),
        target_id: None,
        content_hash: None,
        outcome: Outcome::Failed,
        run,
    });
    s.put_loads(first).await.unwrap();
    let status = s.status(1).await.unwrap();
    assert_eq!((status.kinds[0].failed, status.kinds[0].problems), (1, 1));

    s.put_loads(LoadBatch {
        run,
        entries: vec![loaded(&k, run, "501", "h1")],
        problems: vec![],
    })
    .await
    .unwrap();
    let e = s.ledger(&k, &chatwoot()).await.unwrap().unwrap();
    assert_eq!(
        (e.target_id.as_deref(), e.outcome),
        (Some("501"), Outcome::Loaded)
    );
    let status = s.status(1).await.unwrap();
    assert_eq!((status.kinds[0].loaded, status.kinds[0].failed), (1, 0));
    assert!(
        status.problems.is_empty(),
        "a successful load clears load problems"
    );

    // A failed update keeps the target id and the hash of what the target holds.
    let later = s.start_run(new_run("run")).await.unwrap();
    let mut failed = loaded(&k, later, "ignored", "h2");
    failed.target_id = None;
    failed.content_hash = None;
    failed.outcome = Outcome::Failed;
    s.put_loads(LoadBatch {
        run: later,
        entries: vec![failed],
        problems: vec![],
    })
    .await
    .unwrap();
    let e = s.ledger(&k, &chatwoot()).await.unwrap().unwrap();
    assert_eq!(e.target_id.as_deref(), Some("501"));
    assert_eq!(e.content_hash, Some(ContentHash("h1".into())));
    assert_eq!((e.outcome, e.run), (Outcome::Failed, later));
    assert_eq!(s.ledger(&k, &zendesk()).await.unwrap(), None);
}

async fn the_ledger_refuses_incomplete_entries<S: Store>(s: &S) {
    let run = s.start_run(new_run("run")).await.unwrap();
    let k = key(RecordKind::Contact, "7");
    let before = s.dump().await.unwrap();
    let mut no_id = loaded(&k, run, "1", "h");
    no_id.target_id = None;
    let mut no_vendor = loaded(&k, run, "1", "h");
    no_vendor.target.vendor.clear();
    let cases = [
        LoadBatch {
            run,
            entries: vec![loaded(&k, run, "1", "h"), no_vendor],
            problems: vec![],
        },
        LoadBatch {
            run,
            entries: vec![loaded(&k, run, "1", "h"), no_id],
            problems: vec![],
        },
        LoadBatch {
            run,
            entries: vec![loaded(&k, RunId(99), "1", "h")],
            problems: vec![],
        },
        LoadBatch {
            run: RunId(99),
            entries: vec![loaded(&k, RunId(99), "1", "h")],
            problems: vec![],
        },
    ];
    for case in cases {
        assert!(s.put_loads(case).await.is_err());
    }
    assert_eq!(s.dump().await.unwrap(), before);
}

async fn rollback_finds_what_each_run_created<S: Store>(s: &S) {
    let (r1, r2) = (
        s.start_run(new_run("run")).await.unwrap(),
        s.start_run(new_run("run")).await.unwrap(),
    );
    let c = |id: &str| key(RecordKind::Contact, id);
    let mut failed = loaded(&c("c"), r1, "x", "h");
    (failed.target_id, failed.content_hash, failed.outcome) = (None, None, Outcome::Failed);
    let mut elsewhere = loaded(&c("e"), r1, "9", "h");
    elsewhere.target = zendesk();
    let first = vec![
        loaded(&c("a"), r1, "1", "h"),
        loaded(&c("b"), r1, "2", "h"),
        failed,
        elsewhere,
    ];
    s.put_loads(LoadBatch {
        run: r1,
        entries: first,
        problems: vec![],
    })
    .await
    .unwrap();
    let mut updated = loaded(&c("a"), r2, "1", "h2");
    updated.outcome = Outcome::Updated;
    let second = vec![
        updated,
        // Deleted in the target meanwhile and created again: now run 2's to roll back.
        loaded(&c("b"), r2, "3", "h"),
        loaded(&key(RecordKind::Tag, "d"), r2, "4", "h"),
    ];
    s.put_loads(LoadBatch {
        run: r2,
        entries: second,
        problems: vec![],
    })
    .await
    .unwrap();

    let ids = |v: Vec<LedgerEntry>| v.into_iter().map(|e| e.key.id).collect::<Vec<_>>();
    let cw = chatwoot();
    let created = |run, kind| s.created_by(run, &cw, kind, None, 10);
    assert_eq!(ids(created(r1, RecordKind::Contact).await.unwrap()), ["a"]);
    assert_eq!(ids(created(r2, RecordKind::Contact).await.unwrap()), ["b"]);
    assert_eq!(ids(created(r2, RecordKind::Tag).await.unwrap()), ["d"]);
    assert_eq!(
        ids(s
            .created_by(r1, &zendesk(), RecordKind::Contact, None, 10)
            .await
            .unwrap()),
        ["e"]
    );
    let a = created(r1, RecordKind::Contact).await.unwrap().remove(0);
    assert_eq!(
        (a.outcome, a.run, a.target_id.as_deref()),
        (Outcome::Updated, r2, Some("1"))
    );
    assert!(
        s.created_by(r1, &chatwoot(), RecordKind::Contact, Some(&c("a")), 10)
            .await
            .unwrap()
            .is_empty()
    );
}

fn zendesk() -> TargetInstance {
    TargetInstance::new("zendesk", "acme.zendesk.com", "acme", "api")
}

/// The ids of `entries`, with the target id each names.
fn ids_and_targets(entries: Vec<LedgerEntry>) -> Vec<(String, String)> {
    entries
        .into_iter()
        .map(|e| (e.key.id, e.target_id.unwrap_or_default()))
        .collect()
}

/// Same vendor and host, another account; same account, another load path: each is its own
/// ledger, through every read.
async fn target_instances_never_see_each_other<S: Store>(s: &S) {
    let api = chatwoot();
    let other_account = TargetInstance::new("chatwoot", "chatwoot.example.com", "2", "api");
    let postgres = TargetInstance::new("chatwoot", "chatwoot.example.com", "1", "postgres");
    let run = s.start_run(new_run("run")).await.unwrap();
    let c = |id: &str| key(RecordKind::Contact, id);
    let into = |target: &TargetInstance, id: &str, target_id: &str| {
        let mut e = loaded(&c(id), run, target_id, "h");
        e.target = target.clone();
        e
    };
    let entries = vec![
        into(&api, "7", "api-7"),
        into(&postgres, "7", "pg-7"),
        into(&postgres, "8", "pg-8"),
        into(&other_account, "9", "acct2-9"),
    ];
    s.put_loads(LoadBatch {
        run,
        entries,
        problems: vec![],
    })
    .await
    .unwrap();

    let get = |target: TargetInstance, id: &'static str| async move {
        s.ledger(&c(id), &target)
            .await
            .unwrap()
            .map(|e| (e.target, e.target_id.unwrap()))
    };
    assert_eq!(
        get(api.clone(), "7").await,
        Some((api.clone(), "api-7".into()))
    );
    assert_eq!(
        get(postgres.clone(), "7").await,
        Some((postgres.clone(), "pg-7".into()))
    );
    assert_eq!(get(other_account.clone(), "7").await, None);
    assert_eq!(get(api.clone(), "8").await, None);
    assert_eq!(get(api.clone(), "9").await, None);
    assert_eq!(get(postgres.clone(), "9").await, None);

    // The batched read answers each key as the single one does, in the order asked, unknown
    // and repeated keys included.
    let keys: Vec<_> = ["8", "9", "7", "nope", "8"].into_iter().map(c).collect();
    for target in [&api, &postgres, &other_account, &zendesk()] {
        let batched: Vec<Option<String>> = s
            .ledger_entries(&keys, target)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.and_then(|e| e.target_id))
            .collect();
        let mut one_by_one = Vec::new();
        for k in &keys {
            one_by_one.push(s.ledger(k, target).await.unwrap().and_then(|e| e.target_id));
        }
        assert_eq!(batched, one_by_one, "ledger_entries of {target}");
    }
    assert_eq!(
        s.ledger_entries(&keys, &postgres)
            .await
            .unwrap()
            .iter()
            .flatten()
            .count(),
        3
    );
    assert!(s.ledger_entries(&[], &api).await.unwrap().is_empty());

    let pairs = |v: &[(&str, &str)]| -> Vec<(String, String)> {
        v.iter().map(|(a, b)| ((*a).into(), (*b).into())).collect()
    };
    for (target, expected) in [
        (&api, pairs(&[("7", "api-7")])),
        (&postgres, pairs(&[("7", "pg-7"), ("8", "pg-8")])),
        (&other_account, pairs(&[("9", "acct2-9")])),
        (&zendesk(), vec![]),
    ] {
        let kind = RecordKind::Contact;
        let created = s.created_by(run, target, kind, None, 10).await.unwrap();
        let page = s.ledger_page(target, kind, None, 10).await.unwrap();
        assert!(created.iter().chain(&page).all(|e| e.target == *target));
        assert_eq!(ids_and_targets(created), expected, "created_by in {target}");
        assert_eq!(ids_and_targets(page), expected, "ledger_page of {target}");
    }

    // A failed update in one instance leaves the others alone.
    let later = s.start_run(new_run("run")).await.unwrap();
    let mut failed = into(&postgres, "7", "");
    (
        failed.run,
        failed.target_id,
        failed.content_hash,
        failed.outcome,
    ) = (later, None, None, Outcome::Failed);
    s.put_loads(LoadBatch {
        run: later,
        entries: vec![failed],
        problems: vec![],
    })
    .await
    .unwrap();
    let e = s.ledger(&c("7"), &api).await.unwrap().unwrap();
    assert_eq!((e.outcome, e.run), (Outcome::Loaded, run));
    let e = s.ledger(&c("7"), &postgres).await.unwrap().unwrap();
    assert_eq!((e.outcome, e.run), (Outcome::Failed, later));
    let status = s.status(0).await.unwrap();
    assert_eq!(
        (status.kinds[0].loaded, status.kinds[0].failed),
        (3, 1),
        "status counts every instance"
    );
}

/// `ledger_page` lists an instance's entries of one kind whatever their outcome and run, in
/// (system, id) order, page after page.
async fn the_ledger_pages_through_an_instance<S: Store>(s: &S) {
    let (r1, r2) = (
        s.start_run(new_run("run")).await.unwrap(),
        s.start_run(new_run("run")).await.unwrap(),
    );
    let ids = ["10", "2", "1", "b", "a", "ü"];
    let mut first: Vec<LedgerEntry> = ids
        .iter()
        .map(|id| loaded(&key(RecordKind::Tag, id), r1, &format!("t{id}"), "h"))
        .collect();
    first[1].outcome = Outcome::Failed;
    first.push(loaded(&key(RecordKind::Agent, "0"), r1, "a0", "h"));
    let mut other_system = loaded(&key(RecordKind::Tag, "0"), r1, "z0", "h");
    other_system.key.system = "zendesk".into();
    first.push(other_system);
    s.put_loads(LoadBatch {
        run: r1,
        entries: first,
        problems: vec![],
    })
    .await
    .unwrap();
    let mut skipped = loaded(&key(RecordKind::Tag, "b"), r2, "tb", "h");
    skipped.outcome = Outcome::Skipped;
    s.put_loads(LoadBatch {
        run: r2,
        entries: vec![skipped],
        problems: vec![],
    })
    .await
    .unwrap();

    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = s
            .ledger_page(&chatwoot(), RecordKind::Tag, after.as_ref(), 3)
            .await
            .unwrap();
        if page.is_empty() {
            break;
        }
        assert!(page.len() <= 3);
        after = Some(page.last().unwrap().key.clone());
        seen.extend(page.into_iter().map(|e| {
            format!(
                "{}/{}/{}/{}",
                e.key.system,
                e.key.id,
                e.outcome.as_str(),
                e.run
            )
        }));
    }
    assert_eq!(
        seen,
        [
            "intercom/1/loaded/1",
            "intercom/10/loaded/1",
            "intercom/2/failed/1",
            "intercom/a/loaded/1",
            "intercom/b/skipped/2",
            "intercom/ü/loaded/1",
            "zendesk/0/loaded/1",
        ]
    );
    let agents = s
        .ledger_page(&chatwoot(), RecordKind::Agent, None, 10)
        .await
        .unwrap();
    assert_eq!(ids_and_targets(agents), [("0".into(), "a0".into())]);
    assert!(
        s.ledger_page(&chatwoot(), RecordKind::Message, None, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        s.ledger_page(&chatwoot(), RecordKind::Tag, None, 0)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn problems_page_in_key_order<S: Store>(s: &S) {
    let run = s.start_run(new_run("export")).await.unwrap();
    let mut b = StagedBatch::new(run, "intercom/contacts");
    for id in ["b", "a"] {
        for (stage, code) in [
            (Stage::Normalize, "z"),
            (Stage::Extract, "y"),
            (Stage::Extract, "x"),
        ] {
            b.problems
                .push(problem(&key(RecordKind::Contact, id), stage, code));
        }
    }
    b.problems.push(problem(
        &key(RecordKind::Agent, "q"),
        Stage::Map,
        "unmatched_agent",
    ));
    s.put_batch(b).await.unwrap();
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = s.problems(after.as_ref(), 2).await.unwrap();
        if page.is_empty() {
            break;
        }
        after = Some(page.last().unwrap().problem.clone());
        seen.extend(page.into_iter().map(|p| {
            format!(
                "{}/{}/{}",
                p.problem.key.id,
                p.problem.stage.as_str(),
                p.problem.code
            )
        }));
    }
    assert_eq!(
        seen,
        [
            "q/map/unmatched_agent",
            "a/extract/x",
            "a/extract/y",
            "a/normalize/z",
            "b/extract/x",
            "b/extract/y",
            "b/normalize/z"
        ]
    );
}

async fn status_groups_problems_by_code<S: Store>(s: &S) {
    let run = s.start_run(new_run("export")).await.unwrap();
    let mut b = StagedBatch::new(run, "intercom/contacts");
    for i in 0..5 {
        b.problems.push(problem(
            &key(RecordKind::Contact, &format!("c{i}")),
            Stage::Normalize,
            "invalid_email",
        ));
    }
    for i in 0..2 {
        b.problems.push(problem(
            &key(RecordKind::Message, &format!("m{i}")),
            Stage::Extract,
            "missing_author",
        ));
        b.problems.push(problem(
            &key(RecordKind::Message, &format!("m{i}")),
            Stage::Extract,
            "a_tie",
        ));
    }
    s.put_batch(b).await.unwrap();
    let status = s.status(3).await.unwrap();
    let groups: Vec<_> = status
        .problems
        .iter()
        .map(|g| (g.code.as_str(), g.count, g.examples.len()))
        .collect();
    assert_eq!(
        groups,
        [
            ("invalid_email", 5, 3),
            ("a_tie", 2, 2),
            ("missing_author", 2, 2)
        ]
    );
    let ids: Vec<_> = status.problems[0]
        .examples
        .iter()
        .map(|e| e.problem.key.id.as_str())
        .collect();
    assert_eq!(ids, ["c0", "c1", "c2"]);
    assert_eq!(
        status.problems[0].examples[0].problem.reason,
        "invalid_email on c0"
    );
    assert_eq!(
        status.problems[0].examples[0].problem.kind,
        deskmove_core::ErrorKind::Validation
    );
    let kinds: Vec<_> = status
        .kinds
        .iter()
        .map(|k| (k.kind, k.staged, k.problems))
        .collect();
    assert_eq!(
        kinds,
        [(RecordKind::Contact, 0, 5), (RecordKind::Message, 0, 4)]
    );
}

async fn the_blob_index_keeps_the_first_entry<S: Store>(s: &S) {
    let meta = BlobMeta {
        hash: "ab".repeat(32),
        size: 1234,
        content_type: Some("image/png".into()),
        first_seen: t("2026-01-01T00:00:00Z"),
    };
    assert_eq!(s.put_blob(meta.clone()).await.unwrap(), meta);
    let again = BlobMeta {
        content_type: None,
        first_seen: t("2026-06-01T00:00:00Z"),
        ..meta.clone()
    };
    assert_eq!(s.put_blob(again).await.unwrap(), meta);
    assert_eq!(s.blob(&meta.hash).await.unwrap(), Some(meta));
    assert_eq!(s.blob("cd").await.unwrap(), None);
    let huge = BlobMeta {
        hash: "ef".into(),
        size: u64::MAX,
        content_type: None,
        first_seen: t("2026-01-01T00:00:00Z"),
    };
    assert!(s.put_blob(huge).await.is_err());
}

/// Many tasks writing at once (the SQLite writer groups them into shared transactions); one bad
/// batch among them fails alone.
async fn concurrent_writers_each_commit_alone<S: Store>(s: Arc<S>) {
    let run = s.start_run(new_run("export")).await.unwrap();
    let mut tasks = Vec::new();
    for w in 0..8 {
        let s = Arc::clone(&s);
        tasks.push(tokio::spawn(async move {
            for n in 0..15 {
                let id = format!("{w}-{n:02}");
                let b = batch(
                    run,
                    &format!("stream/{w}"),
                    Some(&n.to_string()),
                    vec![tag(&id, &id)],
                );
                s.put_batch(b).await.unwrap();
                if n == 7 {
                    let bad = batch(
                        RunId(77),
                        &format!("stream/{w}"),
                        Some("bad"),
                        vec![tag("bad", "x")],
                    );
                    assert!(s.put_batch(bad).await.is_err());
                }
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let status = s.status(0).await.unwrap();
    assert_eq!(status.kinds[0].staged, 8 * 15);
    assert!(
        status.cursors.iter().all(|c| c.cursor == "14"),
        "{:?}",
        status.cursors
    );
    assert_eq!(s.record(&key(RecordKind::Tag, "bad")).await.unwrap(), None);
}

/// Reads racing with writes see whole batches: in every snapshot the cursor covers exactly the
/// records present.
async fn readers_never_see_half_a_batch<S: Store>(s: Arc<S>) {
    let run = s.start_run(new_run("export")).await.unwrap();
    let writer = {
        let s = Arc::clone(&s);
        tokio::spawn(async move {
            for n in 0..40u32 {
                let tags = (n * 5..n * 5 + 5)
                    .map(|i| tag(&format!("{i:04}"), "x"))
                    .collect();
                s.put_batch(batch(run, "intercom/tags", Some(&n.to_string()), tags))
                    .await
                    .unwrap();
            }
        })
    };
    let mut snapshots = 0;
    while !writer.is_finished() || snapshots == 0 {
        let dump = s.dump().await.unwrap();
        let batches = match dump.tables["cursors"].first() {
            Some(row) => {
                let row: serde_json::Value = serde_json::from_str(row).unwrap();
                row[1].as_str().unwrap().parse::<usize>().unwrap() + 1
            }
            None => 0,
        };
        assert_eq!(dump.tables["records"].len(), batches * 5);
        assert_eq!(dump.tables["raw_payloads"].len(), batches * 5);
        snapshots += 1;
        tokio::task::yield_now().await;
    }
    writer.await.unwrap();
    assert_eq!(s.status(0).await.unwrap().kinds[0].staged, 200);
}

async fn the_activity_log_times_each_committed_write<S: Store>(s: &S) {
    let run = s.start_run(new_run("run")).await.unwrap();
    let other = s.start_run(new_run("run")).await.unwrap();
    let c = contact("7", "zoe@example.com", "2024-05-06T07:08:09.5Z");
    let mut b = batch(
        run,
        "intercom/contacts",
        Some("p2"),
        vec![c.clone(), tag("1", "VIP")],
    );
    b.problems.push(problem(
        &key(RecordKind::Contact, "8"),
        Stage::Extract,
        "not_found",
    ));
    s.put_batch(b).await.unwrap();
    let before = s.dump().await.unwrap();
    // A refused write logs nothing.
    assert!(
        s.put_batch(batch(RunId(99), "intercom/contacts", None, vec![]))
            .await
            .is_err()
    );
    let mut failed = loaded(c.key(), run, "x", "h");
    failed.outcome = Outcome::Failed;
    failed.target_id = None;
    failed.content_hash = None;
    s.put_loads(LoadBatch {
        run,
        entries: vec![loaded(&key(RecordKind::Tag, "1"), run, "t1", "h1"), failed],
        problems: vec![
            problem(c.key(), Stage::Load, "refused"),
            problem(
                &key(RecordKind::Contact, "9"),
                Stage::Map,
                "skipped_by_mapping",
            ),
        ],
    })
    .await
    .unwrap();
    s.put_batch(batch(other, "intercom/tags", None, vec![tag("2", "B")]))
        .await
        .unwrap();

    let log = s.activity(run).await.unwrap();
    let summary: Vec<_> = log
        .iter()
        .map(|a| (a.run, a.phase, a.records, a.problems))
        .collect();
    assert_eq!(
        summary,
        [
            (run, ActivityPhase::Extract, 2, 1),
            // Distinct records with an entry or a problem: tag 1, contact 7, contact 9.
            (run, ActivityPhase::Load, 3, 2),
        ]
    );
    assert!(log[0].at <= log[1].at, "commit order");
    assert_eq!(s.activity(other).await.unwrap().len(), 1);
    assert!(s.activity(RunId(99)).await.unwrap().is_empty());
    // Timing is not content: replaying a batch logs it again but leaves the dump as it was.
    let mut replay = batch(
        run,
        "intercom/contacts",
        Some("p2"),
        vec![c.clone(), tag("1", "VIP")],
    );
    replay.problems.push(problem(
        &key(RecordKind::Contact, "8"),
        Stage::Extract,
        "not_found",
    ));
    let after_loads = s.dump().await.unwrap();
    s.put_batch(replay).await.unwrap();
    assert_eq!(s.dump().await.unwrap(), after_loads);
    assert_eq!(s.activity(run).await.unwrap().len(), 3);
    assert!(!before.tables.contains_key("activity"));
}

macro_rules! store_suite {
    ($($factory:ident),+) => {$(
        mod $factory {
            use super::*;
            macro_rules! case {
                ($name:ident) => {
                    #[tokio::test]
                    async fn $name() {
                        let (store, _dir) = crate::common::$factory();
                        super::$name(&store).await;
                    }
                };
            }
            case!(empty_store_holds_nothing);
            case!(runs_start_and_finish);
            case!(a_batch_is_stored_whole);
            case!(every_shape_of_record_reads_back_equal);
            case!(a_batch_without_cursor_keeps_the_cursor);
            case!(a_bad_batch_changes_nothing);
            case!(replaying_a_batch_is_a_no_op);
            case!(changed_content_replaces_the_old);
            case!(staging_replaces_only_staging_problems);
            case!(records_page_by_kind_in_key_order);
            case!(the_ledger_remembers_what_the_target_holds);
            case!(the_ledger_refuses_incomplete_entries);
            case!(status_groups_problems_by_code);
            case!(rollback_finds_what_each_run_created);
            case!(target_instances_never_see_each_other);
            case!(the_ledger_pages_through_an_instance);
            case!(problems_page_in_key_order);
            case!(the_blob_index_keeps_the_first_entry);
            case!(the_activity_log_times_each_committed_write);

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn readers_never_see_half_a_batch() {
                let (store, _dir) = crate::common::$factory();
                super::readers_never_see_half_a_batch(Arc::new(store)).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn concurrent_writers_each_commit_alone() {
                let (store, _dir) = crate::common::$factory();
                super::concurrent_writers_each_commit_alone(Arc::new(store)).await;
            }
        }
    )+};
}

store_suite!(memory, sqlite);
