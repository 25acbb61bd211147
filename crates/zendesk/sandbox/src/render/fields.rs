//! Ticket fields (Zendesk's system fields plus one custom field of every custom type — text,
//! textarea, checkbox, date, integer, decimal, regexp, partialcreditcard, multiselect, tagger,
//! lookup, research §3.4), ticket forms, and user and organization fields from the world's
//! attribute definitions. Ticket field values are derived per ticket from the seed.

use deskmove_synth::{AttributeDef, AttributeModel, AttributeType, T0};
use serde_json::{Value, json};

use crate::derive::{h, purpose};
use crate::ids::{self, TICKET_FIELD_BASE, TICKET_FORM_BASE, USER_FIELD_BASE};
use crate::render::{Render, date, field_key, iso};

/// Zendesk's system ticket fields (`removable: false`).
const SYSTEM: &[(&str, &str)] = &[
    ("subject", "Subject"),
    ("description", "Description"),
    ("status", "Status"),
    ("tickettype", "Type"),
    ("priority", "Priority"),
    ("group", "Group"),
    ("assignee", "Assignee"),
];

type Options = &'static [(&'static str, &'static str)];

/// One custom ticket field of each custom type: (type, title, options as (name, tag value)).
const CUSTOM: &[(&str, &str, Options)] = &[
    ("text", "Order number", &[]),
    ("textarea", "Steps to reproduce", &[]),
    ("checkbox", "VIP customer", &[]),
    ("date", "Follow-up date", &[]),
    ("integer", "Seats affected", &[]),
    ("decimal", "Refund amount", &[]),
    ("regexp", "Invoice code", &[]),
    ("partialcreditcard", "Card used", &[]),
    (
        "multiselect",
        "Products",
        &[
            ("Billing", "product_billing"),
            ("Mobile app", "product_mobile"),
            ("API", "product_api"),
            ("Données", "product_donnees"),
        ],
    ),
    (
        "tagger",
        "Category",
        &[
            ("Question", "category_question"),
            ("Bug", "category_bug"),
            ("Feature request", "category_feature"),
        ],
    ),
    ("lookup", "Related customer", &[]),
];

/// How many ticket fields there are (system and custom).
pub(crate) fn ticket_field_count() -> u64 {
    (SYSTEM.len() + CUSTOM.len()) as u64
}

/// How many of them are custom.
pub(crate) fn custom_ticket_field_count() -> u64 {
    CUSTOM.len() as u64
}

/// The custom fields of the "Billing" form (the default form has every field).
const BILLING_FORM: &[usize] = &[0, 5, 7, 9];

/// Ticket forms.
pub(crate) const FORMS: &[&str] = &["Default Ticket Form", "Billing"];

fn options(field_id: u64, opts: Options) -> Vec<Value> {
    opts.iter()
        .enumerate()
        .map(|(n, (name, value))| {
            json!({"id": field_id * 10 + n as u64, "name": name, "raw_name": name, "value": value, "position": n, "default": false})
        })
        .collect()
}

