//! `deskmove scan` for the Intercom API: counts from list totals and search counts, a sample of
//! conversations retrieved in full and mapped as the export maps them, a sample of contacts
//! from the first list page, and what a full export will cost in calls. Reads only: the ticket
//! search and the companies list are POSTs, but Intercom documents both as reads (§2).

use deskmove_core::RecordKind;
use deskmove_core::connector::{
    AttributeSeen, CallBudget, ContactSample, ConversationSample, ExportCost, KindCount, SourceScan,
};
use deskmove_core::model::{AttributeModel, AuthorKind, MessageKind};
use serde_json::{Value, json};

use crate::client::{Api, ApiError, Listed, decode};
use crate::extract::IntercomError;
use crate::map::to_canonical::{self as map, Context, Thread, ThreadKind};
use crate::wire;

/// Conversations and tickets retrieved in full for the sample (one call each).
pub const CONVERSATION_SAMPLE: u64 = 30;
/// Contacts read from the first list page for the sample.
pub const CONTACT_SAMPLE: u32 = 50;
/// Items per page of a contact's sub-lists (`all_pages` in the export).
const SUBLIST_PAGE: u64 = 60;
/// The companies scroll's page (the export does not choose it).
const SCROLL_PAGE: u64 = 50;

/// What the scan needs of the source's settings.
pub(crate) struct ScanSettings {
    /// Items per list page the export asks for.
    pub per_page: u32,
    /// Whether `[source.filters]` leave some conversations out.
    pub filtered: bool,
}

fn pages(items: u64, per_page: u64) -> u64 {
    items.div_ceil(per_page.max(1)).max(1)
}

