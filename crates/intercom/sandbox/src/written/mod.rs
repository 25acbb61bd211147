//! What clients wrote into the sandbox, beside the (read-only) synthetic world: contacts,
//! companies, tags and taggings, data attributes, conversations with their parts, tickets,
//! articles, collections, contact notes and outbound messages, plus the notification log
//! (`notify`). Records keep what Intercom would keep — notably the `created_at` it would stamp,
//! which for most writes is the sandbox clock, not anything the client sent
//! (`../shared/research/intercom-api.md` §7). `GET /__sandbox/dump` shows all of it (`dump`).
//!
//! Ids never collide with the world's: hex ids come from a hash the world's checksummed ids
//! cannot produce, numeric ids from ranges above the world's bases.

pub(crate) mod dump;
pub(crate) mod notify;
pub(crate) mod render;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use serde::Serialize;
use serde_json::{Map, Value};

pub(crate) use notify::Notification;

/// First numeric ids of written records, above every world range (`deskmove-synth` ids.rs).
pub(crate) mod base {
    pub(crate) const TAG: u64 = 70_000;
    pub(crate) const DATA_ATTRIBUTE: u64 = 50_000;
    pub(crate) const COLLECTION: u64 = 250_000;
    pub(crate) const ARTICLE: u64 = 450_000;
    pub(crate) const MESSAGE: u64 = 500_000_000;
    pub(crate) const CONVERSATION: u64 = 600_000_000;
    pub(crate) const PART: u64 = 700_000_000;
    pub(crate) const NOTE: u64 = 800_000_000;
    pub(crate) const TICKET: u64 = 950_000_000;
    /// Conversation attributes (`POST /conversations/attributes`); the derived ones are below 100.
    pub(crate) const CONVERSATION_ATTRIBUTE: u64 = 1_000;
    /// Uploaded files (`attachment_files`), far above every world attachment id, so the file
    /// host tells the two apart by id alone.
    pub(crate) const UPLOAD: u64 = 1 << 62;
}

/// A contact created through `POST /contacts`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct WContact {
    pub(crate) id: String,
    pub(crate) role: String,
    pub(crate) external_id: Option<String>,
    pub(crate) email: Option<String>,
    pub(crate) email_verified: Option<bool>,
    pub(crate) phone: Option<String>,
    pub(crate) name: Option<String>,
    pub(crate) avatar: Option<String>,
    pub(crate) owner_id: Option<String>,
    pub(crate) unsubscribed_from_emails: bool,
    pub(crate) custom_attributes: Map<String, Value>,
    /// Stamped by the sandbox clock: the API takes no `created_at` for contacts (§7).
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
    pub(crate) signed_up_at: Option<i64>,
    pub(crate) last_seen_at: Option<i64>,
    /// Set when this lead was merged into a user.
    pub(crate) merged_into: Option<String>,
}

/// A company created or updated through `POST /companies`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct WCompany {
    pub(crate) id: String,
    pub(crate) company_id: String,
    pub(crate) name: Option<String>,
    pub(crate) plan: Option<String>,
    pub(crate) size: Option<i64>,
    pub(crate) website: Option<String>,
    pub(crate) industry: Option<String>,
    pub(crate) monthly_spend: Option<i64>,
    pub(crate) custom_attributes: Map<String, Value>,
    /// The original creation time the client may carry over (§7).
    pub(crate) remote_created_at: Option<i64>,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
}

/// A tag created through `POST /tags`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct WTag {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) created_at: i64,
}

/// One tag applied to one object (`contact`, `company`, `conversation`, `ticket`).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct Tagging {
    pub(crate) tag_id: String,
    pub(crate) object: &'static str,
    pub(crate) object_id: String,
    pub(crate) applied_at: i64,
    pub(crate) admin_id: Option<String>,
}

/// One contact attached to one company.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct Membership {
    pub(crate) contact_id: String,
    pub(crate) company_id: String,
}

/// A data attribute created through `POST /data_attributes`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct WDataAttribute {
    pub(crate) id: u64,
    pub(crate) name: String,
    pub(crate) model: String,
    pub(crate) data_type: String,
    pub(crate) description: Option<String>,
    pub(crate) options: Vec<String>,
    pub(crate) messenger_writable: bool,
    pub(crate) created_at: i64,
}

/// Who wrote a part: `admin`, `team`, `user` or `lead`, with the id.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct WAuthor {
    pub(crate) kind: String,
    pub(crate) id: String,
}

