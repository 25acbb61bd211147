//! One type for "any canonical record", so the store, the ledger and the engine can handle every
//! kind the same way.

use serde::{Deserialize, Serialize};

use super::{
    Agent, Article, Attachment, AttributeDefinition, Collection, Company, Contact, Conversation,
    Macro, Message, Tag, Team,
};
use crate::hash::{ContentHash, content_hash};
use crate::key::{RecordKind, SourceKey};

/// Any canonical record. Serialised as `{"record": "<kind>", ...fields}` (not `kind`: `Message`
/// has a field of that name).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "record", rename_all = "snake_case")]
#[allow(missing_docs)]
pub enum Record {
    Agent(Agent),
    Team(Team),
    Tag(Tag),
    AttributeDefinition(AttributeDefinition),
    Company(Company),
    Contact(Contact),
    Macro(Macro),
    Collection(Collection),
    Article(Article),
    Conversation(Conversation),
    Message(Message),
    Attachment(Attachment),
}

impl Record {
    /// The record's source identity.
    pub fn key(&self) -> &SourceKey {
        match self {
            Self::Agent(r) => &r.key,
            Self::Team(r) => &r.key,
            Self::Tag(r) => &r.key,
            Self::AttributeDefinition(r) => &r.key,
            Self::Company(r) => &r.key,
            Self::Contact(r) => &r.key,
            Self::Macro(r) => &r.key,
            Self::Collection(r) => &r.key,
            Self::Article(r) => &r.key,
            Self::Conversation(r) => &r.key,
            Self::Message(r) => &r.key,
            Self::Attachment(r) => &r.key,
        }
    }

    /// The record's kind (always equal to `self.key().kind` for well-formed records).
    pub fn kind(&self) -> RecordKind {
        match self {
            Self::Agent(_) => RecordKind::Agent,
            Self::Team(_) => RecordKind::Team,
            Self::Tag(_) => RecordKind::Tag,
            Self::AttributeDefinition(_) => RecordKind::AttributeDefinition,
            Self::Company(_) => RecordKind::Company,
            Self::Contact(_) => RecordKind::Contact,
            Self::Macro(_) => RecordKind::Macro,
            Self::Collection(_) => RecordKind::Collection,
            Self::Article(_) => RecordKind::Article,
            Self::Conversation(_) => RecordKind::Conversation,
            Self::Message(_) => RecordKind::Message,
            Self::Attachment(_) => RecordKind::Attachment,
        }
    }

    /// blake3 over the canonical serialisation: equal content, equal hash, whatever the map order.
    pub fn content_hash(&self) -> Result<ContentHash, serde_json::Error> {
        content_hash(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Tag;

    fn tag(name: &str) -> Record {
        Record::Tag(Tag {
            key: SourceKey::new("intercom", RecordKind::Tag, "7"),
            name: name.to_owned(),
            extra: Default::default(),
        })
    }

    #[test]
    fn round_trips_through_json_with_its_kind() {
        let r = tag("VIP customer");
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["record"], "tag");
        assert_eq!(json["key"]["kind"], "tag");
        let back: Record = serde_json::from_value(json).unwrap();
        assert_eq!(back, r);
        assert_eq!(back.kind(), back.key().kind);
    }

    #[test]
    fn messages_round_trip_despite_their_own_kind_field() {
        use crate::model::{Author, AuthorKind, Message, MessageKind, Timestamp};
        let conversation = SourceKey::new("intercom", RecordKind::Conversation, "9");
        let r = Record::Message(Message {
            key: SourceKey::new("intercom", RecordKind::Message, "9-1"),
            conversation,
            kind: MessageKind::Note,
            author: Author {
                kind: AuthorKind::Agent,
                key: None,
                name: Some("Ana".into()),
                email: None,
            },
            body_html: Some("<p>hi</p>".into()),
            body_markdown: Some("hi".into()),
            inline_images: vec![],
            event: None,
            attachments: vec![],
            created_at: Timestamp::from_second(1_600_000_000).unwrap(),
            updated_at: None,
            extra: Default::default(),
        });
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["record"], "message");
        assert_eq!(json["kind"], "note");
        assert_eq!(serde_json::from_value::<Record>(json).unwrap(), r);
    }

    #[test]
    fn hash_follows_content() {
        assert_eq!(
            tag("a").content_hash().unwrap(),
            tag("a").content_hash().unwrap()
        );
        assert_ne!(
            tag("a").content_hash().unwrap(),
            tag("b").content_hash().unwrap()
        );
    }
}
