//! Pairs GitBook members with directory users by email (case-insensitive)
//! and sorts every member into one of: managed (an in-scope user), out of
//! scope (listed but not managed: left alone), absent (not listed: a removal
//! candidate), or unmatchable (skipped, never touched).

use super::model::{SkipKind, Skipped};
use super::snapshot::{DirectoryUser, Snapshot};
use super::state::{CurrentMember, State};
use crate::validate::{Email, GitBookId};
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};

/// A member whose ID and email passed validation.
pub(super) struct Found<'a> {
    /// Position in the state's member list, to keep output in GitBook's order.
    pub index: usize,
    pub id: GitBookId,
    pub email: Email,
    pub member: &'a CurrentMember,
}

pub(super) struct Matching<'a> {
    /// Every in-scope user, in snapshot order, with their member if any.
    pub managed: Vec<(&'a DirectoryUser, Option<Found<'a>>)>,
    /// The IDs of the members in `managed`.
    pub managed_ids: HashSet<&'a str>,
    /// Members no snapshot user names, in GitBook's order.
    pub absent: Vec<Found<'a>>,
    /// Members that cannot be matched safely.
    pub skipped: Vec<Skipped>,
}

pub(super) fn match_members<'a>(snapshot: &'a Snapshot, state: &'a State) -> Matching<'a> {
    let mut by_email: HashMap<Email, Found<'a>> = HashMap::with_capacity(state.members.len());
    // Emails two members share: neither can be told apart from the other, so
    // both are left alone, and the directory user is neither matched nor
    // invited.
    let mut shared: HashSet<Email> = HashSet::new();
    let mut skipped = Vec::new();
    let skip = |member: &CurrentMember, reason: String| Skipped {
        kind: SkipKind::Member,
        user_id: Some(member.id.clone()),
        email: member.email.clone(),
        reason,
    };
    for (index, member) in state.members.iter().enumerate() {
        let Ok(id) = GitBookId::parse("user-id", &member.id) else {
            skipped.push(skip(member, "GitBook gave this member an ID that is not valid; left alone".into()));
            continue;
        };
        // A member the directory cannot name is never treated as absent from
        // it: that would remove people only because their email is odd.
        let Some(email) = member.email.as_deref().and_then(|e| Email::parse("email", e).ok()) else {
            skipped.push(skip(member, "has no usable email to match against the directory; left alone".into()));
            continue;
        };
        if shared.contains(&email) {
            skipped.push(skip(member, format!("shares the email {email} with another member; left alone")));
            continue;
        }
        match by_email.entry(email.clone()) {
            Entry::Occupied(first) => {
                let first = first.remove();
                skipped.push(skip(first.member, format!("shares the email {email} with another member; left alone")));
                skipped.push(skip(member, format!("shares the email {email} with another member; left alone")));
                shared.insert(email);
            }
            Entry::Vacant(slot) => {
                slot.insert(Found { index, id, email, member });
            }
        }
    }
    let mut managed = Vec::new();
    let mut managed_ids = HashSet::new();
    for user in &snapshot.users {
        if shared.contains(&user.email) {
            continue;
        }
        // Taking the member out of the index marks them as listed; whatever
        // is left afterwards is absent from the snapshot.
        let found = by_email.remove(&user.email);
        if snapshot.rules.in_scope(user) {
            if let Some(found) = &found {
                managed_ids.insert(found.member.id.as_str());
            }
            managed.push((user, found));
        }
    }
    let mut absent: Vec<Found<'a>> = by_email.into_values().collect();
    absent.sort_by_key(|f| f.index);
    Matching { managed, managed_ids, absent, skipped }
}
