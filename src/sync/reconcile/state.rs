//! GitBook's current state, read through the client: every member, every
//! team, and the members of the managed teams only (reading every team's
//! members would cost a walk per team for nothing).

use crate::error::{ApiFailure, Error, FailureKind};
use crate::gitbook::model::{email_matches, Member, Team};
use crate::gitbook::ops::MemberFilter;
use crate::gitbook::Client;
use crate::io::Io;
use crate::role::Role;
use crate::validate::TeamTitle;
use crate::validate::{printable, GitBookId};
use serde::Serialize;
use std::collections::BTreeMap;

/// What GitBook holds now.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct State {
    pub members: Vec<CurrentMember>,
    pub teams: Vec<Team>,
    /// Member IDs of each managed team, by team ID. Teams not listed here
    /// were not read; a plan never removes anyone from them.
    pub team_members: BTreeMap<String, Vec<String>>,
}

/// What a plan needs to know of a member. The rest of GitBook's member
/// object (names, photo, dates, counts) is dropped as each page arrives: at
/// 100,000 members the whole objects would take several times the memory.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct CurrentMember {
    /// As GitBook gave it; validated when matched.
    pub id: String,
    pub email: Option<String>,
    /// `None`: a guest.
    pub role: Option<Role>,
}

impl CurrentMember {
    /// Whether this member's email equals `email` (already lower-cased).
    pub fn has_email(&self, email: &str) -> bool {
        email_matches(self.email.as_deref(), email)
    }
}

impl From<Member> for CurrentMember {
    fn from(member: Member) -> CurrentMember {
        CurrentMember { id: member.id, email: member.user.email, role: member.role }
    }
}

/// Reads every member, every team, and the members of each team whose title
/// is one of `wanted_titles` (case-insensitive). Two teams sharing a wanted
/// title are a conflict naming both: the sync could not tell which to fill.
pub fn read_state<I: Io>(client: &mut Client<'_, I>, wanted_titles: &[TeamTitle]) -> Result<State, Error> {
    let mut members = Vec::new();
    client.for_each_member_page(&MemberFilter::default(), |page, _| {
        members.extend(page.into_iter().map(CurrentMember::from));
        true
    })?;
    let teams = client.list_teams(None)?;
    let mut team_members = BTreeMap::new();
    for team in managed_teams(&teams, wanted_titles)? {
        let ids = client.list_team_member_ids(&team)?;
        team_members.insert(team.as_str().to_owned(), ids);
    }
    Ok(State { members, teams, team_members })
}

/// The IDs of the teams with a wanted title, in listing order.
fn managed_teams(teams: &[Team], wanted_titles: &[TeamTitle]) -> Result<Vec<GitBookId>, Error> {
    // Keyed by the folded title as a String (same order as TitleKey).
    let mut by_title: BTreeMap<String, Vec<&Team>> = BTreeMap::new();
    for team in teams {
        if let Some(title) = wanted_titles.iter().find(|t| t.matches(&team.title)) {
            by_title.entry(title.key().into_string()).or_default().push(team);
        }
    }
    if let Some(same) = by_title.values().find(|same| same.len() > 1) {
        let ids: Vec<&str> = same.iter().map(|t| t.id.as_str()).collect();
        return Err(failure(
            FailureKind::Conflict,
            format!(
                "{} teams are titled {}: {}; rename all but one in GitBook so the sync knows which team to manage",
                same.len(),
                printable(&same[0].title),
                ids.join(", ")
            ),
        ));
    }
    let mut ids = Vec::new();
    for team in teams.iter().filter(|t| wanted_titles.iter().any(|w| w.matches(&t.title))) {
        let id = GitBookId::parse("team-id", &team.id).map_err(|_| {
            failure(
                FailureKind::InvalidResponse,
                format!(
                    "GitBook listed the team {} with the ID {}, which is not a valid ID",
                    printable(&team.title),
                    printable(&team.id)
                ),
            )
        })?;
        ids.push(id);
    }
    Ok(ids)
}

fn failure(kind: FailureKind, message: String) -> Error {
    Error::Api(
        kind,
        ApiFailure { operation: "read state", status: None, message, attempts: 0, elapsed_ms: 0, retry_after_ms: None },
    )
}
