//! A plan handed back by a caller: validated field by field, its safety
//! checked again, and refused when it breaks its strategy's promises.

use super::testkit::settings;
use super::{
    apply, ReturnedInvite, ReturnedOptions, ReturnedPlan, ReturnedRemoval, ReturnedRoleChange, ReturnedTeamUpdate,
    Strategy,
};
use crate::error::Error;
use crate::gitbook::fake::ScriptedIo;
use crate::gitbook::Client;
use crate::role::Role;

fn options(strategy: Strategy) -> ReturnedOptions {
    ReturnedOptions { strategy, max_removals: None, max_removal_percent: None, allow_mass_removal: false }
}

fn empty(strategy: Strategy) -> ReturnedPlan {
    ReturnedPlan {
        strategy,
        default_role: Some(Role::Read),
        sso: true,
        create_teams: vec![],
        invites: vec![],
        team_updates: vec![],
        role_changes: vec![],
        removals: vec![],
        skipped: vec![],
        safety: None,
        current_members: 100,
        options: options(strategy),
    }
}

fn removal(id: &str) -> ReturnedRemoval {
    ReturnedRemoval { user_id: id.into(), email: format!("{id}@x.io") }
}

fn invalid_field(result: Result<impl std::fmt::Debug, Error>) -> String {
    match result {
        Err(Error::InvalidInput { field, .. }) => field,
        other => panic!("expected invalid input, got {other:?}"),
    }
}

fn team_update(remove: &[&str]) -> ReturnedTeamUpdate {
    ReturnedTeamUpdate {
        title: "Eng".into(),
        team_id: Some("t1".into()),
        add: vec!["new@x.io".into()],
        remove: remove.iter().map(|r| r.to_string()).collect(),
    }
}

fn demotion() -> ReturnedRoleChange {
    ReturnedRoleChange { user_id: "u1".into(), email: "u1@x.io".into(), from: Some(Role::Admin), to: Some(Role::Read) }
}

#[test]
fn a_push_plan_that_removes_lowers_or_empties_a_team_is_refused_naming_the_step() {
    let mut removes = empty(Strategy::Push);
    removes.removals = vec![removal("u1")];
    assert_eq!(invalid_field(removes.validate()), "plan.removals[0]");

    let mut from_team = empty(Strategy::Push);
    from_team.team_updates = vec![team_update(&[]), team_update(&["u2"])];
    assert_eq!(invalid_field(from_team.validate()), "plan.team-updates[1].remove[0]");

    let mut lowers = empty(Strategy::Push);
    lowers.role_changes = vec![demotion()];
    assert_eq!(invalid_field(lowers.validate()), "plan.role-changes[0]");
    let mut to_guest = empty(Strategy::Push);
    to_guest.role_changes = vec![ReturnedRoleChange { to: None, ..demotion() }];
    assert_eq!(invalid_field(to_guest.validate()), "plan.role-changes[0]", "guest is below every role");
}

#[test]
fn a_sync_plan_may_do_all_of_that_and_a_push_plan_may_add_and_raise() {
    let mut sync = empty(Strategy::Sync);
    sync.removals = vec![removal("u1")];
    sync.team_updates = vec![team_update(&["u2"])];
    sync.role_changes = vec![demotion()];
    let (plan, sso) = sync.validate().unwrap();
    assert!(sso);
    assert_eq!((plan.removals.len(), plan.team_updates[0].remove.len(), plan.role_changes.len()), (1, 1, 1));

    let mut push = empty(Strategy::Push);
    push.invites = vec![ReturnedInvite { email: " New@X.io ".into(), role: None }];
    push.team_updates = vec![team_update(&[])];
    push.role_changes = vec![ReturnedRoleChange { from: None, to: Some(Role::Edit), ..demotion() }];
    let (plan, _) = push.validate().unwrap();
    assert_eq!(plan.invites[0].email.as_str(), "new@x.io");
}

#[test]
fn apply_refuses_a_broken_promise_before_sending_anything() {
    // A valid sync plan that removes someone, relabelled push by a caller.
    let mut sync = empty(Strategy::Sync);
    sync.removals = vec![removal("u9")];
    let (mut plan, _) = sync.validate().unwrap();
    plan.strategy = Strategy::Push;
    let settings = settings();
    let mut io = ScriptedIo::new([]);
    let error = apply(&mut Client::new(&settings, &mut io), &plan, true).unwrap_err();
    assert!(matches!(&error, Error::InvalidInput { field, .. } if field == "plan.removals[0]"), "{error}");
    assert!(error.to_string().contains("push strategy never does"), "{error}");
    assert!(io.sent.is_empty());
}

#[test]
fn every_bad_value_names_its_field() {
    let mut bad_invite = empty(Strategy::Push);
    bad_invite.invites = vec![ReturnedInvite { email: "not-an-email".into(), role: None }];
    assert_eq!(invalid_field(bad_invite.validate()), "plan.invites[0].email");

    let mut bad_team = empty(Strategy::Sync);
    bad_team.team_updates = vec![ReturnedTeamUpdate { team_id: Some("../t".into()), ..team_update(&[]) }];
    assert_eq!(invalid_field(bad_team.validate()), "plan.team-updates[0].team-id");

    let mut bad_title = empty(Strategy::Push);
    bad_title.create_teams = vec!["ok".into(), " ".into()];
    assert_eq!(invalid_field(bad_title.validate()), "plan.create-teams[1]");

    let mut bad_percent = empty(Strategy::Push);
    bad_percent.options.max_removal_percent = Some(101.0);
    assert_eq!(invalid_field(bad_percent.validate()), "max-removal-percent");
}

#[test]
fn a_plan_whose_safety_stop_was_dropped_is_stopped_again_by_its_own_counts() {
    let mut many = empty(Strategy::Sync);
    many.removals = (0..11).map(|i| removal(&format!("u{i}"))).collect();
    many.current_members = 1000;
    let (plan, _) = many.clone().validate().unwrap();
    let stop = plan.safety.expect("11 removals is over the default limit of 10");
    assert_eq!(stop.would_remove.len(), 11);

    many.options.allow_mass_removal = true;
    assert!(many.validate().unwrap().0.safety.is_none(), "the options it was planned with allowed it");
}
