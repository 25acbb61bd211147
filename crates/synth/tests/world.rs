//! Properties of the synthetic world: determinism, laziness, count consistency,
//! distribution sanity and churn.

use deskmove_synth::{ConvState, PartKind, Role, T0, World, WorldConfig};
use proptest::prelude::*;

/// Longer than the longest history some helpdesks return in one retrieval.
const GIANT_PARTS: u64 = 500;

fn world(seed: u64, n: u64) -> World {
    World::new(WorldConfig::new(seed, n, n / 3 + 8))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]

    /// Same seed, same records; a different seed gives a different world.
    #[test]
    fn same_seed_same_records(seed in any::<u64>(), i in 0u64..300) {
        let (a, b) = (world(seed, 300), world(seed, 300));
        prop_assert_eq!(a.view().conversation(i), b.view().conversation(i));
        prop_assert_eq!(a.view().contact(i % 100), b.view().contact(i % 100));
        let c = world(seed ^ 1, 300);
        prop_assert_ne!(a.view().conversation(i).map(|c| c.parts), c.view().conversation(i).map(|c| c.parts));
    }

    /// Record i does not depend on the world's other records being generated first.
    #[test]
    fn record_is_independent_of_access_order(seed in any::<u64>(), i in 0u64..500) {
        let cold = world(seed, 500).view().conversation(i);
        let warm_world = world(seed, 500);
        for k in 0..i.min(20) { let _ = warm_world.view().conversation(k); }
        prop_assert_eq!(cold, warm_world.view().conversation(i));
    }

    /// Ids round-trip and the shape agrees with the full conversation.
    #[test]
    fn ids_round_trip_and_shape_matches(seed in any::<u64>(), i in 0u64..200) {
        let w = world(seed, 200);
        let v = w.view();
        let c = v.conversation(i).unwrap();
        prop_assert_eq!(v.conversation_by_id(&c.id).map(|x| x.index), Some(i));
        let s = v.conversation_shape(i).unwrap();
        prop_assert_eq!(s.parts, c.parts.len() as u64);
        prop_assert_eq!(s.updated_at, c.updated_at);
        prop_assert_eq!(s.state, c.state);
        let ct = v.contact(i % v.contact_count()).unwrap();
        prop_assert_eq!(v.contact_by_id(&ct.id).map(|x| x.index), Some(ct.index));
        let co = v.company(i % v.company_count()).unwrap();
        prop_assert_eq!(v.company_by_id(&co.id).map(|x| x.index), Some(co.index));
        prop_assert!(v.contact_by_id("000000000000000000000000").is_none() || v.contact_count() > 0);
    }
}

#[test]
fn totals_match_records() {
    let w = world(7, 400);
    let t = w.totals();
    let v = w.view();
    let convs: Vec<_> = (0..v.conversation_count())
        .filter_map(|i| v.conversation(i))
        .collect();
    assert_eq!(t.conversations, convs.len() as u64);
    assert_eq!(
        t.conversation_parts,
        convs.iter().map(|c| c.parts.len() as u64).sum::<u64>()
    );
    let files: u64 = convs
        .iter()
        .map(|c| {
            c.source_attachments.len() as u64
                + c.parts
                    .iter()
                    .map(|p| p.attachments.len() as u64)
                    .sum::<u64>()
        })
        .sum();
    assert_eq!(t.attachments, files);
    let inline: u64 = convs
        .iter()
        .flat_map(|c| c.parts.iter())
        .filter_map(|p| p.body.as_ref())
        .map(|b| b.matches(deskmove_synth::html::INLINE_SCHEME).count() as u64)
        .sum();
    assert_eq!(t.inline_images, inline);
    assert_eq!(
        t.conversations_open + t.conversations_closed + t.conversations_snoozed,
        t.conversations
    );
    assert_eq!(
        t.conversations_closed,
        convs
            .iter()
            .filter(|c| c.state == ConvState::Closed)
            .count() as u64
    );
    let contacts: Vec<_> = (0..v.contact_count())
        .filter_map(|j| v.contact(j))
        .collect();
    assert_eq!(t.users + t.leads, t.contacts);
    assert_eq!(
        t.leads,
        contacts.iter().filter(|c| c.role == Role::Lead).count() as u64
    );
    // Every user of a company is counted by that company, and only populated companies have users.
    let mut per_company = vec![0u64; v.company_count() as usize];
    for c in &contacts {
        for k in c.company.iter().chain(&c.more_companies) {
            per_company[*k as usize] += 1;
        }
    }
    for k in 0..v.company_count() {
        assert_eq!(
            per_company[k as usize],
            v.company(k).unwrap().user_count,
            "company {k}"
        );
    }
    assert!(
        t.companies_with_users < t.companies,
        "some companies have no users"
    );
    // Every attachment the conversations mention resolves by id, with stable bytes.
    for a in convs
        .iter()
        .flat_map(|c| c.parts.iter().flat_map(|p| p.attachments.iter()))
        .take(50)
    {
        let again = v.attachment(a.id).unwrap();
        assert_eq!(&again, a);
        let bytes = v.attachment_bytes(a);
        assert_eq!(bytes.len() as u64, a.size);
        assert_eq!(
            v.attachment_blake3(a),
            blake3::hash(&bytes).to_hex().to_string()
        );
    }
    assert!(v.attachment(u64::MAX / 2).is_none());
}