/// A file on a part: from `attachment_urls` (kept as given) or `attachment_files` (decoded,
/// stored in [`Uploads`] and served by the file host under `upload_id`).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct WAttachment {
    pub(crate) name: String,
    /// The URL as given (`attachment_urls`); for an upload, the file host's URL is signed anew
    /// at every read, as the world's attachment URLs are.
    pub(crate) url: String,
    pub(crate) content_type: String,
    pub(crate) filesize: u64,
    /// BLAKE3 of the decoded bytes of an uploaded file.
    pub(crate) blake3: Option<String>,
    /// The file host's id of an uploaded file.
    pub(crate) upload_id: Option<u64>,
}

/// The bytes of one uploaded file.
#[derive(Debug, Clone)]
pub(crate) struct Upload {
    pub(crate) content_type: String,
    pub(crate) bytes: Arc<Vec<u8>>,
}

/// Uploaded files by id, shared by the API host (which stores them) and the file host (which
/// serves them).
#[derive(Debug, Default)]
pub(crate) struct Uploads(Mutex<HashMap<u64, Upload>>);

impl Uploads {
    pub(crate) fn insert(&self, id: u64, upload: Upload) {
        match self.0.lock() {
            Ok(mut m) => m.insert(id, upload),
            Err(p) => p.into_inner().insert(id, upload),
        };
    }

    pub(crate) fn get(&self, id: u64) -> Option<Upload> {
        match self.0.lock() {
            Ok(m) => m.get(&id).cloned(),
            Err(p) => p.into_inner().get(&id).cloned(),
        }
    }
}

/// One part of a written conversation or ticket, including its first message.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct WPart {
    pub(crate) id: String,
    pub(crate) part_type: String,
    pub(crate) body: Option<String>,
    /// The client's `created_at` where the API takes one, else the sandbox clock.
    pub(crate) created_at: i64,
    pub(crate) author: WAuthor,
    pub(crate) attachments: Vec<WAttachment>,
    /// `assignment` parts: who it went to (`admin`/`team`, id; `0` is nobody).
    pub(crate) assigned_to: Option<WAuthor>,
    /// Whether Intercom would have delivered this part to the customer (`notify`).
    pub(crate) notified: bool,
}

/// A conversation written through `POST /conversations` or `POST /messages`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct WConversation {
    pub(crate) id: String,
    pub(crate) contact_id: String,
    /// `conversation` (in-app, the only kind `POST /conversations` makes) or `email`.
    pub(crate) channel: String,
    /// The conversation's title (`PUT /conversations/{id}`); the subject stays the first
    /// message's.
    pub(crate) title: Option<String>,
    /// `customer_initiated` or `admin_initiated`.
    pub(crate) delivered_as: String,
    pub(crate) subject: Option<String>,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
    pub(crate) state: String,
    pub(crate) snoozed_until: Option<i64>,
    pub(crate) admin_assignee_id: u64,
    pub(crate) team_assignee_id: u64,
    /// The first message (`source`).
    pub(crate) source: WPart,
    pub(crate) parts: Vec<WPart>,
    /// Conversation attributes set through `PUT /conversations/{id}`.
    pub(crate) custom_attributes: Map<String, Value>,
    pub(crate) read: bool,
}

/// What was written into a seeded (world) conversation: parts appended after the world's, and
/// the state, assignees, title and attributes those writes changed. Reads render the world's
/// conversation, then this on top.
#[derive(Debug, Clone, Serialize, Default)]
pub(crate) struct WOverlay {
    pub(crate) id: String,
    pub(crate) parts: Vec<WPart>,
    pub(crate) state: Option<String>,
    pub(crate) snoozed_until: Option<i64>,
    pub(crate) admin_assignee_id: Option<u64>,
    pub(crate) team_assignee_id: Option<u64>,
    pub(crate) title: Option<String>,
    pub(crate) read: Option<bool>,
    pub(crate) custom_attributes: Map<String, Value>,
    pub(crate) updated_at: Option<i64>,
    /// World tags removed from it (`DELETE /conversations/{id}/tags/{tag_id}`).
    pub(crate) untagged: Vec<String>,
}

/// A conversation attribute created through `POST /conversations/attributes` (2.16).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct WConversationAttribute {
    pub(crate) id: u64,
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    /// `string`, `integer`, `list`, `decimal`, `boolean`, `datetime` (the kinds a value can be
    /// checked against; `relationship` and `files` are refused).
    pub(crate) data_type: String,
    pub(crate) options: Vec<String>,
    pub(crate) multiline: bool,
    pub(crate) admin_id: Option<String>,
    pub(crate) created_at: i64,
}

