//! The organization's live data and every change the API can make to it. No HTTP here:
//! handlers validate requests, then call these methods with typed arguments.
//!
//! Layout, chosen so a 100,000-member org stays fast:
//! * members live in `slots` in join order; a removed member leaves a `None` behind
//!   instead of shifting the rest, so a slot number is a stable cursor for pagination and
//!   removal is O(teams of that member), not O(members);
//! * id and lower-cased email map to slots;
//! * each member knows its teams and each team knows its members (again with tombstones),
//!   so "how many teams is this member in" and "remove from all teams" never scan teams.

use std::collections::{HashMap, HashSet};

use super::ids;
use super::model::{MemberState, Role, TeamRole, TeamState};
use super::org::Org;
use super::time::now_rfc3339;

/// A member plus what the stand-in derives from it.
pub(crate) struct MemberRecord {
    pub(crate) state: MemberState,
    /// Lower-cased copies for case-insensitive search, computed once.
    pub(crate) name_lc: String,
    pub(crate) email_lc: String,
    /// Slots of the teams this member belongs to.
    pub(crate) teams: Vec<usize>,
}

pub(crate) struct TeamRecord {
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) created_at: String,
    /// Member slots in the order they were added; `None` where one was removed.
    pub(crate) entries: Vec<Option<usize>>,
    /// Member slot -> index in `entries`.
    positions: HashMap<usize, usize>,
    /// Member slots whose team role is owner; every other member is a plain member.
    owners: HashSet<usize>,
}

impl TeamRecord {
    pub(crate) fn member_count(&self) -> usize {
        self.positions.len()
    }

    /// Returns false if the member was already in the team.
    fn add(&mut self, member: usize) -> bool {
        if self.positions.contains_key(&member) {
            return false;
        }
        self.positions.insert(member, self.entries.len());
        self.entries.push(Some(member));
        true
    }

    /// Returns false if the member was not in the team.
    fn remove(&mut self, member: usize) -> bool {
        self.owners.remove(&member);
        match self.positions.remove(&member) {
            Some(at) => {
                self.entries[at] = None;
                true
            }
            None => false,
        }
    }

    pub(crate) fn contains(&self, member: usize) -> bool {
        self.positions.contains_key(&member)
    }

    /// A member's team role; `Member` for anyone not marked as an owner.
    pub(crate) fn role_of(&self, member: usize) -> TeamRole {
        if self.owners.contains(&member) {
            TeamRole::Owner
        } else {
            TeamRole::Member
        }
    }

    /// Sets the role of someone already in the team; others are left alone.
    fn set_role(&mut self, member: usize, role: TeamRole) {
        if !self.contains(member) {
            return;
        }
        match role {
            TeamRole::Owner => self.owners.insert(member),
            TeamRole::Member => self.owners.remove(&member),
        };
    }
}

/// What `DELETE /members/{id}` did.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Removal {
    Removed,
    NotAMember,
    NeedsApproval,
}

/// One email of an invite, already validated.
pub(crate) struct InviteEntry {
    pub(crate) email: String,
    /// `Some(role)` when the request gave this email its own role (which may be `None`,
    /// guest); `None` to use the request's default role.
    pub(crate) role: Option<Option<Role>>,
}

pub(crate) struct InviteOutcome {
    pub(crate) users: Vec<String>,
    pub(crate) invited: usize,
    pub(crate) failed_sso_emails: Vec<String>,
}

pub(crate) struct Directory {
    org_id: String,
    slots: Vec<Option<MemberRecord>>,
    by_id: HashMap<String, usize>,
    by_email: HashMap<String, usize>,
    teams: Vec<Option<TeamRecord>>,
    team_by_id: HashMap<String, usize>,
    /// Number of teams ever created, for fresh team ids.
    team_seq: u64,
    removal_needs_approval: HashSet<String>,
    /// Lower-cased emails whose SSO invite "fails" (member of another org's SSO).
    sso_conflicts: HashSet<String>,
}

