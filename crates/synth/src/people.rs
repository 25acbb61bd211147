//! Customers: companies (some with no users) and contacts (users and leads)
//! with the email and phone oddities a real helpdesk accumulates, plus notes.
//!
//! Company membership is arithmetic, not random, so a company's user count is
//! O(1): contact `j` holds a company unless `j % 4 == 3`; the `h`-th holder
//! belongs to company `h % populated`. Companies `populated..` have no users.
//!
//! A few contacts (`LONG_LISTS` of them, from their own stream) carry more than ten tags,
//! companies and notes, so a vendor's "first ten inline, follow the URL for the rest" path has
//! something to follow. Their extra companies are a run of populated companies after their own.

use crate::directory::{FIRST_NAMES, LAST_NAMES};
use crate::ids::{HexKind, parse_numeric};
use crate::model::{AttrValue, AttributeModel, AttributeType, Company, Contact, Note, Role};
use crate::rng::{Rng, Stream};
use crate::world::{HISTORY_START, T0, TICK_SECS, View};

const DOMAINS: &[&str] = &[
    "example.com",
    "example.org",
    "mail.example.net",
    "bücher.example",
    "EXAMPLE.io",
];
const PHONES: &[&str] = &[
    "+1 415 555 01{}",
    "(415) 555-01{}",
    "0044 20 7946 09{}",
    "+44 (0)20 7946 09{}",
    "020-7946-09{}",
    "+336123456{}",
    "555-01{} ext. 12",
    "+81 3-1234-56{}",
    "+49 (30) 1234 56{}",
];
const CITIES: &[(&str, &str)] = &[
    ("Dublin", "Ireland"),
    ("São Paulo", "Brazil"),
    ("東京", "Japan"),
    ("Zürich", "Switzerland"),
    ("Austin", "United States"),
    ("Lagos", "Nigeria"),
    ("Tel Aviv", "Israel"),
    ("Kraków", "Poland"),
];
const COMPANY_NAMES: &[&str] = &[
    "Acme",
    "Globex",
    "Société Générale de Test",
    "株式会社テスト",
    "Initech",
    "Umbrella",
    "Hooli",
    "Müller & Söhne",
    "Stark Industries",
    "O'Reilly Partners",
    "Wayne Enterprises",
    "Tyrell",
];
const PLANS: &[&str] = &["Starter", "Pro", "Enterprise", "Legacy (2019)"];
const INDUSTRIES: &[&str] = &["Software", "Retail", "Finance", "Healthcare", "Éducation"];

/// Contacts with long tag, company and note lists (one per residue 0, 1, 2 of the index mod 4,
/// so they are distinct users who hold a company).
const LONG_LISTS: u64 = 3;
/// Ids of the extra notes of long-list contacts: `NOTE_LONG_BASE + j * 32 + k`, far above the
/// ordinary `(j + 1) * 8 + k`, which has room for eight notes a contact only.
const NOTE_LONG_BASE: u64 = 1 << 40;

