//! What the command line prints: text for people, or exactly one JSON
//! document with stable field names for machines.

use super::Console;
use crate::gitbook::model::{InviteResult, Member, Removal};
use crate::gitbook::ops::Invite;
use crate::role::{role_or_guest_name, Role};
use crate::sync::events::{EventResult, Status};
use crate::sync::reconcile::{Outcome, Plan, Report};
use crate::validate::{GitBookId, MemberRef};
use serde_json::json;

pub struct Printer<'c, C: Console> {
    pub console: &'c mut C,
    pub json: bool,
}

fn removal_code(removal: Removal) -> &'static str {
    match removal {
        Removal::Deleted => "deleted",
        Removal::NotAMember => "not-a-member",
        Removal::ApprovalRequested => "approval-requested",
    }
}

impl<C: Console> Printer<'_, C> {
    fn document(&mut self, value: serde_json::Value) {
        self.console.out(&format!("{value}\n"));
    }

    pub fn invite(&mut self, invite: &Invite, result: &InviteResult) {
        if self.json {
            return self.document(json!({
                "userIds": result.user_ids,
                "invited": result.invited,
                "failedSsoEmails": result.failed_sso_emails,
            }));
        }
        let mut text = format!(
            "Invited {} (as {}{}): GitBook added {}.\n",
            plural(invite.emails.len(), "person", "people"),
            role_or_guest_name(invite.default_role),
            if invite.sso { ", SSO" } else { "" },
            result.invited
        );
        if result.user_ids.len() == invite.emails.len() {
            for (email, id) in invite.emails.iter().zip(&result.user_ids) {
                text.push_str(&format!("  {email}  {id}\n"));
            }
        } else {
            text.push_str(&format!("  user IDs: {}\n", result.user_ids.join(", ")));
        }
        for email in &result.failed_sso_emails {
            text.push_str(&format!("  {email}: not made an SSO user (the email belongs to another organization)\n"));
        }
        self.console.out(&text);
    }

    pub fn removal(&mut self, removal: Removal, user_id: Option<&str>, email: Option<&str>) {
        if self.json {
            return self.document(json!({ "outcome": removal_code(removal), "userId": user_id, "email": email }));
        }
        let who = match (email, user_id) {
            (Some(email), Some(id)) => format!("{email} ({id})"),
            (Some(email), None) => email.to_owned(),
            (None, Some(id)) => id.to_owned(),
            (None, None) => "the member".to_owned(),
        };
        let text = match removal {
            Removal::Deleted => format!("Removed {who}.\n"),
            Removal::NotAMember => format!("{who} is not a member; nothing to remove.\n"),
            Removal::ApprovalRequested => format!("Removal of {who} sent to the organization's admins for approval.\n"),
        };
        self.console.out(&text);
    }

    pub fn team(&mut self, team: &GitBookId, add: &[MemberRef], remove: &[MemberRef]) {
        let names = |refs: &[MemberRef]| refs.iter().map(|r| r.as_str().to_owned()).collect::<Vec<_>>();
        if self.json {
            return self.document(json!({ "teamId": team.as_str(), "added": names(add), "removed": names(remove) }));
        }
        let mut text = format!("Updated team {team}: {} added, {} removed.\n", add.len(), remove.len());
        for name in names(add) {
            text.push_str(&format!("  + {name}\n"));
        }
        for name in names(remove) {
            text.push_str(&format!("  - {name}\n"));
        }
        self.console.out(&text);
    }

    pub fn list_start(&mut self) {
        if self.json {
            self.console.out("[");
        }
    }

    /// One member of a streamed list.
    pub fn list_member(&mut self, member: &Member, first: bool) {
        if self.json {
            let separator = if first { "" } else { "," };
            let value = serde_json::to_string(member).unwrap_or_else(|_| "null".to_owned());
            self.console.out(&format!("{separator}\n{value}"));
        } else {
            self.console.out(&row(member));
        }
    }

    pub fn list_end(&mut self, shown: u64, complete: bool) {
        if self.json {
            self.console.out("\n]\n");
        } else if shown == 0 && complete {
            self.console.out("No members match.\n");
        }
    }

    /// One member (or none) in full.
    pub fn member(&mut self, member: Option<&Member>) {
        if self.json {
            let value = serde_json::to_value(member).unwrap_or(serde_json::Value::Null);
            return self.document(value);
        }
        let Some(member) = member else { return };
        let text = format!(
            "id:         {}\nname:       {}\nemail:      {}\nrole:       {}\nsso:        {}\ndisabled:   {}\njoined:     {}\nteams:      {}\n",
            member.id,
            member.user.display_name,
            member.user.email.as_deref().unwrap_or("-"),
            role_or_guest_name(member.role),
            member.sso,
            member.disabled,
            member.joined_at,
            member.teams,
        );
        self.console.out(&text);
    }

    pub fn results(&mut self, results: &[EventResult]) {
        let count = |status| results.iter().filter(|r| r.status == status).count();
        let (applied, ignored, failed) = (count(Status::Applied), count(Status::Ignored), count(Status::Failed));
        if self.json {
            let items: Vec<serde_json::Value> = results
                .iter()
                .map(|r| {
                    json!({
                        "id": r.id,
                        "type": r.kind,
                        "status": r.status,
                        "detail": r.detail,
                        "error": r.error.as_ref().map(|e| e.to_json()),
                    })
                })
                .collect();
            return self
                .document(json!({ "results": items, "applied": applied, "ignored": ignored, "failed": failed }));
        }
        let mut text = String::new();
        for result in results {
            let mark = match result.status {
                Status::Applied => "applied",
                Status::Ignored => "ignored",
                Status::Failed => "FAILED ",
            };
            let id = result.id.as_deref().map(|id| format!(" {id}")).unwrap_or_default();
            text.push_str(&format!("{mark}{id} {}: {}\n", result.kind, result.detail));
        }
        text.push_str(&format!("{applied} applied, {ignored} ignored, {failed} failed\n"));
        self.console.out(&text);
    }
}

