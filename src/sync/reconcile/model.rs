//! The plan's vocabulary: the options a plan is made with and every step it
//! can hold. A leaf module: planning ([`super::plan()`]), the safety check,
//! the team planner and [`super::apply()`] all speak it, and it imports none
//! of them.

use super::ser;
use crate::error::Error;
use crate::role::Role;
use crate::validate::{printable, Email, GitBookId, MemberRef, TeamTitle};
use serde::Serialize;

/// How far the plan may go.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Strategy {
    /// Add only: create teams, invite, add to teams, raise roles. Nothing is
    /// removed and no role is lowered. The default, because it cannot lock
    /// anyone out.
    #[default]
    Push,
    /// Make GitBook match: also lower roles, remove people from managed
    /// teams, and remove members absent from the snapshot.
    Sync,
}

/// Planning options, with the deletion safety thresholds.
#[derive(Clone, Debug, PartialEq)]
pub struct Options {
    pub strategy: Strategy,
    /// More member removals than this is a safety stop.
    pub max_removals: usize,
    /// Removing more than this percentage of current members is a safety stop.
    pub max_removal_percent: f64,
    /// Override: apply whatever the thresholds say.
    pub allow_mass_removal: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options { strategy: Strategy::Push, max_removals: 10, max_removal_percent: 5.0, allow_mass_removal: false }
    }
}

impl Strategy {
    /// `push` or `sync`, as every way in spells it (CLI `--strategy`, the
    /// webhook's `?strategy=`); `field` names the input in the error.
    pub fn parse(field: &str, value: &str) -> Result<Strategy, Error> {
        match value {
            "push" => Ok(Strategy::Push),
            "sync" => Ok(Strategy::Sync),
            _ => Err(Error::invalid(field, format!("{} is not a strategy: use push or sync", printable(value)))),
        }
    }
}

impl Options {
    /// Checks a removal percentage (0 to 100) and returns it; every way in
    /// (CLI, webhook query, WIT options) takes it through here.
    pub fn percent(field: &str, value: f64) -> Result<f64, Error> {
        if (0.0..=100.0).contains(&value) {
            Ok(value)
        } else {
            Err(Error::invalid(field, "must be a number from 0 to 100"))
        }
    }

    /// [`Options::percent`] of a text value.
    pub fn parse_percent(field: &str, value: &str) -> Result<f64, Error> {
        let number =
            value.trim().parse::<f64>().map_err(|_| Error::invalid(field, "must be a number from 0 to 100"))?;
        Options::percent(field, number)
    }
}

/// Someone to invite, with their resolved role (`null`: guest).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PlannedInvite {
    #[serde(serialize_with = "ser::display")]
    pub email: Email,
    pub role: Option<Role>,
}

/// A member whose role must change (`null`: guest).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RoleChange {
    #[serde(serialize_with = "ser::display")]
    pub user_id: GitBookId,
    #[serde(serialize_with = "ser::display")]
    pub email: Email,
    pub from: Option<Role>,
    pub to: Option<Role>,
}

/// One request's worth of change to a managed team.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TeamUpdate {
    #[serde(serialize_with = "ser::title")]
    pub title: TeamTitle,
    /// `None` for a team this plan creates.
    #[serde(serialize_with = "ser::option_display")]
    pub team_id: Option<GitBookId>,
    /// Member IDs, or emails of people invited by this plan.
    #[serde(serialize_with = "ser::refs")]
    pub add: Vec<MemberRef>,
    #[serde(serialize_with = "ser::ids")]
    pub remove: Vec<GitBookId>,
}

/// A member to remove from the organization.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlannedRemoval {
    #[serde(serialize_with = "ser::display")]
    pub user_id: GitBookId,
    #[serde(serialize_with = "ser::display")]
    pub email: Email,
}

/// What a skipped entry would have been.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SkipKind {
    /// A removal refused by protection.
    Removal,
    /// A lowered role refused by protection.
    Demotion,
    /// A member that cannot be matched to the directory safely.
    Member,
    /// A managed team that cannot be used.
    Team,
}

/// Something the plan deliberately does not do, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Skipped {
    pub kind: SkipKind,
    pub user_id: Option<String>,
    pub email: Option<String>,
    pub reason: String,
}

/// The plan's size, and the sizes the safety checks compared.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub current_members: usize,
    pub snapshot_users: usize,
    pub in_scope_users: usize,
    pub create_teams: usize,
    pub invites: usize,
    pub role_changes: usize,
    pub team_updates: usize,
    pub team_additions: usize,
    pub team_removals: usize,
    pub removals: usize,
    pub skipped: usize,
}