impl View<'_> {
    // ---------- companies ----------

    /// Company `k`.
    pub fn company(&self, k: u64) -> Option<Company> {
        if k >= self.core.companies {
            return None;
        }
        let mut r = Rng::new(self.core.seed, Stream::Company, k, 0);
        let name = format!("{} {}", r.pick(COMPANY_NAMES), k);
        let created_at = HISTORY_START + r.below(4 * 365 * 86_400) as i64;
        // Lists sort by last_request_at, newest first; making it fall with the
        // index keeps "page p of the list" an O(1) slice.
        let last_request_at = T0 - 3_600 - (k as i64) * 97;
        Some(Company {
            index: k,
            id: self.hex_id(HexKind::Company, k),
            company_id: format!("cmp-{k:05}"),
            name,
            plan: (r.pick_str(PLANS)).to_string(),
            size: r.range(1, 5_000) as i64,
            website: format!("https://www.company{k}.example.com"),
            industry: (r.pick_str(INDUSTRIES)).to_string(),
            monthly_spend: r.below(20_000) as i64,
            user_count: self.company_user_count(k),
            remote_created_at: created_at - r.below(365 * 86_400) as i64,
            created_at,
            updated_at: last_request_at.max(created_at),
            last_request_at,
            custom_attributes: self.custom_values(AttributeModel::Company, &mut r),
        })
    }

    /// Company by vendor id.
    pub fn company_by_id(&self, id: &str) -> Option<Company> {
        self.company(self.parse_hex_id(HexKind::Company, id)?)
    }

    /// Company holders among contacts `0..n`.
    fn holders_below(n: u64) -> u64 {
        n - n / 4
    }

    /// Users of company `k` at this epoch.
    pub fn company_user_count(&self, k: u64) -> u64 {
        let p = self.core.populated;
        if k >= p {
            return 0;
        }
        let h = Self::holders_below(self.contact_count());
        let long = (0..LONG_LISTS)
            .filter_map(|n| self.long_list_contact(n))
            .filter(|j| self.more_companies_of(*j).contains(&k))
            .count() as u64;
        h / p + u64::from(k < h % p) + long
    }

    /// Contacts (indexes, ascending) of company `k` at this epoch, long-list contacts included.
    pub fn company_contacts(&self, k: u64) -> Vec<u64> {
        let p = self.core.populated;
        if k >= p {
            return Vec::new();
        }
        let holders = Self::holders_below(self.contact_count());
        // The h-th holder is contact 4 * (h / 3) + h % 3 (holders skip every index ≡ 3 mod 4).
        let mut out: Vec<u64> = (k..holders)
            .step_by(p as usize)
            .map(|h| 4 * (h / 3) + h % 3)
            .collect();
        out.extend(
            (0..LONG_LISTS)
                .filter_map(|n| self.long_list_contact(n))
                .filter(|j| self.more_companies_of(*j).contains(&k)),
        );
        out.sort_unstable();
        out.dedup();
        out
    }

    fn contact_company(&self, j: u64) -> Option<u64> {
        (j % 4 != 3).then(|| Self::holders_below(j) % self.core.populated)
    }

    // ---------- contacts with long sub-lists ----------

    /// The `n`-th contact (`n < 3`) with more than ten tags, companies and notes; `None` for
    /// other `n`. Always one of the initial contacts, a user holding a company.
    pub fn long_list_contact(&self, n: u64) -> Option<u64> {
        if n >= LONG_LISTS {
            return None;
        }
        let quarter = self.core.contacts0 / 4;
        let q = Rng::new(self.core.seed, Stream::SubList, n, 0).below(quarter);
        Some(4 * q + n)
    }

    /// Whether contact `j` is one of the long-list contacts.
    fn is_long_list(&self, j: u64) -> bool {
        self.long_list_contact(j % 4) == Some(j)
    }

    /// Extra tags (indexes) of a long-list contact: eleven to fourteen distinct ones.
    fn more_tags_of(&self, j: u64) -> Vec<u64> {
        if !self.is_long_list(j) {
            return Vec::new();
        }
        let mut r = Rng::new(self.core.seed, Stream::SubList, j, 1);
        let n = self.tag_count();
        let start = r.below(n);
        let count = r.range(11, 14).min(n);
        // Steps of 7 visit distinct tags while 7 does not divide the tag count (24 today).
        dedup((0..count).map(|m| (start + m * 7) % n).collect())
    }

    /// Companies (indexes) of a long-list contact beyond its own: a run of populated companies
    /// right after it, eleven to thirteen long (fewer in a world with fewer companies).
    fn more_companies_of(&self, j: u64) -> Vec<u64> {
        let Some(own) = self.contact_company(j).filter(|_| self.is_long_list(j)) else {
            return Vec::new();
        };
        let p = self.core.populated;
        let count = Rng::new(self.core.seed, Stream::SubList, j, 2)
            .range(11, 13)
            .min(p - 1);
        (1..=count).map(|m| (own + m) % p).collect()
    }

    /// Extra notes on a long-list contact: eleven to fifteen.
    fn more_notes_of(&self, j: u64) -> u64 {
        if self.is_long_list(j) {
            Rng::new(self.core.seed, Stream::SubList, j, 3).range(11, 15)
        } else {
            0
        }
    }

    // ---------- contacts ----------

    /// The email a contact would have without oddities.
    fn plain_email(&self, j: u64) -> String {
        let mut r = Rng::new(self.core.seed, Stream::Contact, j, 1);
        let first = ascii_local(r.pick_str(FIRST_NAMES));
        let last = ascii_local(r.pick_str(LAST_NAMES));
        format!("{first}.{last}{j}@{}", r.pick(DOMAINS))
    }

    /// Contact `j` at this epoch, or `None` if not (yet) created.
    pub fn contact(&self, j: u64) -> Option<Contact> {
        if j >= self.contact_count() {
            return None;
        }
        let seed = self.core.seed;
        let mut r = Rng::new(seed, Stream::Contact, j, 0);
        let role = if j % 4 == 3 && r.chance(800_000) {
            Role::Lead
        } else {
            Role::User
        };
        let birth = self.contact_birth_tick(j);
        let created_at = if birth == 0 {
            HISTORY_START
                + (j as i64) * ((T0 - HISTORY_START - 86_400) / self.core.contacts0 as i64)
        } else {
            // The last contact of each tick is created one minute before the tick ends,
            // so "just created, not yet searchable" always exists after advancing.
            let slot = (j - self.core.contacts0) % self.core.new_contacts_per_tick;
            let per = TICK_SECS / self.core.new_contacts_per_tick as i64;
            let offset = if slot + 1 == self.core.new_contacts_per_tick {
                TICK_SECS - 60
            } else {
                slot as i64 * per
            };
            Self::tick_start(birth) + offset
        };
        let mut name_rng = Rng::new(seed, Stream::Contact, j, 1);
        let first = *name_rng.pick(FIRST_NAMES);
        let last = *name_rng.pick(LAST_NAMES);
        let oddity = r.below(100);
        let email = match (role, oddity) {
            (Role::Lead, 0..=29) | (Role::User, 0..=2) => None,
            // Same address as the previous contact, differing only by case.
            (_, 3..=4) if j > 0 => Some(swap_case(&self.plain_email(j - 1))),
            (_, 5..=6) => Some(invalid_email(&self.plain_email(j), r.below(5))),
            _ => Some(self.plain_email(j)),
        };
        let last_edit = self.last_contact_edit(j, birth);
        let phone = if r.chance(600_000) || last_edit.is_some() {
            let tpl = r.pick_str(PHONES);
            let n = 10 + (j + last_edit.unwrap_or(0)) % 90;
            Some(tpl.replace("{}", &n.to_string()))
        } else {
            None
        };
        let name = match role {
            Role::User => Some(format!("{first} {last}")),
            Role::Lead if r.chance(300_000) => Some(first.to_string()),
            Role::Lead => None,
        };
        let mut custom_attributes = self.custom_values(AttributeModel::Contact, &mut r);
        if let Some(t) = last_edit {
            // An edit always changes the plan, so a delta run can see what changed.
            custom_attributes.retain(|(k, _)| k != "plan_name");
            custom_attributes.insert(
                0,
                (
                    "plan_name".to_string(),
                    AttrValue::Str(format!("Plan rev {t}")),
                ),
            );
        }
        let updated_at = match last_edit {
            Some(t) => Self::tick_start(t) + (r.below(TICK_SECS as u64 - 120) as i64) + 60,
            None => created_at + r.below(86_400) as i64,
        };
        let ntags = r.below(3);
        let mut tags = (0..ntags)
            .map(|_| r.below(self.tag_count()))
            .collect::<Vec<_>>();
        tags.extend(self.more_tags_of(j));
        let city = *r.pick(CITIES);
        Some(Contact {
            index: j,
            id: self.hex_id(HexKind::Contact, j),
            external_id: (role == Role::User).then(|| format!("usr_{j}")),
            role,
            email,
            phone,
            name,
            owner: r.chance(300_000).then(|| self.active_agent(&mut r)),
            created_at,
            updated_at,
            signed_up_at: (role == Role::User).then_some(created_at),
            last_seen_at: Some(updated_at),
            company: self.contact_company(j),
            more_companies: self.more_companies_of(j),
            tags: dedup(tags),
            notes: self.note_count(j),
            custom_attributes,
            location: (city.0.to_string(), city.1.to_string()),
        })
    }

    /// Contact by vendor id.
    pub fn contact_by_id(&self, id: &str) -> Option<Contact> {
        self.contact(self.parse_hex_id(HexKind::Contact, id)?)
    }

    /// The last tick (≤ epoch) at which contact `j` was edited.
    pub(crate) fn last_contact_edit(&self, j: u64, birth: u64) -> Option<u64> {
        (birth + 1..=self.epoch)
            .rev()
            .find(|t| Rng::new(self.core.seed, Stream::ContactEdit, j, *t).chance(20_000))
    }

    // ---------- notes ----------

    /// Notes on contact `j`.
    pub fn note_count(&self, j: u64) -> u64 {
        self.plain_note_count(j) + self.more_notes_of(j)
    }

    /// Notes from the original stream (0 to 3); long-list contacts have more after these.
    fn plain_note_count(&self, j: u64) -> u64 {
        let n = Rng::new(self.core.seed, Stream::Note, j, 0).below(8);
        n.saturating_sub(4)
    }

    /// The id of note `k` of contact `j` (whether or not it exists).
    pub fn note_id(&self, j: u64, k: u64) -> u64 {
        if k < self.plain_note_count(j) {
            (j + 1) * 8 + k
        } else {
            NOTE_LONG_BASE + j * 32 + k
        }
    }

    /// Note `k` of contact `j`.
    pub fn note(&self, j: u64, k: u64) -> Option<Note> {
        if k >= self.note_count(j) || j >= self.contact_count() {
            return None;
        }
        let stream = if k < self.plain_note_count(j) {
            Stream::Note
        } else {
            Stream::SubList
        };
        // SubList keys 0..=3 of a contact are taken by the long-list decisions above.
        let mut r = Rng::new(
            self.core.seed,
            stream,
            j,
            k + 1 + 3 * u64::from(stream == Stream::SubList),
        );
        let contact_created = self
            .contact(j)
            .map(|c| c.created_at)
            .unwrap_or(HISTORY_START);
        Some(Note {
            id: self.note_id(j, k),
            contact: j,
            author: self.any_agent(&mut r),
            body: format!("<p>Called the customer ({k}). Prefers <b>email</b> &amp; mornings.</p>"),
            created_at: contact_created + 3_600 * (k as i64 + 1),
        })
    }

    /// Note by vendor id.
    pub fn note_by_id(&self, id: &str) -> Option<Note> {
        let n = parse_numeric(id, 0)?;
        let (j, k) = if n >= NOTE_LONG_BASE {
            ((n - NOTE_LONG_BASE) / 32, (n - NOTE_LONG_BASE) % 32)
        } else {
            (n.checked_sub(8)? / 8, n % 8)
        };
        self.note(j, k).filter(|note| note.id == n)
    }

    // ---------- custom attribute values ----------

    pub(crate) fn custom_values(
        &self,
        model: AttributeModel,
        r: &mut Rng,
    ) -> Vec<(String, AttrValue)> {
        let mut out = Vec::new();
        for (name, data_type, options) in Self::live_attribute_rows(model) {
            if !r.chance(700_000) {
                continue;
            }
            let v = match data_type {
                AttributeType::String => AttrValue::Str(format!("value {}", r.below(1000))),
                AttributeType::Integer => AttrValue::Int(r.below(500) as i64),
                AttributeType::Float => AttrValue::Float(r.below(1_000_000) as f64 / 100.0),
                AttributeType::Boolean => AttrValue::Bool(r.chance(500_000)),
                AttributeType::Date => AttrValue::Int(T0 + r.below(730 * 86_400) as i64),
                AttributeType::List => AttrValue::Str(r.pick_str(options).to_string()),
            };
            out.push((name.to_string(), v));
        }
        out
    }
}