#[test]
fn part_count_distribution_is_long_tailed() {
    let w = world(11, 20_000);
    let v = w.view();
    let mut counts: Vec<u64> = (0..20_000)
        .map(|i| v.conversation_shape(i).unwrap().parts)
        .collect();
    counts.sort_unstable();
    let median = counts[counts.len() / 2];
    let p99 = counts[counts.len() * 99 / 100];
    assert!((5..=7).contains(&median), "median {median}");
    assert!((65..=100).contains(&p99), "p99 {p99}");
    assert!(
        counts.iter().filter(|c| **c > GIANT_PARTS).count() >= 3,
        "a few over {GIANT_PARTS}"
    );
    // Attachments on roughly 8 % of parts, and several parts with more than 15 files.
    let (mut parts, mut with_files, mut big) = (0u64, 0u64, 0u64);
    for i in 0..2_000 {
        for p in v.conversation(i).unwrap().parts {
            parts += 1;
            with_files += u64::from(!p.attachments.is_empty());
            big += u64::from(p.attachments.len() > 15);
        }
    }
    let pct = with_files as f64 * 100.0 / parts as f64;
    assert!(
        (6.0..=10.0).contains(&pct),
        "attachments on {pct:.1}% of parts"
    );
    assert!(big >= 3, "{big} parts with >15 files");
}

#[test]
fn every_part_kind_and_oddity_appears() {
    let w = world(3, 2_000);
    let v = w.view();
    let mut kinds = std::collections::BTreeSet::new();
    let mut bodies = String::new();
    for i in 0..2_000 {
        for p in v.conversation(i).unwrap().parts {
            kinds.insert(format!("{:?}", p.kind));
            if let Some(b) = p.body
                && bodies.len() < 4_000_000
            {
                bodies.push_str(&b);
            }
        }
    }
    assert_eq!(kinds.len(), 14, "{kinds:?}");
    for needle in [
        "<ul>",
        "<a href",
        "<pre><code>",
        "<table>",
        "<blockquote>",
        "🙏",
        "dir=\"rtl\"",
        "我的",
        "<script>",
        "deskmove-attachment://",
    ] {
        assert!(bodies.contains(needle), "missing {needle}");
    }
    let contacts: Vec<_> = (0..v.contact_count())
        .filter_map(|j| v.contact(j))
        .collect();
    assert!(contacts.iter().any(|c| c.email.is_none()));
    assert!(contacts.iter().any(|c| {
        c.email
            .as_deref()
            .is_some_and(|e| !e.contains('@') || e.contains("@@") || e.ends_with('@'))
    }));
    let lower: Vec<String> = contacts
        .iter()
        .filter_map(|c| c.email.as_ref())
        .map(|e| e.to_lowercase())
        .collect();
    let mut uniq = lower.clone();
    uniq.sort();
    uniq.dedup();
    assert!(uniq.len() < lower.len(), "emails differing only by case");
    assert!(
        (0..v.agent_count())
            .filter_map(|i| v.agent(i))
            .any(|a| a.departed)
    );
    let tags: Vec<String> = (0..v.tag_count()).map(|i| v.tag(i).unwrap().name).collect();
    assert!(tags.iter().any(|t| t.ends_with(' ')) && tags.iter().any(|t| !t.is_ascii()));
    assert!(
        v.macro_(0)
            .unwrap()
            .body_template
            .contains("{{user.name | fallback: 'there'}}")
    );
    assert!((0..v.collection_count()).any(|i| {
        v.collection(i)
            .unwrap()
            .parent
            .is_some_and(|p| v.collection(p).unwrap().parent.is_some())
    }));
    let created: Vec<i64> = (0..2_000)
        .step_by(100)
        .map(|i| v.conversation_shape(i).unwrap().created_at)
        .collect();
    assert!(
        created.last().unwrap() - created.first().unwrap() > 4 * 365 * 86_400,
        "history spans years"
    );
    let _ = PartKind::Future;
}

