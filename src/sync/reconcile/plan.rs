//! The plan: what must change for GitBook to match the snapshot. A pure
//! function of the snapshot, the state and the options, so a dry run shows
//! exactly what [`apply`](super::apply()) would do.

use super::matching::{match_members, Found};
use super::model::{Options, Plan, PlannedInvite, PlannedRemoval, RoleChange, SkipKind, Skipped, Strategy, Summary};
use super::safety::{self, Sizes};
use super::snapshot::Snapshot;
use super::state::State;
use super::teams::plan_teams;
use crate::role::{role_or_guest_name, Role};
use crate::validate::MemberRef;
use std::collections::HashSet;

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
