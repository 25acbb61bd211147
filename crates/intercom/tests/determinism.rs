//! Two sandboxes with the same seed serve byte-identical responses.

mod common;

use common::{args, start};
use deskmove_intercom::sandbox::{RunningSandbox, SandboxArgs};

const PATHS: &[(&str, &str)] = &[
    ("GET", "/admins"),
    ("GET", "/teams"),
    ("GET", "/tags"),
    ("GET", "/data_attributes"),
    ("GET", "/contacts?per_page=50"),
    ("GET", "/conversations?per_page=50"),
    ("GET", "/conversations/100000007"),
    ("GET", "/conversations/100000003?display_as=plaintext"),
    ("POST", "/companies/list?per_page=20"),
    ("GET", "/companies/scroll"),
    ("GET", "/macros"),
    ("GET", "/articles"),
    ("GET", "/help_center/collections"),
    ("POST", "/tickets/search"),
    ("POST", "/contacts/search"),
    ("GET", "/conversations/999"),
    ("GET", "/__sandbox/expected"),
];

async fn capture(sb: &RunningSandbox) -> Vec<(u16, Vec<(String, String)>, Vec<u8>)> {
    let http = reqwest::Client::new();
    let mut out = Vec::new();
    for (method, path) in PATHS {
        let url = sb.base_url().join(path.trim_start_matches('/')).unwrap();
        let req = if *method == "GET" {
            http.get(url)
        } else {
            http.post(url).json(&serde_json::json!({}))
        };
        let r = req.bearer_auth(sb.token()).send().await.unwrap();
        let status = r.status().as_u16();
        let mut headers: Vec<(String, String)> = r
            .headers()
            .iter()
            .filter(|(k, _)| k.as_str() != "date")
            .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("").to_string()))
            .collect();
        headers.sort();
        out.push((status, headers, r.bytes().await.unwrap().to_vec()));
    }
    out
}

#[tokio::test]
async fn same_seed_same_bytes() {
    let base = SandboxArgs {
        rate_limit: 10_000,
        frozen_clock: Some(1_800_000_000),
        ..args(1_000, 200)
    };
    let a = start(base.clone()).await;
    let (port, files_port) = (a.base_url().port().unwrap(), a.files_url().port().unwrap());
    let first = capture(&a).await;
    a.shutdown().await;
    // Same ports, because signed attachment URLs embed the file host's address.
    let b = start(SandboxArgs {
        port,
        files_port,
        ..base.clone()
    })
    .await;
    let second = capture(&b).await;
    b.shutdown().await;
    assert_eq!(first.len(), second.len());
    for (i, (x, y)) in first.iter().zip(&second).enumerate() {
        assert_eq!(x, y, "{} {} differs", PATHS[i].0, PATHS[i].1);
    }
    assert!(
        first[6].2.len() > 10_000,
        "the giant conversation is really rendered"
    );
    // A different seed gives a different world.
    let c = start(SandboxArgs {
        seed: 43,
        port,
        files_port,
        ..base
    })
    .await;
    let third = capture(&c).await;
    c.shutdown().await;
    assert_ne!(first[5].2, third[5].2);
}
