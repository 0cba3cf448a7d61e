//! The request-economy scenarios of BENCHMARKS.md and their floors: the
//! fewest requests GitBook's API allows for each job. Shared by the
//! benchmark (`cargo bench -p host-test`) and the exact-count tests
//! (`tests/economy.rs`), so both measure the same jobs against the same
//! floors. The floors are computed from the stand-in's state and the
//! snapshot alone, never from what the component planned.

#![allow(dead_code)]

use host_test::standin::{MemberState, Org, Role, StandIn};
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashMap, HashSet};

pub const ORG: &str = "acme";
pub const TOKEN: &str = "gb_test_token";
/// The organization of the single-event and list scenarios.
pub const MEMBERS: usize = 10_000;
pub const TEAMS: usize = 100;
/// The API's largest page (`limit` 1 to 1000) and largest invite batch.
pub const PAGE: usize = 1000;

/// Floors of the single-event jobs.
pub const JOIN_FLOOR: usize = 1; // POST /invites
pub const LEAVE_BY_ID_FLOOR: usize = 1; // DELETE /members/{id}
pub const LEAVE_BY_EMAIL_FLOOR: usize = 2; // GET /members?search=…, DELETE /members/{id}
pub const GROUP_CHANGE_FLOOR: usize = 1; // PUT /teams/{id}/members with add and remove

/// Requests to read `n` items at the largest page size (an empty list is
/// still one request).
pub fn pages(n: usize) -> usize {
    n.div_ceil(PAGE).max(1)
}

/// The generated organization every scenario starts from.
pub fn org(members: usize, teams: usize) -> Org {
    Org::generated(ORG, TOKEN, members, teams)
}

/// The single-event jobs, on the generated organization.
pub struct Events {
    /// Someone joining.
    pub joiner: String,
    /// A reader leaving, by the GitBook ID saved when they joined.
    pub leaver_id: String,
    /// A reader leaving whose ID was never saved.
    pub leaver_email: String,
    /// A group change: this team gains `add` and loses `remove`.
    pub team_id: String,
    pub add: Vec<String>,
    pub remove: Vec<String>,
}

impl Events {
    pub fn on(standin: &StandIn) -> Events {
        let members = standin.members();
        let readers: Vec<&MemberState> = members.iter().filter(|m| m.role == Some(Role::Read)).collect();
        let (leaver, leaver_by_email) = (readers[0], readers[1]);
        let staying = |id: &String| *id != leaver.id && *id != leaver_by_email.id;
        let team = standin.teams().into_iter().next().expect("the organization has teams");
        let current: HashSet<String> = team.member_ids.iter().cloned().collect();
        let newcomer =
            members.iter().find(|m| !current.contains(&m.id) && staying(&m.id)).expect("someone outside the team");
        let old_hand = team.member_ids.iter().find(|id| staying(id)).expect("someone in the team");
        Events {
            joiner: "new-hire@example.test".into(),
            leaver_id: leaver.id.clone(),
            leaver_email: leaver_by_email.email.clone(),
            team_id: team.id.clone(),
            add: vec![newcomer.email.clone()],
            remove: vec![old_hand.clone()],
        }
    }
}

fn role_name(role: Option<Role>) -> &'static str {
    role.map_or("guest", |r| r.as_str())
}

/// A snapshot that describes the stand-in's organization exactly: every
/// member with their role, one directory group per team, named after it.
pub fn mirror(standin: &StandIn) -> Value {
    let mut groups: HashMap<String, Vec<String>> = HashMap::new();
    let teams = standin.teams();
    for team in &teams {
        for id in &team.member_ids {
            groups.entry(id.clone()).or_default().push(team.title.clone());
        }
    }
    let users: Vec<Value> = standin
        .members()
        .iter()
        .map(|m| {
            let groups = groups.remove(&m.id).unwrap_or_default();
            json!({"email": m.email, "role": role_name(m.role), "groups": groups})
        })
        .collect();
    let group_teams: BTreeMap<String, String> = teams.iter().map(|t| (t.title.clone(), t.title.clone())).collect();
    json!({"users": users, "rules": {"groupTeams": group_teams, "defaultRole": "read", "manageAdmins": false}})
}

/// What a 1% drift changes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Drift {
    pub leavers: usize,
    pub joiners: usize,
    pub movers: usize,
}

