//! Test builders: members, teams, states and snapshots as plain values, the
//! JSON GitBook answers with, a simulated apply (to check that planning
//! again finds nothing), and a large organization with a known drift.

use super::{CurrentMember, DirectoryUser, Options, Plan, Rules, Snapshot, State, Strategy};
use crate::gitbook::model::{Member, Team, User};
use crate::role::Role;
use crate::validate::TeamTitle;
use crate::validate::{Email, MemberRef};
use serde_json::json;
use std::collections::{BTreeMap, HashMap, HashSet};

pub use crate::gitbook::fake::settings;

pub fn member(id: &str, email: &str, role: Option<Role>) -> Member {
    Member {
        id: id.to_owned(),
        role,
        user: User { id: id.to_owned(), display_name: id.to_owned(), email: Some(email.to_owned()), photo_url: None },
        disabled: false,
        joined_at: "2024-01-01T00:00:00Z".to_owned(),
        last_seen_at: None,
        sso: true,
        spaces: 0,
        teams: 0,
    }
}

pub fn team(id: &str, title: &str) -> Team {
    Team { id: id.to_owned(), title: title.to_owned(), members: 0, created_at: None }
}

/// A state from members and `(team, member IDs)`; every team counts as
/// managed-and-read.
pub fn state(members: Vec<Member>, teams: &[(Team, &[&str])]) -> State {
    State {
        members: members.into_iter().map(CurrentMember::from).collect(),
        teams: teams.iter().map(|(t, _)| t.clone()).collect(),
        team_members: teams
            .iter()
            .map(|(t, ids)| (t.id.clone(), ids.iter().map(|s| s.to_string()).collect()))
            .collect(),
    }
}

pub fn snapshot(value: serde_json::Value) -> Snapshot {
    Snapshot::parse_value(&value).unwrap()
}

pub fn sync() -> Options {
    Options { strategy: Strategy::Sync, ..Options::default() }
}

pub fn email(s: &str) -> Email {
    Email::parse("email", s).unwrap()
}

/// One page of a GitBook list, as the API sends it.
pub fn page_json<T: serde::Serialize>(items: &[T], count: usize, next: Option<&str>) -> String {
    let mut page = json!({ "items": items, "count": count });
    if let Some(next) = next {
        page["next"] = json!({ "page": next });
    }
    page.to_string()
}

/// One page of a team's members (`OrganizationTeamMember` items).
pub fn team_members_json(members: &[Member]) -> String {
    let items: Vec<_> = members.iter().map(|m| json!({ "organization": m })).collect();
    page_json(&items, members.len(), None)
}

/// What GitBook would hold after `plan` succeeded in full: new teams and
/// members get made-up IDs; emails in team additions resolve to members.
pub fn simulate(state: &State, plan: &Plan) -> State {
    let mut next = state.clone();
    for (n, title) in plan.create_teams.iter().enumerate() {
        let id = format!("newteam{n}");
        next.teams.push(team(&id, title.as_str()));
        next.team_members.insert(id, Vec::new());
    }
    for (n, invite) in plan.invites.iter().enumerate() {
        next.members.push(member(&format!("newuser{n}"), invite.email.as_str(), invite.role).into());
    }
    for update in &plan.team_updates {
        let team_id = match &update.team_id {
            Some(id) => id.to_string(),
            None => next.teams.iter().find(|t| update.title.matches(&t.title)).expect("created").id.clone(),
        };
        let added: Vec<String> = update
            .add
            .iter()
            .map(|r| match r {
                MemberRef::Id(id) => id.to_string(),
                MemberRef::Email(e) => {
                    next.members.iter().find(|m| m.has_email(e.as_str())).expect("invited").id.clone()
                }
            })
            .collect();
        let list = next.team_members.entry(team_id).or_default();
        list.retain(|id| !update.remove.iter().any(|r| r.as_str() == id));
        for id in added {
            if !list.contains(&id) {
                list.push(id);
            }
        }
    }
    for change in &plan.role_changes {
        next.members.iter_mut().find(|m| m.id == change.user_id.as_str()).expect("member").role = change.to;
    }
    let removed: HashSet<&str> = plan.removals.iter().map(|r| r.user_id.as_str()).collect();
    next.members.retain(|m| !removed.contains(m.id.as_str()));
    for list in next.team_members.values_mut() {
        list.retain(|id| !removed.contains(id.as_str()));
    }
    next
}

/// A large organization in step with its directory: member `u{i}`
/// (`user{i}@example.com`, read) is in group `g{i % teams}`, which maps to
/// team `t{k}` titled `Team {k}`.
pub struct Org {
    pub state: State,
    pub snapshot: Snapshot,
}

pub fn large_org(members: usize, teams: usize) -> Org {
    let mut team_members: BTreeMap<String, Vec<String>> = (0..teams).map(|k| (format!("t{k}"), Vec::new())).collect();
    let mut state_members = Vec::with_capacity(members);
    let mut users = Vec::with_capacity(members);
    for i in 0..members {
        let id = format!("u{i}");
        let address = format!("user{i}@example.com");
        team_members.get_mut(&format!("t{}", i % teams)).unwrap().push(id.clone());
        state_members.push(CurrentMember::from(member(&id, &address, Some(Role::Read))));
        users.push(DirectoryUser { email: email(&address), role: None, groups: vec![format!("g{}", i % teams)] });
    }
    let rules = Rules {
        group_teams: (0..teams)
            .map(|k| (format!("g{k}"), TeamTitle::parse("title", &format!("Team {k}")).unwrap()))
            .collect(),
        ..Rules::default()
    };
    let state = State {
        members: state_members,
        teams: (0..teams).map(|k| team(&format!("t{k}"), &format!("Team {k}"))).collect(),
        team_members,
    };
    Org { state, snapshot: Snapshot { users, rules } }
}

/// The directory after `per_kind` changes of each of four kinds (1% drift
/// of 10,000 members is 25 each):
/// - users `0..p` left (absent from the snapshot);
/// - `p` new users `new{j}@example.com` joined group `g{j % teams}`;
/// - users `p..2p` moved from `g{i % teams}` to `g{(i + teams/2) % teams}`;
/// - users `2p..3p` were given the role `edit`.
pub fn drift(org: &Org, per_kind: usize, teams: usize) -> Snapshot {
    let p = per_kind;
    let mut users: Vec<DirectoryUser> = org.snapshot.users[p..].to_vec();
    let index: HashMap<Email, usize> = users.iter().enumerate().map(|(n, u)| (u.email.clone(), n)).collect();
    for i in p..2 * p {
        let n = index[&email(&format!("user{i}@example.com"))];
        users[n].groups = vec![format!("g{}", (i + teams / 2) % teams)];
    }
    for i in 2 * p..3 * p {
        let n = index[&email(&format!("user{i}@example.com"))];
        users[n].role = Some(Some(Role::Edit));
    }
    for j in 0..p {
        users.push(DirectoryUser {
            email: email(&format!("new{j}@example.com")),
            role: None,
            groups: vec![format!("g{}", j % teams)],
        });
    }
    Snapshot { users, rules: org.snapshot.rules.clone() }
}
