//! A plan handed back by a caller (WIT `reconcile.apply` takes the plan as
//! a value): input like any other. Every ID, email and title is validated
//! again with the field it came from, the removal limits are checked again
//! against the plan's own counts, and [`super::apply()`] refuses any step the
//! plan's strategy does not allow.

use super::model::{
    Options, Plan, PlannedInvite, PlannedRemoval, RoleChange, SafetyStop, Skipped, Strategy, Summary, TeamUpdate,
};
use super::safety::recheck;
use crate::error::Error;
use crate::role::Role;
use crate::validate::{member_refs, Email, GitBookId, TeamTitle};

/// The options as a caller gives them: unset limits take the defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct ReturnedOptions {
    pub strategy: Strategy,
    pub max_removals: Option<u32>,
    pub max_removal_percent: Option<f64>,
    pub allow_mass_removal: bool,
}

impl ReturnedOptions {
    /// The options, checked (`max-removal-percent` from 0 to 100).
    pub fn validate(&self) -> Result<Options, Error> {
        let defaults = Options::default();
        Ok(Options {
            strategy: self.strategy,
            max_removals: self.max_removals.map_or(defaults.max_removals, |n| n as usize),
            max_removal_percent: match self.max_removal_percent {
                Some(percent) => Options::percent("max-removal-percent", percent)?,
                None => defaults.max_removal_percent,
            },
            allow_mass_removal: self.allow_mass_removal,
        })
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct ReturnedInvite {
    pub email: String,
    pub role: Option<Role>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ReturnedTeamUpdate {
    pub title: String,
    pub team_id: Option<String>,
    pub add: Vec<String>,
    pub remove: Vec<String>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ReturnedRoleChange {
    pub user_id: String,
    pub email: String,
    pub from: Option<Role>,
    pub to: Option<Role>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ReturnedRemoval {
    pub user_id: String,
    pub email: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ReturnedSafetyStop {
    pub reason: String,
    pub would_remove: Vec<ReturnedRemoval>,
}

/// A plan as the caller handed it back, unvalidated.
#[derive(Clone, Debug, PartialEq)]
pub struct ReturnedPlan {
    pub strategy: Strategy,
    pub default_role: Option<Role>,
    pub sso: bool,
    pub create_teams: Vec<String>,
    pub invites: Vec<ReturnedInvite>,
    pub team_updates: Vec<ReturnedTeamUpdate>,
    pub role_changes: Vec<ReturnedRoleChange>,
    pub removals: Vec<ReturnedRemoval>,
    pub skipped: Vec<Skipped>,
    pub safety: Option<ReturnedSafetyStop>,
    pub current_members: u32,
    pub options: ReturnedOptions,
}

/// Runs `parse` over `items`, naming each `{field}[i]`.
fn each<T, U>(field: &str, items: Vec<T>, parse: impl Fn(&str, T) -> Result<U, Error>) -> Result<Vec<U>, Error> {
    let mut parsed = Vec::with_capacity(items.len());
    for (i, item) in items.into_iter().enumerate() {
        parsed.push(parse(&format!("{field}[{i}]"), item)?);
    }
    Ok(parsed)
}

fn removal(field: &str, removal: ReturnedRemoval) -> Result<PlannedRemoval, Error> {
    Ok(PlannedRemoval {
        user_id: GitBookId::parse(&format!("{field}.user-id"), &removal.user_id)?,
        email: Email::parse(&format!("{field}.email"), &removal.email)?,
    })
}

impl ReturnedPlan {
    /// The plan, validated, and whether invites make SSO users. A plan whose
    /// `safety` was dropped on the way is stopped again unless its options
    /// allow mass removal; the strategy's promises are checked by
    /// [`Plan::check_strategy`].
    pub fn validate(self) -> Result<(Plan, bool), Error> {
        let options = self.options.validate()?;
        let team_updates = each("plan.team-updates", self.team_updates, |field, u| {
            Ok(TeamUpdate {
                title: TeamTitle::parse(&format!("{field}.title"), &u.title)?,
                team_id: u.team_id.map(|id| GitBookId::parse(&format!("{field}.team-id"), &id)).transpose()?,
                add: member_refs(&format!("{field}.add"), &u.add)?,
                remove: each(&format!("{field}.remove"), u.remove, |f, id| GitBookId::parse(f, &id))?,
            })
        })?;
        let role_changes = each("plan.role-changes", self.role_changes, |field, c| {
            Ok(RoleChange {
                user_id: GitBookId::parse(&format!("{field}.user-id"), &c.user_id)?,
                email: Email::parse(&format!("{field}.email"), &c.email)?,
                from: c.from,
                to: c.to,
            })
        })?;
        let removals = each("plan.removals", self.removals, removal)?;
        let safety = match self.safety {
            None => recheck(&removals, self.current_members as usize, &options),
            Some(stop) => Some(SafetyStop {
                reason: stop.reason,
                would_remove: each("plan.safety.would-remove", stop.would_remove, removal)?,
            }),
        };
        let plan = Plan {
            strategy: self.strategy,
            default_role: self.default_role,
            create_teams: each("plan.create-teams", self.create_teams, |f, t| TeamTitle::parse(f, &t))?,
            invites: each("plan.invites", self.invites, |field, i| {
                Ok(PlannedInvite { email: Email::parse(&format!("{field}.email"), &i.email)?, role: i.role })
            })?,
            team_updates,
            role_changes,
            removals,
            skipped: self.skipped,
            safety,
            summary: Summary { current_members: self.current_members as usize, ..Summary::default() },
        };
        plan.check_strategy()?;
        Ok((plan, self.sso))
    }
}
