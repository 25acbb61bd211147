//! Checks sandbox responses against the vendor's own OpenAPI description, so a sandbox cannot
//! drift into serving shapes the real API never would.
//!
//! Vendors publish OpenAPI 3.0 (YAML) or 3.1 (JSON) (`../shared/specs/*/SOURCE.md`).
//! 3.0 schemas are rewritten into JSON Schema 2020-12 first (`nullable`, boolean
//! `exclusiveMinimum`), then the whole document is registered so internal `$ref`s resolve
//! (`../shared/research/rust-stack-and-style.md` §A.12). Remote references are never fetched.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use jsonschema::{Draft, Validator};
use referencing::Registry;
use serde_json::{Map, Value};

/// The environment variable naming the folder that holds the vendors' specs (CI sets it to
/// `../shared/specs`).
pub const SPECS_DIR_ENV: &str = "DESKMOVE_SPECS_DIR";

/// The specs folder from [`SPECS_DIR_ENV`], when set.
pub fn specs_dir() -> Option<PathBuf> {
    std::env::var_os(SPECS_DIR_ENV).map(PathBuf::from)
}

/// The specs folder for a conformance test that was asked for explicitly, or a message saying
/// how to provide it.
pub fn required_specs_dir() -> Result<PathBuf, String> {
    let dir = specs_dir().ok_or_else(|| {
        format!("{SPECS_DIR_ENV} is not set; point it at the vendor specs (../shared/specs)")
    })?;
    if dir.is_dir() {
        Ok(dir)
    } else {
        Err(format!("{SPECS_DIR_ENV}={} is not a folder", dir.display()))
    }
}

/// Why a spec could not be used or a body did not match it.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// The file could not be read.
    #[error("cannot read spec {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not valid YAML/JSON.
    #[error("cannot parse spec {path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// The parser's message.
        message: String,
    },
    /// The spec does not document a JSON body for this operation and status.
    #[error("the spec documents no JSON response for {method} {path} {status}")]
    Undocumented {
        /// HTTP method.
        method: String,
        /// Path template as in the spec.
        path: String,
        /// Status code.
        status: u16,
    },
    /// The schema could not be compiled.
    #[error("cannot compile schema at {pointer}: {message}")]
    Schema {
        /// JSON pointer into the spec.
        pointer: String,
        /// The compiler's message.
        message: String,
    },
    /// The body does not match the documented schema.
    #[error("{context} does not match the spec:\n  {}", errors.join("\n  "))]
    Mismatch {
        /// What was validated.
        context: String,
        /// One line per violation, with its JSON path.
        errors: Vec<String>,
    },
}

const BASE_URI: &str = "urn:deskmove:spec";

/// A loaded vendor spec with a cache of compiled validators.
pub struct Spec {
    document: Value,
    registry: Registry<'static>,
    validators: Mutex<HashMap<String, Arc<Validator>>>,
}

impl std::fmt::Debug for Spec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spec")
            .field("openapi", &self.document.get("openapi"))
            .finish_non_exhaustive()
    }
}

impl Spec {
    /// Loads a spec file (`.yaml`/`.yml` or `.json`).
    pub fn load(path: &Path) -> Result<Self, SpecError> {
        let text = std::fs::read_to_string(path).map_err(|source| SpecError::Read {
            path: path.to_owned(),
            source,
        })?;
        let is_yaml = matches!(
            path.extension().and_then(|e| e.to_str()),
            Some("yaml" | "yml")
        );
        let document: Value = if is_yaml {
            serde_yaml::from_str(&text).map_err(|e| SpecError::Parse {
                path: path.to_owned(),
                message: e.to_string(),
            })?
        } else {
            serde_json::from_str(&text).map_err(|e| SpecError::Parse {
                path: path.to_owned(),
                message: e.to_string(),
            })?
        };
        Self::from_document(document).map_err(|e| match e {
            SpecError::Schema { message, .. } => SpecError::Parse {
                path: path.to_owned(),
                message,
            },
            other => other,
        })
    }

    /// Uses an already parsed spec document.
    pub fn from_document(mut document: Value) -> Result<Self, SpecError> {
        let is_openapi_30 = document
            .get("openapi")
            .and_then(Value::as_str)
            .is_some_and(|v| v.starts_with("3.0"));
        if is_openapi_30 {
            upgrade_30_schema(&mut document);
        }
        let registry = Registry::new()
            .draft(Draft::Draft202012)
            .add(BASE_URI, document.clone())
            .and_then(|b| b.prepare())
            .map_err(|e| SpecError::Schema {
                pointer: "#".into(),
                message: e.to_string(),
            })?;
        Ok(Self {
            document,
            registry,
            validators: Mutex::new(HashMap::new()),
        })
    }