#[test]
fn clock_produces_churn() {
    let w = world(5, 1_000);
    let before = w.totals();
    let old: Vec<_> = (0..1_000)
        .map(|i| w.view().conversation_shape(i).unwrap())
        .collect();
    let old_contacts: Vec<_> = (0..w.view().contact_count())
        .map(|j| w.view().contact(j).unwrap())
        .collect();
    assert_eq!(w.advance(3), 3);
    let after = w.totals();
    assert!(
        after.conversations > before.conversations,
        "new conversations"
    );
    assert!(after.contacts > before.contacts, "new contacts");
    let v = w.view();
    let grown = (0..1_000)
        .filter(|i| v.conversation_shape(*i).unwrap().parts > old[*i as usize].parts)
        .count();
    assert!(grown > 10, "new parts on old conversations: {grown}");
    let changed = (0..1_000)
        .filter(|i| v.conversation_shape(*i).unwrap().state != old[*i as usize].state)
        .count();
    assert!(changed > 0, "state changes");
    let edited = old_contacts
        .iter()
        .filter(|c| v.contact(c.index).unwrap() != **c)
        .count();
    assert!(edited > 0, "contact edits");
    // Everything that changed is stamped after T0, so a delta by updated_at finds it.
    for i in 0..1_000 {
        let s = v.conversation_shape(i).unwrap();
        if s.parts != old[i as usize].parts {
            assert!(s.updated_at > T0);
        }
    }
    // A view at the old epoch still sees the old world.
    assert_eq!(w.view_at(0).compute_totals(), before);
}

#[test]
fn million_conversation_world_is_lazy() {
    let start = std::time::Instant::now();
    let w = World::new(WorldConfig::new(1, 1_000_000, 300_000));
    let v = w.view();
    let c = v.conversation(999_999).unwrap();
    assert_eq!(c.id, "100999999");
    assert!(v.contact(299_999).is_some());
    assert!(start.elapsed().as_secs() < 2);
}

/// A few contacts carry more than ten tags, companies and notes (so "first ten inline, follow the
/// URL" paths have something to follow); everyone else is as before.
#[test]
fn long_list_contacts_have_more_than_ten_of_each() {
    let w = world(42, 900);
    let v = w.view();
    let long: Vec<u64> = (0..3).filter_map(|n| v.long_list_contact(n)).collect();
    assert_eq!(long.len(), 3);
    for j in &long {
        let c = v.contact(*j).unwrap();
        assert!(c.tags.len() > 10, "{:?}", c.tags);
        assert!(c.company.is_some() && c.more_companies.len() >= 10);
        assert!(c.notes > 10);
        let mut ids: Vec<u64> = (0..c.notes).map(|k| v.note(*j, k).unwrap().id).collect();
        for id in &ids {
            let n = v.note_by_id(&id.to_string()).unwrap();
            assert_eq!((n.contact, n.id), (*j, *id));
        }
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len() as u64, c.notes, "note ids are unique");
        for k in c.company.iter().chain(&c.more_companies) {
            assert!(v.company_contacts(*k).contains(j));
        }
    }
    // Members listed per company agree with each contact's own companies.
    for k in 0..v.company_count() {
        let members = v.company_contacts(k);
        assert_eq!(members.len() as u64, v.company(k).unwrap().user_count);
        for j in members {
            let c = v.contact(j).unwrap();
            assert!(c.company == Some(k) || c.more_companies.contains(&k));
        }
    }
    let ordinary = (0..v.contact_count()).find(|j| !long.contains(j)).unwrap();
    assert!(v.contact(ordinary).unwrap().more_companies.is_empty());
}
