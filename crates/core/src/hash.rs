//! Content hashes for change detection. A record whose hash equals its ledger hash is skipped on
//! re-run; so the hash must not depend on map ordering or formatting, only on content.

use serde::Serialize;
use serde_json::Value;

/// A blake3 digest of a record's canonical serialisation, as lower-case hex.
#[derive(
    Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(transparent)]
pub struct ContentHash(pub String);

impl std::fmt::Display for ContentHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Serialises `value` to JSON with object keys sorted at every depth and no insignificant
/// whitespace, so equal content always gives equal bytes.
pub fn canonical_json<T: Serialize + ?Sized>(value: &T) -> Result<Vec<u8>, serde_json::Error> {
    let value = serde_json::to_value(value)?;
    let mut out = Vec::with_capacity(256);
    write_sorted(&value, &mut out)?;
    Ok(out)
}

/// The [`ContentHash`] of `value`'s canonical serialisation.
pub fn content_hash<T: Serialize + ?Sized>(value: &T) -> Result<ContentHash, serde_json::Error> {
    let bytes = canonical_json(value)?;
    Ok(ContentHash(blake3::hash(&bytes).to_hex().to_string()))
}

fn write_sorted(value: &Value, out: &mut Vec<u8>) -> Result<(), serde_json::Error> {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<_> = map.iter().collect();
            entries.sort_by(|a, b| a.0.cmp(b.0));
            out.push(b'{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                serde_json::to_writer(&mut *out, k)?;
                out.push(b':');
                write_sorted(v, out)?;
            }
            out.push(b'}');
        }
        Value::Array(items) => {
            out.push(b'[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_sorted(v, out)?;
            }
            out.push(b']');
        }
        scalar => serde_json::to_writer(&mut *out, scalar)?,
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_order_does_not_change_the_hash() {
        let a = json!({"b": 1, "a": {"y": [1, 2], "x": null}});
        let b = json!({"a": {"x": null, "y": [1, 2]}, "b": 1});
        assert_eq!(content_hash(&a).unwrap(), content_hash(&b).unwrap());
        assert_eq!(
            canonical_json(&a).unwrap(),
            br#"{"a":{"x":null,"y":[1,2]},"b":1}"#.to_vec()
        );
    }

    #[test]
    fn content_changes_change_the_hash() {
        let a = json!({"a": [1, 2]});
        let b = json!({"a": [2, 1]});
        assert_ne!(content_hash(&a).unwrap(), content_hash(&b).unwrap());
    }
}