/// Scans the workspace behind `api`.
pub(crate) async fn scan(api: &Api, settings: &ScanSettings) -> Result<SourceScan, IntercomError> {
    let mut scan = SourceScan::default();
    let per_page = u64::from(settings.per_page);
    let exact = |count| KindCount { count, exact: true };
    let count = |l: &Listed| l.page.total_count.unwrap_or(l.page.data.len() as u64);
    // The export's own calls, stream by stream, as `extract.rs` makes them.
    let mut calls = 0u64;

    let admins = api.list("admins", &[]).await?;
    let listed: Vec<wire::Admin> = admins
        .page
        .data
        .iter()
        .filter_map(|r| serde_json::from_str(r.get()).ok())
        .collect();
    scan.agent_emails = listed
        .iter()
        .filter_map(|a| a.email.clone())
        .filter(|e| !e.is_empty())
        .collect();
    // The bot agent, and departed teammates met as authors: an estimate.
    scan.kinds.insert(
        RecordKind::Agent,
        KindCount {
            count: listed.len() as u64 + 1,
            exact: false,
        },
    );
    // The admins stream, and the thread streams' own listing of who is current.
    calls += 2;
    let teams = api.list("teams", &[]).await?;
    scan.kinds
        .insert(RecordKind::Team, exact(teams.page.data.len() as u64));
    let tags = api.list("tags", &[]).await?;
    scan.kinds
        .insert(RecordKind::Tag, exact(tags.page.data.len() as u64));
    // Teams, tags, segments.
    calls += 3;

    for (model, word) in [
        (AttributeModel::Contact, "contact"),
        (AttributeModel::Company, "company"),
    ] {
        let l = api
            .list(
                "data_attributes",
                &[("model", word.into()), ("include_archived", "true".into())],
            )
            .await?;
        calls += 1;
        scan.attributes.extend(attributes(&l, model));
    }
    match api
        .list(
            "conversations/attributes",
            &[("include_archived", "true".into())],
        )
        .await
    {
        Ok(l) => {
            calls += 1;
            scan.attributes
                .extend(attributes(&l, AttributeModel::Conversation));
        }
        Err(e) if matches!(e.status(), Some(404 | 422)) => scan.notes.push(
            "This workspace's API has no conversation data attributes route; they are not exported."
                .into(),
        ),
        Err(e) => return Err(e.into()),
    }
    scan.kinds.insert(
        RecordKind::AttributeDefinition,
        exact(scan.attributes.len() as u64),
    );

    let contacts = api
        .cursor_page("contacts", CONTACT_SAMPLE, None, &[])
        .await?;
    let contact_total = count(&contacts);
    scan.kinds.insert(RecordKind::Contact, exact(contact_total));
    let (sample, detail_calls) = contact_sample(&contacts);
    scan.contact_sample = sample;
    calls += pages(contact_total, per_page);
    if sample.sampled > 0 {
        // The sample's sub-list calls, scaled to every contact.
        calls += (detail_calls * contact_total).div_ceil(sample.sampled);
    }

    // The list hides companies without users (§2); only the scroll sees them all.
    let companies = api.http().send(
        api.http()
            .post("companies/list")
            .query(&[("per_page", "1")]),
    );
    let mut company_total = 0;
    if let Ok(r) = companies.await
        && let Ok(l) = decode::<wire::ListPage>("companies/list", r.body())
    {
        company_total = l.total_count.unwrap_or(0);
        scan.kinds.insert(
            RecordKind::Company,
            KindCount {
                count: company_total,
                exact: false,
            },
        );
    }
    // The list's total, then the scroll to its empty last page.
    calls += 1 + company_total.div_ceil(SCROLL_PAGE) + 1;

    let conversations = api
        .cursor_page("conversations", CONVERSATION_SAMPLE as u32, None, &[])
        .await?;
    let tickets = api
        .search_page("tickets/search", all_updated(), 1, None)
        .await?;
    let (conversation_total, ticket_total) = (count(&conversations), count(&tickets));
    scan.kinds.insert(
        RecordKind::Conversation,
        exact(conversation_total + ticket_total),
    );
    // A list (or search) page per `per_page`, then one retrieval each.
    calls += pages(conversation_total, per_page) + conversation_total;
    calls += pages(ticket_total, per_page) + ticket_total;

    // The sample: conversations and tickets in proportion to their totals.
    let threads = conversation_total + ticket_total;
    let ticket_share = if threads == 0 {
        0
    } else {
        (CONVERSATION_SAMPLE * ticket_total)
            .div_ceil(threads)
            .min(ticket_total)
    };
    let conversation_ids = ids(&conversations, CONVERSATION_SAMPLE - ticket_share);
    let ticket_ids = if ticket_share == 0 {
        Vec::new()
    } else {
        let l = api
            .search_page("tickets/search", all_updated(), ticket_share as u32, None)
            .await?;
        ids(&l, ticket_share)
    };
    let admin_ids: std::collections::HashSet<String> =
        listed.iter().map(|a| a.id.clone()).collect();
    let files = api.files().clone();
    let listed_admin = |id: &str| admin_ids.contains(id);
    let file_host = |u: &str| files.allows(u);
    let cx = Context {
        listed_admin: &listed_admin,
        file_host: &file_host,
    };
    for (kind, path, list) in [
        (ThreadKind::Conversation, "conversations", &conversation_ids),
        (ThreadKind::Ticket, "tickets", &ticket_ids),
    ] {
        for id in list {
            let path = format!("{path}/{id}");
            let body = match api.get(&path, &[]).await.map_err(ApiError::from) {
                Ok(b) => b,
                // Deleted between the list and the retrieval.
                Err(e) if matches!(e.status(), Some(404 | 410)) => continue,
                Err(e) => return Err(e.into()),
            };
            if let Ok(c) = decode::<wire::Conversation>(&path, &body) {
                scan.conversation_sample
                    .push(sampled(&map::thread(&c, kind, &cx)));
            }
        }
    }
    let sampled_threads = scan.conversation_sample.len() as u64;
    let mut downloads = 0;
    if sampled_threads > 0 {
        let sum = |f: fn(&ConversationSample) -> u64| -> u64 {
            scan.conversation_sample.iter().map(f).sum()
        };
        let scale = |n: u64| (n * threads).div_ceil(sampled_threads);
        let exact_sample = sampled_threads == threads;
        let kind = |count, exact| KindCount { count, exact };
        scan.kinds.insert(
            RecordKind::Message,
            kind(scale(sum(|s| s.messages)), exact_sample),
        );
        let files = scale(sum(|s| s.attachments));
        // Never exact: help-center articles' images are files too, and the scan reads no
        // article bodies.
        scan.kinds
            .insert(RecordKind::Attachment, kind(files, false));
        scan.attachment_bytes = Some(scale(sum(|s| s.attachment_bytes)));
        downloads = files;
        let truncated = scan
            .conversation_sample
            .iter()
            .filter(|s| s.truncated)
            .count() as u64;
        if truncated > 0 {
            scan.notes.push(format!(
                "{truncated} of {sampled_threads} sampled conversations have more than 500 parts: Intercom returns only the 500 most recent (about {} in all); the export records each as a problem.",
                scale(truncated)
            ));
        }
        if !exact_sample {
            scan.notes.push(format!(
                "Messages, files and bytes are estimated from {sampled_threads} of {threads} conversations, the most recently updated."
            ));
        }
    }

    // The macros list gives no total: a full first page, counted (an estimate past it).
    let macros = api
        .cursor_page("macros", settings.per_page, None, &[])
        .await;
    let mut macro_total = 0;
    if let Ok(l) = &macros {
        let more = l.page.next_cursor().is_some();
        macro_total = l.page.total_count.unwrap_or(l.page.data.len() as u64);
        scan.kinds.insert(
            RecordKind::Macro,
            KindCount {
                count: if more && l.page.total_count.is_none() {
                    macro_total * 2
                } else {
                    macro_total
                },
                exact: !more || l.page.total_count.is_some(),
            },
        );
    }
    calls += pages(macro_total, per_page);
    for (path, kind) in [
        ("help_center/collections", RecordKind::Collection),
        ("articles", RecordKind::Article),
    ] {
        let l = api.numbered_page(path, 1, 1).await?;
        let n = count(&l);
        scan.kinds.insert(kind, exact(n));
        calls += pages(n, per_page);
    }
    if settings.filtered {
        scan.notes.push(
            "Counts are before [source.filters]: the export leaves out what they exclude, and spends no retrieval on it."
                .into(),
        );
    }
    let policy = api.http().policy();
    scan.export = Some(ExportCost {
        calls,
        downloads,
        budget: CallBudget {
            calls_per_minute: u64::from(policy.calls_per_minute),
            burst: u64::from(policy.burst),
        },
    });
    Ok(scan)
}