/// Everything that must change, in the order [`apply`](super::apply()) does it.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Plan {
    pub strategy: Strategy,
    /// The snapshot's default role, sent as the invite batches' default
    /// (every invitee also carries their own role).
    pub default_role: Option<Role>,
    #[serde(serialize_with = "ser::titles")]
    pub create_teams: Vec<TeamTitle>,
    pub invites: Vec<PlannedInvite>,
    pub team_updates: Vec<TeamUpdate>,
    pub role_changes: Vec<RoleChange>,
    pub removals: Vec<PlannedRemoval>,
    pub skipped: Vec<Skipped>,
    /// Set when the removals look like a mistake; apply then refuses.
    pub safety: Option<SafetyStop>,
    pub summary: Summary,
}

impl Plan {
    /// Refuses a step the plan's own strategy does not allow: under
    /// [`Strategy::Push`], a member removal, a removal from a team or a
    /// lowered role. [`plan()`](super::plan()) never makes one; a plan
    /// edited or built by a caller might, and push promises never to delete.
    pub fn check_strategy(&self) -> Result<(), Error> {
        if self.strategy == Strategy::Sync {
            return Ok(());
        }
        let refuse = |field: String, what: &str| {
            Err(Error::invalid(
                field,
                format!("{what}, which the push strategy never does; plan with the sync strategy to allow it"),
            ))
        };
        if !self.removals.is_empty() {
            return refuse("plan.removals[0]".into(), "removes a member");
        }
        if let Some(i) = self.team_updates.iter().position(|u| !u.remove.is_empty()) {
            return refuse(format!("plan.team-updates[{i}].remove[0]"), "removes someone from a team");
        }
        // Option<Role> orders guest (None) below every role.
        if let Some(i) = self.role_changes.iter().position(|c| c.to < c.from) {
            return refuse(format!("plan.role-changes[{i}]"), "lowers a role");
        }
        Ok(())
    }

    /// Refuses a plan with two steps for the same target in one stage (two
    /// creations of one title, two invites of one email, two updates of one
    /// team, two role changes or removals of one member). The steps of a
    /// stage run together, so two of them would race and the result would
    /// depend on which answer came last. [`plan()`](super::plan()) never
    /// makes one; a plan edited or built by hand may.
    pub fn check_targets(&self) -> Result<(), Error> {
        fn first_repeat(keys: impl Iterator<Item = String>) -> Option<usize> {
            let mut seen = std::collections::HashSet::new();
            keys.enumerate().find(|(_, key)| !seen.insert(key.clone())).map(|(i, _)| i)
        }
        let refuse = |stage: &str, i: usize, what: String| {
            Err(Error::invalid(
                format!("plan.{stage}[{i}]"),
                format!("{what} twice in one stage; the steps of a stage run together, so merge them into one"),
            ))
        };
        if let Some(i) = first_repeat(self.create_teams.iter().map(|t| t.key().into_string())) {
            return refuse("create-teams", i, format!("creates the team {}", printable(self.create_teams[i].as_str())));
        }
        if let Some(i) = first_repeat(self.invites.iter().map(|v| v.email.to_string())) {
            return refuse("invites", i, format!("invites {}", self.invites[i].email));
        }
        let team = |u: &TeamUpdate| match &u.team_id {
            Some(id) => format!("id:{id}"),
            None => format!("new:{}", u.title.key().into_string()),
        };
        if let Some(i) = first_repeat(self.team_updates.iter().map(team)) {
            return refuse(
                "team-updates",
                i,
                format!("updates the team {}", printable(self.team_updates[i].title.as_str())),
            );
        }
        if let Some(i) = first_repeat(self.role_changes.iter().map(|c| c.user_id.to_string())) {
            return refuse("role-changes", i, format!("changes the role of {}", self.role_changes[i].user_id));
        }
        if let Some(i) = first_repeat(self.removals.iter().map(|r| r.user_id.to_string())) {
            return refuse("removals", i, format!("removes {}", self.removals[i].user_id));
        }
        Ok(())
    }

    /// Nothing to do (skipped entries are not actions).
    pub fn is_empty(&self) -> bool {
        self.create_teams.is_empty()
            && self.invites.is_empty()
            && self.team_updates.is_empty()
            && self.role_changes.is_empty()
            && self.removals.is_empty()
    }
}

/// Why apply refuses a plan, and who it would have removed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SafetyStop {
    pub reason: String,
    pub would_remove: Vec<PlannedRemoval>,
}