fn ascii_local(s: &str) -> String {
    let t: String = s
        .chars()
        .filter_map(|c| match c {
            'a'..='z' | 'A'..='Z' => Some(c.to_ascii_lowercase()),
            'é' | 'è' => Some('e'),
            'ö' | 'ø' | 'ó' | 'Ó' => Some('o'),
            'ü' | 'ú' => Some('u'),
            'å' | 'Å' | 'á' => Some('a'),
            'í' => Some('i'),
            _ => None,
        })
        .collect();
    if t.is_empty() { "x".to_string() } else { t }
}

fn swap_case(s: &str) -> String {
    s.chars()
        .map(|c| {
            if c.is_lowercase() {
                c.to_uppercase().next().unwrap_or(c)
            } else {
                c.to_lowercase().next().unwrap_or(c)
            }
        })
        .collect()
}

fn invalid_email(plain: &str, which: u64) -> String {
    let (local, domain) = plain.split_once('@').unwrap_or((plain, "example.com"));
    match which {
        0 => format!("{local}@"),
        1 => format!("{local}@@{domain}"),
        2 => format!("{local} at {domain}"),
        3 => format!("{local}@{domain}..com"),
        _ => format!(" {plain} "),
    }
}

fn dedup(mut v: Vec<u64>) -> Vec<u64> {
    v.sort_unstable();
    v.dedup();
    v
}
