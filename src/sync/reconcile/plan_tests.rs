//! Plans against pure states: each kind of change, protection, push versus
//! sync, scope, and planning again after a simulated apply.

use super::testkit::{email, member, simulate, snapshot, state, sync, team};
use super::{plan, Options, Plan, PlannedInvite, PlannedRemoval, RoleChange, SkipKind, State, Strategy, TeamUpdate};
use crate::role::Role;
use crate::validate::TeamTitle;
use crate::validate::{GitBookId, MemberRef};
use serde_json::json;

/// Sync without the safety thresholds (small states trip the percentage).
fn sync_all() -> Options {
    Options { allow_mass_removal: true, ..sync() }
}

fn push() -> Options {
    Options::default()
}

fn id(s: &str) -> GitBookId {
    GitBookId::parse("id", s).unwrap()
}

fn title(s: &str) -> TeamTitle {
    TeamTitle::parse("title", s).unwrap()
}

fn by_id(s: &str) -> MemberRef {
    MemberRef::Id(id(s))
}

fn by_email(s: &str) -> MemberRef {
    MemberRef::Email(email(s))
}

fn removal(user: &str, address: &str) -> PlannedRemoval {
    PlannedRemoval { user_id: id(user), email: email(address) }
}

fn role_change(user: &str, address: &str, from: Option<Role>, to: Option<Role>) -> RoleChange {
    RoleChange { user_id: id(user), email: email(address), from, to }
}

fn update(name: &str, team_id: Option<&str>, add: Vec<MemberRef>, remove: &[&str]) -> TeamUpdate {
    TeamUpdate { title: title(name), team_id: team_id.map(id), add, remove: remove.iter().map(|s| id(s)).collect() }
}

/// Ann and Bob, both read, both in Engineering; Design is empty.
fn base_state() -> State {
    state(
        vec![member("uann", "ann@example.com", Some(Role::Read)), member("ubob", "bob@example.com", Some(Role::Read))],
        &[(team("teng", "Engineering"), &["uann", "ubob"]), (team("tdes", "Design"), &[])],
    )
}

fn rules() -> serde_json::Value {
    json!({"groupTeams": {"eng": "Engineering", "design": "Design"}, "groupRoles": {"admins": "admin"}})
}

/// Plans, then checks that planning again after a simulated apply finds
/// nothing to do.
fn plan_idempotent(snapshot: &super::Snapshot, state: &State, options: &Options) -> Plan {
    let first = plan(snapshot, state, options);
    let again = plan(snapshot, &simulate(state, &first), options);
    assert!(again.is_empty(), "planning again after applying found more: {again:#?}");
    first
}

#[test]
fn a_state_in_step_plans_nothing() {
    let snapshot = snapshot(json!({
        "users": [{"email": "ann@example.com", "groups": ["eng"]}, {"email": "Bob@Example.com", "groups": ["eng"]}],
        "rules": rules()
    }));
    for options in [push(), sync()] {
        let plan = plan(&snapshot, &base_state(), &options);
        assert!(plan.is_empty() && plan.skipped.is_empty() && plan.safety.is_none(), "{plan:#?}");
        assert_eq!((plan.summary.current_members, plan.summary.in_scope_users), (2, 2));
    }
}

#[test]
fn added_users_are_invited_with_their_role_and_added_to_teams_by_email() {
    let snapshot = snapshot(json!({
        "users": [
            {"email": "ann@example.com", "groups": ["eng"]},
            {"email": "bob@example.com", "groups": ["eng"]},
            {"email": "carol@example.com", "groups": ["eng", "design", "admins"]}
        ],
        "rules": rules()
    }));
    let plan = plan_idempotent(&snapshot, &base_state(), &push());
    assert_eq!(plan.invites, [PlannedInvite { email: email("carol@example.com"), role: Some(Role::Admin) }]);
    assert_eq!(
        plan.team_updates,
        [
            update("Design", Some("tdes"), vec![by_email("carol@example.com")], &[]),
            update("Engineering", Some("teng"), vec![by_email("carol@example.com")], &[])
        ]
    );
    assert!(plan.create_teams.is_empty() && plan.role_changes.is_empty() && plan.removals.is_empty());
}

#[test]
fn users_gone_from_the_directory_are_removed_only_by_sync() {
    let snapshot = snapshot(json!({"users": [{"email": "ann@example.com", "groups": ["eng"]}], "rules": rules()}));
    let synced = plan_idempotent(&snapshot, &base_state(), &sync_all());
    assert_eq!(synced.removals, [removal("ubob", "bob@example.com")]);
    // Removal from the organization takes Bob out of every team.
    assert!(synced.team_updates.is_empty(), "{:?}", synced.team_updates);
    assert!(plan(&snapshot, &base_state(), &push()).is_empty());
}

