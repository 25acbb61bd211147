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

/// Query parameter names that are part of a pre-signed URL's signature (S3, CloudFront, GCS,
/// Azure, CDN tokens) without being secret-looking on their own; redacted in URLs only, since
/// some (`Expires`) are ordinary response headers.
const SIGNED_URL_PARAMS: &[&str] = &[
    "expires",
    "x-amz-expires",
    "x-amz-date",
    "x-goog-expires",
    "x-goog-date",
    "policy",
    "key-pair-id",
    "se",
    "sp",
    "sv",
    "sr",
    "st",
];

/// Path segments after which the next segment is a secret, as in download URLs shaped
/// `/attachments/token/<token>/`.
const SECRET_PATH_MARKERS: &[&str] = &["token", "tokens"];

/// Header names that carry credentials (compared case-insensitively), beyond those matched by
/// [`SECRET_NAME_PARTS`].
const SECRET_HEADERS: &[&str] = &["cookie", "set-cookie", "x-api-key", "api_access_token"];

fn is_secret_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    SECRET_PARAMS_EXACT.contains(&lower.as_str())
        || SECRET_NAME_PARTS.iter().any(|part| lower.contains(part))
}

/// Whether a query parameter of this name carries a secret (`access_token`, `api_key`,
/// `signature`, `X-Amz-Signature`, `X-Amz-Credential`, `sig`, `Expires`, ...).
pub fn is_secret_param(name: &str) -> bool {
    is_secret_name(name) || SIGNED_URL_PARAMS.contains(&name.to_ascii_lowercase().as_str())
}

/// Whether a header of this name carries credentials (`Authorization`, `Cookie`,
/// `api_access_token`, `X-Api-Key`, ...).
pub fn is_secret_header(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    SECRET_HEADERS.contains(&lower.as_str()) || is_secret_name(&lower)
}

/// The URL as it may be printed: user and password, secret-bearing query values, a path segment
/// after `/token/`, and the fragment are replaced by `REDACTED`; everything else is kept so the
/// message still says what was called.
pub fn redact_url(url: &Url) -> String {
    let mut out = url.clone();
    if let Some(segments) = url.path_segments() {
        let mut after_marker = false;
        let mut changed = false;
        let redacted: Vec<&str> = segments
            .map(|seg| {
                let keep = if after_marker && !seg.is_empty() {
                    changed = true;
                    REDACTED
                } else {
                    seg
                };
                after_marker = SECRET_PATH_MARKERS.contains(&seg.to_ascii_lowercase().as_str());
                keep
            })
            .collect();
        if changed {
            // The segments are already percent-encoded; joining them keeps them as they were.
            out.set_path(&redacted.join("/"));
        }
    }
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
    fn signed_download_urls_lose_their_signature() {
        let s3 = r(
            "https://bucket.s3.amazonaws.com/att/f.pdf?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIA123%2F20260101%2Fus-east-1&X-Amz-Date=20260101T000000Z&X-Amz-Expires=300&X-Amz-Security-Token=tok9&X-Amz-SignedHeaders=host&X-Amz-Signature=ab12",
        );
        for leak in ["AKIA123", "20260101T000000Z", "tok9", "ab12", "=300"] {
            assert!(!s3.contains(leak), "{leak} in {s3}");
        }
        assert!(s3.contains("X-Amz-Algorithm=AWS4-HMAC-SHA256"), "{s3}");
        assert!(s3.contains("X-Amz-SignedHeaders=host"), "{s3}");

        let cloudfront =
            r("https://d1.cloudfront.net/f.png?Expires=1767225600&Signature=Zm9v~&Key-Pair-Id=K2J");
        assert_eq!(
            cloudfront,
            "https://d1.cloudfront.net/f.png?Expires=REDACTED&Signature=REDACTED&Key-Pair-Id=REDACTED"
        );
        let intercom = r(
            "https://acme.intercom-attachments-7.com/i/o/123/abc/f.png?expires=1767225600&signature=deadbeef&req=dSgl",
        );
        assert_eq!(
            intercom,
            "https://acme.intercom-attachments-7.com/i/o/123/abc/f.png?expires=REDACTED&signature=REDACTED&req=dSgl"
        );
        let azure = r("https://a.blob.core.windows.net/c/f?sv=2024&se=2026&sr=b&sp=r&sig=c2ln");
        assert!(
            !azure.contains("c2ln") && !azure.contains("se=2026"),
            "{azure}"
        );
        let gcs = r(
            "https://storage.googleapis.com/b/f?X-Goog-Credential=svc%40p&X-Goog-Signature=99&token=t0k",
        );
        for leak in ["svc", "99", "t0k"] {
            assert!(!gcs.contains(leak), "{leak} in {gcs}");
        }
        // Expires is also an ordinary response header: not a secret there.
        assert!(!is_secret_header("Expires"));
    }

    #[test]
    fn a_token_in_the_path_is_replaced() {
        assert_eq!(
            r("https://acme.zendesk.com/attachments/token/Xy7Qz9/?name=f.pdf"),
            "https://acme.zendesk.com/attachments/token/REDACTED/?name=f.pdf"
        );
        assert_eq!(
            r("https://h.example.com/oauth/token"),
            "https://h.example.com/oauth/token"
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
