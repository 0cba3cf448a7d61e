//! The plan: what must change for GitBook to match the snapshot. A pure
//! function of the snapshot, the state and the options, so a dry run shows
//! exactly what [`apply`](super::apply()) would do.

use super::matching::{match_members, Found};
use super::safety::{self, SafetyStop, Sizes};
use super::ser;
use super::snapshot::Snapshot;
use super::state::State;
use super::teams::plan_teams;
use crate::gitbook::ops::TeamTitle;
use crate::role::{role_or_guest_name, Role};
use crate::validate::{Email, GitBookId, MemberRef};
use serde::Serialize;
use std::collections::HashSet;

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
    /// Nothing to do (skipped entries are not actions).
    pub fn is_empty(&self) -> bool {
        self.create_teams.is_empty()
            && self.invites.is_empty()
            && self.team_updates.is_empty()
            && self.role_changes.is_empty()
            && self.removals.is_empty()
    }
}

/// Plans the changes that make `state` match `snapshot`.
pub fn plan(snapshot: &Snapshot, state: &State, options: &Options) -> Plan {
    let rules = &snapshot.rules;
    let sync = options.strategy == Strategy::Sync;
    let mut matching = match_members(snapshot, state);
    let protected: HashSet<&str> = rules.protected.iter().map(MemberRef::as_str).collect();
    let is_protected = |f: &Found| protected.contains(f.id.as_str()) || protected.contains(f.email.as_str());
    // Why a removal or demotion must not happen, if it must not.
    let guard = |found: &Found| {
        if is_protected(found) {
            Some("protected by the rules".to_owned())
        } else if found.member.role == Some(Role::Admin) && !rules.manage_admins {
            Some("an admin, and admins are not managed (manageAdmins is false)".to_owned())
        } else {
            None
        }
    };
    let skip = |kind, found: &Found, reason: String| Skipped {
        kind,
        user_id: Some(found.id.to_string()),
        email: Some(found.email.to_string()),
        reason,
    };

    let mut skipped = std::mem::take(&mut matching.skipped);
    let mut invites = Vec::new();
    let mut role_changes = Vec::new();
    for (user, found) in &matching.managed {
        let to = rules.role_for(user);
        let Some(found) = found else {
            invites.push(PlannedInvite { email: user.email.clone(), role: to });
            continue;
        };
        let from = found.member.role;
        // Option<Role> orders guest (None) below every role.
        let lower = to < from;
        if to == from || (lower && !sync) {
            continue;
        }
        match guard(found).filter(|_| lower) {
            Some(why) => skipped.push(skip(
                SkipKind::Demotion,
                found,
                format!("not lowered from {} to {}: {why}", role_or_guest_name(from), role_or_guest_name(to)),
            )),
            None => role_changes.push(RoleChange { user_id: found.id.clone(), email: found.email.clone(), from, to }),
        }
    }

    let mut removals = Vec::new();
    if sync {
        for found in &matching.absent {
            match guard(found) {
                Some(why) => skipped.push(skip(SkipKind::Removal, found, format!("not in the snapshot but {why}"))),
                None => removals.push(PlannedRemoval { user_id: found.id.clone(), email: found.email.clone() }),
            }
        }
    }

    let teams = plan_teams(rules, state, &matching, sync);
    skipped.extend(teams.skipped);
    let sizes = Sizes {
        current_members: state.members.len(),
        snapshot_users: snapshot.users.len(),
        in_scope_users: matching.managed.len(),
    };
    let summary = Summary {
        current_members: sizes.current_members,
        snapshot_users: sizes.snapshot_users,
        in_scope_users: sizes.in_scope_users,
        create_teams: teams.create.len(),
        invites: invites.len(),
        role_changes: role_changes.len(),
        team_updates: teams.updates.len(),
        team_additions: teams.updates.iter().map(|u| u.add.len()).sum(),
        team_removals: teams.updates.iter().map(|u| u.remove.len()).sum(),
        removals: removals.len(),
        skipped: skipped.len(),
    };
    Plan {
        strategy: options.strategy,
        default_role: rules.default_role,
        safety: safety::check(&removals, &sizes, options),
        create_teams: teams.create,
        invites,
        team_updates: teams.updates,
        role_changes,
        removals,
        skipped,
        summary,
    }
}
