//! Directory events: what happened in the directory, validated, whatever
//! format it arrived in. [`generic`] parses the project's own JSON format
//! (CLI `apply`, webhook, WIT); each format only builds these values.

pub mod generic;
pub mod okta;

use crate::gitbook::ops::TeamTitle;
use crate::role::Role;
use crate::validate::{Email, GitBookId, MemberRef};

/// One event from the directory, with the ID used to de-duplicate it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectoryEvent {
    pub id: Option<String>,
    pub event: Event,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    /// A person joined: invite them.
    Joined { email: Email, role: RoleChoice, sso: Option<bool> },
    /// A person left: remove them (by ID, or found by email).
    Left { person: MemberRef },
    /// A group's membership changed: one team update.
    GroupChanged { team: TeamRef, add: Vec<MemberRef>, remove: Vec<MemberRef> },
    /// A person's role changed (`None`: guest).
    RoleChanged { person: MemberRef, role: Option<Role> },
}

/// The role a joining person gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RoleChoice {
    /// The configured default role.
    Default,
    /// This role (`None`: guest).
    Set(Option<Role>),
}

/// A GitBook team, by ID or by title.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TeamRef {
    Id(GitBookId),
    Title(TeamTitle),
}

impl Event {
    /// The event's type name, as in the generic format.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::Joined { .. } => "user.joined",
            Event::Left { .. } => "user.left",
            Event::GroupChanged { .. } => "group.changed",
            Event::RoleChanged { .. } => "user.role_changed",
        }
    }
}
