//! Full reconciliation: a directory snapshot → a plan → apply. Event hooks
//! miss events; reconciling the whole state catches up.
//!
//! 1. [`Snapshot::parse`] reads the directory's export (format below).
//! 2. [`read_state`] reads GitBook through the client: every member page,
//!    every team page, and the members of the managed teams only.
//! 3. [`plan()`] is a pure function: what must change, as a JSON-serializable
//!    [`Plan`], with a [`SafetyStop`] when the removals look like a mistake.
//! 4. [`apply()`] carries it out (refusing a stopped plan) and returns a
//!    [`Report`] of every action with GitBook's answer.
//!
//! # Snapshot format
//!
//! ```json
//! {
//!   "users": [
//!     {"email": "ann@example.com", "role": "edit", "groups": ["eng", "admins"]},
//!     {"email": "bob@example.com", "groups": []}
//!   ],
//!   "rules": {
//!     "groupTeams": {"eng": "Engineering", "design": "Design"},
//!     "groupRoles": {"admins": "admin", "writers": "edit"},
//!     "defaultRole": "read",
//!     "scope": {"groups": ["eng", "design"]},
//!     "protected": ["ceo@example.com", "UserIdXYZ"],
//!     "manageAdmins": false,
//!     "sso": true
//!   }
//! }
//! ```
//!
//! - `users` (required, may be empty): `email` (required; trimmed,
//!   lower-cased, checked; listed once), optional `role` (`admin`…`read` or
//!   `guest`), optional `groups` (directory group names, matched exactly).
//! - `rules` (optional; every field optional):
//!   - `groupTeams`: directory group → GitBook team title (1–64 characters).
//!     Titles compare case-insensitively; several groups may feed one team.
//!     Teams no group maps to are never touched.
//!   - `groupRoles`: group → role or `guest`.
//!   - `defaultRole` (default `read`): the role when neither the user nor a
//!     group gives one. A user's role is the highest of their own and their
//!     groups' roles (guest lowest, admin highest), else this.
//!   - `scope.groups`: only users in one of these groups are managed (absent:
//!     every listed user). Listed users out of scope are left alone entirely;
//!     members the snapshot does not list at all are removal candidates.
//!   - `protected`: emails or user IDs never removed or demoted.
//!   - `manageAdmins` (default `false`): unless set, admins are never removed
//!     or demoted.
//!   - `sso` (default `true`): invite as SSO users.
//!
//! Unknown fields are refused and every error names its field
//! (`users[3].email`, `rules.groupTeams.eng`); a duplicate email names both
//! entries.
//!
//! # Strategies
//!
//! [`Strategy::Push`] (the default) only adds: creates teams, invites, adds
//! to teams and raises roles. [`Strategy::Sync`] also lowers roles, removes
//! managed people from managed teams and removes members absent from the
//! snapshot, within the safety limits of [`Options`].
//!
//! # Deletion safety
//!
//! A plan gets a [`SafetyStop`] (and [`apply()`] refuses it, sending
//! nothing) when, unless `allow_mass_removal` is set, it would remove more
//! members than `max_removals` (default 10) or more than
//! `max_removal_percent` (default 5%) of the current members; or when it
//! removes members while the snapshot has no in-scope user, or lists fewer
//! users than 10% of the current members (a truncated export). Only member
//! removals count. The plan is still returned in full, so a dry run shows
//! who would go.

mod apply;
mod matching;
mod model;
mod plan;
mod returned;
mod safety;
mod ser;
mod snapshot;
mod state;
mod teams;

pub use apply::{apply, Action, ActionKind, Outcome, Report, ReportCounts};
pub use model::{
    Options, Plan, PlannedInvite, PlannedRemoval, RoleChange, SafetyStop, SkipKind, Skipped, Strategy, Summary,
    TeamUpdate,
};
pub use plan::plan;
pub use returned::{
    ReturnedInvite, ReturnedOptions, ReturnedPlan, ReturnedRemoval, ReturnedRoleChange, ReturnedSafetyStop,
    ReturnedTeamUpdate,
};
pub use snapshot::{DirectoryUser, Rules, Snapshot};
pub use state::{read_state, CurrentMember, State};

#[cfg(test)]
mod testkit;

#[cfg(test)]
mod apply_tests;
#[cfg(test)]
mod plan_tests;
#[cfg(test)]
mod returned_tests;
#[cfg(test)]
mod safety_tests;
#[cfg(test)]
mod scale_tests;
#[cfg(test)]
mod snapshot_tests;
#[cfg(test)]
mod state_tests;
