//! A reply as conversations and tickets take it (`admin_reply_conversation_request`,
//! `contact_reply_*_request`, `admin_reply_ticket_request`; research §7): an admin `comment`,
//! `note` or `quick_reply` with `admin_id`, or a contact `comment` identified by
//! `intercom_user_id`, `user_id` (external id) or `email`; `created_at` is accepted on every
//! reply ("if not provided, the current time will be used"); at most 10 `attachment_urls` and 10
//! `attachment_files` (`{content_type, data (base64), name}`).

use base64::Engine;
use deskmove_synth::View;
use serde_json::Value;

use crate::body::{Body, missing};
use crate::error::ApiError;
use crate::routes::write_support::{
    contact_with_external_id, current_contact, require_admin, user_not_found,
};
use crate::version::ApiVersion;
use crate::written::{Store, Upload, Uploads, WAttachment, WAuthor, base};

/// The most files of each kind one part may carry (both specs: `maxItems: 10`).
pub(crate) const MAX_ATTACHMENTS: usize = 10;

/// A parsed reply.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    pub(crate) message_type: String,
    pub(crate) author: WAuthor,
    pub(crate) body: Option<String>,
    pub(crate) created_at: Option<i64>,
    pub(crate) attachments: Vec<WAttachment>,
    /// `skip_notifications` where the version's request shape has it, else `None`.
    pub(crate) skip_notifications: Option<bool>,
    /// Decoded `attachment_files`, by index into `attachments`, until [`Reply::store_files`].
    files: Vec<(usize, Upload)>,
}

impl Reply {
    /// Gives each uploaded file an id on the file host and keeps its bytes there, so the part's
    /// attachment URL serves exactly what was sent.
    pub(crate) fn store_files(&mut self, store: &mut Store, uploads: &Uploads) {
        for (i, up) in self.files.drain(..) {
            let id = base::UPLOAD + store.next();
            uploads.insert(id, up);
            if let Some(a) = self.attachments.get_mut(i) {
                a.upload_id = Some(id);
            }
        }
    }
}

/// Which request shape's additions apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ReplyTo {
    Conversation,
    Ticket,
}

fn attachment_urls(b: &Body) -> Result<Vec<WAttachment>, ApiError> {
    b.array("attachment_urls", Some(MAX_ATTACHMENTS))?
        .into_iter()
        .map(|u| {
            let url = u
                .as_str()
                .filter(|u| url::Url::parse(u).is_ok())
                .ok_or_else(|| ApiError::invalid("attachment_urls must be URLs"))?;
            let name = url
                .rsplit('/')
                .next()
                .and_then(|n| n.split('?').next())
                .filter(|n| !n.is_empty())
                .unwrap_or("attachment")
                .to_string();
            Ok(WAttachment {
                name,
                url: url.to_string(),
                content_type: "application/octet-stream".into(),
                filesize: 0,
                blake3: None,
                upload_id: None,
            })
        })
        .collect()
}

fn attachment_files(b: &Body) -> Result<Vec<(WAttachment, Upload)>, ApiError> {
    b.array("attachment_files", Some(MAX_ATTACHMENTS))?
        .into_iter()
        .map(|f| {
            let f = match f {
                Value::Object(m) => Body(m),
                _ => return Err(ApiError::invalid("attachment_files must be objects")),
            };
            let name = f.required_str("name")?;
            let content_type = f.required_str("content_type")?;
            let data = f.required_str("data")?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(data.as_bytes())
                .map_err(|_| ApiError::invalid("attachment_files data must be base64"))?;
            let hash = blake3::hash(&bytes).to_hex().to_string();
            let upload = Upload {
                content_type: content_type.clone(),
                bytes: std::sync::Arc::new(bytes),
            };
            Ok((
                WAttachment {
                    url: String::new(),
                    name,
                    content_type,
                    filesize: upload.bytes.len() as u64,
                    blake3: Some(hash),
                    upload_id: None,
                },
                upload,
            ))
        })
        .collect()
}

/// Parses a reply; contact replies resolve their contact (404 when unknown).
pub(crate) fn parse_reply(
    v: ApiVersion,
    b: &Body,
    to: ReplyTo,
    store: &Store,
    view: &View<'_>,
) -> Result<Reply, ApiError> {
    let kind = b.required_str("type")?;
    let message_type = b.required_str("message_type")?;
    let body = b.str("body")?;
    let created_at = b.int("created_at")?;
    let mut attachments = attachment_urls(b)?;
    let mut files = Vec::new();
    let author = match kind.as_str() {
        "admin" => {
            if !matches!(message_type.as_str(), "comment" | "note" | "quick_reply") {
                return Err(ApiError::invalid(
                    "message_type must be comment, note or quick_reply",
                ));
            }
            let admin_id = b.required_str("admin_id")?;
            require_admin(view, &admin_id)?;
            // Ticket replies take files only from 2.16 on; older versions drop the field.
            if to == ReplyTo::Conversation || v.is_2_16() {
                files = attachment_files(b)?;
            }
            WAuthor {
                kind: "admin".into(),
                id: admin_id,
            }
        }
        "user" => {
            if message_type != "comment" {
                return Err(ApiError::invalid("message_type must be comment"));
            }
            let body_given = body.as_deref().is_some_and(|x| !x.trim().is_empty());
            if !body_given {
                return Err(missing("body"));
            }
            let id = if let Some(id) = b.str("intercom_user_id")? {
                id
            } else if let Some(x) = b.str("user_id")? {
                contact_with_external_id(store, view, &x).ok_or_else(user_not_found)?
            } else if let Some(e) = b.str("email")? {
                find_by_email(store, view, &e).ok_or_else(user_not_found)?
            } else {
                return Err(missing("intercom_user_id, user_id or email"));
            };
            let c = current_contact(store, view, &id).ok_or_else(user_not_found)?;
            files = attachment_files(b)?;
            WAuthor { kind: c.role, id }
        }
        other => {
            return Err(ApiError::invalid(format!(
                "type must be admin or user, got '{other}'"
            )));
        }
    };
    let files = files
        .into_iter()
        .map(|(a, up)| {
            attachments.push(a);
            (attachments.len() - 1, up)
        })
        .collect();
    if attachments.len() > MAX_ATTACHMENTS * 2 {
        return Err(ApiError::invalid("too many attachments"));
    }
    let has_body = body.as_deref().is_some_and(|x| !x.trim().is_empty());
    if !has_body && attachments.is_empty() {
        return Err(missing("body"));
    }
    // `skip_notifications`: on a conversation reply from 2.16 on, on a ticket reply in both.
    let skip_notifications = if to == ReplyTo::Ticket || v.is_2_16() {
        b.bool("skip_notifications")?
    } else {
        None
    };
    Ok(Reply {
        message_type,
        author,
        body,
        created_at,
        attachments,
        skip_notifications,
        files,
    })
}

/// A contact by email (users first, as Intercom prefers the identified person).
fn find_by_email(store: &Store, view: &View<'_>, email: &str) -> Option<String> {
    let same = |e: &Option<String>| e.as_deref().is_some_and(|e| e.eq_ignore_ascii_case(email));
    store
        .contacts
        .iter()
        .filter(|c| c.merged_into.is_none() && same(&c.email))
        .max_by_key(|c| c.role == "user")
        .map(|c| c.id.clone())
        .or_else(|| {
            (0..view.contact_count())
                .filter_map(|j| view.contact(j))
                .find(|c| same(&c.email))
                .map(|c| c.id)
        })
}
