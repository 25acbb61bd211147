//! The preflight: the schema is one this loader was checked against, every column it writes
//! exists with the type it writes, and the account, its display-id sequence and the inbox exist.

use std::collections::BTreeMap;

use deskmove_core::connector::Preflight;
use tokio_postgres::Client;

use super::{PostgresError, PostgresOptions};

/// `schema_migrations` versions this loader was checked against (Chatwoot 4.10,
/// research/chatwoot.md header; `../shared/specs/chatwoot/schema.sql`).
pub const SUPPORTED_SCHEMA_VERSIONS: &[&str] = &["20260114201315"];

const TS: &str = "timestamp without time zone";
const VC: &str = "character varying";

/// Every column the loader writes or reconciles by, with its `information_schema` type.
pub const COLUMNS: &[(&str, &str, &str)] = &[
    ("contacts", "id", "integer"),
    ("contacts", "name", VC),
    ("contacts", "email", VC),
    ("contacts", "phone_number", VC),
    ("contacts", "account_id", "integer"),
    ("contacts", "identifier", VC),
    ("contacts", "contact_type", "integer"),
    ("contacts", "additional_attributes", "jsonb"),
    ("contacts", "custom_attributes", "jsonb"),
    ("contacts", "location", VC),
    ("contacts", "country_code", VC),
    ("contacts", "created_at", TS),
    ("contacts", "updated_at", TS),
    ("contacts", "last_activity_at", TS),
    ("contact_inboxes", "id", "bigint"),
    ("contact_inboxes", "contact_id", "bigint"),
    ("contact_inboxes", "inbox_id", "bigint"),
    ("contact_inboxes", "source_id", "text"),
    ("contact_inboxes", "hmac_verified", "boolean"),
    ("contact_inboxes", "created_at", TS),
    ("contact_inboxes", "updated_at", TS),
    ("conversations", "id", "integer"),
    ("conversations", "account_id", "integer"),
    ("conversations", "inbox_id", "integer"),
    ("conversations", "status", "integer"),
    ("conversations", "assignee_id", "integer"),
    ("conversations", "team_id", "bigint"),
    ("conversations", "contact_id", "bigint"),
    ("conversations", "contact_inbox_id", "bigint"),
    ("conversations", "display_id", "integer"),
    ("conversations", "uuid", "uuid"),
    ("conversations", "identifier", VC),
    ("conversations", "priority", "integer"),
    ("conversations", "snoozed_until", TS),
    ("conversations", "waiting_since", TS),
    ("conversations", "last_activity_at", TS),
    ("conversations", "first_reply_created_at", TS),
    ("conversations", "agent_last_seen_at", TS),
    ("conversations", "assignee_last_seen_at", TS),
    ("conversations", "contact_last_seen_at", TS),
    ("conversations", "cached_label_list", "text"),
    ("conversations", "additional_attributes", "jsonb"),
    ("conversations", "custom_attributes", "jsonb"),
    ("conversations", "created_at", TS),
    ("conversations", "updated_at", TS),
    ("messages", "id", "integer"),
    ("messages", "content", "text"),
    ("messages", "account_id", "integer"),
    ("messages", "inbox_id", "integer"),
    ("messages", "conversation_id", "integer"),
    ("messages", "message_type", "integer"),
    ("messages", "content_type", "integer"),
    ("messages", "private", "boolean"),
    ("messages", "status", "integer"),
    ("messages", "source_id", "text"),
    ("messages", "content_attributes", "json"),
    ("messages", "sender_type", VC),
    ("messages", "sender_id", "bigint"),
    ("messages", "processed_message_content", "text"),
    ("messages", "created_at", TS),
    ("messages", "updated_at", TS),
    ("attachments", "id", "integer"),
    ("attachments", "file_type", "integer"),
    ("attachments", "message_id", "integer"),
    ("attachments", "account_id", "integer"),
    ("attachments", "extension", VC),
    ("attachments", "meta", "jsonb"),
    ("attachments", "created_at", TS),
    ("attachments", "updated_at", TS),
    ("active_storage_blobs", "id", "bigint"),
    ("active_storage_blobs", "key", VC),
    ("active_storage_blobs", "filename", VC),
    ("active_storage_blobs", "content_type", VC),
    ("active_storage_blobs", "metadata", "text"),
    ("active_storage_blobs", "byte_size", "bigint"),
    ("active_storage_blobs", "checksum", VC),
    ("active_storage_blobs", "service_name", VC),
    ("active_storage_blobs", "created_at", TS),
    ("active_storage_attachments", "id", "bigint"),
    ("active_storage_attachments", "name", VC),
    ("active_storage_attachments", "record_type", VC),
    ("active_storage_attachments", "record_id", "bigint"),
    ("active_storage_attachments", "blob_id", "bigint"),
    ("active_storage_attachments", "created_at", TS),
    ("labels", "id", "bigint"),
    ("labels", "title", VC),
    ("labels", "description", "text"),
    ("labels", "show_on_sidebar", "boolean"),
    ("labels", "account_id", "bigint"),
    ("labels", "created_at", TS),
    ("labels", "updated_at", TS),
    ("tags", "id", "integer"),
    ("tags", "name", VC),
    ("tags", "taggings_count", "integer"),
    ("taggings", "tag_id", "integer"),
    ("taggings", "taggable_type", VC),
    ("taggings", "taggable_id", "integer"),
    ("taggings", "context", VC),
    ("taggings", "created_at", TS),
    ("canned_responses", "id", "integer"),
    ("canned_responses", "account_id", "integer"),
    ("canned_responses", "short_code", VC),
    ("canned_responses", "content", "text"),
    ("canned_responses", "created_at", TS),
    ("canned_responses", "updated_at", TS),
    ("custom_attribute_definitions", "id", "bigint"),
    ("custom_attribute_definitions", "attribute_display_name", VC),
    ("custom_attribute_definitions", "attribute_key", VC),
    (
        "custom_attribute_definitions",
        "attribute_display_type",
        "integer",
    ),
    ("custom_attribute_definitions", "attribute_model", "integer"),
    ("custom_attribute_definitions", "account_id", "bigint"),
    (
        "custom_attribute_definitions",
        "attribute_description",
        "text",
    ),
    ("custom_attribute_definitions", "attribute_values", "jsonb"),
    ("custom_attribute_definitions", "created_at", TS),
    ("custom_attribute_definitions", "updated_at", TS),
    ("users", "id", "integer"),
    ("users", "email", VC),
    ("account_users", "account_id", "bigint"),
    ("account_users", "user_id", "bigint"),
    ("teams", "id", "bigint"),
    ("teams", "name", VC),
    ("teams", "account_id", "bigint"),
    ("inboxes", "id", "integer"),
    ("inboxes", "account_id", "integer"),
    ("inboxes", "channel_type", VC),
    ("agent_bots", "id", "bigint"),
];

