//! `deskmove archive search` through the real binary, on a store `deskmove export` filled from
//! the Intercom sandbox: a phrase planted in a message body and a planted attachment's file
//! name are found with their conversation, contact and date, and so is a file name of the world.

use deskmove_core::model::{
    Attachment, Author, AuthorKind, Conversation, ConversationState, Message, MessageKind,
};
use deskmove_core::{Record, RecordKind, SourceKey};
use deskmove_intercom_sandbox::{RunningSandbox, SandboxArgs};
use deskmove_sandbox::Sandbox;
use deskmove_store::{NewRun, SqliteStore, StagedBatch, Store};
use serde_json::Value;

use crate::util::Dir;

const TOKEN_ENV: &str = "DESKMOVE_TEST_SOURCE_TOKEN";

fn config(sandbox: &RunningSandbox) -> String {
    let files = sandbox.files_url();
    format!(
        r#"[source]
kind = "intercom"
base_url = "{base}"
token_env = "{TOKEN_ENV}"
file_hosts = ["{host}:{port}"]

[target]
kind = "chatwoot"
base_url = "http://127.0.0.1:1"
account_id = 1
token_env = "CHATWOOT_TOKEN"
"#,
        base = sandbox.base_url(),
        host = files.host_str().unwrap(),
        port = files.port().unwrap(),
    )
}

fn k(kind: RecordKind, id: &str) -> SourceKey {
    SourceKey::new("intercom", kind, id)
}

/// Stages one more conversation, as a later export page would: a message saying `phrase` and
/// a file named `file_name`, started by the world's contact `contact`.
async fn plant(store: &SqliteStore, contact: &str, phrase: &str, file_name: &str) {
    let run = store
        .start_run(NewRun {
            command: "export".into(),
            source_system: Some("intercom".into()),
            target_system: None,
            target: None,
            started_at: jiff::Timestamp::now(),
        })
        .await
        .unwrap();
    let at: jiff::Timestamp = "2024-05-06T07:08:09Z".parse().unwrap();
    let mut batch = StagedBatch::new(run, "intercom/planted");
    batch.records = vec![
        Record::Conversation(Conversation {
            key: k(RecordKind::Conversation, "planted-1"),
            subject: None,
            contacts: vec![k(RecordKind::Contact, contact)],
            assignee: None,
            team: None,
            state: ConversationState::Closed,
            snoozed_until: None,
            priority: None,
            tags: vec![],
            attributes: Default::default(),
            source_message_count: Some(1),
            created_at: at,
            updated_at: None,
            extra: Default::default(),
        }),
        Record::Message(Message {
            key: k(RecordKind::Message, "planted-1-source"),
            conversation: k(RecordKind::Conversation, "planted-1"),
            kind: MessageKind::Reply,
            author: Author {
                kind: AuthorKind::Contact,
                key: Some(k(RecordKind::Contact, contact)),
                name: None,
                email: None,
            },
            body_html: Some(format!("<p>Hello, {phrase}.</p>")),
            body_markdown: Some(format!("Hello, {phrase}.")),
            inline_images: vec![],
            event: None,
            attachments: vec![k(RecordKind::Attachment, "planted-1-source/0")],
            created_at: at,
            updated_at: None,
            extra: Default::default(),
        }),
        Record::Attachment(Attachment {
            key: k(RecordKind::Attachment, "planted-1-source/0"),
            owner: k(RecordKind::Message, "planted-1-source"),
            file_name: file_name.into(),
            content_type: Some("application/pdf".into()),
            size: Some(3),
            source_url: None,
            blob: None,
            extra: Default::default(),
        }),
    ];
    store.put_batch(batch).await.unwrap();
}

fn search(dir: &Dir, text: &str) -> Vec<Value> {
    let out = dir
        .deskmove(&["archive", "search", text, "--json", "--limit", "500"])
        .expect_code(0)
        .stdout();
    let doc: Value = serde_json::from_str(&out).unwrap();
    doc["hits"].as_array().unwrap().clone()
}

