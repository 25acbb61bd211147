//! Zendesk → Intercom through the real binary: `deskmove init --from zendesk --to intercom`, the
//! written file filled in for an in-process Zendesk sandbox and an Intercom sandbox whose
//! workspace already has a few contacts, then `status`, `scan`, `export`, `map`, `run`, a second
//! `run`, `verify` and `rollback`. What Intercom holds (its `/__sandbox/dump` and public read
//! routes) is compared with the synthetic world as the Zendesk sandbox serves it, never with
//! deskmove's own store: every end user a contact, every organization a company, every tag,
//! every live ticket one conversation with its comments as parts in order, by their authors,
//! at their original times, with their bodies and files (by BLAKE3); nobody notified; the
//! second run writes nothing; the rollback leaves the workspace as it was.
//!
//! Not asserted, as known limits of the pair: tickets and help-center articles are not loaded
//! into Intercom, and state parts (close, open, assignment) carry the import time.

use std::collections::{BTreeMap, BTreeSet};

use deskmove_intercom_sandbox::{RunningSandbox as Intercom, SandboxArgs as IntercomArgs};
use deskmove_sandbox::Sandbox;
use deskmove_store::blob_hash;
use deskmove_synth::{Author, ConvState, View};
use deskmove_zendesk_sandbox::{RunningSandbox as Zendesk, SandboxArgs as ZendeskArgs};
use serde_json::Value;

use super::zendesk_to_chatwoot::{
    Want, comments, deleted_tickets, normalised, redacted, tag_word, words, zendesk_lines,
};
use crate::util::Dir;

// The Zendesk sandbox's id scheme (its `ids` module), restated: the oracle does not come from
// the code under test.
const END_USER_BASE: u64 = 10_000_000_000;
const PART_BLOCK: u64 = 100_000;
/// Contacts the Intercom workspace has before the migration.
const PRE_EXISTING: u64 = 8;

/// The first comment (the ticket's description) of world conversation `i`.
fn description_id(i: u64) -> u64 {
    (i + 1) * PART_BLOCK + PART_BLOCK - 1
}

fn client() -> reqwest::Client {
    reqwest::Client::new()
}

