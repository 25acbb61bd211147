//! The write side's routes, added to the same paths as the reads (axum merges the methods of
//! one path). Writes pass the same front door, so they count against the same rate window as
//! reads (research §3: one per-app limit for every REST call).

use std::sync::Arc;

use axum::Router;
use axum::routing::{delete, get, post, put};

use crate::routes::{
    write_contacts, write_conversation_update, write_conversations, write_deletes, write_directory,
    write_help_center, write_tickets,
};
use crate::state::AppState;

/// `api` with every write route.
pub(crate) fn add(api: Router<Arc<AppState>>) -> Router<Arc<AppState>> {
    api.route("/contacts", post(write_contacts::create_contact))
        .route("/contacts/merge", post(write_contacts::merge_contacts))
        .route(
            "/contacts/{contact_id}",
            put(write_contacts::update_contact).delete(write_deletes::delete_contact),
        )
        .route(
            "/contacts/{contact_id}/notes",
            post(write_contacts::create_note),
        )
        .route(
            "/contacts/{contact_id}/tags",
            post(write_contacts::tag_contact),
        )
        .route(
            "/contacts/{contact_id}/tags/{tag_id}",
            delete(write_contacts::untag_contact),
        )
        .route(
            "/contacts/{contact_id}/companies",
            post(write_contacts::attach_company),
        )
        .route(
            "/contacts/{contact_id}/companies/{company_id}",
            delete(write_contacts::detach_company),
        )
        .route("/companies", post(write_directory::upsert_company))
        .route(
            "/companies/{company_id}",
            delete(write_deletes::delete_company),
        )
        .route("/tags", post(write_directory::create_tag))
        .route("/tags/{tag_id}", delete(write_deletes::delete_tag))
        .route(
            "/data_attributes",
            post(write_directory::create_data_attribute),
        )
        .route(
            "/conversations",
            post(write_conversations::create_conversation),
        )
        .route(
            "/conversations/{conversation_id}",
            put(write_conversation_update::update_conversation)
                .delete(write_deletes::delete_conversation),
        )
        .route(
            "/conversations/deleted",
            get(write_deletes::deleted_conversations),
        )
        .route(
            "/conversations/attributes",
            post(write_conversation_update::create_attribute),
        )
        .route(
            "/conversations/{conversation_id}/tags/{tag_id}",
            delete(write_deletes::untag_conversation),
        )
        .route(
            "/conversations/{conversation_id}/reply",
            post(write_conversations::reply),
        )
        .route(
            "/conversations/{conversation_id}/parts",
            post(write_conversations::manage),
        )
        .route(
            "/conversations/{conversation_id}/tags",
            post(write_directory::tag_conversation),
        )
        .route("/messages", post(write_conversations::create_message))
        .route("/tickets", post(write_tickets::create_ticket))
        .route("/tickets/{ticket_id}", delete(write_deletes::delete_ticket))
        .route(
            "/tickets/{ticket_id}/tags/{tag_id}",
            delete(write_deletes::untag_ticket),
        )
        .route(
            "/tickets/{ticket_id}/reply",
            post(write_tickets::reply_ticket),
        )
        .route(
            "/tickets/{ticket_id}/tags",
            post(write_directory::tag_ticket),
        )
        .route("/articles", post(write_help_center::create_article))
        .route(
            "/articles/{article_id}",
            delete(write_deletes::delete_article),
        )
        .route(
            "/help_center/collections",
            post(write_help_center::create_collection),
        )
        .route(
            "/help_center/collections/{collection_id}",
            delete(write_deletes::delete_collection),
        )
}
