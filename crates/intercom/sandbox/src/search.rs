//! Intercom's search query language (`POST /contacts/search`, `/conversations/search`,
//! `/tickets/search`): nested AND/OR groups (at most 2 levels, 15 filters per group),
//! and date filters that compare by **calendar day in the workspace timezone**:
//! `>` means "from the next day", `<` "before that day"; `>=`, `<=`, `!=`, `IN`, `NIN`
//! are rejected on dates (`../shared/research/intercom-api.md` §2, spec L8741ff).

use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use serde_json::Value;

use crate::error::ApiError;

/// The sandbox workspace's timezone (date filters truncate to its days).
pub const WORKSPACE_TZ: &str = "America/Los_Angeles";

/// A field's value type for search.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FieldType {
    Str,
    Int,
    Bool,
    Date,
}

/// A value pulled from a record.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum FieldValue {
    Str(String),
    Int(i64),
    Bool(bool),
    /// A multi-valued field (`contact_ids`, `tag_ids`, the tokens of `source.body`): a positive
    /// operator matches when any element does, a negative one when every element does.
    Many(Vec<FieldValue>),
    Null,
}

/// A parsed search query.
#[derive(Debug, Clone)]
pub(crate) enum Query {
    /// `lo <= value < hi` on a date field, after day truncation.
    DateRange {
        field: String,
        lo: i64,
        hi: i64,
    },
    Cmp {
        field: String,
        op: String,
        value: Value,
        kind: FieldType,
    },
    Group {
        and: bool,
        items: Vec<Query>,
    },
}

impl Query {
    /// Parses `query` against a field table; the spec's `search_request` requires one.
    pub(crate) fn parse(
        v: Option<&Value>,
        fields: &dyn Fn(&str) -> Option<FieldType>,
    ) -> Result<Self, ApiError> {
        match v {
            // Exact wording UNVERIFIED (research §11); `query` is `required` in 2.16.
            None | Some(Value::Null) => Err(ApiError::new(
                axum::http::StatusCode::BAD_REQUEST,
                "parameter_not_found",
                "query parameter is required",
            )),
            Some(v) => Self::parse_at(v, fields, 0),
        }
    }

    fn parse_at(
        v: &Value,
        fields: &dyn Fn(&str) -> Option<FieldType>,
        depth: usize,
    ) -> Result<Self, ApiError> {
        let op = v.get("operator").and_then(Value::as_str).unwrap_or("=");
        if let Some(items) = v
            .get("value")
            .and_then(Value::as_array)
            .filter(|_| op == "AND" || op == "OR")
        {
            if depth >= 2 {
                return Err(ApiError::invalid(
                    "Search queries support at most 2 levels of nested filters",
                ));
            }
            if items.len() > 15 {
                return Err(ApiError::invalid("A group can have at most 15 filters"));
            }
            let items = items
                .iter()
                .map(|i| Self::parse_at(i, fields, depth + 1))
                .collect::<Result<_, _>>()?;
            return Ok(Query::Group {
                and: op == "AND",
                items,
            });
        }
        let field = v
            .get("field")
            .and_then(Value::as_str)
            .ok_or_else(|| ApiError::invalid("A filter needs a field"))?;
        let kind = fields(field)
            .ok_or_else(|| ApiError::invalid(format!("{field} is not a searchable field")))?;
        let value = v.get("value").cloned().unwrap_or(Value::Null);
        if kind == FieldType::Date {
            let t = as_i64(&value)
                .ok_or_else(|| ApiError::invalid(format!("{field} needs a UNIX timestamp")))?;
            let (day_start, next_day) = day_bounds(t)?;
            let (lo, hi) = match op {
                ">" => (next_day, i64::MAX),
                "<" => (i64::MIN, day_start),
                "=" => (day_start, next_day),
                other => {
                    return Err(ApiError::invalid(format!(
                        "The operator '{other}' is not supported for date fields"
                    )));
                }
            };
            return Ok(Query::DateRange {
                field: field.to_string(),
                lo,
                hi,
            });
        }
        match op {
            "=" | "!=" | "IN" | "NIN" | ">" | "<" | "~" | "!~" | "^" | "$" => {}
            other => return Err(ApiError::invalid(format!("Unknown operator '{other}'"))),
        }
        Ok(Query::Cmp {
            field: field.to_string(),
            op: op.to_string(),
            value,
            kind,
        })
    }

    /// Whether a record matches; `get` reads a field.
    pub(crate) fn matches(&self, get: &mut dyn FnMut(&str) -> FieldValue) -> bool {
        match self {
            Query::DateRange { field, lo, hi } => {
                matches!(get(field), FieldValue::Int(t) if *lo <= t && t < *hi)
            }
            Query::Group { and: true, items } => items.iter().all(|q| q.matches(get)),
            Query::Group { and: false, items } => items.iter().any(|q| q.matches(get)),
            Query::Cmp {
                field,
                op,
                value,
                kind,
            } => cmp(&get(field), op, value, *kind),
        }
    }

