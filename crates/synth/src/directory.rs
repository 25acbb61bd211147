//! The organisation: agents (some departed), teams, tags and custom attribute
//! definitions of every type.

use crate::ids::{AGENT_BASE, ATTRIBUTE_BASE, TAG_BASE, TEAM_BASE, parse_numeric};
use crate::model::{Agent, AttributeDef, AttributeModel, AttributeType, Tag, Team};
use crate::rng::{Rng, Stream};
use crate::world::{HISTORY_START, View};

pub(crate) const FIRST_NAMES: &[&str] = &[
    "Alice", "Bob", "José", "Zoë", "Åsa", "Liam", "Noor", "Chen", "Priya", "Mateo", "Aoife", "Olu",
    "Søren", "Fatima", "Yuki", "Jean-Luc", "Dmitri", "Ana", "Kwame", "Sofía", "محمد", "李", "Ng",
    "Björk", "Renée",
];
pub(crate) const LAST_NAMES: &[&str] = &[
    "Smith",
    "O'Brien",
    "García",
    "Müller",
    "Nguyen",
    "Kowalski",
    "Dubois",
    "Tanaka",
    "Okafor",
    "Johansson",
    "van der Berg",
    "Nørgaard",
    "Rossi",
    "Silva",
    "Cohen",
    "Kim",
    "Ivanova",
    "Ó Súilleabháin",
    "王",
    "Patel",
];
const TITLES: &[&str] = &[
    "Support Engineer",
    "Team Lead",
    "Customer Success",
    "Head of Support",
    "",
];
const TEAM_NAMES: &[&str] = &[
    "Tier 1",
    "Tier 2",
    "Billing",
    "Escalations",
    "Onboarding",
    "VIP Support",
    "Nuit / Night shift",
    "サポート",
    "Enterprise",
    "Partners",
];

/// Tag names with spaces, unicode and near-duplicates on purpose.
const TAG_NAMES: &[&str] = &[
    "VIP",
    "vip",
    "VIP ",
    "Billing issue",
    "billing-issue",
    "Billing  issue",
    "Bug 🐛",
    "bug",
    "feature request",
    "Feature Request",
    "Rückerstattung",
    "返金",
    "עדיפות גבוהה",
    "urgent!!!",
    "churn risk",
    "needs follow up",
    "needs-follow-up",
    "GDPR / deletion",
    "api",
    "API v2",
    "Ça marche",
    "enterprise",
    "trial",
    "🔥 hot",
];

/// (model, name, label, type, options, archived)
type AttrRow = (
    AttributeModel,
    &'static str,
    &'static str,
    AttributeType,
    &'static [&'static str],
    bool,
);
const ATTRIBUTES: &[AttrRow] = &[
    (
        AttributeModel::Contact,
        "plan_name",
        "Plan name",
        AttributeType::String,
        &[],
        false,
    ),
    (
        AttributeModel::Contact,
        "seats",
        "Seats",
        AttributeType::Integer,
        &[],
        false,
    ),
    (
        AttributeModel::Contact,
        "mrr",
        "MRR",
        AttributeType::Float,
        &[],
        false,
    ),
    (
        AttributeModel::Contact,
        "is_beta",
        "Beta tester",
        AttributeType::Boolean,
        &[],
        false,
    ),
    (
        AttributeModel::Contact,
        "renewal_date",
        "Renewal date",
        AttributeType::Date,
        &[],
        false,
    ),
    (
        AttributeModel::Contact,
        "tier",
        "Tier",
        AttributeType::List,
        &["bronze", "silver", "gold", "platinum"],
        false,
    ),
    (
        AttributeModel::Contact,
        "Favourite colour",
        "Favourite colour",
        AttributeType::String,
        &[],
        false,
    ),
    (
        AttributeModel::Contact,
        "région",
        "Région",
        AttributeType::List,
        &["Île-de-France", "Bayern", "関東"],
        false,
    ),
    (
        AttributeModel::Contact,
        "legacy_score",
        "Legacy score",
        AttributeType::Integer,
        &[],
        true,
    ),
    (
        AttributeModel::Company,
        "industry_code",
        "Industry code",
        AttributeType::String,
        &[],
        false,
    ),
    (
        AttributeModel::Company,
        "employees",
        "Employees",
        AttributeType::Integer,
        &[],
        false,
    ),
    (
        AttributeModel::Company,
        "arr",
        "ARR",
        AttributeType::Float,
        &[],
        false,
    ),
    (
        AttributeModel::Company,
        "churned",
        "Churned",
        AttributeType::Boolean,
        &[],
        false,
    ),
    (
        AttributeModel::Company,
        "contract_end",
        "Contract end",
        AttributeType::Date,
        &[],
        false,
    ),
    (
        AttributeModel::Company,
        "segment",
        "Segment",
        AttributeType::List,
        &["SMB", "Mid-market", "Enterprise"],
        false,
    ),
];

