//! A 10,000-member organization with 100 teams: in step it plans nothing,
//! and a 1% drift plans exactly the expected actions.

use super::testkit::{drift, large_org, simulate, sync};
use super::{plan, Options, Summary};
use std::time::Instant;

const MEMBERS: usize = 10_000;
const TEAMS: usize = 100;
/// 1% of the members drift, a quarter in each of four ways.
const PER_KIND: usize = MEMBERS / 100 / 4;

#[test]
fn a_large_organization_in_step_plans_nothing() {
    let org = large_org(MEMBERS, TEAMS);
    let plan = plan(&org.snapshot, &org.state, &sync());
    assert!(plan.is_empty() && plan.skipped.is_empty() && plan.safety.is_none());
    assert_eq!((plan.summary.current_members, plan.summary.in_scope_users), (MEMBERS, MEMBERS));
}

#[test]
fn a_one_percent_drift_plans_exact_counts() {
    let started = Instant::now();
    let org = large_org(MEMBERS, TEAMS);
    let drifted = drift(&org, PER_KIND, TEAMS);
    let options = Options { max_removals: 100, ..sync() };
    let synced = plan(&drifted, &org.state, &options);
    eprintln!("built and planned {MEMBERS} members in {:?}", started.elapsed());
    assert_eq!(
        synced.summary,
        Summary {
            current_members: MEMBERS,
            snapshot_users: MEMBERS,
            in_scope_users: MEMBERS,
            create_teams: 0,
            invites: 25,
            role_changes: 25,
            // Joiners land in teams 0..25; movers leave teams 25..50 for 75..100.
            team_updates: 75,
            team_additions: 50,
            team_removals: 25,
            removals: 25,
            skipped: 0,
        }
    );
    assert!(synced.safety.is_none());
    assert!(plan(&drifted, &simulate(&org.state, &synced), &options).is_empty(), "one apply converges");

    // 25 removals are 0.25% of the members, but more than the default 10.
    let stop = plan(&drifted, &org.state, &sync()).safety.expect("a stop");
    assert_eq!(stop.would_remove.len(), 25);

    let pushed = plan(&drifted, &org.state, &Options::default());
    let s = &pushed.summary;
    assert_eq!(
        (s.invites, s.role_changes, s.team_updates, s.team_additions, s.team_removals, s.removals),
        (25, 25, 50, 50, 0, 0)
    );
}
