//! The WIT `reconcile` exports: conversions between the generated types and
//! [`crate::sync::reconcile`], nothing else. A plan handed back is converted
//! into a [`ReturnedPlan`], which the core validates.

use super::exports::exports::gitbook::directory_sync::reconcile as wit;
use super::exports::exports::gitbook::directory_sync::types as wit_types;
use super::exports::{from_wit_role, to_wit_error, to_wit_role, with_client, Component};
use crate::sources::{self, SourceKind};
use crate::sync::reconcile::{
    self, ActionKind, Outcome, Plan, PlannedRemoval, ReturnedInvite, ReturnedOptions, ReturnedPlan, ReturnedRemoval,
    ReturnedRoleChange, ReturnedSafetyStop, ReturnedTeamUpdate, SkipKind, Skipped, Strategy,
};

impl wit::Guest for Component {
    fn plan(
        settings: wit_types::Settings,
        snapshot: String,
        options: wit::PlanOptions,
    ) -> Result<wit::SyncPlan, wit_types::Error> {
        with_client("reconcile.plan", settings, |client| {
            let parsed = from_wit_options(&options).validate()?;
            let (plan, sso) = crate::sync::plan_snapshot(client, snapshot.into_bytes(), &parsed)?;
            Ok(to_wit_plan(plan, sso, options))
        })
    }

    fn plan_from_source(
        settings: wit_types::Settings,
        source: wit::DirectorySource,
        options: wit::PlanOptions,
    ) -> Result<wit::SyncPlan, wit_types::Error> {
        let allow_http = settings.allow_insecure_http;
        with_client("reconcile.plan-from-source", settings, |client| {
            let parsed = from_wit_options(&options).validate()?;
            let kind = match source.kind {
                wit::SourceKind::Google => SourceKind::Google,
                wit::SourceKind::Entra => SourceKind::Entra,
                wit::SourceKind::Okta => SourceKind::Okta,
            };
            let rules = reconcile::Rules::parse(source.rules.as_bytes())?;
            let config = source.config;
            let lookup = |name: &str| {
                config.iter().find(|(n, _)| n == name).map(|(_, v)| v.clone()).or_else(|| super::env(name))
            };
            let allow_http = allow_http.unwrap_or_else(|| {
                lookup(crate::settings::ENV_ALLOW_INSECURE_HTTP)
                    .is_some_and(|v| matches!(v.trim(), "1" | "true" | "yes"))
            });
            let source = sources::Source::resolve(kind, lookup, allow_http)?;
            let (plan, sso) = sources::plan_from_source(client, &source, rules, &parsed)?;
            Ok(to_wit_plan(plan, sso, options))
        })
    }

    fn apply(settings: wit_types::Settings, plan: wit::SyncPlan) -> Result<wit::SyncReport, wit_types::Error> {
        with_client("reconcile.apply", settings, |client| {
            let (plan, sso) = from_wit_plan(plan).validate()?;
            let report = reconcile::apply(client, &plan, sso)?;
            Ok(wit::SyncReport {
                actions: report
                    .actions
                    .into_iter()
                    .map(|a| wit::Action {
                        kind: to_wit_action_kind(a.kind),
                        target: a.target,
                        outcome: match a.outcome {
                            Outcome::Ok => wit::ActionOutcome::Ok,
                            Outcome::Failed => wit::ActionOutcome::Failed,
                            Outcome::Unknown => wit::ActionOutcome::Unknown,
                        },
                        detail: a.detail,
                        error: a.error.map(to_wit_error),
                    })
                    .collect(),
                planned: report.counts.planned as u32,
                succeeded: report.counts.ok as u32,
                failed: report.counts.failed as u32,
                unknown: report.counts.unknown as u32,
                not_attempted: report.counts.not_attempted as u32,
                stopped: report.stopped,
            })
        })
    }
}

fn from_wit_strategy(strategy: wit::Strategy) -> Strategy {
    match strategy {
        wit::Strategy::Push => Strategy::Push,
        wit::Strategy::Sync => Strategy::Sync,
    }
}