impl View<'_> {
    /// Agent `i`, or `None` past the end.
    pub fn agent(&self, i: u64) -> Option<Agent> {
        if i >= self.core.agents {
            return None;
        }
        let mut r = Rng::new(self.core.seed, Stream::Agent, i, 0);
        let first = *r.pick(FIRST_NAMES);
        let last = *r.pick(LAST_NAMES);
        let team_indexes = (0..self.core.teams)
            .filter(|t| self.team_has_agent(*t, i))
            .collect();
        Some(Agent {
            index: i,
            id: (AGENT_BASE + i).to_string(),
            name: format!("{first} {last}"),
            email: format!("agent{i}@support.example.com"),
            job_title: (*r.pick(TITLES)).to_string(),
            // Every fifth agent has left; they still author old history.
            departed: i % 5 == 4,
            away: r.chance(100_000),
            team_indexes,
        })
    }

    /// Agent by vendor id.
    pub fn agent_by_id(&self, id: &str) -> Option<Agent> {
        self.agent(parse_numeric(id, AGENT_BASE)?)
    }

    /// An agent who has not departed, picked by `r`.
    pub(crate) fn active_agent(&self, r: &mut Rng) -> u64 {
        let a = r.below(self.core.agents);
        if a % 5 == 4 { a - 1 } else { a }
    }

    /// Any agent, departed or not (old history).
    pub(crate) fn any_agent(&self, r: &mut Rng) -> u64 {
        r.below(self.core.agents)
    }

    fn team_has_agent(&self, t: u64, a: u64) -> bool {
        // Each agent is in one or two teams: a % teams, and every third agent also in the next.
        let teams = self.core.teams;
        a % teams == t || (a.is_multiple_of(3) && (a + 1) % teams == t)
    }

    /// Team `i`.
    pub fn team(&self, i: u64) -> Option<Team> {
        if i >= self.core.teams {
            return None;
        }
        let base = TEAM_NAMES[(i as usize) % TEAM_NAMES.len()];
        let name = if (i as usize) < TEAM_NAMES.len() {
            base.to_string()
        } else {
            format!("{base} {i}")
        };
        Some(Team {
            index: i,
            id: (TEAM_BASE + i).to_string(),
            name,
            agent_indexes: (0..self.core.agents)
                .filter(|a| self.team_has_agent(i, *a))
                .collect(),
        })
    }

    /// Team by vendor id.
    pub fn team_by_id(&self, id: &str) -> Option<Team> {
        self.team(parse_numeric(id, TEAM_BASE)?)
    }

    /// Number of tags.
    pub fn tag_count(&self) -> u64 {
        TAG_NAMES.len() as u64
    }

    /// Tag `i`.
    pub fn tag(&self, i: u64) -> Option<Tag> {
        let name = TAG_NAMES.get(i as usize)?;
        Some(Tag {
            index: i,
            id: (TAG_BASE + i).to_string(),
            name: (*name).to_string(),
        })
    }

    /// Tag by vendor id.
    pub fn tag_by_id(&self, id: &str) -> Option<Tag> {
        self.tag(parse_numeric(id, TAG_BASE)?)
    }

    /// Number of custom attribute definitions (both models, archived included).
    pub fn attribute_count(&self) -> u64 {
        ATTRIBUTES.len() as u64
    }

    /// Attribute definition `i`.
    pub fn attribute(&self, i: u64) -> Option<AttributeDef> {
        let (model, name, label, data_type, options, archived) = *ATTRIBUTES.get(i as usize)?;
        Some(AttributeDef {
            index: i,
            id: ATTRIBUTE_BASE + i,
            model,
            name: name.to_string(),
            label: label.to_string(),
            data_type,
            options: options.iter().map(|s| (*s).to_string()).collect(),
            archived,
            created_at: HISTORY_START + (i as i64) * 86_400 * 30,
        })
    }

    /// The static rows of one model's live (non-archived) definitions, without allocating.
    pub(crate) fn live_attribute_rows(
        model: AttributeModel,
    ) -> impl Iterator<Item = (&'static str, AttributeType, &'static [&'static str])> {
        ATTRIBUTES
            .iter()
            .filter(move |r| r.0 == model && !r.5)
            .map(|r| (r.1, r.3, r.4))
    }

    /// All definitions of one model (archived included).
    pub fn attributes_of(&self, model: AttributeModel) -> Vec<AttributeDef> {
        (0..self.attribute_count())
            .filter_map(|i| self.attribute(i))
            .filter(|a| a.model == model)
            .collect()
    }
}
