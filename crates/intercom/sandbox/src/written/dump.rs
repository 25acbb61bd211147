//! `GET /__sandbox/dump`: everything written, as stored — each conversation with its parts,
//! their `created_at`, authors and attachments — and the notification log, so a test can check
//! what reached the sandbox against its own oracle and assert that nobody was notified.

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
        "notification_log": store.notifications,
    })
}