/// deskmove's own bookkeeping beside Chatwoot's tables, written in each batch's transaction:
/// which rows it created (`owned`) and which existing ones it matched. Nothing of Chatwoot's
/// reads it; drop the schema once the import is accepted and no rollback is wanted.
const PROVENANCE_DDL: &str = "
CREATE SCHEMA IF NOT EXISTS deskmove;
CREATE TABLE IF NOT EXISTS deskmove.provenance (
    account_id bigint NOT NULL,
    target_table text NOT NULL,
    row_id bigint NOT NULL,
    source_key text NOT NULL,
    owned boolean NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (account_id, target_table, row_id, source_key)
);
CREATE INDEX IF NOT EXISTS provenance_by_key
    ON deskmove.provenance (account_id, source_key, target_table);
";

/// Checks the database for `options`; refusals name what to change.
pub async fn preflight(
    client: &Client,
    options: &PostgresOptions,
) -> Result<Preflight, PostgresError> {
    let db = PostgresError::db;
    let mut pre = Preflight::default();
    let has_migrations = client
        .query_one(
            "SELECT to_regclass('public.schema_migrations') IS NOT NULL",
            &[],
        )
        .await
        .map_err(db("looking for schema_migrations"))?
        .get::<_, bool>(0);
    if !has_migrations {
        pre.refusals.push(
            "This database has no schema_migrations table: it is not a Chatwoot database. Check the database URL."
                .into(),
        );
        return Ok(pre);
    }
    let version: Option<String> = client
        .query_one("SELECT max(version) FROM schema_migrations", &[])
        .await
        .map_err(db("reading schema_migrations"))?
        .get(0);
    let version = version.unwrap_or_default();
    if !SUPPORTED_SCHEMA_VERSIONS.contains(&version.as_str()) {
        let msg = format!(
            "Chatwoot's schema version is {}, and this deskmove writes only schema {} (Chatwoot 4.10). Upgrade or downgrade Chatwoot to that schema, or set allow_unsupported_schema to load anyway (the column check still runs).",
            if version.is_empty() {
                "unknown (schema_migrations is empty)"
            } else {
                &version
            },
            SUPPORTED_SCHEMA_VERSIONS.join(", ")
        );
        if options.allow_unsupported_schema {
            pre.warnings.push(msg);
        } else {
            pre.refusals.push(msg);
        }
    }

    let rows = client
        .query(
            "SELECT table_name::text, column_name::text, data_type::text
               FROM information_schema.columns WHERE table_schema = 'public'",
            &[],
        )
        .await
        .map_err(db("reading information_schema.columns"))?;
    let have: BTreeMap<(String, String), String> = rows
        .iter()
        .map(|r| ((r.get(0), r.get(1)), r.get(2)))
        .collect();
    let mut wrong = Vec::new();
    for (table, column, ty) in COLUMNS {
        match have.get(&((*table).to_owned(), (*column).to_owned())) {
            None => wrong.push(format!("{table}.{column} is missing")),
            Some(t) if t != ty => wrong.push(format!("{table}.{column} is {t}, not {ty}")),
            Some(_) => {}
        }
    }
    if !wrong.is_empty() {
        pre.refusals.push(format!(
            "Chatwoot's tables are not shaped as this loader writes them: {}. Run Chatwoot's migrations to schema {}.",
            wrong.join("; "),
            SUPPORTED_SCHEMA_VERSIONS.join(", ")
        ));
        return Ok(pre);
    }

    let account = client
        .query_opt(
            "SELECT auto_resolve_duration FROM accounts WHERE id = $1",
            &[&(options.account_id as i32)],
        )
        .await
        .map_err(db("reading the account"))?;
    let Some(account) = account else {
        pre.refusals.push(format!(
            "Chatwoot has no account {}: set account_id to the number in /app/accounts/<id>/.",
            options.account_id
        ));
        return Ok(pre);
    };
    if let Some(days) = account.get::<_, Option<i32>>(0) {
        pre.warnings.push(format!(
            "Account {} auto-resolves conversations idle for {days} days: imported open conversations with old activity will be resolved by Chatwoot's periodic job. Switch auto-resolve off in the account settings during the import to keep their state.",
            options.account_id
        ));
    }
    let seq = format!("public.conv_dpid_seq_{}", options.account_id);
    let has_seq: bool = client
        .query_one("SELECT to_regclass($1) IS NOT NULL", &[&seq])
        .await
        .map_err(db("looking for the display-id sequence"))?
        .get(0);
    if !has_seq {
        pre.refusals.push(format!(
            "The display-id sequence conv_dpid_seq_{} is missing, so Chatwoot's trigger cannot number conversations: create the account through Chatwoot (its trigger creates the sequence).",
            options.account_id
        ));
    }
    let inbox = client
        .query_opt(
            "SELECT channel_type FROM inboxes WHERE id = $1 AND account_id = $2",
            &[&(options.inbox_id as i32), &(options.account_id as i32)],
        )
        .await
        .map_err(db("reading the inbox"))?;
    match inbox {
        None => pre.refusals.push(format!(
            "Account {} has no inbox {}: create an API-channel inbox (Settings > Inboxes > API) and set inbox_id to its id.",
            options.account_id, options.inbox_id
        )),
        Some(r) if r.get::<_, Option<String>>(0).as_deref() != Some("Channel::Api") => {
            pre.warnings.push(format!(
                "Inbox {} is not an API-channel inbox: replies typed later in Chatwoot may be delivered to customers through its channel. A dedicated API inbox is safer.",
                options.inbox_id
            ));
        }
        Some(_) => {}
    }
    if let Some(bot) = options.agent_bot_id {
        let found = client
            .query_opt("SELECT 1 FROM agent_bots WHERE id = $1", &[&bot])
            .await
            .map_err(db("reading the agent bot"))?;
        if found.is_none() {
            pre.refusals.push(format!(
                "There is no agent bot {bot}: create it in Chatwoot (Settings > Bots) or leave agent_bot_id out."
            ));
        }
    }
    if let Err(e) = std::fs::create_dir_all(&options.storage_dir) {
        pre.refusals.push(format!(
            "The attachment storage directory cannot be created ({e}): set storage_dir to Chatwoot's storage volume, writable by this user."
        ));
    }
    let trigram: bool = client
        .query_one(
            "SELECT to_regclass('public.index_messages_on_content') IS NOT NULL",
            &[],
        )
        .await
        .map_err(db("looking for the message search index"))?
        .get(0);
    if trigram {
        pre.warnings.push(
            "The trigram search index on messages.content is maintained during the load, which is its main cost; on a fresh install it can be dropped before and rebuilt after (see bench/chatwoot-postgres/README.md)."
                .into(),
        );
    }
    if pre.ok() {
        client
            .batch_execute(PROVENANCE_DDL)
            .await
            .map_err(db("creating deskmove.provenance"))?;
        pre.neutralised.push(
            "No Chatwoot callbacks run on this path: no webhooks, automations, notifications or e-mails.".into(),
        );
    }
    Ok(pre)
}
