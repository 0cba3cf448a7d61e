//! The directory-sync guide's three workflows as one Obelisk workflow (see
//! `wit/world.wit`). Each `client` call is an activity execution: Obelisk
//! runs the gitbook-directory-sync component for it, persists the result,
//! and on replay hands the persisted result back instead of calling again.
//!
//! The workflow is deterministic, as Obelisk requires: no clock, no
//! randomness, no I/O of its own; it only decides what to call next from
//! what the previous calls returned.
#![cfg(target_arch = "wasm32")]

wit_bindgen::generate!({
    path: ["../../../wit", "wit"],
    world: "gitbook:directory-sync-guide/guide-workflow",
    generate_all,
});

use exports::gitbook::directory_sync_guide::guide::{Guest, Outcome, StepFailed};
use gitbook::directory_sync::client;
use gitbook::directory_sync::types::{InviteRequest, Role, Settings};

struct Workflow;

impl Guest for Workflow {
    fn join_team_leave(email: String, team_id: String) -> Result<Outcome, StepFailed> {
        let settings = from_deployment();

        // 1. Someone joins: invite them and keep the ID GitBook returns.
        let request = InviteRequest { emails: vec![email], with_roles: Vec::new(), role: Some(Role::Read), sso: true };
        let invited = client::invite(&settings, &request).map_err(StepFailed::Invite)?;
        let user_id = invited.user_ids.into_iter().next().ok_or(StepFailed::NoUserId)?;

        // 2. Their group maps to a team: add them by that ID.
        client::update_team_members(&settings, &team_id, &[user_id.clone()], &[]).map_err(StepFailed::JoinTeam)?;

        // 3. They leave: remove them by the kept ID.
        let removal = client::remove_member(&settings, &user_id).map_err(StepFailed::Leave)?;

        Ok(Outcome { user_id, invited: invited.invited, removal })
    }
}

/// Every field `none`: the activity takes the API URL, organization and
/// token from its deployment (`GITBOOK_API_URL`, `GITBOOK_ORG`, and the
/// `GITBOOK_TOKEN` secret), so no connection detail, and above all no token,
/// is written into the workflow's persisted parameters and calls.
fn from_deployment() -> Settings {
    Settings { base_url: None, organization: None, token: None, allow_insecure_http: None, retry: None, timeouts: None }
}

export!(Workflow);