impl Directory {
    /// Loads an `Org`, rejecting fixtures that could not exist in GitBook (duplicate ids or
    /// emails, teams naming unknown members).
    pub(crate) fn from_org(org: &Org) -> anyhow::Result<Directory> {
        let mut dir = Directory {
            org_id: org.id.clone(),
            slots: Vec::with_capacity(org.members.len()),
            by_id: HashMap::with_capacity(org.members.len()),
            by_email: HashMap::with_capacity(org.members.len()),
            teams: Vec::with_capacity(org.teams.len()),
            team_by_id: HashMap::with_capacity(org.teams.len()),
            team_seq: org.teams.len() as u64,
            removal_needs_approval: HashSet::new(),
            sso_conflicts: HashSet::new(),
        };
        for m in &org.members {
            anyhow::ensure!(!dir.by_id.contains_key(&m.id), "duplicate member id {}", m.id);
            anyhow::ensure!(!dir.by_email.contains_key(&m.email.to_lowercase()), "duplicate member email {}", m.email);
            dir.insert_member(m.clone());
        }
        for t in &org.teams {
            anyhow::ensure!(!dir.team_by_id.contains_key(&t.id), "duplicate team id {}", t.id);
            let mut slots = Vec::with_capacity(t.member_ids.len());
            for id in &t.member_ids {
                match dir.by_id.get(id) {
                    Some(&slot) => slots.push(slot),
                    None => anyhow::bail!("team {} lists unknown member id {id}", t.title),
                }
            }
            let team = dir.insert_team(t.id.clone(), t.title.clone(), t.created_at.clone(), &slots);
            for id in &t.owner_ids {
                anyhow::ensure!(
                    t.member_ids.contains(id),
                    "team {} lists owner {id} who is not in member_ids",
                    t.title
                );
                let slot = dir.by_id[id];
                dir.set_team_role(team, slot, TeamRole::Owner);
            }
        }
        Ok(dir)
    }

    // ---- members: reads -------------------------------------------------------------

    /// Number of slots, including those of removed members; slot numbers are below this.
    pub(crate) fn member_slot_count(&self) -> usize {
        self.slots.len()
    }

    pub(crate) fn member_at(&self, slot: usize) -> Option<&MemberRecord> {
        self.slots.get(slot).and_then(Option::as_ref)
    }

    pub(crate) fn live_member_count(&self) -> usize {
        self.by_id.len()
    }

    pub(crate) fn member(&self, id: &str) -> Option<&MemberRecord> {
        self.by_id.get(id).and_then(|&s| self.member_at(s))
    }

