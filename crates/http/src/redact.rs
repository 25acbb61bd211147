//! Keeping secrets out of logs and error messages.
//!
//! Every URL this crate prints goes through [`redact_url`], and every piece of text that came from
//! outside (vendor bodies, transport errors) goes through a [`Scrubber`] that knows the client's
//! own secrets, so a token can leak neither through a query parameter nor through an echo.

use secrecy::{ExposeSecret, SecretString};
use url::Url;

/// What replaces a secret in printed text.
pub const REDACTED: &str = "REDACTED";

/// Query parameter names whose value is always a secret (compared case-insensitively).
const SECRET_PARAMS_EXACT: &[&str] = &["key", "sig", "code", "auth", "jwt", "session", "sessionid"];

/// Fragments that mark a query parameter or header name as secret-bearing.
const SECRET_NAME_PARTS: &[&str] = &[
    "token",
    "secret",
    "passw",
    "apikey",
    "api_key",
    "api-key",
    "signature",
    "credential",
    "access_key",
    "private_key",
    "authorization",
];

/// Header names that carry credentials (compared case-insensitively), beyond those matched by
/// [`SECRET_NAME_PARTS`].
const SECRET_HEADERS: &[&str] = &["cookie", "set-cookie", "x-api-key", "api_access_token"];

fn is_secret_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    SECRET_PARAMS_EXACT.contains(&lower.as_str())
        || SECRET_NAME_PARTS.iter().any(|part| lower.contains(part))
}

/// Whether a query parameter of this name carries a secret (`access_token`, `api_key`,
/// `signature`, `X-Amz-Signature`, ...).
pub fn is_secret_param(name: &str) -> bool {
    is_secret_name(name)
}

/// Whether a header of this name carries credentials (`Authorization`, `Cookie`,
/// `api_access_token`, `X-Api-Key`, ...).
pub fn is_secret_header(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    SECRET_HEADERS.contains(&lower.as_str()) || is_secret_name(&lower)
}

/// The URL as it may be printed: user and password, secret-bearing query values and the fragment
/// are replaced by `REDACTED`; everything else is kept so the message still says what was called.
pub fn redact_url(url: &Url) -> String {
    let mut out = url.clone();
    if !out.username().is_empty() {
        // Cannot fail on a URL that already has a username (it has a host).
        let _ = out.set_username(REDACTED);
    }
    if out.password().is_some() {
        let _ = out.set_password(Some(REDACTED));
    }
    if out.query().is_some() {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if is_secret_param(&k) {
                    REDACTED.to_owned()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        if pairs.is_empty() {
            out.set_query(None);
        } else {
            out.query_pairs_mut().clear().extend_pairs(pairs);
        }
    }
    if out.fragment().is_some() {
        out.set_fragment(Some(REDACTED));
    }
    out.to_string()
}

/// Removes a client's own secrets from text that came from outside (vendor error bodies,
/// transport errors), in raw and percent-encoded form.
#[derive(Clone, Default)]
pub(crate) struct Scrubber {
    needles: Vec<SecretString>,
}

impl std::fmt::Debug for Scrubber {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Scrubber({} secrets)", self.needles.len())
    }
}

impl Scrubber {
    /// Remembers a secret; very short values are ignored (they would mangle ordinary text).
    pub(crate) fn add(&mut self, secret: &SecretString) {
        let raw = secret.expose_secret();
        if raw.len() < 4 {
            return;
        }
        let encoded: String = url::form_urlencoded::byte_serialize(raw.as_bytes()).collect();
        for form in [raw.to_owned(), encoded] {
            if !self.needles.iter().any(|n| n.expose_secret() == form) {
                self.needles.push(SecretString::from(form));
            }
        }
        // Longest first, so a secret that contains another is removed whole.
        self.needles
            .sort_by_key(|n| std::cmp::Reverse(n.expose_secret().len()));
    }

    /// The text with every known secret replaced by `REDACTED`.
    pub(crate) fn scrub(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for needle in &self.needles {
            let needle = needle.expose_secret();
            if out.contains(needle) {
                out = out.replace(needle, REDACTED);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(s: &str) -> String {
        redact_url(&Url::parse(s).unwrap())
    }

    #[test]
    fn secret_query_values_are_replaced_and_others_kept() {
        let out = r(
            "https://api.example.com/a/b?page=2&access_token=s3cr3t&API_KEY=k1&per_page=50&X-Amz-Signature=abc&key=zz",
        );
        assert_eq!(
            out,
            "https://api.example.com/a/b?page=2&access_token=REDACTED&API_KEY=REDACTED&per_page=50&X-Amz-Signature=REDACTED&key=REDACTED"
        );
    }

    #[test]
    fn userinfo_and_fragment_are_replaced() {
        let out = r("https://me%40x.com:pw123@h.example.com/p?q=1#token=abc");
        assert!(!out.contains("pw123") && !out.contains("abc") && !out.contains("me%40x"));
        assert!(out.starts_with("https://REDACTED:REDACTED@h.example.com/p?q=1#"));
    }

    #[test]
    fn plain_urls_are_unchanged() {
        let s = "https://api.intercom.io/contacts?per_page=150&starting_after=WzE2";
        assert_eq!(r(s), s);
        assert_eq!(r("http://127.0.0.1:8080/"), "http://127.0.0.1:8080/");
    }

    #[test]
    fn header_names_are_recognised() {
        for h in [
            "Authorization",
            "api_access_token",
            "Cookie",
            "X-Api-Key",
            "X-Auth-Token",
        ] {
            assert!(is_secret_header(h), "{h}");
        }
        for h in [
            "Accept",
            "Intercom-Version",
            "Content-Type",
            "X-RateLimit-Reset",
        ] {
            assert!(!is_secret_header(h), "{h}");
        }
    }

    #[test]
    fn scrubber_removes_raw_and_encoded_forms() {
        let mut s = Scrubber::default();
        s.add(&SecretString::from("tok+en/=="));
        s.add(&SecretString::from("ab")); // too short to scrub safely
        let text = "bad token tok+en/== in ?t=tok%2Ben%2F%3D%3D, ab";
        assert_eq!(
            s.scrub(text),
            "bad token REDACTED in ?t=REDACTED, ab",
            "{}",
            s.scrub(text)
        );
    }
}