fn to_wit_strategy(strategy: Strategy) -> wit::Strategy {
    match strategy {
        Strategy::Push => wit::Strategy::Push,
        Strategy::Sync => wit::Strategy::Sync,
    }
}

fn from_wit_skip_kind(kind: wit::SkipKind) -> SkipKind {
    match kind {
        wit::SkipKind::Member => SkipKind::Member,
        wit::SkipKind::Removal => SkipKind::Removal,
        wit::SkipKind::Demotion => SkipKind::Demotion,
        wit::SkipKind::Team => SkipKind::Team,
    }
}

fn to_wit_skip_kind(kind: SkipKind) -> wit::SkipKind {
    match kind {
        SkipKind::Member => wit::SkipKind::Member,
        SkipKind::Removal => wit::SkipKind::Removal,
        SkipKind::Demotion => wit::SkipKind::Demotion,
        SkipKind::Team => wit::SkipKind::Team,
    }
}

fn to_wit_action_kind(kind: ActionKind) -> wit::ActionKind {
    match kind {
        ActionKind::CreateTeam => wit::ActionKind::CreateTeam,
        ActionKind::Invite => wit::ActionKind::Invite,
        ActionKind::UpdateTeam => wit::ActionKind::UpdateTeam,
        ActionKind::ChangeRole => wit::ActionKind::ChangeRole,
        ActionKind::RemoveMember => wit::ActionKind::RemoveMember,
    }
}

fn from_wit_options(options: &wit::PlanOptions) -> ReturnedOptions {
    ReturnedOptions {
        strategy: from_wit_strategy(options.strategy),
        max_removals: options.max_removals,
        max_removal_percent: options.max_removal_percent,
        allow_mass_removal: options.allow_mass_removal,
    }
}

fn to_wit_removal(removal: PlannedRemoval) -> wit::PlannedRemoval {
    wit::PlannedRemoval { user_id: removal.user_id.to_string(), email: removal.email.to_string() }
}

fn from_wit_removal(removal: wit::PlannedRemoval) -> ReturnedRemoval {
    ReturnedRemoval { user_id: removal.user_id, email: removal.email }
}

fn to_wit_plan(plan: Plan, sso: bool, options: wit::PlanOptions) -> wit::SyncPlan {
    wit::SyncPlan {
        strategy: to_wit_strategy(plan.strategy),
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
                kind: to_wit_skip_kind(s.kind),
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

fn from_wit_plan(plan: wit::SyncPlan) -> ReturnedPlan {
    ReturnedPlan {
        strategy: from_wit_strategy(plan.strategy),
        default_role: plan.default_role.map(from_wit_role),
        sso: plan.sso,
        create_teams: plan.create_teams,
        invites: plan
            .invites
            .into_iter()
            .map(|i| ReturnedInvite { email: i.email, role: i.role.map(from_wit_role) })
            .collect(),
        team_updates: plan
            .team_updates
            .into_iter()
            .map(|u| ReturnedTeamUpdate { title: u.title, team_id: u.team_id, add: u.add, remove: u.remove })
            .collect(),
        role_changes: plan
            .role_changes
            .into_iter()
            .map(|c| ReturnedRoleChange {
                user_id: c.user_id,
                email: c.email,
                from: c.from.map(from_wit_role),
                to: c.to.map(from_wit_role),
            })
            .collect(),
        removals: plan.removals.into_iter().map(from_wit_removal).collect(),
        skipped: plan
            .skipped
            .into_iter()
            .map(|s| Skipped { kind: from_wit_skip_kind(s.kind), user_id: s.user_id, email: s.email, reason: s.reason })
            .collect(),
        safety: plan.safety.map(|stop| ReturnedSafetyStop {
            reason: stop.reason,
            would_remove: stop.would_remove.into_iter().map(from_wit_removal).collect(),
        }),
        current_members: plan.current_members,
        options: from_wit_options(&plan.options),
    }
}
