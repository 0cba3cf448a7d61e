//! The WIT `reconcile` exports: conversions between the generated types and
//! [`crate::sync::reconcile`], nothing else.

use super::exports::exports::gitbook::directory_sync::reconcile as wit;
use super::exports::exports::gitbook::directory_sync::types as wit_types;
use super::exports::{from_wit_role, to_wit_role, with_client, Component};
use crate::error::Error;
use crate::gitbook::ops::TeamTitle;
use crate::sync::reconcile::{
    self, Options, Plan, PlannedInvite, PlannedRemoval, RoleChange, SafetyStop, SkipKind, Skipped, Strategy, Summary,
    TeamUpdate,
};
use crate::validate::{Email, GitBookId};

impl wit::Guest for Component {
    fn plan(
        settings: wit_types::Settings,
        snapshot: String,
        options: wit::PlanOptions,
    ) -> Result<wit::SyncPlan, wit_types::Error> {
        with_client(settings, |client| {
            let parsed = from_wit_options(&options)?;
            let (plan, sso) = crate::sync::plan_snapshot(client, snapshot.into_bytes(), &parsed)?;
            Ok(to_wit_plan(plan, sso, options))
        })
    }

    fn apply(settings: wit_types::Settings, plan: wit::SyncPlan) -> Result<wit::SyncReport, wit_types::Error> {
        with_client(settings, |client| {
            let sso = plan.sso;
            let options = from_wit_options(&plan.options)?;
            let mut plan = from_wit_plan(plan)?;
            if plan.safety.is_none() {
                plan.safety = reconcile::recheck(&plan.removals, plan.summary.current_members, &options);
            }
            let report = reconcile::apply(client, &plan, sso)?;
            Ok(wit::SyncReport {
                actions: report
                    .actions
                    .into_iter()
                    .map(|a| wit::Action {
                        kind: serde_json::to_value(a.kind)
                            .ok()
                            .and_then(|v| v.as_str().map(str::to_owned))
                            .unwrap_or_default(),
                        target: a.target,
                        ok: a.outcome == reconcile::Outcome::Ok,
                        detail: a.detail,
                    })
                    .collect(),
                planned: report.counts.planned as u32,
                succeeded: report.counts.ok as u32,
                failed: report.counts.failed as u32,
                not_attempted: report.counts.not_attempted as u32,
                stopped: report.stopped,
            })
        })
    }
}

fn from_wit_options(options: &wit::PlanOptions) -> Result<Options, Error> {
    let defaults = Options::default();
    let percent = options.max_removal_percent.unwrap_or(defaults.max_removal_percent);
    if !(0.0..=100.0).contains(&percent) {
        return Err(Error::invalid("max-removal-percent", "must be between 0 and 100"));
    }
    Ok(Options {
        strategy: match options.strategy {
            wit::Strategy::Push => Strategy::Push,
            wit::Strategy::Sync => Strategy::Sync,
        },
        max_removals: options.max_removals.map_or(defaults.max_removals, |n| n as usize),
        max_removal_percent: percent,
        allow_mass_removal: options.allow_mass_removal,
    })
}

fn to_wit_removal(removal: PlannedRemoval) -> wit::PlannedRemoval {
    wit::PlannedRemoval { user_id: removal.user_id.to_string(), email: removal.email.to_string() }
}

fn to_wit_plan(plan: Plan, sso: bool, options: wit::PlanOptions) -> wit::SyncPlan {
    wit::SyncPlan {
        strategy: match plan.strategy {
            Strategy::Push => wit::Strategy::Push,
            Strategy::Sync => wit::Strategy::Sync,
        },
        default_role: plan.default_role.map(to_wit_role),
        sso,
        create_teams: plan.create_teams.iter().map(|t| t.as_str().to_owned()).collect(),
        invites: plan
            .invites
            .into_iter()
            .map(|i| wit::PlannedInvite { email: i.email.to_string(), role: i.role.map(to_wit_role) })
            .collect(),
        team_updates: plan
            .team_updates
            .into_iter()
            .map(|u| wit::TeamUpdate {
                title: u.title.as_str().to_owned(),
                team_id: u.team_id.map(|id| id.to_string()),
                add: u.add.iter().map(|r| r.as_str().to_owned()).collect(),
                remove: u.remove.iter().map(|id| id.to_string()).collect(),
            })
            .collect(),
        role_changes: plan
            .role_changes
            .into_iter()
            .map(|c| wit::RoleChange {
                user_id: c.user_id.to_string(),
                email: c.email.to_string(),
                from: c.from.map(to_wit_role),
                to: c.to.map(to_wit_role),
            })
            .collect(),
        removals: plan.removals.into_iter().map(to_wit_removal).collect(),
        skipped: plan
            .skipped
            .into_iter()
            .map(|s| wit::Skipped {
                kind: serde_json::to_value(s.kind).ok().and_then(|v| v.as_str().map(str::to_owned)).unwrap_or_default(),
                user_id: s.user_id,
                email: s.email,
                reason: s.reason,
            })
            .collect(),
        safety: plan.safety.map(|stop| wit::SafetyStop {
            reason: stop.reason,
            would_remove: stop.would_remove.into_iter().map(to_wit_removal).collect(),
        }),
        current_members: plan.summary.current_members as u32,
        options,
    }
}