/// The mirror of the stand-in with 1% of the directory changed: 0.4% leave
/// (readers, never admins), 0.4% join (each into a team), 0.2% of the
/// editors move to another group.
pub fn drifted(standin: &StandIn) -> (Value, Drift) {
    let members = standin.members().len();
    let drift = Drift { leavers: members * 4 / 1000, joiners: members * 4 / 1000, movers: members * 2 / 1000 };
    let titles: Vec<String> = standin.teams().into_iter().map(|t| t.title).collect();
    let mut snapshot = mirror(standin);
    let users = snapshot["users"].as_array_mut().expect("users");
    let mut removed = 0;
    users.retain(|u| {
        let leaving = removed < drift.leavers && u["role"] == "read";
        removed += leaving as usize;
        !leaving
    });
    for n in 0..drift.joiners {
        users.push(json!({"email": format!("new-{n:05}@example.test"), "groups": [titles[n % titles.len()]]}));
    }
    for (n, user) in users.iter_mut().filter(|u| u["role"] == "edit").take(drift.movers).enumerate() {
        user["groups"] = json!([titles[(n * 7) % titles.len()]]);
    }
    (snapshot, drift)
}

/// The fewest requests a reconciliation can make.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Floor {
    /// Every member page, every team page, every page of each managed team.
    pub reads: usize,
    /// Invite batches, one update per changed team, one request per role
    /// change and per removal (the API has no bulk form of either).
    pub writes: usize,
}

impl Floor {
    pub fn total(&self) -> usize {
        self.reads + self.writes
    }
}

fn role_from(name: &str) -> Option<Role> {
    if name == "guest" {
        None
    } else {
        Some(Role::parse(name).unwrap_or_else(|| panic!("unknown role {name}")))
    }
}

/// The floor of making the stand-in match `snapshot` (the "sync" strategy:
/// admins are never removed or demoted), from the state and the snapshot.
pub fn reconcile_floor(standin: &StandIn, snapshot: &Value) -> Floor {
    let members = standin.members();
    let teams = standin.teams();
    let rules = &snapshot["rules"];
    let default_role = rules["defaultRole"].as_str().unwrap_or("read");
    let by_email: HashMap<String, &MemberState> = members.iter().map(|m| (m.email.to_lowercase(), m)).collect();
    let email_of: HashMap<&str, String> = members.iter().map(|m| (m.id.as_str(), m.email.to_lowercase())).collect();
    let users: Vec<(String, Option<Role>, Vec<String>)> = snapshot["users"]
        .as_array()
        .expect("users")
        .iter()
        .map(|u| {
            let email = u["email"].as_str().expect("email").to_lowercase();
            let role = role_from(u["role"].as_str().unwrap_or(default_role));
            let groups = u["groups"]
                .as_array()
                .map_or(Vec::new(), |g| g.iter().map(|g| g.as_str().expect("group").to_owned()).collect());
            (email, role, groups)
        })
        .collect();
    let listed: HashSet<&str> = users.iter().map(|(email, _, _)| email.as_str()).collect();

    let mut floor = Floor { reads: pages(members.len()) + pages(teams.len()), writes: 0 };
    let joiners = users.iter().filter(|(email, _, _)| !by_email.contains_key(email)).count();
    floor.writes += joiners.div_ceil(PAGE);

    let group_teams = rules["groupTeams"].as_object().cloned().unwrap_or_default();
    for (group, title) in &group_teams {
        let title = title.as_str().expect("title").to_lowercase();
        let Some(team) = teams.iter().find(|t| t.title.to_lowercase() == title) else {
            floor.writes += 1; // created with its members in the same request
            continue;
        };
        floor.reads += pages(team.member_ids.len());
        let current: HashSet<&str> =
            team.member_ids.iter().filter_map(|id| email_of.get(id.as_str())).map(String::as_str).collect();
        let wanted: HashSet<&str> =
            users.iter().filter(|(_, _, groups)| groups.contains(group)).map(|(email, _, _)| email.as_str()).collect();
        // People leaving the organization leave its teams with it.
        let adds = wanted.iter().any(|email| !current.contains(email));
        let removes = current.iter().any(|email| listed.contains(email) && !wanted.contains(email));
        floor.writes += usize::from(adds || removes);
    }

    floor.writes += users
        .iter()
        .filter_map(|(email, role, _)| by_email.get(email).map(|m| (m, role)))
        .filter(|(m, role)| m.role != Some(Role::Admin) && m.role != **role)
        .count();
    floor.writes += members
        .iter()
        .filter(|m| m.role != Some(Role::Admin) && !listed.contains(m.email.to_lowercase().as_str()))
        .count();
    floor
}
