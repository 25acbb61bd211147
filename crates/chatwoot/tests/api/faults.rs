//! Faults on the wire (5xx, connection resets, 429 storms) end with the same account as a
//! clean run: nothing lost, nothing doubled.

use deskmove_chatwoot_sandbox::SandboxArgs;
use deskmove_sandbox::Sandbox;
use deskmove_synth::{World, WorldConfig};

use crate::end_to_end::{assert_matches_world, assert_no_side_effects, records};
use crate::support;

#[tokio::test]
async fn five_percent_5xx_resets_and_storms_lose_nothing() {
    let sandbox = support::sandbox(SandboxArgs {
        faults: "5xx=0.05,reset=0.02,storm=0.02".parse().unwrap(),
        ..support::quiet_args()
    })
    .await;
    let world = World::new(WorldConfig::new(9, 10, 13));
    support::seed_agents(&sandbox, &world).await;
    let staged = support::staging();
    support::stage(&staged, &records(&world, &staged).await).await;
    let target = support::target(&sandbox, &staged.blobs);
    support::load_all(&staged, &target, &sandbox, 30).await;
    let stats: serde_json::Value = {
        let url = sandbox.base_url().join("__sandbox/stats").unwrap();
        deskmove_http::reqwest::get(url)
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    };
    assert!(stats["faults_injected"].as_u64().unwrap() > 10, "{stats}");
    let dump = sandbox.inspect();
    assert_matches_world(&dump, &world);
    assert_no_side_effects(&dump);
}
