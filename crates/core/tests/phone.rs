//! Phone normalisation: golden cases against libphonenumber metadata, and properties.

use deskmove_core::normalize::phone::{PhoneIssueCode, PhoneNormalizer};
use proptest::prelude::*;

fn us() -> PhoneNormalizer {
    PhoneNormalizer::new(Some("us")).unwrap()
}

#[test]
fn golden_cases_with_us_default() {
    let cases: &[(&str, Option<&str>, Option<&str>)] = &[
        ("(415) 555-0132", Some("+14155550132"), None),
        ("415.555.0132", Some("+14155550132"), None),
        ("+1 415-555-0132", Some("+14155550132"), None),
        ("+44 20 7946 0958", Some("+442079460958"), None),
        // "00" as the international prefix, although the US dials 011.
        ("0049 30 1234567", Some("+49301234567"), None),
        ("011 49 30 1234567", Some("+49301234567"), None),
        ("(415) 555-0132 ext. 7", Some("+14155550132"), Some("7")),
        (
            "tel:+1-415-555-0132;ext=22",
            Some("+14155550132"),
            Some("22"),
        ),
        // Seven digits are not a US number without an area code.
        ("555-0132 ext. 7", None, None),
        ("call me maybe", None, None),
        ("12345", None, None),
        ("+999 123 456", None, None),
        ("n/a", None, None),
    ];
    for (input, e164, extension) in cases {
        let normalized = us().normalize(input);
        assert_eq!(normalized.original, *input);
        assert_eq!(normalized.e164.as_deref(), *e164, "input {input:?}");
        assert_eq!(
            normalized.extension.as_deref(),
            *extension,
            "input {input:?}"
        );
        if e164.is_none() {
            let issue = normalized.issue.unwrap();
            assert_eq!(
                issue.code,
                PhoneIssueCode::UnparseablePhone,
                "input {input:?}"
            );
            assert_eq!(issue.code.as_str(), "unparseable_phone");
            assert!(
                !issue.reason.contains(input),
                "reasons never repeat the number"
            );
        } else {
            assert_eq!(normalized.issue, None, "input {input:?}");
        }
    }
}

#[test]
fn the_default_region_decides_national_numbers() {
    let de = PhoneNormalizer::new(Some("DE")).unwrap();
    assert_eq!(
        de.normalize("030 1234567").e164.as_deref(),
        Some("+49301234567")
    );
    assert_eq!(de.region(), Some("DE"));
    let gb = PhoneNormalizer::new(Some("GB")).unwrap();
    assert_eq!(
        gb.normalize("020 7946 0958").e164.as_deref(),
        Some("+442079460958")
    );
    // Without a region only international numbers can be read.
    let none = PhoneNormalizer::new(None).unwrap();
    assert_eq!(
        none.normalize("+44 20 7946 0958").e164.as_deref(),
        Some("+442079460958")
    );
    let national = none.normalize("(415) 555-0132");
    assert_eq!(national.e164, None);
    assert!(national.issue.unwrap().reason.contains("no default region"));
}

#[test]
fn unknown_region_is_a_config_error() {
    let error = PhoneNormalizer::new(Some("XX")).unwrap_err();
    assert!(error.to_string().contains("ISO 3166-1"));
    use deskmove_core::Classify;
    assert_eq!(error.kind(), deskmove_core::ErrorKind::Config);
}

#[test]
fn empty_is_its_own_problem() {
    let normalized = us().normalize("  ");
    assert_eq!(normalized.issue.unwrap().code.as_str(), "empty_phone");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    /// Phone-shaped noise reaches deeper into the parser than arbitrary text does.
    #[test]
    fn phone_shaped_noise_never_panics(input in "[0-9+()\\-. xXtelEXT#*;=:/]{0,25}", region in prop::sample::select(vec!["US", "DE", "GB", "FR", "IN", "BR", "JP"])) {
        let normalized = PhoneNormalizer::new(Some(region)).unwrap().normalize(&input);
        prop_assert!(normalized.e164.is_some() != normalized.issue.is_some());
    }

    #[test]
    fn never_panics_and_keeps_the_original(input in "\\PC{0,30}") {
        let normalized = us().normalize(&input);
        prop_assert_eq!(&normalized.original, &input);
        prop_assert!(normalized.e164.is_some() != normalized.issue.is_some());
        if let Some(e164) = normalized.e164 {
            prop_assert!(e164.starts_with('+'));
            prop_assert!(e164[1..].bytes().all(|b| b.is_ascii_digit()));
            prop_assert!(e164.len() <= 16);
        }
    }

    #[test]
    fn us_numbers_in_any_layout_give_one_value(
        area in 2u32..=9, rest_area in 0u32..=99, exchange in 200u32..=999, line in 0u32..=9999,
        layout in 0usize..4,
    ) {
        let area = area * 100 + rest_area;
        let text = match layout {
            0 => format!("({area}) {exchange}-{line:04}"),
            1 => format!("{area}.{exchange}.{line:04}"),
            2 => format!("+1 {area} {exchange} {line:04}"),
            _ => format!("1-{area}-{exchange}-{line:04}"),
        };
        let normalized = us().normalize(&text);
        // Whatever the layout, a number either normalises to the same E.164 value or is refused
        // (unassigned area codes) — never to something else.
        if let Some(e164) = normalized.e164 {
            prop_assert_eq!(e164, format!("+1{area}{exchange}{line:04}"));
        }
    }
}
