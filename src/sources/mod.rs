//! Directory sources: reading Google Workspace, Microsoft Entra ID or Okta
//! straight into the [`Snapshot`] that reconcile plans from, so everything
//! after it (plan, safety checks, strategies, apply, the report) is the
//! same as for a snapshot file.
//!
//! - [`api`]: what a source is, as pure functions ([`DirectoryApi`]);
//!   [`google`], [`entra`] and [`okta`] implement it: request URLs, token
//!   exchanges, page parsing, each directory's rate-limit headers.
//! - [`jwt`]: the RS256 assertion Google's service accounts sign.
//! - [`walk`]: the whole read as a state machine with no I/O.
//! - [`drive`]: sends the walk's requests over an [`Io`](crate::io::Io),
//!   concurrently, with retries and the directory's rate limits.
//! - [`config`]: a source's settings, by name, from the environment or the
//!   caller, with every credential kept secret.
//!
//! A read that fails anywhere (a page, the token, a group that cannot be
//! found or read) is an error; there is never a partial snapshot that
//! would make people look as if they had left.

pub mod api;
pub mod config;
pub mod drive;
pub mod entra;
pub mod google;
pub mod jwt;
pub mod okta;
pub mod secret;
pub mod walk;

#[cfg(test)]
mod walk_tests;

pub use api::{DirectoryApi, SourceKind};
pub use config::Source;
pub use drive::DriveStats;
pub use walk::{DirectoryRead, ReadStats};

use crate::error::Error;
use crate::io::Io;
use crate::settings::Settings;
use crate::sync::reconcile::{Rules, Snapshot};

/// A snapshot read from a source, with what it took.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceRead {
    pub snapshot: Snapshot,
    pub stats: ReadStats,
    pub drive: DriveStats,
}

/// The directory group names the rules use: `groupTeams`, `groupRoles`
/// and `scope`. Only these groups' members are read.
pub fn rule_groups(rules: &Rules) -> Vec<String> {
    let mut groups: Vec<String> =
        rules.group_teams.keys().chain(rules.group_roles.keys()).chain(rules.scope.iter().flatten()).cloned().collect();
    groups.sort();
    groups.dedup();
    groups
}

/// Reads the source into a snapshot with `rules`. The GitBook `settings`
/// give the concurrency, retry policy, timeouts and response size cap.
pub fn read_snapshot<I: Io>(
    io: &mut I,
    settings: &Settings,
    source: &Source,
    rules: Rules,
) -> Result<SourceRead, Error> {
    read_snapshot_until(io, settings, source, rules, None)
}

/// [`read_snapshot`], with nothing sent or awaited past `horizon` (the
/// monotonic end of an incoming route's budget).
pub fn read_snapshot_until<I: Io>(
    io: &mut I,
    settings: &Settings,
    source: &Source,
    rules: Rules,
    horizon: Option<std::time::Duration>,
) -> Result<SourceRead, Error> {
    let (read, drive) = drive::read(io, settings, source.api(), rule_groups(&rules), horizon);
    let read = read?;
    Ok(SourceRead { snapshot: Snapshot { users: read.users, rules }, stats: read.stats, drive })
}

/// One line for people (stderr): what was read and what it took.
pub fn summary(source: &Source, read: &SourceRead) -> String {
    let stats = &read.stats;
    let mut line = format!(
        "read {}: {} users listed, {} in the snapshot; {} groups; {} requests",
        source.kind().title(),
        stats.users_listed,
        stats.users_kept,
        stats.groups_read,
        read.drive.requests,
    );
    if read.drive.retries > 0 {
        line.push_str(&format!(" ({} repeated)", read.drive.retries));
    }
    if !stats.without_email.is_empty() {
        line.push_str(&format!("; {} active users have no usable email and are left out", stats.without_email.len()));
    }
    line.push('\n');
    line
}

/// Reads the source, then GitBook, and plans: what `sync --source`, the
/// WIT `plan-from-source` and `/reconcile?source=` share. Returns the plan
/// and whether invites are SSO.
pub fn plan_from_source<I: Io>(
    client: &mut crate::gitbook::Client<'_, I>,
    source: &Source,
    rules: Rules,
    options: &crate::sync::reconcile::Options,
) -> Result<(crate::sync::reconcile::Plan, bool), Error> {
    let settings = client.settings();
    let horizon = client.horizon();
    let read = read_snapshot_until(client.io(), settings, source, rules, horizon)?;
    plan_read(client, &read, options)
}

/// Plans from a snapshot already read from a source.
pub fn plan_read<I: Io>(
    client: &mut crate::gitbook::Client<'_, I>,
    read: &SourceRead,
    options: &crate::sync::reconcile::Options,
) -> Result<(crate::sync::reconcile::Plan, bool), Error> {
    use crate::sync::reconcile;
    let state = reconcile::read_state(client, &read.snapshot.rules.team_titles())?;
    Ok((reconcile::plan(&read.snapshot, &state, options), read.snapshot.rules.sso))
}