    /// The parsed (and, for 3.0, upgraded) document.
    pub fn document(&self) -> &Value {
        &self.document
    }

    /// The JSON pointer of the schema documented for `method path` answering `status` with JSON,
    /// falling back to the `default` response.
    pub fn response_schema_pointer(&self, method: &str, path: &str, status: u16) -> Option<String> {
        let method = method.to_ascii_lowercase();
        let responses = self
            .document
            .get("paths")?
            .get(path)?
            .get(&method)?
            .get("responses")?;
        let status_key = status.to_string();
        let range_key = format!("{}XX", status / 100);
        let code = [status_key.as_str(), range_key.as_str(), "default"]
            .into_iter()
            .find(|k| responses.get(*k).is_some())?;
        let mut response = responses.get(code)?;
        let mut pointer = format!(
            "/paths/{}/{}/responses/{}",
            escape(path),
            method,
            escape(code)
        );
        // A response may itself be a `$ref` to `#/components/responses/...`.
        if let Some(target) = response.get("$ref").and_then(Value::as_str) {
            let local = target.strip_prefix('#')?;
            response = self.document.pointer(local)?;
            pointer = local.to_owned();
        }
        let content = response.get("content")?.as_object()?;
        let media = content
            .keys()
            .find(|k| k.as_str() == "application/json")
            .or_else(|| content.keys().find(|k| k.contains("json")))?;
        content.get(media)?.get("schema")?;
        Some(format!("{pointer}/content/{}/schema", escape(media)))
    }

    /// Validates a JSON `body` answered to `method path` (path template as written in the spec)
    /// with `status`.
    pub fn validate_response(
        &self,
        method: &str,
        path: &str,
        status: u16,
        body: &Value,
    ) -> Result<(), SpecError> {
        let pointer = self
            .response_schema_pointer(method, path, status)
            .ok_or_else(|| SpecError::Undocumented {
                method: method.to_ascii_uppercase(),
                path: path.to_owned(),
                status,
            })?;
        self.validate_at(&pointer, body).map_err(|e| {
            with_context(
                e,
                format!("{} {path} {status}", method.to_ascii_uppercase()),
            )
        })
    }

    /// Validates `body` against `#/components/schemas/<name>`.
    pub fn validate_component(&self, name: &str, body: &Value) -> Result<(), SpecError> {
        self.validate_at(&format!("/components/schemas/{}", escape(name)), body)
            .map_err(|e| with_context(e, format!("schema {name}")))
    }

    /// Validates `body` against the schema at JSON `pointer` in the document.
    pub fn validate_at(&self, pointer: &str, body: &Value) -> Result<(), SpecError> {
        let validator = self.validator(pointer)?;
        let errors: Vec<String> = validator
            .iter_errors(body)
            .take(20)
            .map(|e| format!("{} at {}", e, e.instance_path()))
            .collect();
        if errors.is_empty() {
            Ok(())
        } else {
            Err(SpecError::Mismatch {
                context: pointer.to_owned(),
                errors,
            })
        }
    }

    fn validator(&self, pointer: &str) -> Result<Arc<Validator>, SpecError> {
        let mut cache = match self.validators.lock() {
            Ok(guard) => guard,
            Err(poisoned) => poisoned.into_inner(),
        };
        if let Some(v) = cache.get(pointer) {
            return Ok(Arc::clone(v));
        }
        let schema = serde_json::json!({ "$ref": format!("{BASE_URI}#{}", fragment(pointer)) });
        let validator = jsonschema::options()
            .with_draft(Draft::Draft202012)
            .with_registry(&self.registry)
            .build(&schema)
            .map_err(|e| SpecError::Schema {
                pointer: pointer.to_owned(),
                message: e.to_string(),
            })?;
        let validator = Arc::new(validator);
        cache.insert(pointer.to_owned(), Arc::clone(&validator));
        Ok(validator)
    }
}

fn with_context(error: SpecError, context: String) -> SpecError {
    match error {
        SpecError::Mismatch { errors, .. } => SpecError::Mismatch { context, errors },
        other => other,
    }
}

