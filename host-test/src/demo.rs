//! The main job on an embedded default: the guide's three directory
//! workflows, run by the real component in wasmtime against a local GitBook
//! stand-in, each step printed with GitBook's answer and the requests sent.

use crate::bindings::exports::gitbook::directory_sync::types::{
    Error, InviteRequest, MemberFilter, Removal, Role, Settings,
};
use crate::host::{component_path, Host, HostConfig};
use crate::standin::{Org, RecordedRequest, StandIn};
use anyhow::{anyhow, Context, Result};
use std::io::Write;

/// Settings for a local stand-in (plain http allowed, quick retries).
pub fn local_settings(standin: &StandIn, org: &str, token: &str) -> Settings {
    Settings {
        base_url: Some(standin.base_url()),
        organization: Some(org.to_owned()),
        token: Some(token.to_owned()),
        allow_insecure_http: Some(true),
        retry: None,
        timeouts: None,
        concurrency: None,
    }
}

/// The `host:port` of a stand-in, for the outbound allow-list.
pub fn authority(standin: &StandIn) -> String {
    standin.base_url().trim_start_matches("http://").to_owned()
}

fn describe(error: &Error) -> String {
    format!("{error:?}")
}

fn role_name(role: Option<Role>) -> &'static str {
    match role {
        None => "guest",
        Some(Role::Admin) => "admin",
        Some(Role::Create) => "create",
        Some(Role::Edit) => "edit",
        Some(Role::Review) => "review",
        Some(Role::Comment) => "comment",
        Some(Role::Read) => "read",
    }
}

fn removal_name(removal: Removal) -> &'static str {
    match removal {
        Removal::Deleted => "deleted (HTTP 205)",
        Removal::NotAMember => "was not a member (HTTP 204)",
        Removal::ApprovalRequested => "removal sent to the admins for approval (HTTP 202)",
    }
}

fn show_requests(out: &mut impl Write, requests: &[RecordedRequest]) -> Result<()> {
    for request in requests {
        let query = request.query.as_deref().map(|q| format!("?{q}")).unwrap_or_default();
        let body = if request.body.is_empty() {
            String::new()
        } else {
            format!(" {}", String::from_utf8_lossy(&request.body))
        };
        writeln!(out, "     → {} {}{query}{body}", request.method, request.path)?;
    }
    Ok(())
}

/// Runs the demo, printing to `out`.
pub fn run(out: &mut impl Write) -> Result<()> {
    let org = Org::sample();
    let (org_id, token) = (org.id.clone(), org.token.clone());
    let standin = StandIn::start(org)?;
    let wasm = component_path();
    let size = std::fs::metadata(&wasm).with_context(|| format!("the component {} is missing", wasm.display()))?.len();
    let host = Host::new(&wasm, HostConfig::allowing(authority(&standin)))?;
    let settings = local_settings(&standin, &org_id, &token);

    writeln!(out, "gitbook-directory-sync demo: the component in wasmtime, talking to a local GitBook stand-in")?;
    writeln!(out, "  component: {} ({} KB)", wasm.display(), size / 1024)?;
    writeln!(out, "  GitBook stand-in: {} (organization {org_id:?})", standin.base_url())?;

    let (members, _) = host
        .call(|store, client| client.call_list_members(store, &settings, &MemberFilter { role: None, search: None }))?;
    let members = members.map_err(|e| anyhow!("listing members failed: {}", describe(&e)))?;
    writeln!(out, "\nThe organization has {} members:", members.len())?;
    for member in &members {
        let email = member.user.email.as_deref().unwrap_or("-");
        writeln!(out, "     {:<28} {email:<24} {}", member.id, role_name(member.role))?;
    }
    let step = |out: &mut dyn Write, title: &str| -> Result<()> {
        standin.clear_requests();
        writeln!(out, "\n{title}")?;
        Ok(())
    };

    step(out, "1. Someone joins the directory: invite dana@acme.test (read, SSO)")?;
    let invite =
        InviteRequest { emails: vec!["Dana@Acme.test".into()], with_roles: vec![], role: Some(Role::Read), sso: true };
    let (result, _) = host.call(|store, client| client.call_invite(store, &settings, &invite))?;
    show_requests(out, &standin.requests())?;
    let result = result.map_err(|e| anyhow!("invite failed: {}", describe(&e)))?;
    writeln!(
        out,
        "     ← GitBook: users {:?}, invited {}, failedSSOEmails {:?} (save the ID in the directory)",
        result.user_ids, result.invited, result.failed_sso_emails
    )?;
    let dana_id = result.user_ids.first().cloned().context("GitBook returned no user ID")?;

    let team = standin.teams().into_iter().next().context("the sample organization has no team")?;
    step(out, &format!("2. A group changes: team {:?} gains dana@acme.test and loses bob@acme.test", team.title))?;
    let (result, _) = host.call(|store, client| {
        client.call_update_team_members(
            store,
            &settings,
            &team.id,
            &["dana@acme.test".into()],
            &["bob@acme.test".into()],
        )
    })?;
    show_requests(out, &standin.requests())?;
    result.map_err(|e| anyhow!("team update failed: {}", describe(&e)))?;
    writeln!(
        out,
        "     ← GitBook: 204, team {:?} now has {} members",
        team.title,
        standin.team_member_ids(&team.id).len()
    )?;

    step(out, "3. Someone leaves: remove dana by the GitBook ID saved at step 1")?;
    let (result, _) = host.call(|store, client| client.call_remove_member(store, &settings, &dana_id))?;
    show_requests(out, &standin.requests())?;
    let removal = result.map_err(|e| anyhow!("removal failed: {}", describe(&e)))?;
    writeln!(out, "     ← GitBook: {}", removal_name(removal))?;

    step(out, "4. Someone leaves whose ID was never saved: remove carol@acme.test by email")?;
    let (result, _) =
        host.call(|store, client| client.call_remove_member_by_email(store, &settings, "carol@acme.test"))?;
    show_requests(out, &standin.requests())?;
    let removal = result.map_err(|e| anyhow!("removal by email failed: {}", describe(&e)))?;
    let user = removal.user_id.as_deref().unwrap_or("-");
    writeln!(out, "     ← GitBook: {} (user {user})", removal_name(removal.outcome))?;

    writeln!(out, "\nDone: the organization now has {} members.", standin.members().len())?;
    Ok(())
}
