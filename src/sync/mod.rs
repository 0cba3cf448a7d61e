//! What must change in GitBook: directory events applied in order
//! ([`events`]), and whole-state reconciliation ([`reconcile`]).

pub mod events;
pub mod reconcile;

use crate::error::Error;
use crate::gitbook::Client;
use crate::io::Io;

/// Parses a directory snapshot, reads the GitBook state it concerns (every
/// member, every team, the members of managed teams) and plans against it.
/// Returns the plan and whether invites make SSO users. The document is
/// taken by value so its bytes are freed before GitBook is read: at 100,000
/// users that is several MiB less at the peak.
pub fn plan_snapshot<I: Io>(
    client: &mut Client<'_, I>,
    document: Vec<u8>,
    options: &reconcile::Options,
) -> Result<(reconcile::Plan, bool), Error> {
    let snapshot = reconcile::Snapshot::parse(&document)?;
    drop(document);
    let state = reconcile::read_state(client, &snapshot.rules.team_titles())?;
    Ok((reconcile::plan(&snapshot, &state, options), snapshot.rules.sso))
}