/// `GET` on the Intercom API, as its token's owner.
async fn intercom_get(intercom: &Intercom, rest: &str) -> (u16, Value) {
    let response = client()
        .get(intercom.base_url().join(rest).unwrap())
        .bearer_auth(intercom.token())
        .header("Intercom-Version", "2.16")
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

/// `GET /__sandbox/dump`: what the workspace holds as written.
async fn dump(intercom: &Intercom) -> Value {
    client()
        .get(intercom.base_url().join("__sandbox/dump").unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// `total_count` of `GET /contacts` or `GET /conversations`.
async fn total(intercom: &Intercom, list: &str) -> u64 {
    let (status, body) = intercom_get(intercom, list).await;
    assert_eq!(status, 200, "{list}: {body}");
    body["total_count"]
        .as_u64()
        .unwrap_or_else(|| panic!("{list}: no total_count in {body}"))
}

/// Every contact `GET /contacts` lists (the workspace's own and the written ones).
async fn all_contacts(intercom: &Intercom) -> Vec<Value> {
    let mut out = Vec::new();
    let mut rest = "contacts?per_page=150".to_owned();
    loop {
        let (status, body) = intercom_get(intercom, &rest).await;
        assert_eq!(status, 200, "{body}");
        out.extend(body["data"].as_array().unwrap().iter().cloned());
        match body["pages"]["next"]["starting_after"].as_str() {
            Some(after) => rest = format!("contacts?per_page=150&starting_after={after}"),
            None => return out,
        }
    }
}

/// Every item of a Zendesk list, page by page (cursor pagination).
async fn zendesk_all(zendesk: &Zendesk, path: &str, key: &str) -> Vec<Value> {
    let mut out = Vec::new();
    let join = if path.contains('?') { '&' } else { '?' };
    let mut url = zendesk
        .base_url()
        .join(&format!("api/v2/{path}{join}page[size]=100"))
        .unwrap()
        .to_string();
    loop {
        let body: Value = client()
            .get(&url)
            .bearer_auth(zendesk.token())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let page = body[key]
            .as_array()
            .unwrap_or_else(|| panic!("no {key} in {body}"));
        out.extend(page.iter().cloned());
        if body["meta"]["has_more"] != true || page.is_empty() {
            return out;
        }
        url = body["links"]["next"].as_str().unwrap().to_owned();
    }
}

fn id(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn seconds(v: &Value) -> i64 {
    v.as_str()
        .unwrap_or_else(|| panic!("not a time: {v}"))
        .parse::<jiff::Timestamp>()
        .unwrap()
        .as_second()
}

fn rows<'a>(dump: &'a Value, table: &str) -> &'a [Value] {
    dump[table]
        .as_array()
        .unwrap_or_else(|| panic!("no {table} in the dump"))
}

fn marker_of(v: &Value) -> Option<&str> {
    v.pointer("/custom_attributes/deskmove_source")
        .and_then(Value::as_str)
}

/// A body as words to compare, like [`normalised`], without the entity words a contact's
/// plain-text part leaves once read as HTML (`&lt;` is `lt` after HTML → text, and a `&lt;`
/// kept in the text is `&amp;lt;` in the part, `amplt`): both sides lose them alike.
fn text(html: &str) -> String {
    without_entities(&normalised(html))
}

/// A contact's part as words: plain text (Markdown as sent), which Intercom shows as it is;
/// the first message comes back wrapped in one escaped paragraph.
fn contact_text(body: &str) -> String {
    let plain = match body
        .strip_prefix("<p>")
        .and_then(|b| b.strip_suffix("</p>"))
    {
        Some(inner) => inner
            .replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
        None => body.to_owned(),
    };
    without_entities(&words(&plain))
}

fn without_entities(words: &str) -> String {
    words
        .split_whitespace()
        .map(|w| w.replace("amp", "").replace("lt", "").replace("gt", ""))
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The first paragraph of an admin's part when it names the true author (`<p><em>…</em></p>`),
/// and the body after it.
fn header(body: &str) -> (Option<String>, &str) {
    let Some(rest) = body.strip_prefix("<p><em>") else {
        return (None, body);
    };
    let Some(end) = rest.find("</em></p>") else {
        return (None, body);
    };
    let line = rest[..end]
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&");
    (Some(line), &rest[end + "</em></p>".len()..])
}

/// The text of a part as a reader sees it (tags left out).
fn visible(body: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in body.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.trim().to_owned()
}

/// Whether a part only carries files sent beside their message.
fn is_files_part(p: &Value) -> bool {
    p["attachments"].as_array().is_some_and(|a| !a.is_empty())
        && visible(p["body"].as_str().unwrap_or_default()).starts_with("Files: ")
}

fn is_message_part(p: &Value) -> bool {
    matches!(
        p["part_type"].as_str(),
        Some("source" | "comment" | "note" | "quick_reply")
    ) && !is_files_part(p)
}

/// The BLAKE3 of every file of world message `w` (of conversation `i`), and of the files it
/// may carry besides: inline images and the empty `redacted.txt` a redaction leaves.
fn files_of(view: &View<'_>, i: u64, w: &Want) -> (Vec<String>, BTreeSet<String>) {
    let c = view.conversation(i).unwrap();
    let sum = |a: &deskmove_synth::Attachment| blob_hash(&view.attachment_bytes(a));
    let files = if w.id == description_id(i) {
        c.source_attachments.iter().map(sum).collect()
    } else {
        let p = c.parts.iter().find(|p| p.id == w.id).unwrap();
        p.attachments.iter().map(sum).collect()
    };
    let mut may: BTreeSet<String> = inline_ids(&w.body)
        .into_iter()
        .filter_map(|a| view.attachment(a))
        .map(|a| sum(&a))
        .collect();
    if redacted(view.seed(), w.id) {
        may.insert(blob_hash(b""));
    }
    (files, may)
}

/// Attachment ids referenced inline in a world body.
fn inline_ids(html: &str) -> Vec<u64> {
    use deskmove_synth::html::INLINE_SCHEME;
    html.match_indices(INLINE_SCHEME)
        .filter_map(|(at, _)| {
            let tail = &html[at + INLINE_SCHEME.len()..];
            let digits = tail.bytes().take_while(u8::is_ascii_digit).count();
            tail[..digits].parse().ok()
        })
        .collect()
}

/// What the Zendesk sandbox serves besides the world's conversations.
struct Served {
    /// End user id → (lower-cased email, created_at), as `GET /users` lists them.
    users: BTreeMap<u64, (Option<String>, i64)>,
    /// Deleted end users: unlisted, but shown (`active: false`) and kept with their tickets.
    deleted_users: BTreeMap<u64, (Option<String>, i64)>,
    organizations: Vec<Value>,
    tags: BTreeSet<String>,
    deleted: BTreeSet<u64>,
}

fn person(u: &Value) -> (Option<String>, i64) {
    let email = u["email"]
        .as_str()
        .map(|e| e.trim().to_lowercase())
        .filter(|e| !e.is_empty());
    (email, seconds(&u["created_at"]))
}

async fn served(zendesk: &Zendesk) -> Served {
    let users: BTreeMap<u64, (Option<String>, i64)> =
        zendesk_all(zendesk, "users.json?role=end-user", "users")
            .await
            .iter()
            .map(|u| (u["id"].as_u64().unwrap(), person(u)))
            .collect();
    let mut deleted_users = BTreeMap::new();
    for j in 0..zendesk.world().view().contact_count() {
        let user = END_USER_BASE + j;
        if users.contains_key(&user) {
            continue;
        }
        let shown: Value = client()
            .get(
                zendesk
                    .base_url()
                    .join(&format!("api/v2/users/{user}.json"))
                    .unwrap(),
            )
            .bearer_auth(zendesk.token())
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(shown["user"]["active"], false, "{user} unlisted: {shown}");
        deleted_users.insert(user, person(&shown["user"]));
    }
    let organizations = zendesk_all(zendesk, "organizations.json", "organizations").await;
    let tags = zendesk_all(zendesk, "tags.json", "tags")
        .await
        .iter()
        .map(|t| t["name"].as_str().unwrap().to_lowercase())
        .collect();
    Served {
        users,
        deleted_users,
        organizations,
        tags,
        deleted: deleted_tickets(zendesk).await,
    }
}

/// The workspace as its public read routes show it.
struct Workspace {
    /// Lower-cased email → every contact id with it.
    by_email: BTreeMap<String, BTreeSet<String>>,
    /// Admin email (lower-cased) → id.
    admins: BTreeMap<String, String>,
    /// The token's owner: who writes for authors no admin matches.
    fallback: String,
    /// Tag id → name.
    tags: BTreeMap<String, String>,
}

async fn workspace(intercom: &Intercom) -> Workspace {
    let mut by_email: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for c in all_contacts(intercom).await {
        if let Some(e) = c["email"].as_str().filter(|e| !e.is_empty()) {
            by_email
                .entry(e.to_lowercase())
                .or_default()
                .insert(id(&c["id"]));
        }
    }
    let (_, admins) = intercom_get(intercom, "admins").await;
    let admins = admins["admins"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|a| Some((a["email"].as_str()?.to_lowercase(), id(&a["id"]))))
        .collect();
    let (_, me) = intercom_get(intercom, "me").await;
    let (_, tags) = intercom_get(intercom, "tags").await;
    let tags = tags["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| (id(&t["id"]), t["name"].as_str().unwrap().to_owned()))
        .collect();
    Workspace {
        by_email,
        admins,
        fallback: id(&me["id"]),
        tags,
    }
}

/// Asserts Intercom holds every end user, organization, tag and live ticket the Zendesk
/// sandbox serves, as a person reading Intercom would see them.
fn assert_holds_the_world(
    dump: &Value,
    ws: &Workspace,
    companies: &BTreeMap<String, Value>,
    view: &View<'_>,
    served: &Served,
) {
    assert!(
        rows(dump, "notification_log").is_empty(),
        "nobody notified: {}",
        dump["notification_log"]
    );

    // Contacts. A user and a contact the workspace had may share an email, and so may several
    // contacts: each user has a set of candidates, never assumed to be one.
    let by_marker: BTreeMap<&str, &Value> = rows(dump, "contacts")
        .iter()
        .filter_map(|c| Some((marker_of(c)?, c)))
        .collect();
    let person = |user: u64| {
        served
            .users
            .get(&user)
            .or_else(|| served.deleted_users.get(&user))
    };
    let candidates = |user: u64| -> BTreeSet<String> {
        let mut out = BTreeSet::new();
        if let Some((Some(email), _)) = person(user) {
            out.extend(ws.by_email.get(email).cloned().unwrap_or_default());
        }
        if let Some(c) = by_marker.get(format!("zendesk:contact:{user}").as_str()) {
            out.insert(id(&c["id"]));
        }
        out
    };
    assert!(!served.users.is_empty());
    for (&user, (email, _)) in &served.users {
        assert!(
            !candidates(user).is_empty(),
            "end user {user} ({email:?}) is no contact in Intercom"
        );
    }
    for (&user, (email, created_at)) in served.users.iter().chain(&served.deleted_users) {
        if let Some(c) = by_marker.get(format!("zendesk:contact:{user}").as_str()) {
            assert_eq!(c["email"].as_str().map(str::to_lowercase), *email, "{user}");
            assert_eq!(
                c["signed_up_at"].as_i64(),
                Some(*created_at),
                "{user}: the original time"
            );
        }
    }
    for marker in by_marker
        .keys()
        .filter(|m| m.starts_with("zendesk:contact:"))
    {
        let user: u64 = marker["zendesk:contact:".len()..].parse().unwrap();
        assert!(
            person(user).is_some(),
            "{marker}: a contact for no end user"
        );
    }

    // Companies: each organization by its company_id, written or there before.
    assert!(!served.organizations.is_empty());
    for o in &served.organizations {
        let company_id = o["external_id"]
            .as_str()
            .filter(|x| !x.trim().is_empty())
            .map_or_else(|| format!("zendesk:company:{}", o["id"]), str::to_owned);
        let got = companies
            .get(&company_id)
            .unwrap_or_else(|| panic!("organization {} is no company ({company_id})", o["id"]));
        let marker = format!("zendesk:company:{}", o["id"]);
        if marker_of(got) == Some(marker.as_str()) {
            assert_eq!(got["name"], o["name"], "{marker} name");
            let written = rows(dump, "companies")
                .iter()
                .find(|c| marker_of(c) == Some(marker.as_str()))
                .unwrap_or_else(|| panic!("{marker} not in the dump"));
            assert_eq!(
                written["remote_created_at"].as_i64(),
                Some(seconds(&o["created_at"])),
                "{marker}: the original time"
            );
        }
    }

    // Tags, by name.
    let names: BTreeSet<String> = ws.tags.values().map(|n| n.to_lowercase()).collect();
    assert!(!served.tags.is_empty());
    for t in &served.tags {
        assert!(names.contains(t), "tag {t} is not in Intercom: {names:?}");
    }

    // Conversations: one per live ticket.
    let live: Vec<u64> = (0..view.conversation_count())
        .filter(|i| !served.deleted.contains(&(i + 1)))
        .collect();
    assert!(!live.is_empty());
    let conversations: Vec<&Value> = rows(dump, "conversations")
        .iter()
        .filter(|c| marker_of(c).is_some_and(|m| m.starts_with("zendesk:conversation:")))
        .collect();
    assert_eq!(
        conversations.len(),
        live.len(),
        "one conversation per live ticket"
    );
    let mut files = 0;
    let mut unmatched = 0;
    for i in live {
        let c = view.conversation(i).unwrap();
        let marker = format!("zendesk:conversation:{}", i + 1);
        let mine: Vec<&&Value> = conversations
            .iter()
            .filter(|x| marker_of(x) == Some(marker.as_str()))
            .collect();
        assert_eq!(mine.len(), 1, "{marker} once");
        let conversation = *mine[0];
        let cid = id(&conversation["id"]);
        let requester = END_USER_BASE + c.contact;
        let contact = id(&conversation["contact_id"]);
        assert!(
            candidates(requester).contains(&contact),
            "{marker}: started by {contact}, not by a contact of end user {requester}"
        );
        assert_eq!(
            conversation["created_at"].as_i64(),
            Some(c.created_at),
            "{marker}: the original time"
        );
        let state = conversation["state"].as_str().unwrap_or_default();
        match c.state {
            ConvState::Closed => assert_eq!(state, "closed", "{marker}"),
            _ => assert_eq!(state, "open", "{marker}"),
        }
        let tagged: BTreeSet<String> = rows(dump, "taggings")
            .iter()
            .filter(|t| t["object"] == "conversation" && id(&t["object_id"]) == cid)
            .filter_map(|t| ws.tags.get(&id(&t["tag_id"])))
            .map(|n| n.to_lowercase())
            .collect();
        for t in &c.tags {
            let word = tag_word(&view.tag(*t).unwrap().name);
            assert!(tagged.contains(&word), "{marker}: tag {word} in {tagged:?}");
        }

        let mut all = vec![&conversation["source"]];
        all.extend(conversation["parts"].as_array().unwrap());
        let mut messages: Vec<&Value> =
            all.iter().copied().filter(|p| is_message_part(p)).collect();
        // Write order within a second is the thread's order.
        messages.sort_by_key(|p| p["created_at"].as_i64());
        let want = comments(view, i);
        assert_eq!(
            messages.len(),
            want.len(),
            "{marker}: one part per comment, files aside"
        );
        // Files by the (time, author) of the part they were sent beside.
        let mut carried: BTreeMap<(i64, String), Vec<String>> = BTreeMap::new();
        for p in all.iter().filter(|p| is_files_part(p)) {
            carried
                .entry((p["created_at"].as_i64().unwrap(), id(&p["author"]["id"])))
                .or_default()
                .extend(
                    p["attachments"]
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(|a| a["blake3"].as_str().unwrap_or_default().to_owned()),
                );
        }
        let mut may_carry: BTreeMap<(i64, String), BTreeSet<String>> = BTreeMap::new();
        for (p, w) in messages.iter().zip(&want) {
            let what = format!("{marker} comment {}", w.id);
            let at = p["created_at"].as_i64().unwrap();
            assert_eq!(at, w.at, "{what}: the original time");
            let by = id(&p["author"]["id"]);
            let kind = p["author"]["kind"].as_str().unwrap_or_default();
            let part_type = p["part_type"].as_str().unwrap_or_default();
            let body = p["body"].as_str().unwrap_or_default();
            let (line, rest) = header(body);
            let mut stand_in = false;
            match w.author {
                Author::Contact(j) if j == c.contact => {
                    assert!(matches!(kind, "user" | "lead"), "{what}: {kind}");
                    assert_eq!(by, contact, "{what}: the contact writes");
                }
                Author::Agent(a) => {
                    assert_eq!(kind, "admin", "{what}");
                    assert_eq!(
                        part_type == "note",
                        w.note,
                        "{what}: private comments are notes"
                    );
                    let email = view.agent(a).unwrap().email.to_lowercase();
                    match ws.admins.get(&email) {
                        Some(admin) => {
                            assert_eq!(&by, admin, "{what}: the agent's admin writes");
                            assert!(line.is_none(), "{what}: {body}");
                        }
                        None => {
                            assert_eq!(by, ws.fallback, "{what}: the fallback admin writes");
                            let line = line.clone().unwrap_or_default();
                            assert!(
                                line.starts_with("Written by")
                                    && line.to_lowercase().contains(&email),
                                "{what}: the true author is named first: {body}"
                            );
                            stand_in = true;
                            unmatched += 1;
                        }
                    }
                }
                // Another end user, a bot or an automation: an admin stands in and names them.
                _ => {
                    assert_eq!(kind, "admin", "{what}");
                    if by == ws.fallback {
                        stand_in = line.is_some();
                    }
                }
            }
            let got = if matches!(kind, "user" | "lead") {
                contact_text(body)
            } else {
                text(if stand_in { rest } else { body })
            };
            let expected = text(&w.body);
            assert!(
                got == expected
                    || (expected.is_empty() && matches!(got.as_str(), "no text" | "files")),
                "{what} body\n--- intercom\n{body}\n--- world\n{}\n--- words\n{got}\n{expected}",
                w.body
            );
            let (want_files, may) = files_of(view, i, w);
            let key = (at, by.clone());
            let got_files = carried.entry(key.clone()).or_default();
            for sum in &want_files {
                let at = got_files
                    .iter()
                    .position(|g| g == sum)
                    .unwrap_or_else(|| panic!("{what}: a file is missing ({sum})"));
                got_files.remove(at);
                files += 1;
            }
            may_carry.entry(key).or_default().extend(may);
        }
        for (key, left) in &carried {
            let may = may_carry.get(key).cloned().unwrap_or_default();
            assert!(
                left.iter().all(|g| may.contains(g)),
                "{marker}: files the world does not have at {key:?}: {left:?}"
            );
        }
    }
    assert!(files > 0, "the world has files");
    assert!(unmatched > 0, "some authors are no admin of the workspace");
}

/// The file `init` wrote, pointed at the two sandboxes (the lines a user edits).
fn fill_in(written: &str, zendesk: &Zendesk, intercom: &Intercom, workspace: &str) -> String {
    let replace = |text: String, from: &str, to: String| {
        assert!(text.contains(from), "the template has no `{from}`");
        text.replacen(from, &to, 1)
    };
    let files = intercom.files_url();
    let mut text = zendesk_lines(written, zendesk);
    text = replace(
        text,
        "base_url = \"https://api.intercom.io\"",
        format!("base_url = \"{}\"", intercom.base_url()),
    );
    text = replace(
        text,
        "workspace_id = \"abc123de\"",
        format!("workspace_id = \"{workspace}\""),
    );
    replace(
        text,
        "token_env = \"INTERCOM_TARGET_TOKEN\"",
        format!(
            "token_env = \"INTERCOM_TARGET_TOKEN\"\nhttp = {{ calls_per_minute = 60000, burst = 1000 }}\nfile_hosts = [\"{}:{}\"]",
            files.host_str().unwrap(),
            files.port().unwrap()
        ),
    )
}

/// Calls that change something in the workspace (searches are reads).
fn writes(intercom: &Intercom) -> u64 {
    intercom
        .stats()
        .iter()
        .filter(|(route, _)| {
            ["POST ", "PUT ", "PATCH ", "DELETE "]
                .iter()
                .any(|m| route.starts_with(m))
                && !route.ends_with("/search")
        })
        .map(|(_, r)| r.calls)
        .sum()
}

#[test]
fn init_then_run_moves_every_zendesk_ticket_into_intercom_once_and_rollback_undoes_it() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let (zendesk, intercom) = runtime.block_on(async {
        // Seven tickets: the world's eighth conversation is one of its giants.
        let zendesk = Zendesk::start(ZendeskArgs {
            tickets: 7,
            contacts: 12,
            rate_limit: 0,
            incremental_rate_limit: 0,
            ..ZendeskArgs::default()
        })
        .await
        .unwrap();
        // The same seed: the workspace's contacts share emails with end users, and its admins
        // are most of the world's agents.
        let intercom = Intercom::start(IntercomArgs {
            conversations: 0,
            contacts: PRE_EXISTING,
            rate_limit: 60_000,
            ..IntercomArgs::default()
        })
        .await
        .unwrap();
        (zendesk, intercom)
    });
    let (workspace_id, before_contacts, before_conversations, pre_existing) =
        runtime.block_on(async {
            let (_, me) = intercom_get(&intercom, "me").await;
            let contacts: BTreeSet<String> = all_contacts(&intercom)
                .await
                .iter()
                .map(|c| id(&c["id"]))
                .collect();
            (
                me["app"]["id_code"].as_str().unwrap().to_owned(),
                total(&intercom, "contacts").await,
                total(&intercom, "conversations").await,
                contacts,
            )
        });
    assert_eq!(before_contacts, PRE_EXISTING);
    assert_eq!(pre_existing.len() as u64, PRE_EXISTING);

    let dir = Dir::new();
    let init = dir
        .deskmove(&["init", "--from", "zendesk", "--to", "intercom"])
        .expect_code(0);
    assert!(
        init.stderr().contains("export ZENDESK_TOKEN"),
        "{}",
        init.stderr()
    );
    let written = dir.read("deskmove.toml");
    assert!(written.contains("kind = \"zendesk\""), "{written}");
    assert!(written.contains("kind = \"intercom\""), "{written}");
    dir.write(
        "deskmove.toml",
        &fill_in(&written, &zendesk, &intercom, &workspace_id),
    );

    let secrets = [
        ("ZENDESK_TOKEN", zendesk.token()),
        ("INTERCOM_TARGET_TOKEN", intercom.token()),
    ];
    let deskmove = |args: &[&str]| dir.deskmove_with(args, &secrets);
    let json = |args: &[&str]| {
        let run = deskmove(args);
        (run.code(), run.json())
    };

    let status = deskmove(&["status"]).expect_code(0).stdout();
    assert!(status.contains("zendesk → intercom"), "{status}");
    assert!(status.contains("The set-up is complete"), "{status}");

    let (code, scan) = json(&["scan", "--json"]);
    assert_eq!(code, 0, "{scan:#}");
    assert_eq!(writes(&intercom), 0, "the scan writes nothing");

    let (code, export) = json(&["export", "--json"]);
    assert!(matches!(code, 0 | 3), "{export:#}");
    let (code, map) = json(&["map", "--json"]);
    assert_eq!(code, 0, "{map:#}");
    assert_eq!(map["created"], true, "{map:#}");
    assert!(dir.join("mapping.toml").exists());

    // Exit 3: deleted tickets, matched contacts and unmatched authors are reported.
    let (code, first) = json(&["run", "--json"]);
    assert!(matches!(code, 0 | 3), "{first:#}");
    let problems = || deskmove(&["status"]).stdout();
    assert_eq!(
        first["import"]["total"]["failed"],
        0,
        "{first:#}\n{}",
        problems()
    );
    assert!(
        first["import"]["total"]["loaded"].as_u64().unwrap() > 0,
        "{first:#}"
    );

    let view = zendesk.world().view();
    let (held, ws, companies, served) = runtime.block_on(async {
        let served = served(&zendesk).await;
        let mut companies = BTreeMap::new();
        for o in &served.organizations {
            let company_id = o["external_id"]
                .as_str()
                .filter(|x| !x.trim().is_empty())
                .map_or_else(|| format!("zendesk:company:{}", o["id"]), str::to_owned);
            let query: String =
                url::form_urlencoded::byte_serialize(company_id.as_bytes()).collect();
            let (status, found) =
                intercom_get(&intercom, &format!("companies?company_id={query}")).await;
            if status == 200 {
                let one = found["data"].get(0).cloned().unwrap_or(found);
                companies.insert(company_id, one);
            }
        }
        (
            dump(&intercom).await,
            workspace(&intercom).await,
            companies,
            served,
        )
    });
    assert_holds_the_world(&held, &ws, &companies, &view, &served);
    let live_tickets = view.conversation_count() - served.deleted.len() as u64;

    // A second run finds everything there and writes nothing.
    let before = writes(&intercom);
    let (code, again) = json(&["run", "--json"]);
    assert!(matches!(code, 0 | 3), "{again:#}");
    let total_line = &again["import"]["total"];
    assert_eq!(total_line["loaded"], 0, "{again:#}");
    assert_eq!(total_line["updated"], 0, "{again:#}");
    assert_eq!(total_line["failed"], 0, "{again:#}\n{}", problems());
    assert_eq!(writes(&intercom), before, "a re-run writes nothing");
    let after = runtime.block_on(dump(&intercom));
    assert_eq!(after, held, "a re-run changes nothing in the workspace");

    // Every record found again, and every conversation read back as staged: its labels, and
    // its messages' authors, kinds, bodies, order and file bytes. The empty `redacted.txt` a
    // redaction leaves is skipped with its reason (Intercom takes no empty file), not missing.
    let (code, verified) = json(&["verify", "--json"]);
    for kind in verified["kinds"].as_array().unwrap() {
        assert_eq!(kind["missing"], serde_json::json!([]), "{verified:#}");
        assert_eq!(kind["found"], kind["loaded"], "{kind}");
    }
    let deep = &verified["deep"];
    assert_eq!(deep["compared"], live_tickets, "{verified:#}");
    assert!(
        deep["messages_compared"].as_u64().unwrap() > 0,
        "{verified:#}"
    );
    assert!(
        deep["attachments_compared"].as_u64().unwrap() > 0,
        "{verified:#}"
    );
    assert_eq!(deep["mismatches"], serde_json::json!([]), "{verified:#}");
    assert_eq!(
        (code, &verified["ok"]),
        (0, &Value::Bool(true)),
        "{verified:#}"
    );

    // Rollback: the workspace as it was before.
    let (code, rolled) = json(&["rollback", "--json"]);
    assert_eq!(code, 0, "{rolled:#}");
    assert!(rolled["removed"].as_u64().unwrap() > 0, "{rolled:#}");
    let (contacts_after, conversations_after, ids_after, dump_after) = runtime.block_on(async {
        let ids: BTreeSet<String> = all_contacts(&intercom)
            .await
            .iter()
            .map(|c| id(&c["id"]))
            .collect();
        (
            total(&intercom, "contacts").await,
            total(&intercom, "conversations").await,
            ids,
            dump(&intercom).await,
        )
    });
    assert_eq!(contacts_after, before_contacts, "{rolled:#}");
    assert_eq!(conversations_after, before_conversations, "{rolled:#}");
    assert_eq!(ids_after, pre_existing, "the workspace's own contacts stay");
    for table in ["contacts", "companies", "conversations"] {
        let left: Vec<&Value> = rows(&dump_after, table)
            .iter()
            .filter(|x| marker_of(x).is_some_and(|m| m.starts_with("zendesk:")))
            .collect();
        assert!(left.is_empty(), "{table} left after the rollback: {left:?}");
    }
    assert!(rows(&dump_after, "notification_log").is_empty());
    assert!(zendesk.leaked_credentials().is_empty());
    assert!(intercom.leaked_credentials().is_empty());
    runtime.block_on(async {
        zendesk.shutdown().await;
        intercom.shutdown().await;
    });
}