/// Percent-encodes a JSON pointer for use as a URI fragment (`{id}` in path templates is not a
/// valid fragment character).
fn fragment(pointer: &str) -> String {
    let mut out = String::with_capacity(pointer.len());
    for byte in pointer.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// JSON-pointer escaping of one segment.
fn escape(segment: &str) -> String {
    segment.replace('~', "~0").replace('/', "~1")
}

/// Rewrites OpenAPI 3.0 schema dialect into JSON Schema 2020-12 in place: `nullable: true`
/// becomes a `null` alternative, boolean `exclusiveMinimum`/`exclusiveMaximum` become numbers.
fn upgrade_30_schema(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for child in map.values_mut() {
                upgrade_30_schema(child);
            }
            upgrade_nullable(map);
            upgrade_exclusive(map, "exclusiveMinimum", "minimum");
            upgrade_exclusive(map, "exclusiveMaximum", "maximum");
        }
        Value::Array(items) => items.iter_mut().for_each(upgrade_30_schema),
        _ => {}
    }
}

fn upgrade_nullable(map: &mut Map<String, Value>) {
    let Some(Value::Bool(nullable)) = map.get("nullable") else {
        return;
    };
    let nullable = *nullable;
    map.remove("nullable");
    if !nullable {
        return;
    }
    if let Some(Value::Array(options)) = map.get_mut("enum")
        && !options.contains(&Value::Null)
    {
        options.push(Value::Null);
    }
    match map.get_mut("type") {
        Some(Value::String(t)) => {
            let t = std::mem::take(t);
            map.insert("type".into(), Value::Array(vec![t.into(), "null".into()]));
        }
        Some(Value::Array(types)) => {
            if !types.contains(&Value::from("null")) {
                types.push("null".into());
            }
        }
        _ => {
            // `$ref`, `allOf`, `oneOf`... with nullable: allow null beside the whole schema.
            let inner: Map<String, Value> = std::mem::take(map);
            map.insert(
                "anyOf".into(),
                Value::Array(vec![
                    Value::Object(inner),
                    serde_json::json!({"type": "null"}),
                ]),
            );
        }
    }
}

fn upgrade_exclusive(map: &mut Map<String, Value>, exclusive: &str, bound: &str) {
    if let Some(Value::Bool(on)) = map.get(exclusive) {
        let on = *on;
        map.remove(exclusive);
        if on && let Some(limit) = map.remove(bound) {
            map.insert(exclusive.into(), limit);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec() -> Spec {
        Spec::from_document(json!({
            "openapi": "3.0.1",
            "paths": {
                "/things/{id}": {"get": {"responses": {
                    "200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/thing"}}}},
                    "404": {"$ref": "#/components/responses/NotFound"}
                }}}
            },
            "components": {
                "schemas": {
                    "thing": {"type": "object", "required": ["id"], "properties": {
                        "id": {"type": "string"},
                        "note": {"type": "string", "nullable": true},
                        "owner": {"$ref": "#/components/schemas/owner", "nullable": true},
                        "size": {"type": "integer", "minimum": 0, "exclusiveMinimum": true}
                    }},
                    "owner": {"type": "object", "properties": {"name": {"type": "string"}}},
                    "error": {"type": "object", "required": ["type"], "properties": {"type": {"enum": ["error.list"]}}}
                },
                "responses": {"NotFound": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/error"}}}}}
            }
        }))
        .unwrap()
    }

    #[test]
    fn validates_bodies_with_30_nullable_and_refs() {
        let s = spec();
        s.validate_response(
            "GET",
            "/things/{id}",
            200,
            &json!({"id": "1", "note": null, "owner": null, "size": 2}),
        )
        .unwrap();
        let err = s
            .validate_response("GET", "/things/{id}", 200, &json!({"id": 1, "size": 0}))
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("/id"), "{text}");
        assert!(text.contains("/size"), "{text}");
        s.validate_response("GET", "/things/{id}", 404, &json!({"type": "error.list"}))
            .unwrap();
        assert!(
            s.validate_response("GET", "/things/{id}", 404, &json!({"type": "list"}))
                .is_err()
        );
        assert!(matches!(
            s.validate_response("GET", "/things/{id}", 500, &json!({})),
            Err(SpecError::Undocumented { status: 500, .. })
        ));
        s.validate_component("owner", &json!({"name": "Ana"}))
            .unwrap();
        assert!(s.validate_component("owner", &json!({"name": 3})).is_err());
    }
}
