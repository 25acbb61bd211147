//! Secrets never reach logs or errors, and credentials never reach another host.

use std::time::Duration;

use crate::support::{Reply, Vendor, captured, fast_policy};
use deskmove_core::{Classify, ErrorKind};
use deskmove_http::reqwest::header::HeaderName;
use deskmove_http::{Failure, HostPolicy, HttpError, PoliteClient};
use secrecy::SecretString;

const HEADER_TOKEN: &str = "dmtok_Hx9f8e7d6c5b4a3";
const QUERY_TOKEN: &str = "dmqry_Q1w2e3r4t5y6";

fn client(v: &Vendor, policy: HostPolicy) -> PoliteClient {
    PoliteClient::builder(&v.base(), policy)
        .credential_header(
            HeaderName::from_static("api_access_token"),
            &SecretString::from(HEADER_TOKEN),
        )
        .build()
        .unwrap()
}

fn assert_clean(what: &str, text: &str) {
    for secret in [HEADER_TOKEN, QUERY_TOKEN] {
        assert!(!text.contains(secret), "{what} leaks a token: {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_token_in_any_log_line_or_error() {
    let log = captured();
    let v = Vendor::start().await;
    let other = Vendor::start().await;
    let c = client(
        &v,
        HostPolicy {
            request_timeout: Duration::from_millis(200),
            max_attempts: 2,
            ..fast_policy()
        },
    );
    let q = [("access_token", QUERY_TOKEN), ("page", "2")];
    let mut errors: Vec<HttpError> = Vec::new();

    // A 500 then success, token in header and query.
    v.script([Reply::Status(500, vec![], "oops")]);
    let ok = c.send(c.get("contacts").query(&q)).await.unwrap();
    assert_clean("response Debug", &format!("{ok:?}"));
    // The vendor echoes the token back in its 401 message.
    v.script([Reply::Status(
        401,
        vec![],
        r#"{"errors":[{"code":"unauthorized","message":"Access Token Invalid: dmtok_Hx9f8e7d6c5b4a3"}]}"#,
    )]);
    errors.push(c.send(c.get("me").query(&q)).await.unwrap_err());
    // A stall until exhaustion.
    v.script([Reply::Stall, Reply::Stall]);
    errors.push(c.send(c.get("slow").query(&q)).await.unwrap_err());
    // A reset connection.
    v.reset_next_connections(2);
    errors.push(c.send(c.get("reset").query(&q)).await.unwrap_err());
    // A body that does not fit, containing the token as a value.
    v.script([Reply::Status(200, vec![], r#"{"id":"dmqry_Q1w2e3r4t5y6"}"#)]);
    let body = c.send(c.get("typed").query(&q)).await.unwrap();
    #[derive(serde::Deserialize, Debug)]
    #[allow(dead_code)]
    struct Typed {
        id: u64,
    }
    let c_scrub = PoliteClient::builder(&v.base(), fast_policy())
        .redact_value(&SecretString::from(QUERY_TOKEN))
        .build()
        .unwrap();
    v.script([Reply::Status(200, vec![], r#"{"id":"dmqry_Q1w2e3r4t5y6"}"#)]);
    let scrubbed = c_scrub.send(c_scrub.get("typed")).await.unwrap();
    errors.push(scrubbed.json::<Typed>().unwrap_err());
    drop(body);
    // Another host, with the token in the query.
    errors.push(
        c.send(c.get(&format!("{}steal", other.base())).query(&q))
            .await
            .unwrap_err(),
    );

    // The tokens were really in use (c_scrub's one call carries no credentials).
    let with_query: Vec<_> = v
        .hits()
        .into_iter()
        .filter(|h| h.uri.contains(QUERY_TOKEN))
        .collect();
    assert!(with_query.len() >= 5, "{}", with_query.len());
    assert!(
        with_query
            .iter()
            .all(|h| h.headers["api_access_token"] == HEADER_TOKEN)
    );
    assert_eq!(other.hits().len(), 0);
    assert_eq!(errors.len(), 5);
    for e in &errors {
        assert_clean("error Display", &e.to_string());
        assert_clean("error Debug", &format!("{e:?}"));
    }
    assert_clean("client Debug", &format!("{c:?}"));

    let text = String::from_utf8(log.lock().unwrap().clone()).unwrap();
    // The capture works and covers the calls: otherwise the check below proves nothing.
    assert!(text.contains("retrying"), "{text}");
    assert!(text.contains("access_token=REDACTED"), "{text}");
    for line in text.lines() {
        assert_clean("log line", line);
    }
}

#[tokio::test]
async fn requests_to_another_host_are_refused() {
    let a = Vendor::start().await;
    let b = Vendor::start().await;
    let c = client(&a, fast_policy());

    let e = c
        .send(c.get(&format!("{}contacts", b.base())))
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    assert_eq!(e.failure(), Failure::ForeignHost);
    assert!(e.to_string().contains("bound to"), "{e}");
    assert_eq!(b.hits().len(), 0, "nothing may reach the other host");
    assert_eq!(a.hits().len(), 0);
}

#[tokio::test]
async fn redirects_are_followed_on_the_same_host_only() {
    let a = Vendor::start().await;
    let b = Vendor::start().await;
    let c = client(&a, fast_policy());

    a.script([Reply::Status(302, vec![("location", "/moved".into())], "")]);
    let r = c.send(c.get("old")).await.unwrap();
    assert_eq!(r.status(), 200);
    let hits = a.hits();
    assert_eq!(hits.len(), 2);
    assert_eq!(hits[1].uri, "/moved");

    a.script([Reply::Status(
        307,
        vec![("location", format!("{}grab", b.base()))],
        "",
    )]);
    let e = c.send(c.get("elsewhere")).await.unwrap_err();
    assert_eq!(e.failure(), Failure::ForeignRedirect);
    assert_eq!(e.kind(), ErrorKind::Config);
    assert_eq!(e.attempt_count(), 1);
    assert_eq!(b.hits().len(), 0, "the redirect must not be followed");
}

#[tokio::test]
async fn a_redirect_loop_is_a_protocol_error_and_not_retried() {
    let a = Vendor::start().await;
    a.fallback(|_| Reply::Status(302, vec![("location", "/again".into())], ""));
    let c = client(&a, fast_policy());

    let e = c.send(c.get("loop")).await.unwrap_err();
    assert_eq!(e.failure(), Failure::RedirectLoop);
    assert_eq!(e.kind(), ErrorKind::Protocol);
    assert_eq!(e.attempt_count(), 1);
    assert_eq!(a.hits().len(), 10, "ten requests in all, then it stops");
}

#[test]
fn bad_setup_is_a_config_error_that_names_no_secret() {
    for base in ["not a url", "ftp://files.example.com/", "mailto:a@b.c"] {
        let e = PoliteClient::builder(base, fast_policy())
            .build()
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Config, "{base}: {e}");
    }
    let bad_token = "dmtok_bad\nvalue";
    let e = PoliteClient::builder("https://api.example.com/", fast_policy())
        .credential_header(
            HeaderName::from_static("api_access_token"),
            &SecretString::from(bad_token),
        )
        .build()
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Config);
    assert!(!format!("{e} {e:?}").contains("dmtok_bad"), "{e}");
    let zero_budget = HostPolicy {
        calls_per_minute: 0,
        ..fast_policy()
    };
    let e = PoliteClient::builder("https://api.example.com/", zero_budget)
        .build()
        .unwrap_err();
    assert!(e.to_string().contains("calls_per_minute"), "{e}");
}