impl Render<'_> {
    /// Ticket field `n` (system fields first).
    pub(crate) fn ticket_field(&self, n: u64) -> Option<Value> {
        let id = TICKET_FIELD_BASE + n;
        let (kind, title, opts, system) = match SYSTEM.get(n as usize) {
            Some((kind, title)) => (*kind, *title, &[][..], true),
            None => {
                let (kind, title, opts) = CUSTOM.get(n as usize - SYSTEM.len())?;
                (*kind, *title, *opts, false)
            }
        };
        let at = iso(deskmove_synth::HISTORY_START + n as i64 * 86_400);
        let mut f = json!({
            "id": id,
            "url": self.origin.api(&format!("ticket_fields/{id}")),
            "type": kind,
            "title": title,
            "raw_title": title,
            "description": format!("{title} of the ticket"),
            "raw_description": format!("{title} of the ticket"),
            "agent_description": null,
            "position": n,
            "active": true,
            "required": kind == "subject",
            "collapsed_for_agents": false,
            "regexp_for_validation": if kind == "regexp" { json!("^INV-\\d{6}$") } else { Value::Null },
            "title_in_portal": title,
            "raw_title_in_portal": title,
            "visible_in_portal": system,
            "editable_in_portal": system,
            "required_in_portal": false,
            "tag": if kind == "checkbox" { json!("vip") } else { Value::Null },
            "removable": !system,
            "key": null,
            "created_at": at,
            "updated_at": at,
        });
        if !opts.is_empty() {
            f["custom_field_options"] = json!(options(id, opts));
        }
        if kind == "lookup" {
            f["relationship_target_type"] = json!("zen:user");
        }
        Some(f)
    }

    /// Ticket form `n`.
    pub(crate) fn ticket_form(&self, n: u64) -> Option<Value> {
        let name = FORMS.get(n as usize)?;
        let id = TICKET_FORM_BASE + n;
        let field_ids: Vec<u64> = if n == 0 {
            (0..ticket_field_count())
                .map(|k| TICKET_FIELD_BASE + k)
                .collect()
        } else {
            (0..SYSTEM.len() as u64)
                .chain(BILLING_FORM.iter().map(|c| (SYSTEM.len() + c) as u64))
                .map(|k| TICKET_FIELD_BASE + k)
                .collect()
        };
        let at = iso(deskmove_synth::HISTORY_START);
        Some(json!({
            "id": id,
            "url": self.origin.api(&format!("ticket_forms/{id}")),
            "name": name,
            "raw_name": name,
            "display_name": name,
            "raw_display_name": name,
            "position": n,
            "active": true,
            "default": n == 0,
            "end_user_visible": true,
            "in_all_brands": true,
            "restricted_brand_ids": [],
            "ticket_field_ids": field_ids,
            "created_at": at,
            "updated_at": at,
        }))
    }

    /// The custom field values of ticket `i` (`[{id, value}]`, every custom field present).
    pub(crate) fn ticket_custom_fields(&self, i: u64) -> Vec<Value> {
        let seed = self.seed();
        CUSTOM
            .iter()
            .enumerate()
            .map(|(c, (kind, _, opts))| {
                let id = TICKET_FIELD_BASE + (SYSTEM.len() + c) as u64;
                let x = h(seed, purpose::FIELD, i * 32 + c as u64);
                let present = x % 10 < 6;
                let y = x >> 8;
                let value = match *kind {
                    "checkbox" => json!(present && y.is_multiple_of(2)),
                    _ if !present => Value::Null,
                    "text" => json!(format!("ORD-{}", y % 100_000)),
                    "textarea" => json!("Steps:\n1. Open settings\n2. Press “Save” → nothing"),
                    "date" => json!(date(T0 - (y % 700) as i64 * 86_400)),
                    "integer" => json!((y % 500).to_string()),
                    "decimal" => json!(format!("{}.{:02}", y % 900, y % 100)),
                    "regexp" => json!(format!("INV-{:06}", y % 1_000_000)),
                    "partialcreditcard" => json!(format!("XXXXXXXXXXXX{:04}", y % 10_000)),
                    "multiselect" => {
                        let a = opts[(y % opts.len() as u64) as usize].1;
                        let b = opts[((y >> 4) % opts.len() as u64) as usize].1;
                        if a == b { json!([a]) } else { json!([a, b]) }
                    }
                    "tagger" => json!(opts[(y % opts.len() as u64) as usize].1),
                    _ => json!(ids::end_user(y % self.view.contact_count().max(1))),
                };
                json!({"id": id, "value": value})
            })
            .collect()
    }

    /// A user or organization field from a world attribute definition.
    pub(crate) fn custom_field(&self, def: &AttributeDef, path: &str) -> Value {
        let id = USER_FIELD_BASE + def.id;
        let kind = match def.data_type {
            AttributeType::String => "text",
            AttributeType::Integer => "integer",
            AttributeType::Float => "decimal",
            AttributeType::Boolean => "checkbox",
            AttributeType::Date => "date",
            AttributeType::List => "dropdown",
        };
        let mut f = json!({
            "id": id,
            "url": self.origin.api(&format!("{path}/{id}")),
            "key": field_key(&def.name),
            "type": kind,
            "title": def.label,
            "raw_title": def.label,
            "description": "",
            "raw_description": "",
            "position": def.index,
            "active": !def.archived,
            "system": false,
            "regexp_for_validation": null,
            "tag": null,
            "created_at": iso(def.created_at),
            "updated_at": iso(def.created_at),
        });
        if def.data_type == AttributeType::List {
            let opts: Vec<Value> = def
                .options
                .iter()
                .enumerate()
                .map(|(n, o)| json!({"id": id * 10 + n as u64, "name": o, "raw_name": o, "value": field_key(o), "position": n}))
                .collect();
            f["custom_field_options"] = json!(opts);
        }
        f
    }

    /// User (`Contact`) or organization (`Company`) fields.
    pub(crate) fn custom_fields_of(&self, model: AttributeModel) -> Vec<Value> {
        let path = match model {
            AttributeModel::Contact => "user_fields",
            AttributeModel::Company => "organization_fields",
        };
        self.view
            .attributes_of(model)
            .iter()
            .map(|d| self.custom_field(d, path))
            .collect()
    }
}
