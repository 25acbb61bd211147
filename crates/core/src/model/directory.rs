//! People, organisations and the vocabulary around them.

use serde::{Deserialize, Serialize};

use super::{Attributes, Extra, SourceKey, Timestamp};

/// Whether a contact is a known customer or an anonymous lead.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ContactRole {
    /// An identified customer.
    User,
    /// A visitor or prospect not (yet) identified.
    Lead,
}

/// A customer or lead.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Contact {
    /// Source identity.
    pub key: SourceKey,
    /// User or lead.
    pub role: ContactRole,
    /// Display name.
    pub name: Option<String>,
    /// Normalised email (trimmed, lower-cased, IDNA domain), when valid.
    pub email: Option<String>,
    /// The email exactly as the source held it.
    pub email_original: Option<String>,
    /// Phone in E.164, when it could be parsed.
    pub phone: Option<String>,
    /// The phone exactly as the source held it.
    pub phone_original: Option<String>,
    /// The customer's own id for this person (often called `external_id`).
    pub external_id: Option<String>,
    /// Companies this contact belongs to.
    pub companies: Vec<SourceKey>,
    /// Tags on this contact.
    pub tags: Vec<SourceKey>,
    /// Custom attribute values.
    pub attributes: Attributes,
    /// Avatar image URL at the source.
    pub avatar_url: Option<String>,
    /// When the source created it.
    pub created_at: Timestamp,
    /// When the source last changed it.
    pub updated_at: Option<Timestamp>,
    /// When the person was last seen.
    pub last_seen_at: Option<Timestamp>,
    /// Vendor fields with no canonical home.
    pub extra: Extra,
}

/// An organisation contacts belong to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Company {
    /// Source identity.
    pub key: SourceKey,
    /// Display name.
    pub name: Option<String>,
    /// The customer's own id for the company, as the helpdesk keeps it.
    pub external_id: Option<String>,
    /// Website URL.
    pub website: Option<String>,
    /// Industry.
    pub industry: Option<String>,
    /// Number of employees.
    pub size: Option<i64>,
    /// Custom attribute values.
    pub attributes: Attributes,
    /// Tags on the company.
    pub tags: Vec<SourceKey>,
    /// When the source created it.
    pub created_at: Timestamp,
    /// When the source last changed it.
    pub updated_at: Option<Timestamp>,
    /// Vendor fields with no canonical home.
    pub extra: Extra,
}

/// A support agent (an admin, user or agent, depending on the helpdesk).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Agent {
    /// Source identity.
    pub key: SourceKey,
    /// Display name.
    pub name: Option<String>,
    /// Normalised email; agents are matched across systems by it.
    pub email: Option<String>,
    /// False for departed or deactivated agents, whose history must still be attributed.
    pub active: bool,
    /// Vendor fields with no canonical home.
    pub extra: Extra,
}

/// A group of agents.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Team {
    /// Source identity.
    pub key: SourceKey,
    /// Display name.
    pub name: String,
    /// Member agents.
    pub members: Vec<SourceKey>,
    /// Vendor fields with no canonical home.
    pub extra: Extra,
}

/// A tag or label.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tag {
    /// Source identity.
    pub key: SourceKey,
    /// The name exactly as the source shows it.
    pub name: String,
    /// Vendor fields with no canonical home.
    pub extra: Extra,
}

/// Which record kind a custom attribute belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttributeModel {
    /// Attributes of contacts.
    Contact,
    /// Attributes of companies.
    Company,
    /// Attributes of conversations.
    Conversation,
}

/// The value type of a custom attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttributeType {
    /// Free text.
    String,
    /// Whole number.
    Integer,
    /// Decimal number.
    Float,
    /// True or false.
    Boolean,
    /// A date or instant.
    Date,
    /// One value out of a fixed list of options.
    List,
}

/// The definition of a custom attribute.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AttributeDefinition {
    /// Source identity.
    pub key: SourceKey,
    /// Which kind of record carries it.
    pub model: AttributeModel,
    /// The machine name values are stored under.
    pub name: String,
    /// The label people see.
    pub label: Option<String>,
    /// Value type.
    pub data_type: AttributeType,
    /// Options of a list attribute.
    pub options: Vec<String>,
    /// Help text.
    pub description: Option<String>,
    /// Archived at the source (kept, because old records may still hold values).
    pub archived: bool,
    /// Vendor fields with no canonical home.
    pub extra: Extra,
}
