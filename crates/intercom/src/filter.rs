//! `[source.filters]` applied to the conversations and tickets a list or search page names,
//! before they are retrieved: what a rule excludes costs no call and is recorded as a problem
//! (code [`EXCLUDED`]) naming the rule, so an excluded conversation is counted, never silent.

use deskmove_core::normalize::time;
use deskmove_core::{ErrorKind, Problem, SourceKey, Stage};

use crate::config::Filters;

/// The problem code of a conversation or ticket a filter excluded.
pub const EXCLUDED: &str = "excluded_by_filter";

/// What a listed conversation or ticket says about itself (the list and search items carry
/// these fields, so no retrieval is needed to decide).
#[derive(Debug, Clone, Copy, Default)]
pub struct Listed<'a> {
    /// `created_at`, epoch seconds.
    pub created_at: Option<i64>,
    /// `updated_at`, epoch seconds.
    pub updated_at: Option<i64>,
    /// `state` (`open`, `closed`, `snoozed`); tickets have none.
    pub state: Option<&'a str>,
    /// `source.type` (`conversation`, `email`, ...); tickets have none.
    pub channel: Option<&'a str>,
}

/// [`Filters`] with their dates read: the rules a listed thread must pass.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ThreadFilter {
    created_after: Option<i64>,
    created_before: Option<i64>,
    updated_after: Option<i64>,
    updated_before: Option<i64>,
    states: Vec<String>,
    channels: Vec<String>,
}

impl ThreadFilter {
    /// Reads the settings; an unreadable date or an unknown state is an error naming the key.
    pub fn new(f: &Filters) -> Result<Self, String> {
        let date = |key: &str, v: &Option<String>| -> Result<Option<i64>, String> {
            v.as_deref().map(|text| read_date(key, text)).transpose()
        };
        for s in &f.states {
            if !matches!(s.as_str(), "open" | "closed" | "snoozed") {
                return Err(format!(
                    "[source.filters] `states`: `{s}` is not a conversation state (use open, closed, snoozed)"
                ));
            }
        }
        Ok(Self {
            created_after: date("created_after", &f.created_after)?,
            created_before: date("created_before", &f.created_before)?,
            updated_after: date("updated_after", &f.updated_after)?,
            updated_before: date("updated_before", &f.updated_before)?,
            states: f.states.clone(),
            channels: f.channels.clone(),
        })
    }

    /// Whether no rule is set (everything is exported).
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// `None` when `item` passes every rule, else the problem saying which rule excluded it.
    pub fn exclude(&self, key: &SourceKey, item: &Listed<'_>) -> Option<Problem> {
        let why = self.rule(item)?;
        Some(Problem::new(
            key.clone(),
            Stage::Extract,
            // A setting decided it: changing [source.filters] brings it back.
            ErrorKind::Config,
            EXCLUDED,
            format!("not exported: excluded by [source.filters] {why}"),
        ))
    }

    fn rule(&self, item: &Listed<'_>) -> Option<String> {
        let stamp = |t: i64| {
            time::from_epoch(t)
                .map(|t| t.to_string())
                .unwrap_or_else(|_| t.to_string())
        };
        let range = |name: &str, at: Option<i64>, after: Option<i64>, before: Option<i64>| {
            let at = at?;
            if let Some(a) = after.filter(|a| at < *a) {
                return Some(format!(
                    "`{name}_after` ({}): it is from {}",
                    stamp(a),
                    stamp(at)
                ));
            }
            if let Some(b) = before.filter(|b| at >= *b) {
                return Some(format!(
                    "`{name}_before` ({}): it is from {}",
                    stamp(b),
                    stamp(at)
                ));
            }
            None
        };
        if let Some(why) = range(
            "created",
            item.created_at,
            self.created_after,
            self.created_before,
        ) {
            return Some(why);
        }
        if let Some(why) = range(
            "updated",
            item.updated_at,
            self.updated_after,
            self.updated_before,
        ) {
            return Some(why);
        }
        if let Some(state) = item.state
            && !self.states.is_empty()
            && !self.states.iter().any(|s| s == state)
        {
            return Some(format!(
                "`states` ({}): its state is `{state}`",
                self.states.join(", ")
            ));
        }
        if let Some(channel) = item.channel
            && !self.channels.is_empty()
            && !self.channels.iter().any(|c| c == channel)
        {
            return Some(format!(
                "`channels` ({}): it came in by `{channel}`",
                self.channels.join(", ")
            ));
        }
        None
    }
}