#[test]
fn archive_search_finds_a_planted_phrase_and_file_name_in_an_exported_store() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let sandbox = runtime
        .block_on(RunningSandbox::start(SandboxArgs {
            conversations: 40,
            contacts: 20,
            ..SandboxArgs::default()
        }))
        .unwrap();
    let dir = Dir::new();
    dir.write("deskmove.toml", &config(&sandbox));
    let export = dir
        .command(&["export"])
        .env(TOKEN_ENV, sandbox.token())
        .output()
        .unwrap();
    assert!(
        matches!(export.status.code(), Some(0 | 3)),
        "{}",
        String::from_utf8_lossy(&export.stderr)
    );

    // The world's first conversation that came with a file: its name finds it.
    let view = sandbox.world().view();
    let (conversation, file) = (0..view.conversation_count())
        .filter_map(|i| view.conversation(i))
        .find_map(|c| {
            let name = c.source_attachments.first()?.name.clone();
            Some((c.id, name))
        })
        .expect("the world has a conversation with a file");
    let contact = view.contact(0).unwrap();
    let hits = search(&dir, &file);
    assert!(
        hits.iter()
            .any(|h| h["conversation"]["id"] == conversation.as_str()),
        "{file} finds conversation {conversation}: {hits:?}"
    );

    runtime.block_on(async {
        let store = SqliteStore::open(dir.join("deskmove.sqlite")).unwrap();
        plant(
            &store,
            &contact.id,
            "my parcel number is HELIOTROPE-7731",
            "zeppelin manifest (final).pdf",
        )
        .await;
        store.close().unwrap();
    });

    let hits = search(&dir, "heliotrope-7731 PARCEL");
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0]["conversation"]["id"], "planted-1");
    assert_eq!(hits[0]["matched"]["kind"], "message");
    assert_eq!(hits[0]["contact"]["id"], contact.id.as_str());
    // The contact comes from the exported store (its email normalised: domain lower-cased).
    assert_eq!(
        hits[0]["contact_email"].as_str().map(str::to_lowercase),
        contact.email.as_deref().map(str::to_lowercase),
    );
    assert_eq!(hits[0]["created_at"], "2024-05-06T07:08:09Z");
    assert!(
        hits[0]["snippet"]
            .as_str()
            .unwrap()
            .contains("**parcel** number is **HELIOTROPE-7731**"),
        "{hits:?}"
    );

    let hits = search(&dir, "zeppelin manifest");
    assert_eq!(hits.len(), 1, "{hits:?}");
    assert_eq!(hits[0]["matched"]["kind"], "attachment");
    assert_eq!(hits[0]["conversation"]["id"], "planted-1");

    // The list for people: conversation, date, contact and the matching text.
    let text = dir
        .deskmove(&["archive", "search", "heliotrope"])
        .expect_code(0)
        .stdout();
    assert!(
        text.contains("intercom:conversation:planted-1  2024-05-06"),
        "{text}"
    );
    assert!(text.contains("**HELIOTROPE**"), "{text}");
    assert!(text.contains("1 conversation found"), "{text}");
    let none = dir
        .deskmove(&["archive", "search", "xylophonequartz"])
        .expect_code(0)
        .stdout();
    assert!(none.contains("No staged conversation contains"), "{none}");
    dir.deskmove(&["archive", "search", "  "]).expect_code(2);

    runtime.block_on(sandbox.shutdown());
}

#[test]
fn archive_search_without_a_store_says_to_export_first() {
    let dir = Dir::new();
    dir.deskmove(&["init"]).expect_code(0);
    let run = dir
        .deskmove(&["archive", "search", "refund"])
        .expect_code(2);
    assert!(run.stderr().contains("deskmove export"), "{}", run.stderr());
    assert!(
        !dir.join("deskmove.sqlite").exists(),
        "search never creates the store"
    );
}
