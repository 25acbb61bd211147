//! Email normalisation: golden cases and properties.

use deskmove_core::normalize::email::{self, EmailIssueCode};
use deskmove_core::{RecordKind, SourceKey};
use proptest::prelude::*;

#[test]
fn golden_cases() {
    let cases: &[(&str, Option<&str>)] = &[
        ("jane@example.com", Some("jane@example.com")),
        (
            "  Jane.Doe+Support@Example.COM \n",
            Some("jane.doe+support@example.com"),
        ),
        ("\u{200B}ops@acme.io\u{FEFF}", Some("ops@acme.io")),
        // IDNA: the domain becomes Punycode; the local part keeps its (lower-cased) Unicode.
        ("Jürgen@Bücher.DE", Some("jürgen@xn--bcher-kva.de")),
        ("info@例え.jp", Some("info@xn--r8jz45g.jp")),
        // NFC: a decomposed "é" (e + U+0301) becomes the composed one.
        ("rene\u{301}@example.fr", Some("ren\u{e9}@example.fr")),
        // Never stripped: dots and +tags are part of the mailbox.
        ("first.last+tag@gmail.com", Some("first.last+tag@gmail.com")),
        ("no-at-sign.example.com", None),
        ("@example.com", None),
        ("jane@", None),
        ("jane@localhost", None),
        ("jane@[127.0.0.1]", None),
        ("Jane Doe <jane@example.com>", None),
        ("jane doe@example.com", None),
        ("jane@exa mple.com", None),
        ("jane@-example-.com", None),
    ];
    for (input, expected) in cases {
        let normalized = email::normalize(input);
        assert_eq!(normalized.original, *input);
        assert_eq!(normalized.value.as_deref(), *expected, "input {input:?}");
        assert_eq!(
            normalized.issue.is_some(),
            expected.is_none(),
            "input {input:?}"
        );
        if expected.is_none() {
            assert_eq!(
                normalized.issue.unwrap().code,
                EmailIssueCode::InvalidEmail,
                "input {input:?}"
            );
        }
    }
}

#[test]
fn empty_is_its_own_problem_with_a_stable_code() {
    for input in ["", "   ", "\t\n", "\u{200B}"] {
        let normalized = email::normalize(input);
        assert_eq!(normalized.value, None);
        let issue = normalized.issue.clone().unwrap();
        assert_eq!(issue.code.as_str(), "empty_email");
        let key = SourceKey::new("intercom", RecordKind::Contact, "c1");
        let problem = normalized.problem(&key).unwrap();
        assert_eq!(problem.code, "empty_email");
        assert_eq!(problem.key, key);
    }
    let invalid = email::normalize("nope").issue.unwrap();
    assert_eq!(invalid.code.as_str(), "invalid_email");
    assert!(
        !invalid.reason.contains("nope"),
        "reasons never repeat the address"
    );
    assert!(
        email::normalize("ok@example.com")
            .problem(&SourceKey::new("intercom", RecordKind::Contact, "c2"))
            .is_none()
    );
}

proptest! {
    #[test]
    fn never_panics_and_keeps_the_original(input in "\\PC{0,40}") {
        let normalized = email::normalize(&input);
        prop_assert_eq!(&normalized.original, &input);
        prop_assert!(normalized.value.is_some() != normalized.issue.is_some());
    }

    #[test]
    fn valid_addresses_are_idempotent_lower_case_ascii_domain(
        local in "[A-Za-z0-9][A-Za-z0-9._+-]{0,15}[A-Za-z0-9]",
        label in "[A-Za-z0-9]{1,10}",
        tld in "[A-Za-z]{2,6}",
        pad in "[ \t]{0,3}",
    ) {
        prop_assume!(!local.contains(".."));
        let input = format!("{pad}{local}@{label}.{tld}{pad}");
        let normalized = email::normalize(&input);
        let value = normalized.value.clone().unwrap();
        prop_assert_eq!(&value, &format!("{}@{}.{}", local.to_lowercase(), label.to_lowercase(), tld.to_lowercase()));
        // Normalising a normalised value changes nothing.
        prop_assert_eq!(email::normalize(&value).value, Some(value.clone()));
        // +tags and dots survive.
        prop_assert_eq!(value.matches('+').count(), local.matches('+').count());
        prop_assert_eq!(value.matches('.').count(), local.matches('.').count() + 1);
    }
}