/// One record deleted through the API: written records leave the store, world ones stay in the
/// world but every read route skips them.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub(crate) struct Deletion {
    /// `contact`, `company`, `conversation`, `tag`, `ticket`, `article`, `collection`.
    pub(crate) object: &'static str,
    pub(crate) id: String,
    pub(crate) at: i64,
    /// Whether the record was one of the world's (seeded) ones.
    pub(crate) seeded: bool,
    /// `DELETE /conversations/{id}?retain_metrics=` (conversations only; default true).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) metrics_retained: Option<bool>,
}

/// A ticket written through `POST /tickets`.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct WTicket {
    pub(crate) id: String,
    pub(crate) ticket_type_id: String,
    pub(crate) contact_id: String,
    pub(crate) title: Option<String>,
    pub(crate) description: Option<String>,
    pub(crate) attributes: Map<String, Value>,
    pub(crate) company_id: Option<String>,
    pub(crate) admin_assignee_id: u64,
    pub(crate) team_assignee_id: u64,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
    pub(crate) parts: Vec<WPart>,
}

/// A help-center article or collection (neither takes a `created_at`, §7).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct WArticle {
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) description: Option<String>,
    pub(crate) body: Option<String>,
    pub(crate) author_id: i64,
    pub(crate) state: String,
    pub(crate) parent_id: Option<i64>,
    pub(crate) parent_type: Option<String>,
    pub(crate) created_at: i64,
}

/// A help-center collection.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct WCollection {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) description: Option<String>,
    pub(crate) parent_id: Option<String>,
    pub(crate) help_center_id: Option<i64>,
    pub(crate) created_at: i64,
}

/// A note an admin left on a contact (no `created_at` accepted, §7).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct WNote {
    pub(crate) id: String,
    pub(crate) contact_id: String,
    pub(crate) admin_id: Option<String>,
    pub(crate) body: String,
    pub(crate) created_at: i64,
}

/// An admin-initiated message (`POST /messages`).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct WMessage {
    pub(crate) id: String,
    pub(crate) message_type: String,
    pub(crate) subject: Option<String>,
    pub(crate) body: String,
    pub(crate) from_admin: String,
    pub(crate) to_contact: String,
    pub(crate) created_at: i64,
    pub(crate) conversation_id: Option<String>,
}

/// Everything written so far, in write order.
#[derive(Debug, Default)]
pub(crate) struct Store {
    seq: u64,
    pub(crate) contacts: Vec<WContact>,
    pub(crate) companies: Vec<WCompany>,
    pub(crate) memberships: Vec<Membership>,
    pub(crate) tags: Vec<WTag>,
    pub(crate) taggings: Vec<Tagging>,
    pub(crate) data_attributes: Vec<WDataAttribute>,
    pub(crate) conversations: Vec<WConversation>,
    pub(crate) tickets: Vec<WTicket>,
    pub(crate) articles: Vec<WArticle>,
    pub(crate) collections: Vec<WCollection>,
    pub(crate) notes: Vec<WNote>,
    pub(crate) messages: Vec<WMessage>,
    pub(crate) notifications: Vec<Notification>,
    pub(crate) overlays: Vec<WOverlay>,
    pub(crate) conversation_attributes: Vec<WConversationAttribute>,
    pub(crate) deletions: Vec<Deletion>,
}

impl Store {
    /// The next number of a sequence shared by all kinds (keeps ids unique and ordered).
    pub(crate) fn next(&mut self) -> u64 {
        self.seq += 1;
        self.seq
    }

    /// Moves with every id handed out and every tagging or deletion: a cheap "something was
    /// written" marker (search caches are keyed on it).
    pub(crate) fn version(&self) -> u64 {
        self.seq
    }

    /// A 24-hex-character id like Intercom's contact and company ids.
    pub(crate) fn hex_id(&mut self, seed: u64, kind: &str) -> String {
        let n = self.next();
        let h = blake3::hash(format!("written:{kind}:{seed}:{n}").as_bytes()).to_hex();
        // A leading `f` plus hash: the world's ids are `index ^ mask` then a checksum.
        format!("f{}", &h[..23])
    }

    /// A numeric id string above `base`.
    pub(crate) fn numeric_id(&mut self, base: u64) -> String {
        (base + self.next()).to_string()
    }

