//! The preflight: the right workspace, nobody notified, and a live workspace refused unless
//! forced, as Intercom's own migration process advises (../shared/seeds: "make sure all
//! workflows that would act upon conversations have an exception in the trigger rules for
//! 'Created via API' or are temporarily turned off"; notifications go out "unless you are not
//! live in the workspace").

use deskmove_core::connector::Preflight;
use serde_json::Value;

use super::api::{Api, id_of, marker_of};
use super::{TargetError, TargetOptions};

pub(crate) async fn run(api: &Api, options: &TargetOptions) -> Result<Preflight, TargetError> {
    let mut pre = Preflight::default();
    let me = api.get("me").await?;
    let code = me.pointer("/app/id_code").and_then(Value::as_str);
    if let Some(code) = code
        && code != options.workspace_id
    {
        pre.refusals.push(format!(
            "The token belongs to workspace `{code}`, not to `workspace_id = \"{}\"` of [target]; set the workspace the token is for.",
            options.workspace_id
        ));
    }
    if let Some(email) = &options.fallback_admin {
        let admins = api.get("admins").await?;
        let found = admins["admins"].as_array().into_iter().flatten().any(|a| {
            a["email"]
                .as_str()
                .is_some_and(|e| e.eq_ignore_ascii_case(email.trim()))
        });
        if !found {
            pre.refusals.push(format!(
                "[target] `fallback_admin = \"{email}\"` is not a teammate of this workspace; name one (Settings > Teammates)."
            ));
        }
    } else if id_of(&me).is_none() {
        pre.refusals.push(
            "`GET /me` named no teammate for the token; set [target] `fallback_admin`.".into(),
        );
    }
    pre.neutralised.push(
        "Conversations are started in-app by their contact (never by email or an outbound message), and every teammate reply is sent with skip_notifications: no customer is notified.".into(),
    );
    pre.warnings.push(
        "Workflows that act on new conversations or replies still run on imported ones: give them an exception for \"Created via API\" or turn them off during the import (Settings > Workflows).".into(),
    );
    // A workspace that is not live yet has no customer conversation but those deskmove wrote.
    let recent = api.get("conversations?per_page=20").await?;
    // Once deskmove has begun (its marker attribute exists), an unmarked conversation that
    // started before then is one an interrupted import created and could not mark yet: the
    // history it writes is older than the attribute, and a customer's new one is not.
    let attributes = api.get("conversations/attributes").await?;
    let since = attributes["data"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|a| a["name"].as_str() == Some(super::MARKER_ATTRIBUTE))
        .and_then(|a| a["created_at"].as_i64());
    let theirs = recent["conversations"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|c| marker_of(c).is_none())
        .any(|c| since.is_none_or(|s| c["created_at"].as_i64().is_none_or(|at| at >= s)));
    if theirs {
        let why = "The workspace is live: it holds customers' conversations deskmove did not write, and imported history would reach its workflows, reports and inboxes. Import into a workspace that is not live yet (Intercom's own advice), or pass --force.".to_owned();
        if options.force {
            pre.warnings.push(format!("{why} (forced)"));
        } else {
            pre.refusals.push(why);
        }
    }
    Ok(pre)
}
