//! Deletion safety: a plan whose removals look like a mistake (a truncated
//! export, a wrong scope, a broken mapping) is stopped before anything is
//! sent. The plan is still computed, so a dry run shows what would go.

use super::model::{Options, PlannedRemoval, SafetyStop};

/// The sizes the checks compare.
pub(super) struct Sizes {
    pub current_members: usize,
    pub snapshot_users: usize,
    pub in_scope_users: usize,
}

/// A snapshot listing fewer users than this share of current members looks
/// truncated.
const MIN_SNAPSHOT_SHARE_PERCENT: usize = 10;

/// The stop for these removals, unless the override is set.
///
/// Only member removals count: they are the step that cannot be undone by
/// running again. (Team removals only ever concern in-scope users, so a
/// snapshot with none cannot empty a team.)
pub(super) fn check(removals: &[PlannedRemoval], sizes: &Sizes, options: &Options) -> Option<SafetyStop> {
    if options.allow_mass_removal || removals.is_empty() {
        return None;
    }
    let count = removals.len();
    let current = sizes.current_members;
    let mut reasons = Vec::new();
    if count > options.max_removals {
        reasons.push(format!("it would remove {count} members, more than the limit of {}", options.max_removals));
    }
    if count as f64 * 100.0 > options.max_removal_percent * current as f64 {
        reasons.push(format!(
            "it would remove {count} of {current} members ({:.1}%), more than the limit of {}%",
            count as f64 * 100.0 / current.max(1) as f64,
            options.max_removal_percent
        ));
    }
    if sizes.in_scope_users == 0 {
        reasons.push(format!("the snapshot has no in-scope user, yet {count} members would be removed"));
    } else if sizes.snapshot_users * 100 < current * MIN_SNAPSHOT_SHARE_PERCENT {
        reasons.push(format!(
            "the snapshot lists {} users for {current} members (under {MIN_SNAPSHOT_SHARE_PERCENT}%): it looks truncated",
            sizes.snapshot_users
        ));
    }
    if reasons.is_empty() {
        return None;
    }
    Some(SafetyStop {
        reason: format!(
            "safety stop: {}; check the snapshot, or allow mass removal to apply anyway",
            reasons.join("; ")
        ),
        would_remove: removals.to_vec(),
    })
}

/// The removal limits checked again on a plan that comes back from a caller
/// (WIT `apply` takes the plan as a value): a plan whose `safety` was
/// dropped on the way is still refused unless the options it was planned
/// with allowed mass removal.
pub(super) fn recheck(removals: &[PlannedRemoval], current_members: usize, options: &Options) -> Option<SafetyStop> {
    let sizes = Sizes { current_members, snapshot_users: current_members, in_scope_users: current_members.max(1) };
    check(removals, &sizes, options)
}