impl<C: Console> Printer<'_, C> {
    /// A reconcile plan, and the report when it was applied.
    pub fn plan(&mut self, plan: &Plan, report: Option<&Report>) {
        if self.json {
            let plan = serde_json::to_value(plan).unwrap_or_default();
            return match report {
                None => self.document(plan),
                Some(report) => {
                    let report = serde_json::to_value(report).unwrap_or_default();
                    self.document(json!({ "plan": plan, "report": report }))
                }
            };
        }
        let role = |r: Option<Role>| role_or_guest_name(r);
        let mut text = format!(
            "Plan ({:?} strategy) for {} members, {} directory users in scope:\n",
            plan.strategy, plan.summary.current_members, plan.summary.in_scope_users
        )
        .to_lowercase();
        for title in &plan.create_teams {
            text.push_str(&format!("  create team   {:?}\n", title.as_str()));
        }
        for invite in &plan.invites {
            text.push_str(&format!("  invite        {} as {}\n", invite.email, role(invite.role)));
        }
        for update in &plan.team_updates {
            let adds: Vec<&str> = update.add.iter().map(|r| r.as_str()).collect();
            let removes: Vec<String> = update.remove.iter().map(|id| id.to_string()).collect();
            text.push_str(&format!(
                "  update team   {:?}: +{} -{} {}\n",
                update.title.as_str(),
                adds.len(),
                removes.len(),
                [
                    adds.iter().map(|a| format!("+{a}")).collect::<Vec<_>>(),
                    removes.iter().map(|r| format!("-{r}")).collect()
                ]
                .concat()
                .join(" ")
            ));
        }
        for change in &plan.role_changes {
            text.push_str(&format!("  change role   {}: {} -> {}\n", change.email, role(change.from), role(change.to)));
        }
        for removal in &plan.removals {
            text.push_str(&format!("  remove        {} ({})\n", removal.email, removal.user_id));
        }
        for skipped in &plan.skipped {
            let who = skipped.email.as_deref().or(skipped.user_id.as_deref()).unwrap_or("-");
            text.push_str(&format!("  skip          {who}: {}\n", skipped.reason));
        }
        if plan.is_empty() {
            text.push_str("  nothing to change: GitBook matches the snapshot\n");
        }
        if let Some(stop) = &plan.safety {
            text.push_str(&format!(
                "SAFETY STOP: {}. Apply would be refused; review the plan, then rerun with --allow-mass-removal if it is right.\n",
                stop.reason
            ));
        }
        match report {
            None if !plan.is_empty() && plan.safety.is_none() => {
                text.push_str("Dry run: rerun with --apply to make these changes.\n")
            }
            None => {}
            Some(report) => {
                text.push_str("Applied:\n");
                for action in &report.actions {
                    let mark = match action.outcome {
                        Outcome::Ok => "ok     ",
                        Outcome::Failed => "FAILED ",
                        // Sent; whether GitBook carried it out is not known.
                        Outcome::Unknown => "UNKNOWN",
                    };
                    text.push_str(&format!("  {mark} {:?} {}: {}\n", action.kind, action.target, action.detail));
                }
                let c = &report.counts;
                let unknown = if c.unknown > 0 {
                    format!(", {} unknown (sent, outcome not known: plan again to see)", c.unknown)
                } else {
                    String::new()
                };
                text.push_str(&format!(
                    "{} ok, {} failed{unknown}, {} not attempted\n",
                    c.ok, c.failed, c.not_attempted
                ));
                if let Some(why) = &report.stopped {
                    text.push_str(&format!("Stopped early: {why}\n"));
                }
            }
        }
        self.console.out(&text);
    }
}

fn row(member: &Member) -> String {
    format!(
        "{:<28}  {:<7}  {:<3}  {:<32}  {}\n",
        member.id,
        role_or_guest_name(member.role),
        if member.sso { "sso" } else { "-" },
        member.user.email.as_deref().unwrap_or("-"),
        member.user.display_name
    )
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}