#[test]
fn a_renamed_mapping_creates_and_fills_the_new_team_and_leaves_the_old_one() {
    let snapshot = snapshot(json!({
        "users": [{"email": "ann@example.com", "groups": ["eng"]}, {"email": "bob@example.com", "groups": ["eng"]}],
        "rules": {"groupTeams": {"eng": "Platform"}}
    }));
    let plan = plan_idempotent(&snapshot, &base_state(), &sync_all());
    assert_eq!(plan.create_teams, [title("Platform")]);
    assert_eq!(plan.team_updates, [update("Platform", None, vec![by_id("uann"), by_id("ubob")], &[])]);
    assert!(plan.removals.is_empty() && plan.role_changes.is_empty());
}

#[test]
fn roles_follow_the_user_and_their_groups() {
    let snapshot = snapshot(json!({
        "users": [
            {"email": "ann@example.com", "role": "edit", "groups": ["eng"]},
            {"email": "bob@example.com", "groups": ["eng", "admins"]}
        ],
        "rules": rules()
    }));
    let plan = plan_idempotent(&snapshot, &base_state(), &push());
    assert_eq!(
        plan.role_changes,
        [
            role_change("uann", "ann@example.com", Some(Role::Read), Some(Role::Edit)),
            role_change("ubob", "bob@example.com", Some(Role::Read), Some(Role::Admin))
        ]
    );
}

#[test]
fn a_user_moved_between_groups_is_added_and_removed_in_sync_and_only_added_in_push() {
    let snapshot = snapshot(json!({
        "users": [{"email": "ann@example.com", "groups": ["design"]}, {"email": "bob@example.com", "groups": ["eng"]}],
        "rules": rules()
    }));
    let synced = plan_idempotent(&snapshot, &base_state(), &sync());
    assert_eq!(
        synced.team_updates,
        [
            update("Design", Some("tdes"), vec![by_id("uann")], &[]),
            update("Engineering", Some("teng"), vec![], &["uann"])
        ]
    );
    assert!(synced.safety.is_none());
    let pushed = plan_idempotent(&snapshot, &base_state(), &push());
    assert_eq!(pushed.team_updates, [update("Design", Some("tdes"), vec![by_id("uann")], &[])]);
}

#[test]
fn protected_members_and_admins_are_never_removed_or_demoted() {
    let state = state(
        vec![
            member("uboss", "boss@example.com", Some(Role::Admin)),
            member("uceo", "ceo@example.com", Some(Role::Read)),
            member("uxyz", "xyz@example.com", Some(Role::Edit)),
            member("uadm", "adm@example.com", Some(Role::Admin)),
            member("ulow", "low@example.com", Some(Role::Read)),
            member("ugone", "gone@example.com", Some(Role::Read)),
        ],
        &[],
    );
    let users = json!([
        {"email": "xyz@example.com", "role": "read"},
        {"email": "adm@example.com"},
        {"email": "low@example.com", "role": "create"}
    ]);
    let protected = json!(["ceo@example.com", "uxyz", "low@example.com"]);
    let guarded = snapshot(json!({"users": users, "rules": {"protected": protected}}));
    let plan = plan_idempotent(&guarded, &state, &sync_all());
    assert_eq!(plan.removals, [removal("ugone", "gone@example.com")]);
    assert_eq!(
        plan.role_changes,
        [role_change("ulow", "low@example.com", Some(Role::Read), Some(Role::Create))],
        "a protected member may still be promoted"
    );
    let skipped: Vec<(SkipKind, &str)> = plan.skipped.iter().map(|s| (s.kind, s.user_id.as_deref().unwrap())).collect();
    assert_eq!(
        skipped,
        [
            (SkipKind::Demotion, "uxyz"),
            (SkipKind::Demotion, "uadm"),
            (SkipKind::Removal, "uboss"),
            (SkipKind::Removal, "uceo")
        ]
    );
    assert!(plan.skipped[0].reason.contains("protected"), "{}", plan.skipped[0].reason);
    assert!(plan.skipped[1].reason.contains("manageAdmins"), "{}", plan.skipped[1].reason);

    let managed = snapshot(json!({"users": users, "rules": {"protected": protected, "manageAdmins": true}}));
    let plan = plan_idempotent(&managed, &state, &sync_all());
    assert_eq!(plan.removals, [removal("uboss", "boss@example.com"), removal("ugone", "gone@example.com")]);
    assert_eq!(
        plan.role_changes,
        [
            role_change("uadm", "adm@example.com", Some(Role::Admin), Some(Role::Read)),
            role_change("ulow", "low@example.com", Some(Role::Read), Some(Role::Create))
        ]
    );
    let skipped: Vec<&str> = plan.skipped.iter().map(|s| s.user_id.as_deref().unwrap()).collect();
    assert_eq!(skipped, ["uxyz", "uceo"], "protection holds even when admins are managed");
}