    /// Fields the query reads.
    pub(crate) fn fields(&self, out: &mut Vec<String>) {
        match self {
            Query::DateRange { field, .. } | Query::Cmp { field, .. } => out.push(field.clone()),
            Query::Group { items, .. } => items.iter().for_each(|q| q.fields(out)),
        }
    }
}

fn as_i64(v: &Value) -> Option<i64> {
    // Tolerate floats and numeric strings (tap-intercom / Airbyte send both).
    v.as_i64()
        .or_else(|| v.as_f64().map(|f| f as i64))
        .or_else(|| {
            v.as_str()
                .and_then(|s| s.trim().parse::<f64>().ok())
                .map(|f| f as i64)
        })
}

/// Start of the local day containing `t`, and start of the next local day.
fn day_bounds(t: i64) -> Result<(i64, i64), ApiError> {
    let bad = |_| ApiError::invalid("timestamp out of range");
    let tz = TimeZone::get(WORKSPACE_TZ).map_err(|_| {
        ApiError::new(
            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
            "server_error",
            "timezone data missing",
        )
    })?;
    let z = Timestamp::from_second(t).map_err(bad)?.to_zoned(tz);
    let start = z.start_of_day().map_err(bad)?;
    let next = start
        .checked_add(1.day())
        .map_err(bad)?
        .start_of_day()
        .map_err(bad)?;
    Ok((start.timestamp().as_second(), next.timestamp().as_second()))
}

fn cmp(have: &FieldValue, op: &str, want: &Value, kind: FieldType) -> bool {
    if let FieldValue::Many(items) = have {
        return if matches!(op, "!=" | "NIN" | "!~") {
            items.iter().all(|h| cmp(h, op, want, kind))
        } else {
            items.iter().any(|h| cmp(h, op, want, kind))
        };
    }
    if let Some(list) = want.as_array() {
        let any = list.iter().any(|w| eq(have, w, kind));
        return match op {
            "IN" | "=" => any,
            "NIN" | "!=" => !any,
            _ => false,
        };
    }
    match op {
        "=" | "IN" => eq(have, want, kind),
        "!=" | "NIN" => !eq(have, want, kind),
        ">" | "<" => match (have, as_i64(want)) {
            (FieldValue::Int(h), Some(w)) => {
                if op == ">" {
                    *h > w
                } else {
                    *h < w
                }
            }
            (FieldValue::Str(h), _) => want.as_str().is_some_and(|w| {
                if op == ">" {
                    h.as_str() > w
                } else {
                    h.as_str() < w
                }
            }),
            _ => false,
        },
        "~" | "!~" | "^" | "$" => {
            let (FieldValue::Str(h), Some(w)) = (have, want.as_str()) else {
                return op == "!~";
            };
            let (h, w) = (h.to_lowercase(), w.to_lowercase());
            match op {
                "~" => h.contains(&w),
                "!~" => !h.contains(&w),
                "^" => h.starts_with(&w),
                _ => h.ends_with(&w),
            }
        }
        _ => false,
    }
}

fn eq(have: &FieldValue, want: &Value, kind: FieldType) -> bool {
    match (have, kind) {
        (FieldValue::Null, _) => want.is_null(),
        (FieldValue::Many(items), _) => items.iter().any(|h| eq(h, want, kind)),
        (FieldValue::Str(h), _) => {
            want.as_str().is_some_and(|w| h.eq_ignore_ascii_case(w))
                || want.as_i64().is_some_and(|w| h == &w.to_string())
        }
        (FieldValue::Int(h), _) => as_i64(want) == Some(*h),
        (FieldValue::Bool(h), _) => {
            want.as_bool() == Some(*h) || want.as_str().is_some_and(|w| w == h.to_string())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(f: &str) -> Option<FieldType> {
        match f {
            "updated_at" => Some(FieldType::Date),
            "state" => Some(FieldType::Str),
            _ => None,
        }
    }

    #[test]
    fn dates_truncate_to_the_workspace_day() {
        // 2025-06-15T12:00:00-07:00 (PDT) = 1750014000.
        let noon = 1_750_014_000;
        let q = Query::parse(
            Some(&json!({"field": "updated_at", "operator": ">", "value": noon})),
            &fields,
        )
        .unwrap();
        let at = |t: i64| q.matches(&mut |_| FieldValue::Int(t));
        assert!(!at(noon + 3_600), "later the same local day does not count");
        assert!(at(noon + 12 * 3_600), "next local day counts");
        let q = Query::parse(
            Some(&json!({"field": "updated_at", "operator": ">=", "value": noon})),
            &fields,
        );
        assert!(q.is_err());
    }

    #[test]
    fn nesting_limits() {
        let leaf = json!({"field": "state", "operator": "=", "value": "open"});
        let deep = json!({"operator": "AND", "value": [{"operator": "OR", "value": [{"operator": "AND", "value": [leaf]}]}]});
        assert!(Query::parse(Some(&deep), &fields).is_err());
        let wide = json!({"operator": "OR", "value": vec![leaf.clone(); 16]});
        assert!(Query::parse(Some(&wide), &fields).is_err());
        assert!(
            Query::parse(
                Some(&json!({"field": "nope", "operator": "=", "value": 1})),
                &fields
            )
            .is_err()
        );
    }
}
