//! The team part of a plan: which managed teams to create, and one update
//! (additions and removals together, as the API takes them) per managed
//! team that changes. Teams no group maps to are never touched, so
//! renaming a mapping leaves the old team as it was.

use super::matching::Matching;
use super::model::{SkipKind, Skipped, TeamUpdate};
use super::snapshot::Rules;
use super::state::State;
use crate::validate::{printable, Email, GitBookId, MemberRef};
use crate::validate::{TeamTitle, TitleKey};
use std::collections::{HashMap, HashSet};

pub(super) struct TeamPlan {
    pub create: Vec<TeamTitle>,
    pub updates: Vec<TeamUpdate>,
    pub skipped: Vec<Skipped>,
}

/// Who belongs in one managed team.
#[derive(Default)]
struct Wanted<'a> {
    members: Vec<&'a GitBookId>,
    invitees: Vec<&'a Email>,
}

pub(super) fn plan_teams(rules: &Rules, state: &State, matching: &Matching<'_>, sync: bool) -> TeamPlan {
    let mut wanted: HashMap<TitleKey, Wanted> = HashMap::new();
    for (user, found) in &matching.managed {
        for key in rules.team_keys_of(user) {
            let team = wanted.entry(key).or_default();
            match found {
                Some(found) => team.members.push(&found.id),
                // Not a member yet: added by email, which the API accepts.
                None => team.invitees.push(&user.email),
            }
        }
    }

    let mut plan = TeamPlan { create: Vec::new(), updates: Vec::new(), skipped: Vec::new() };
    for (key, title) in rules.managed_titles() {
        let team = wanted.remove(&key).unwrap_or_default();
        // read_state refuses two teams sharing a managed title; a state built
        // by hand with such twins uses the first.
        let team_id = match state.teams.iter().find(|t| title.matches(&t.title)) {
            None => {
                plan.create.push(title.clone());
                None
            }
            Some(existing) => match GitBookId::parse("team-id", &existing.id) {
                Ok(id) => Some(id),
                Err(_) => {
                    plan.skipped.push(Skipped {
                        kind: SkipKind::Team,
                        user_id: None,
                        email: None,
                        reason: format!(
                            "team {} has the ID {}, which is not valid; left alone",
                            printable(title.as_str()),
                            printable(&existing.id)
                        ),
                    });
                    continue;
                }
            },
        };
        let current: HashSet<&str> = team_id
            .as_ref()
            .and_then(|id| state.team_members.get(id.as_str()))
            .map(|ids| ids.iter().map(String::as_str).collect())
            .unwrap_or_default();
        let wanted_ids: HashSet<&str> = team.members.iter().map(|id| id.as_str()).collect();

        let mut add: Vec<MemberRef> = team
            .members
            .iter()
            .filter(|id| !current.contains(id.as_str()))
            .map(|id| MemberRef::Id((*id).clone()))
            .chain(team.invitees.iter().map(|email| MemberRef::Email((*email).clone())))
            .collect();
        add.sort();
        add.dedup();
        // Only managed people leave a team. Members out of scope or
        // unmatchable stay; absent ones are not listed either: removing them
        // from the organization takes them out of every team, and if
        // protection keeps them, they keep their teams too.
        let mut remove: Vec<GitBookId> = if sync {
            current
                .iter()
                .filter(|id| matching.managed_ids.contains(*id) && !wanted_ids.contains(*id))
                .filter_map(|id| GitBookId::parse("user-id", id).ok())
                .collect()
        } else {
            Vec::new()
        };
        remove.sort();

        if !add.is_empty() || !remove.is_empty() {
            plan.updates.push(TeamUpdate { title, team_id, add, remove });
        }
    }
    plan
}