#[test]
fn push_only_adds_and_sync_also_takes_away() {
    let state = state(
        vec![
            member("uann", "ann@example.com", Some(Role::Read)),
            member("ubob", "bob@example.com", Some(Role::Edit)),
            member("udave", "dave@example.com", Some(Role::Read)),
        ],
        &[(team("teng", "Engineering"), &["uann", "ubob", "udave"]), (team("tdes", "Design"), &[])],
    );
    let snapshot = snapshot(json!({
        "users": [
            {"email": "ann@example.com", "role": "edit", "groups": ["eng"]},
            {"email": "bob@example.com", "groups": ["design"]},
            {"email": "carol@example.com", "groups": ["eng"]}
        ],
        "rules": rules()
    }));
    let pushed = plan_idempotent(&snapshot, &state, &push());
    assert_eq!(pushed.strategy, Strategy::Push);
    assert_eq!(pushed.invites, [PlannedInvite { email: email("carol@example.com"), role: Some(Role::Read) }]);
    assert_eq!(pushed.role_changes, [role_change("uann", "ann@example.com", Some(Role::Read), Some(Role::Edit))]);
    assert_eq!(
        pushed.team_updates,
        [
            update("Design", Some("tdes"), vec![by_id("ubob")], &[]),
            update("Engineering", Some("teng"), vec![by_email("carol@example.com")], &[])
        ]
    );
    assert!(pushed.removals.is_empty() && pushed.skipped.is_empty() && pushed.safety.is_none());

    let synced = plan_idempotent(&snapshot, &state, &sync_all());
    assert_eq!(synced.invites, pushed.invites);
    assert_eq!(
        synced.role_changes,
        [
            role_change("uann", "ann@example.com", Some(Role::Read), Some(Role::Edit)),
            role_change("ubob", "bob@example.com", Some(Role::Edit), Some(Role::Read))
        ]
    );
    assert_eq!(
        synced.team_updates,
        [
            update("Design", Some("tdes"), vec![by_id("ubob")], &[]),
            update("Engineering", Some("teng"), vec![by_email("carol@example.com")], &["ubob"])
        ]
    );
    assert_eq!(synced.removals, [removal("udave", "dave@example.com")]);
}

#[test]
fn listed_users_out_of_scope_are_left_alone_but_absent_members_are_removed() {
    let state = state(
        vec![
            member("uann", "ann@example.com", Some(Role::Read)),
            member("ubob", "bob@example.com", Some(Role::Read)),
            member("udave", "dave@example.com", Some(Role::Read)),
        ],
        &[(team("teng", "Engineering"), &["uann", "ubob"])],
    );
    let snapshot = snapshot(json!({
        "users": [
            {"email": "ann@example.com", "groups": ["eng"]},
            {"email": "bob@example.com", "role": "admin", "groups": ["sales"]},
            {"email": "erin@example.com", "groups": ["sales"]}
        ],
        "rules": {"groupTeams": {"eng": "Engineering"}, "scope": {"groups": ["eng"]}}
    }));
    let plan = plan_idempotent(&snapshot, &state, &sync_all());
    assert_eq!(plan.removals, [removal("udave", "dave@example.com")]);
    assert!(plan.invites.is_empty(), "Erin is out of scope: not invited");
    assert!(plan.role_changes.is_empty() && plan.team_updates.is_empty(), "Bob is out of scope: untouched");
    assert_eq!((plan.summary.snapshot_users, plan.summary.in_scope_users), (3, 1));
}

#[test]
fn an_empty_snapshot_plans_removing_everyone_and_stops() {
    let snapshot = snapshot(json!({"users": [], "rules": rules()}));
    let plan = plan(&snapshot, &base_state(), &sync());
    assert_eq!(plan.removals.len(), 2);
    let stop = plan.safety.as_ref().expect("a safety stop");
    assert!(stop.reason.contains("no in-scope user"), "{}", stop.reason);
    assert_eq!(stop.would_remove, plan.removals);
    assert!(super::plan(&snapshot, &base_state(), &push()).is_empty());
}