/// `2024-01-31` (midnight UTC) or any time [`time::parse`] reads (RFC 3339 with an offset).
fn read_date(key: &str, text: &str) -> Result<i64, String> {
    if let Ok(day) = text.trim().parse::<jiff::civil::Date>() {
        return day
            .to_zoned(jiff::tz::TimeZone::UTC)
            .map(|z| z.timestamp().as_second())
            .map_err(|e| format!("[source.filters] `{key}`: {e}"));
    }
    time::parse(text)
        .map(|t| t.as_second())
        .map_err(|e| format!(
            "[source.filters] `{key}` = \"{text}\": {e}; write a day like \"2024-01-31\" or a time like \"2024-01-31T09:00:00Z\""
        ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use deskmove_core::RecordKind;

    fn filter(toml_text: &str) -> Result<ThreadFilter, String> {
        let f: Filters = toml::from_str(toml_text).map_err(|e| e.to_string())?;
        ThreadFilter::new(&f)
    }

    fn item(created: i64, state: &'static str, channel: &'static str) -> Listed<'static> {
        Listed {
            created_at: Some(created),
            updated_at: Some(created + 10),
            state: Some(state),
            channel: Some(channel),
        }
    }

    #[test]
    fn each_rule_excludes_and_names_itself() {
        let f = filter(
            "created_after = \"2024-01-01\"\ncreated_before = \"2024-02-01T00:00:00Z\"\nstates = [\"open\"]\nchannels = [\"email\"]\n",
        )
        .unwrap();
        let key = SourceKey::new("intercom", RecordKind::Conversation, "1");
        let jan = 1_704_067_200; // 2024-01-01T00:00:00Z
        assert!(f.exclude(&key, &item(jan, "open", "email")).is_none());
        let why = |i| f.exclude(&key, &i).unwrap().reason;
        assert!(why(item(jan - 1, "open", "email")).contains("`created_after`"));
        assert!(why(item(jan + 31 * 86_400, "open", "email")).contains("`created_before`"));
        assert!(why(item(jan, "closed", "email")).contains("its state is `closed`"));
        assert!(why(item(jan, "open", "conversation")).contains("`channels`"));
        let p = f.exclude(&key, &item(jan, "closed", "email")).unwrap();
        assert_eq!((p.code.as_str(), p.stage), (EXCLUDED, Stage::Extract));
    }

    #[test]
    fn tickets_without_state_or_channel_pass_those_rules() {
        let f = filter("states = [\"closed\"]\nchannels = [\"email\"]\n").unwrap();
        let key = SourceKey::new("intercom", RecordKind::Conversation, "ticket-1");
        let ticket = Listed {
            created_at: Some(1),
            ..Listed::default()
        };
        assert!(f.exclude(&key, &ticket).is_none());
        assert!(filter("").unwrap().is_empty());
    }

    #[test]
    fn bad_settings_name_their_key() {
        let e = filter("updated_after = \"last tuesday\"\n").unwrap_err();
        assert!(e.contains("`updated_after`"), "{e}");
        let e = filter("states = [\"pending\"]\n").unwrap_err();
        assert!(e.contains("`states`") && e.contains("pending"), "{e}");
        let e = filter("state = [\"open\"]\n").unwrap_err();
        assert!(e.contains("unknown field `state`"), "{e}");
    }
}