fn from_wit_removal(field: &str, removal: wit::PlannedRemoval) -> Result<PlannedRemoval, Error> {
    Ok(PlannedRemoval {
        user_id: GitBookId::parse(&format!("{field}.user-id"), &removal.user_id)?,
        email: Email::parse(&format!("{field}.email"), &removal.email)?,
    })
}

/// A plan handed back by the caller is input like any other: every ID and
/// email is validated again before anything is sent.
fn from_wit_plan(plan: wit::SyncPlan) -> Result<Plan, Error> {
    let create_teams = plan
        .create_teams
        .iter()
        .enumerate()
        .map(|(i, t)| TeamTitle::parse(&format!("plan.create-teams[{i}]"), t))
        .collect::<Result<Vec<_>, _>>()?;
    let invites = plan
        .invites
        .into_iter()
        .enumerate()
        .map(|(i, inv)| {
            Ok(PlannedInvite {
                email: Email::parse(&format!("plan.invites[{i}].email"), &inv.email)?,
                role: inv.role.map(from_wit_role),
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    let team_updates = plan
        .team_updates
        .into_iter()
        .enumerate()
        .map(|(i, u)| {
            let field = format!("plan.team-updates[{i}]");
            Ok(TeamUpdate {
                title: TeamTitle::parse(&format!("{field}.title"), &u.title)?,
                team_id: u.team_id.map(|id| GitBookId::parse(&format!("{field}.team-id"), &id)).transpose()?,
                add: crate::validate::member_refs(&format!("{field}.add"), &u.add)?,
                remove: u
                    .remove
                    .iter()
                    .enumerate()
                    .map(|(j, id)| GitBookId::parse(&format!("{field}.remove[{j}]"), id))
                    .collect::<Result<Vec<_>, _>>()?,
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    let role_changes = plan
        .role_changes
        .into_iter()
        .enumerate()
        .map(|(i, c)| {
            let field = format!("plan.role-changes[{i}]");
            Ok(RoleChange {
                user_id: GitBookId::parse(&format!("{field}.user-id"), &c.user_id)?,
                email: Email::parse(&format!("{field}.email"), &c.email)?,
                from: c.from.map(from_wit_role),
                to: c.to.map(from_wit_role),
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    let removals = plan
        .removals
        .into_iter()
        .enumerate()
        .map(|(i, r)| from_wit_removal(&format!("plan.removals[{i}]"), r))
        .collect::<Result<Vec<_>, _>>()?;
    let safety = match plan.safety {
        None => None,
        Some(stop) => Some(SafetyStop {
            reason: stop.reason,
            would_remove: stop
                .would_remove
                .into_iter()
                .enumerate()
                .map(|(i, r)| from_wit_removal(&format!("plan.safety.would-remove[{i}]"), r))
                .collect::<Result<Vec<_>, _>>()?,
        }),
    };
    Ok(Plan {
        strategy: match plan.strategy {
            wit::Strategy::Push => Strategy::Push,
            wit::Strategy::Sync => Strategy::Sync,
        },
        default_role: plan.default_role.map(from_wit_role),
        create_teams,
        invites,
        team_updates,
        role_changes,
        removals,
        skipped: plan
            .skipped
            .into_iter()
            .map(|s| Skipped {
                kind: match s.kind.as_str() {
                    "removal" => SkipKind::Removal,
                    "demotion" => SkipKind::Demotion,
                    "team" => SkipKind::Team,
                    _ => SkipKind::Member,
                },
                user_id: s.user_id,
                email: s.email,
                reason: s.reason,
            })
            .collect(),
        safety,
        summary: Summary { current_members: plan.current_members as usize, ..Summary::default() },
    })
}
