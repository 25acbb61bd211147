//! `GET /__sandbox/dump`: everything written, as stored — each conversation with its parts,
//! their `created_at`, authors and attachments — and the notification log, so a test can check
//! what reached the sandbox against its own oracle and assert that nobody was notified. Also
//! what was written into seeded conversations (`conversation_overlays`), the conversation
//! attributes created, every deletion, and each uploaded file's size and BLAKE3 (on its part's
//! attachment, `blake3` and `upload_id`).

use serde_json::{Value, json};

use crate::written::Store;

/// The whole written state.
pub(crate) fn dump(store: &Store) -> Value {
    json!({
        "contacts": store.contacts,
        "companies": store.companies,
        "company_memberships": store.memberships,
        "tags": store.tags,
        "taggings": store.taggings,
        "data_attributes": store.data_attributes,
        "conversations": store.conversations,
        "tickets": store.tickets,
        "articles": store.articles,
        "collections": store.collections,
        "notes": store.notes,
        "messages": store.messages,
        "conversation_overlays": store.overlays,
        "conversation_attributes": store.conversation_attributes,
        "deletions": store.deletions,
        "notification_log": store.notifications,
    })
}