#[test]
fn members_that_cannot_be_matched_are_skipped_never_removed() {
    let mut no_email = member("unone", "x@example.com", Some(Role::Read));
    no_email.user.email = None;
    let state = state(
        vec![
            member("uann", "ann@example.com", Some(Role::Read)),
            no_email,
            member("udup1", "dup@example.com", Some(Role::Read)),
            member("udup2", "DUP@example.com", Some(Role::Read)),
            member("bad/id", "bad@example.com", Some(Role::Read)),
        ],
        &[],
    );
    let snapshot = snapshot(json!({"users": [{"email": "ann@example.com"}, {"email": "dup@example.com"}]}));
    let plan = plan_idempotent(&snapshot, &state, &sync_all());
    assert!(plan.is_empty(), "{plan:#?}");
    let skipped: Vec<(SkipKind, &str)> = plan.skipped.iter().map(|s| (s.kind, s.user_id.as_deref().unwrap())).collect();
    assert_eq!(
        skipped,
        [
            (SkipKind::Member, "unone"),
            (SkipKind::Member, "udup1"),
            (SkipKind::Member, "udup2"),
            (SkipKind::Member, "bad/id")
        ]
    );
}

#[test]
fn guests_are_the_lowest_role() {
    let state = state(vec![member("uann", "ann@example.com", Some(Role::Read))], &[]);
    let snapshot = snapshot(json!({
        "users": [{"email": "ann@example.com"}, {"email": "gus@example.com"}],
        "rules": {"defaultRole": "guest"}
    }));
    let plan = plan_idempotent(&snapshot, &state, &sync_all());
    assert_eq!(plan.invites, [PlannedInvite { email: email("gus@example.com"), role: None }]);
    assert_eq!(plan.role_changes, [role_change("uann", "ann@example.com", Some(Role::Read), None)]);
    assert!(super::plan(&snapshot, &state, &push()).role_changes.is_empty(), "push never lowers a role");
}

#[test]
fn a_full_mix_converges_in_one_apply() {
    let state = state(
        vec![
            member("uann", "ann@example.com", Some(Role::Read)),
            member("ubob", "bob@example.com", Some(Role::Edit)),
            member("udave", "dave@example.com", Some(Role::Read)),
            member("uadm", "adm@example.com", Some(Role::Admin)),
        ],
        &[(team("teng", "engineering"), &["uann", "ubob", "udave"]), (team("tsales", "Sales"), &["ubob"])],
    );
    let snapshot = snapshot(json!({
        "users": [
            {"email": "ann@example.com", "groups": ["eng", "ops", "admins"]},
            {"email": "bob@example.com", "groups": ["design"]},
            {"email": "carol@example.com", "role": "guest", "groups": ["eng", "ops"]},
            {"email": "erin@example.com", "groups": ["design", "ops"]}
        ],
        "rules": {
            "groupTeams": {"eng": "Engineering", "design": "Design", "ops": "Operations"},
            "groupRoles": {"admins": "admin"}
        }
    }));
    for options in [push(), sync_all()] {
        let plan = plan_idempotent(&snapshot, &state, &options);
        assert_eq!(plan.create_teams, [title("Design"), title("Operations")]);
        assert_eq!(plan.invites.len(), 2);
    }
}

#[test]
fn the_plan_serializes_with_stable_camel_case_names() {
    let snapshot = snapshot(json!({
        "users": [{"email": "ann@example.com", "role": "edit", "groups": ["ops"]}, {"email": "new@example.com"}],
        "rules": {"groupTeams": {"ops": "Operations"}, "protected": ["ubob"]}
    }));
    let mut state = base_state();
    state.members[1].role = Some(Role::Admin);
    state.members.push(member("udave", "dave@example.com", Some(Role::Read)).into());
    let plan = plan(&snapshot, &state, &sync());
    let value = serde_json::to_value(&plan).unwrap();
    assert_eq!(
        value,
        json!({
            "strategy": "sync",
            "defaultRole": "read",
            "createTeams": ["Operations"],
            "invites": [{"email": "new@example.com", "role": "read"}],
            "teamUpdates": [{"title": "Operations", "teamId": null, "add": ["uann"], "remove": []}],
            "roleChanges": [{"userId": "uann", "email": "ann@example.com", "from": "read", "to": "edit"}],
            "removals": [{"userId": "udave", "email": "dave@example.com"}],
            "skipped": [{
                "kind": "removal", "userId": "ubob", "email": "bob@example.com",
                "reason": "not in the snapshot but protected by the rules"
            }],
            "safety": {
                "reason": value["safety"]["reason"],
                "wouldRemove": [{"userId": "udave", "email": "dave@example.com"}]
            },
            "summary": {
                "currentMembers": 3, "snapshotUsers": 2, "inScopeUsers": 2, "createTeams": 1, "invites": 1,
                "roleChanges": 1, "teamUpdates": 1, "teamAdditions": 1, "teamRemovals": 0, "removals": 1, "skipped": 1
            }
        })
    );
    assert!(value["safety"]["reason"].as_str().unwrap().contains("1 of 3 members"));
}