    pub(crate) fn contact(&self, id: &str) -> Option<&WContact> {
        self.contacts.iter().find(|c| c.id == id)
    }

    pub(crate) fn contact_mut(&mut self, id: &str) -> Option<&mut WContact> {
        self.contacts.iter_mut().find(|c| c.id == id)
    }

    pub(crate) fn company(&self, id: &str) -> Option<&WCompany> {
        self.companies.iter().find(|c| c.id == id)
    }

    pub(crate) fn conversation(&self, id: &str) -> Option<&WConversation> {
        self.conversations.iter().find(|c| c.id == id)
    }

    pub(crate) fn conversation_mut(&mut self, id: &str) -> Option<&mut WConversation> {
        self.conversations.iter_mut().find(|c| c.id == id)
    }

    /// The overlay of a seeded conversation, if anything was written into it.
    pub(crate) fn overlay(&self, id: &str) -> Option<&WOverlay> {
        self.overlays.iter().find(|o| o.id == id)
    }

    /// The overlay of a seeded conversation, made on its first write.
    pub(crate) fn overlay_mut(&mut self, id: &str) -> &mut WOverlay {
        // Whatever the caller changes, searches must not answer from a stale cache.
        self.next();
        let at = match self.overlays.iter().position(|o| o.id == id) {
            Some(i) => i,
            None => {
                self.overlays.push(WOverlay {
                    id: id.to_string(),
                    ..WOverlay::default()
                });
                self.overlays.len() - 1
            }
        };
        &mut self.overlays[at]
    }

    /// Whether `object` `id` was deleted through the API.
    pub(crate) fn is_deleted(&self, object: &str, id: &str) -> bool {
        self.deletions
            .iter()
            .any(|d| d.object == object && d.id == id)
    }

    /// How many seeded records of `object` were deleted (lists subtract them from their totals).
    pub(crate) fn deleted_seeded(&self, object: &str) -> u64 {
        self.deletions
            .iter()
            .filter(|d| d.object == object && d.seeded)
            .count() as u64
    }

    pub(crate) fn ticket(&self, id: &str) -> Option<&WTicket> {
        self.tickets.iter().find(|t| t.id == id)
    }

    pub(crate) fn ticket_mut(&mut self, id: &str) -> Option<&mut WTicket> {
        self.tickets.iter_mut().find(|t| t.id == id)
    }

    pub(crate) fn tag(&self, id: &str) -> Option<&WTag> {
        self.tags.iter().find(|t| t.id == id)
    }

    /// Tags `object_id` once (tagging twice is a no-op, as in Intercom).
    pub(crate) fn tag_object(&mut self, t: Tagging) {
        let same = |x: &Tagging| {
            x.tag_id == t.tag_id && x.object == t.object && x.object_id == t.object_id
        };
        if !self.taggings.iter().any(same) {
            self.next();
            self.taggings.push(t);
        }
    }

    /// Removes a tag from an object; whether it was there.
    pub(crate) fn untag_object(&mut self, tag_id: &str, object: &str, object_id: &str) -> bool {
        let before = self.taggings.len();
        self.taggings
            .retain(|x| !(x.tag_id == tag_id && x.object == object && x.object_id == object_id));
        self.next();
        before != self.taggings.len()
    }

    /// The tags on an object, in the order applied.
    pub(crate) fn tags_of(&self, object: &str, object_id: &str) -> Vec<&Tagging> {
        self.taggings
            .iter()
            .filter(|x| x.object == object && x.object_id == object_id)
            .collect()
    }

    /// The companies a contact is attached to.
    pub(crate) fn companies_of(&self, contact_id: &str) -> Vec<String> {
        self.memberships
            .iter()
            .filter(|m| m.contact_id == contact_id)
            .map(|m| m.company_id.clone())
            .collect()
    }

    /// The notes on a contact.
    pub(crate) fn notes_of(&self, contact_id: &str) -> Vec<&WNote> {
        self.notes
            .iter()
            .filter(|n| n.contact_id == contact_id)
            .collect()
    }
}

/// The written state of one sandbox, behind one lock (writes are rare next to reads).
#[derive(Debug, Default)]
pub(crate) struct Written(Mutex<Store>);

impl Written {
    /// The store, even after a handler panicked while holding it.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Store> {
        match self.0.lock() {
            Ok(g) => g,
            Err(poisoned) => poisoned.into_inner(),
        }
    }
}
