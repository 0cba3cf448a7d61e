//! GitBook's current state, read through the client: every member, every
//! team, and the members of the managed teams only (reading every team's
//! members would cost a walk per team for nothing).

use crate::error::{ApiFailure, Error, FailureKind};
use crate::gitbook::flight::Lane;
use crate::gitbook::lanes::Walk;
use crate::gitbook::model::{email_matches, Member, Team, TeamMember};
use crate::gitbook::ops::{self, MemberFilter, MAX_PAGE_LIMIT};
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
///
/// The team list comes first (one page for most organizations): the team
/// reads need its IDs. Then the member walk, a chain of pages that cannot be
/// split, runs beside the managed teams' reads, within the client's
/// concurrency.
pub fn read_state<I: Io>(client: &mut Client<'_, I>, wanted_titles: &[TeamTitle]) -> Result<State, Error> {
    let teams = client.list_teams(None)?;
    let managed = managed_teams(&teams, wanted_titles)?;
    let mut members = Vec::new();
    let mut ids: Vec<Vec<String>> = vec![Vec::new(); managed.len()];
    let filter = MemberFilter::default();
    let mut member_walk = Walk::new(
        "list members",
        |settings, page| ops::list_members_page(settings, &filter, page, MAX_PAGE_LIMIT),
        |page: Vec<Member>, _| {
            members.extend(page.into_iter().map(CurrentMember::from));
            true
        },
    );
    let mut team_walks: Vec<_> = managed
        .iter()
        .zip(ids.iter_mut())
        .map(|(team, ids)| {
            Walk::new(
                "list team members",
                move |settings, page| ops::list_team_members_page(settings, team, page),
                move |page: Vec<TeamMember>, _| {
                    ids.extend(page.into_iter().map(|m| m.organization.id));
                    true
                },
            )
        })
        .collect();
    let mut lanes: Vec<&mut dyn Lane> = vec![&mut member_walk];
    lanes.extend(team_walks.iter_mut().map(|walk| walk as &mut dyn Lane));
    client.run(&mut lanes);
    let results: Vec<_> = std::iter::once(member_walk.into_result())
        .chain(team_walks.into_iter().map(|walk| walk.into_result()))
        .collect();
    // An unauthorized answer stops the run, leaving later lanes unread:
    // their walk's error is the one to report. A state with any lane unread
    // is never returned, whatever happened.
    let mut unread = false;
    for result in results {
        match result {
            Some(Ok(())) => {}
            Some(Err(error)) => return Err(error),
            None => unread = true,
        }
    }
    if unread {
        return Err(failure(FailureKind::InvalidResponse, "the read stopped before every list was read".to_owned()));
    }
    let team_members = managed.iter().map(|id| id.as_str().to_owned()).zip(ids).collect();
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
        ApiFailure {
            operation: "read state",
            status: None,
            message,
            attempts: 0,
            elapsed_ms: 0,
            retry_after_ms: None,
            effect_unknown: false,
        },
    )
}