/// `updated_at > 0`: every ticket.
fn all_updated() -> Value {
    json!({"field": "updated_at", "operator": ">", "value": 0})
}

fn ids(l: &Listed, n: u64) -> Vec<String> {
    #[derive(serde::Deserialize)]
    struct Item {
        #[serde(deserialize_with = "wire::id_string")]
        id: String,
    }
    l.page
        .data
        .iter()
        .filter_map(|r| serde_json::from_str::<Item>(r.get()).ok())
        .map(|i| i.id)
        .take(n as usize)
        .collect()
}

fn attributes(l: &Listed, model: AttributeModel) -> Vec<AttributeSeen> {
    l.page
        .data
        .iter()
        .filter_map(|r| serde_json::from_str::<wire::DataAttribute>(r.get()).ok())
        .map(|d| {
            let def = map::attribute(&d, model);
            AttributeSeen {
                model: def.model,
                name: def.name,
                data_type: def.data_type,
            }
        })
        .collect()
}

/// The contacts of the first list page, and the sub-list calls the export makes for them
/// (whole tag and company lists past the 10 embedded, and every note: §6).
fn contact_sample(l: &Listed) -> (ContactSample, u64) {
    let mut sample = ContactSample::default();
    let mut calls = 0;
    for r in &l.page.data {
        let Ok(c) = serde_json::from_str::<wire::Contact>(r.get()) else {
            continue;
        };
        sample.sampled += 1;
        let empty = wire::SubList::default();
        let tags = c.tags.as_ref().unwrap_or(&empty);
        if tags.total_count.unwrap_or(tags.data.len() as u64) > 0 {
            sample.tagged += 1;
        }
        if tags.incomplete() {
            calls += 1;
        }
        let companies = c.companies.as_ref().unwrap_or(&empty);
        if companies.incomplete() {
            calls += pages(companies.total_count.unwrap_or(0), SUBLIST_PAGE);
        }
        let notes = c.notes.as_ref().unwrap_or(&empty);
        let n = notes.total_count.unwrap_or(0);
        if n > 0 || !notes.data.is_empty() {
            calls += pages(n, SUBLIST_PAGE);
        }
    }
    (sample, calls)
}

