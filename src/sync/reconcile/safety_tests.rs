//! Deletion safety: the count and percentage thresholds, a truncated or
//! empty-scoped snapshot, and the override.

use super::testkit::{large_org, member, snapshot, state, sync};
use super::{plan, Options, Snapshot, State};
use crate::role::Role;
use serde_json::json;

/// An organization of `members` whose snapshot lacks the first `missing`.
fn org_missing(members: usize, missing: usize) -> (Snapshot, State) {
    let org = large_org(members, 10);
    let mut snapshot = org.snapshot;
    snapshot.users.drain(..missing);
    (snapshot, org.state)
}

/// Only the check under test can stop the plan.
fn permissive() -> Options {
    Options { max_removals: usize::MAX, max_removal_percent: 100.0, ..sync() }
}

#[test]
fn more_removals_than_the_count_limit_stop() {
    let (snapshot, state) = org_missing(1000, 11);
    let plan = plan(&snapshot, &state, &sync());
    let stop = plan.safety.as_ref().expect("a stop");
    assert_eq!(stop.would_remove.len(), 11);
    assert_eq!(stop.would_remove, plan.removals, "the plan is still computed, for a dry run");
    assert!(stop.reason.contains("remove 11 members, more than the limit of 10"), "{}", stop.reason);
    assert!(!stop.reason.contains('%'), "1.1% is within the percentage: {}", stop.reason);

    let (snapshot, state) = org_missing(1000, 10);
    assert!(super::plan(&snapshot, &state, &sync()).safety.is_none(), "10 is the limit, not over it");
}

#[test]
fn more_than_the_percentage_of_members_stops() {
    let (snapshot, state) = org_missing(100, 6);
    let stop = plan(&snapshot, &state, &sync()).safety.expect("a stop");
    assert!(stop.reason.contains("remove 6 of 100 members (6.0%), more than the limit of 5%"), "{}", stop.reason);
    assert!(!stop.reason.contains("limit of 10"), "{}", stop.reason);

    let (snapshot, state) = org_missing(100, 5);
    assert!(plan(&snapshot, &state, &sync()).safety.is_none(), "5% is the limit, not over it");
    let strict = Options { max_removal_percent: 4.5, ..sync() };
    assert!(plan(&snapshot, &state, &strict).safety.is_some());
}

#[test]
fn the_override_lets_a_mass_removal_through() {
    let (snapshot, state) = org_missing(1000, 500);
    let options = Options { allow_mass_removal: true, ..sync() };
    let plan = plan(&snapshot, &state, &options);
    assert!(plan.safety.is_none());
    assert_eq!(plan.removals.len(), 500);
}

#[test]
fn a_snapshot_far_smaller_than_the_organization_looks_truncated() {
    let (snapshot, state) = org_missing(100, 91);
    let stop = plan(&snapshot, &state, &permissive()).safety.expect("a stop");
    assert!(stop.reason.contains("lists 9 users for 100 members (under 10%)"), "{}", stop.reason);
    let (snapshot, state) = org_missing(100, 90);
    assert!(plan(&snapshot, &state, &permissive()).safety.is_none(), "10% is enough");
}

#[test]
fn no_in_scope_user_with_removals_stops() {
    let state = state(
        (0..20).map(|i| member(&format!("u{i}"), &format!("user{i}@example.com"), Some(Role::Read))).collect(),
        &[],
    );
    let users: Vec<_> = (1..20).map(|i| json!({"email": format!("user{i}@example.com"), "groups": ["eng"]})).collect();
    let snapshot = snapshot(json!({"users": users, "rules": {"scope": {"groups": ["engineering"]}}}));
    let plan = plan(&snapshot, &state, &permissive());
    assert_eq!(plan.summary.in_scope_users, 0);
    let stop = plan.safety.expect("a stop");
    assert!(stop.reason.contains("no in-scope user"), "{}", stop.reason);
    assert_eq!(stop.would_remove.len(), 1);
}