    /// A member slot by user id only.
    pub(crate) fn member_slot(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    /// A member slot by user id, or else by email (case-insensitive), as team updates
    /// accept either.
    pub(crate) fn resolve_member(&self, id_or_email: &str) -> Option<usize> {
        self.by_id.get(id_or_email).or_else(|| self.by_email.get(&id_or_email.to_lowercase())).copied()
    }

    /// Live member slots ordered by display name (case-insensitive), ties in join order.
    pub(crate) fn member_slots_by_name(&self) -> Vec<usize> {
        let mut slots: Vec<usize> = self.slots.iter().enumerate().filter_map(|(i, m)| m.as_ref().map(|_| i)).collect();
        slots.sort_by(|&a, &b| {
            let (ma, mb) = (&self.slots[a], &self.slots[b]);
            let na = ma.as_ref().map(|m| m.name_lc.as_str());
            let nb = mb.as_ref().map(|m| m.name_lc.as_str());
            na.cmp(&nb).then(a.cmp(&b))
        });
        slots
    }

    pub(crate) fn snapshot_members(&self) -> Vec<MemberState> {
        self.slots.iter().flatten().map(|m| m.state.clone()).collect()
    }

    pub(crate) fn member_by_email(&self, email: &str) -> Option<MemberState> {
        self.by_email.get(&email.to_lowercase()).and_then(|&s| self.member_at(s)).map(|m| m.state.clone())
    }

    /// Whether a member is an organization admin (admins can manage every team).
    pub(crate) fn is_admin(&self, slot: usize) -> bool {
        self.member_at(slot).is_some_and(|m| m.state.role == Some(Role::Admin))
    }

    // ---- members: changes -----------------------------------------------------------

    fn insert_member(&mut self, state: MemberState) -> usize {
        let slot = self.slots.len();
        self.by_id.insert(state.id.clone(), slot);
        let email_lc = state.email.to_lowercase();
        self.by_email.insert(email_lc.clone(), slot);
        self.slots.push(Some(MemberRecord {
            name_lc: state.display_name.to_lowercase(),
            email_lc,
            state,
            teams: Vec::new(),
        }));
        slot
    }

    /// Sets a member's role; `None` if there is no such member.
    pub(crate) fn set_role(&mut self, id: &str, role: Option<Role>) -> Option<&MemberRecord> {
        let slot = *self.by_id.get(id)?;
        let m = self.slots[slot].as_mut()?;
        m.state.role = role;
        Some(m)
    }

    /// Marks a member as an SSO member; `None` if there is no such member.
    pub(crate) fn set_sso(&mut self, id: &str) -> Option<&MemberRecord> {
        let slot = *self.by_id.get(id)?;
        let m = self.slots[slot].as_mut()?;
        m.state.sso = true;
        Some(m)
    }

    /// Removes a member from the organization and from every team it was in.
    pub(crate) fn remove_member(&mut self, id: &str) -> Removal {
        let Some(&slot) = self.by_id.get(id) else {
            return Removal::NotAMember;
        };
        if self.removal_needs_approval.contains(id) {
            return Removal::NeedsApproval;
        }
        let Some(record) = self.slots[slot].take() else {
            return Removal::NotAMember;
        };
        self.by_id.remove(id);
        self.by_email.remove(&record.email_lc);
        for team in record.teams {
            if let Some(t) = self.teams[team].as_mut() {
                t.remove(slot);
            }
        }
        Removal::Removed
    }

    /// Adds every email that is not a member yet; existing members are left untouched
    /// (GitBook's invite is idempotent). `users` lists an id for every entry, in order.
    pub(crate) fn invite(&mut self, entries: &[InviteEntry], default_role: Option<Role>, sso: bool) -> InviteOutcome {
        let mut outcome =
            InviteOutcome { users: Vec::with_capacity(entries.len()), invited: 0, failed_sso_emails: Vec::new() };
        for entry in entries {
            let email_lc = entry.email.to_lowercase();
            if let Some(existing) = self.by_email.get(&email_lc).and_then(|&s| self.member_at(s)) {
                outcome.users.push(existing.state.id.clone());
                continue;
            }
            let sso_failed = sso && self.sso_conflicts.contains(&email_lc);
            if sso_failed {
                outcome.failed_sso_emails.push(entry.email.clone());
            }
            let id = self.fresh_user_id(&entry.email);
            self.insert_member(MemberState {
                id: id.clone(),
                email: entry.email.clone(),
                email_hidden: false,
                // Someone who has not signed in yet is shown by their email.
                display_name: entry.email.clone(),
                role: entry.role.unwrap_or(default_role),
                sso: sso && !sso_failed,
                disabled: false,
                joined_at: now_rfc3339(),
            });
            outcome.users.push(id);
            outcome.invited += 1;
        }
        outcome
    }

    fn fresh_user_id(&self, email: &str) -> String {
        (0..).map(|attempt| ids::user_id(email, attempt)).find(|id| !self.by_id.contains_key(id)).unwrap_or_default()
    }

    pub(crate) fn set_removal_needs_approval(&mut self, user_id: &str) {
        self.removal_needs_approval.insert(user_id.to_string());
    }

    pub(crate) fn set_sso_conflict(&mut self, email: &str) {
        self.sso_conflicts.insert(email.to_lowercase());
    }

    /// Leaves a member's email out of API answers from now on; false if no such member.
    pub(crate) fn hide_email(&mut self, id_or_email: &str) -> bool {
        let Some(slot) = self.resolve_member(id_or_email) else {
            return false;
        };
        self.slots[slot].as_mut().map(|m| m.state.email_hidden = true).is_some()
    }

    // ---- teams: reads ---------------------------------------------------------------

    pub(crate) fn team_slot_count(&self) -> usize {
        self.teams.len()
    }

    pub(crate) fn team_at(&self, slot: usize) -> Option<&TeamRecord> {
        self.teams.get(slot).and_then(Option::as_ref)
    }

    pub(crate) fn live_team_count(&self) -> usize {
        self.team_by_id.len()
    }

    pub(crate) fn team(&self, id: &str) -> Option<&TeamRecord> {
        self.team_by_id.get(id).and_then(|&s| self.team_at(s))
    }

    pub(crate) fn snapshot_teams(&self) -> Vec<TeamState> {
        self.teams.iter().flatten().map(|t| self.team_state(t)).collect()
    }

    fn team_state(&self, t: &TeamRecord) -> TeamState {
        TeamState {
            id: t.id.clone(),
            title: t.title.clone(),
            member_ids: self.team_members(t).map(|(_, m)| m.state.id.clone()).collect(),
            owner_ids: self
                .team_members(t)
                .filter(|&(slot, _)| t.role_of(slot) == TeamRole::Owner)
                .map(|(_, m)| m.state.id.clone())
                .collect(),
            created_at: t.created_at.clone(),
        }
    }

    /// A team's live members as `(slot, member)`, in the order they were added.
    fn team_members<'a>(&'a self, t: &'a TeamRecord) -> impl Iterator<Item = (usize, &'a MemberRecord)> + 'a {
        t.entries.iter().flatten().filter_map(|&s| self.member_at(s).map(|m| (s, m)))
    }

    /// A member's role in a team; `None` if either is unknown or the member is not in it.
    pub(crate) fn team_role(&self, team_id: &str, user_id: &str) -> Option<TeamRole> {
        let team = self.team(team_id)?;
        let slot = *self.by_id.get(user_id)?;
        team.contains(slot).then(|| team.role_of(slot))
    }

    pub(crate) fn team_member_ids(&self, team_id: &str) -> Vec<String> {
        self.team(team_id).map(|t| self.team_state(t).member_ids).unwrap_or_default()
    }

    // ---- teams: changes -------------------------------------------------------------

    /// Adds a team whose members all have the plain member role; returns its slot.
    fn insert_team(&mut self, id: String, title: String, created_at: String, members: &[usize]) -> usize {
        let slot = self.teams.len();
        self.team_by_id.insert(id.clone(), slot);
        self.teams.push(Some(TeamRecord {
            id,
            title,
            created_at,
            entries: Vec::with_capacity(members.len()),
            positions: HashMap::with_capacity(members.len()),
            owners: HashSet::new(),
        }));
        for &m in members {
            self.add_to_team(slot, m);
        }
        slot
    }

    fn set_team_role(&mut self, team: usize, member: usize, role: TeamRole) {
        if let Some(t) = self.teams[team].as_mut() {
            t.set_role(member, role);
        }
    }

    fn add_to_team(&mut self, team: usize, member: usize) {
        let added = self.teams[team].as_mut().is_some_and(|t| t.add(member));
        if added {
            if let Some(m) = self.slots[member].as_mut() {
                m.teams.push(team);
            }
        }
    }

    fn remove_from_team(&mut self, team: usize, member: usize) {
        let removed = self.teams[team].as_mut().is_some_and(|t| t.remove(member));
        if removed {
            if let Some(m) = self.slots[member].as_mut() {
                m.teams.retain(|&t| t != team);
            }
        }
    }

    /// Creates a team with the given member slots; returns its slot.
    pub(crate) fn create_team(&mut self, title: &str, members: &[usize]) -> usize {
        let id = loop {
            let id = ids::team_id(&self.org_id, self.team_seq);
            self.team_seq += 1;
            if !self.team_by_id.contains_key(&id) {
                break id;
            }
        };
        self.insert_team(id, title.to_string(), now_rfc3339(), members)
    }

    /// Renames a team; `None` if there is no such team.
    pub(crate) fn rename_team(&mut self, id: &str, title: &str) -> Option<&TeamRecord> {
        let slot = *self.team_by_id.get(id)?;
        let t = self.teams[slot].as_mut()?;
        t.title = title.to_string();
        Some(t)
    }

    /// Deletes a team; false if there was no such team.
    pub(crate) fn delete_team(&mut self, id: &str) -> bool {
        let Some(slot) = self.team_by_id.remove(id) else {
            return false;
        };
        let Some(team) = self.teams[slot].take() else {
            return false;
        };
        for member in team.entries.into_iter().flatten() {
            if let Some(m) = self.slots[member].as_mut() {
                m.teams.retain(|&t| t != slot);
            }
        }
        true
    }

    /// Applies a team update whose entries are already resolved to member slots. Removals
    /// win over additions, as GitBook documents for a user listed in both. `roles` then
    /// sets the team role of people in the team; entries for anyone else are ignored
    /// (the handler refuses those it must).
    pub(crate) fn update_team_members(
        &mut self,
        team: usize,
        add: &[usize],
        remove: &[usize],
        roles: &[(usize, TeamRole)],
    ) {
        let removing: HashSet<usize> = remove.iter().copied().collect();
        for &m in add {
            if !removing.contains(&m) {
                self.add_to_team(team, m);
            }
        }
        for &m in remove {
            self.remove_from_team(team, m);
        }
        for &(m, role) in roles {
            self.set_team_role(team, m, role);
        }
    }

    pub(crate) fn team_slot(&self, id: &str) -> Option<usize> {
        self.team_by_id.get(id).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir() -> Directory {
        Directory::from_org(&Org::sample()).expect("sample org loads")
    }

    #[test]
    fn removing_a_member_removes_it_from_its_teams() {
        let mut d = dir();
        let carol = d.member_by_email("CAROL@acme.test").expect("carol").id;
        assert_eq!(d.member(&carol).map(|m| m.teams.len()), Some(2));
        assert_eq!(d.remove_member(&carol), Removal::Removed);
        assert_eq!(d.remove_member(&carol), Removal::NotAMember);
        assert!(d.snapshot_teams().iter().all(|t| !t.member_ids.contains(&carol)));
        assert_eq!(d.live_member_count(), 6);
        assert_eq!(d.snapshot_members().len(), 6);
    }

    #[test]
    fn removal_needing_approval_changes_nothing() {
        let mut d = dir();
        let bob = d.member_by_email("bob@acme.test").expect("bob").id;
        d.set_removal_needs_approval(&bob);
        assert_eq!(d.remove_member(&bob), Removal::NeedsApproval);
        assert!(d.member(&bob).is_some());
    }

    #[test]
    fn removal_wins_over_addition_and_team_deletion_updates_members() {
        let mut d = dir();
        let design = d.snapshot_teams()[1].id.clone();
        let slot = d.team_slot(&design).expect("design");
        let alice = d.resolve_member("alice@acme.test").expect("alice");
        let carol = d.resolve_member("carol@acme.test").expect("carol");
        d.update_team_members(slot, &[alice, carol], &[carol], &[(alice, TeamRole::Owner), (carol, TeamRole::Owner)]);
        let ids = d.team_member_ids(&design);
        assert_eq!(ids.len(), 2, "erin + alice");
        assert!(!ids.contains(&d.member_at(carol).expect("carol").state.id));
        let owners = d.snapshot_teams()[1].owner_ids.clone();
        assert_eq!(owners, [d.member_at(alice).expect("alice").state.id.clone()], "removed carol owns nothing");
        assert!(d.delete_team(&design));
        assert!(!d.delete_team(&design));
        assert_eq!(d.member_at(alice).map(|m| m.teams.len()), Some(1));
    }

    #[test]
    fn rejects_inconsistent_fixtures() {
        let mut org = Org::sample();
        org.teams[0].member_ids.push("nobody".into());
        assert!(Directory::from_org(&org).is_err());
        let mut org = Org::sample();
        org.members[1].email = "ALICE@acme.test".into();
        assert!(Directory::from_org(&org).is_err());
        let mut org = Org::sample();
        org.teams[0].owner_ids.push(org.members[6].id.clone());
        assert!(Directory::from_org(&org).is_err(), "an owner must be in the team");
    }
}