/// One retrieved thread, counted as the export stages it.
fn sampled(t: &Thread) -> ConversationSample {
    let mut s = ConversationSample {
        messages: t.messages.len() as u64,
        incoming: t
            .messages
            .iter()
            .filter(|m| m.kind == MessageKind::Reply && m.author.kind == AuthorKind::Contact)
            .count() as u64,
        attachments: t.attachments.len() as u64,
        attachment_bytes: t.attachments.iter().filter_map(|a| a.size).sum(),
        messages_with_files: t
            .messages
            .iter()
            .filter(|m| !m.attachments.is_empty())
            .count() as u64,
        ..ConversationSample::default()
    };
    if let Some(c) = &t.conversation {
        s.source_parts = c
            .extra
            .get("statistics")
            .and_then(|v| v.get("count_conversation_parts"))
            .and_then(Value::as_u64)
            .or(c.source_message_count);
        s.truncated = t
            .problems
            .iter()
            .any(|p| p.code == "truncated_conversation");
        s.state = serde_json::to_value(c.state)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default();
        s.assigned = c.assignee.is_some();
        s.team = c.team.is_some();
        s.priority = c.priority.is_some();
        s.tags = c.tags.len() as u64;
        s.channel = c
            .extra
            .get("source")
            .and_then(|v| v.get("type"))
            .or_else(|| c.extra.get("channel"))
            .and_then(Value::as_str)
            .map(str::to_owned);
    }
    s
}

#[cfg(test)]
mod tests {
    use deskmove_core::{RecordKind, Source};
    use deskmove_intercom_sandbox::{RunningSandbox, SandboxArgs};
    use deskmove_sandbox::Sandbox;
    use secrecy::SecretString;

    use crate::extract::{IntercomSource, SourceOptions};

    /// A world small enough to be sampled whole: the scan's counts are the world's own, and its
    /// files and bytes are what the sample holds.
    #[tokio::test]
    async fn a_small_workspace_is_sampled_whole_and_counted_exactly() {
        let sandbox = RunningSandbox::start(SandboxArgs {
            conversations: 5,
            contacts: 7,
            ..SandboxArgs::default()
        })
        .await
        .unwrap();
        let files = sandbox.files_url();
        let mut options = SourceOptions::new(sandbox.base_url());
        options
            .file_hosts
            .push(format!("127.0.0.1:{}", files.port().unwrap()));
        let token = SecretString::from(sandbox.token().to_owned());
        let source = IntercomSource::with_options(options, &token).unwrap();
        let scan = source.scan().await.unwrap();
        let world = sandbox.inspect();
        let n = |k: &str| world[k].as_u64().unwrap();
        let count = |k| scan.kinds[&k].count;
        let threads = n("conversations") + n("tickets");
        assert_eq!(count(RecordKind::Conversation), threads);
        assert_eq!(count(RecordKind::Contact), n("contacts"));
        assert_eq!(scan.conversation_sample.len() as u64, threads);
        let messages = n("conversations")
            + n("conversation_parts_within_cap")
            + n("tickets")
            + n("ticket_parts");
        assert_eq!(count(RecordKind::Message), messages);
        assert!(scan.kinds[&RecordKind::Message].exact);
        let files: u64 = scan.conversation_sample.iter().map(|s| s.attachments).sum();
        assert_eq!(count(RecordKind::Attachment), files);
        assert!(scan.attachment_bytes.unwrap() > 0 || files == 0);
        assert_eq!(scan.contact_sample.sampled, n("contacts").min(50));
        assert!(!scan.agent_emails.is_empty());
        let export = scan.export.unwrap();
        // At least a list page and a retrieval per thread.
        assert!(export.calls > threads, "{export:?}");
        sandbox.shutdown().await;
    }
}
