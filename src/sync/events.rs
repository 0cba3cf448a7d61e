//! Applies directory events to GitBook, one result per event, in order.
//!
//! - Events with an ID seen earlier in the same batch are ignored (hooks
//!   deliver at least once).
//! - Consecutive joins are sent as one invite (each with its own role), so a
//!   bulk import costs one request per thousand people, not one each.
//! - Team titles are resolved once per batch.
//! - One event failing does not stop the others; its result carries the error.

use crate::error::{Error, FailureKind};
use crate::events::okta::GroupMapping;
use crate::events::{DirectoryEvent, Event, Ignored, RoleChoice, TeamRef};
use crate::gitbook::model::Removal;
use crate::gitbook::ops::{Invite, Invitee};
use crate::gitbook::Client;
use crate::io::Io;
use crate::role::{role_or_guest_name, Role};
use crate::validate::{GitBookId, MemberRef};
use crate::validate::{TeamTitle, TitleKey};
use serde::Serialize;
use std::collections::{HashMap, HashSet};
use std::time::Duration;

/// What a join does when the event does not say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JoinDefaults {
    pub role: Option<Role>,
    pub sso: bool,
}

impl Default for JoinDefaults {
    fn default() -> Self {
        JoinDefaults { role: Some(Role::Read), sso: true }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Applied,
    Ignored,
    Failed,
}

/// The result of one event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventResult {
    pub id: Option<String>,
    /// The event's type: a generic type name, or the source's own (an
    /// ignored Okta event keeps Okta's `eventType`).
    pub kind: String,
    pub status: Status,
    /// What was done or why not, for people.
    pub detail: String,
    pub error: Option<Error>,
}

impl EventResult {
    fn new(event: &DirectoryEvent, status: Status, detail: String) -> EventResult {
        EventResult { id: event.id.clone(), kind: event.event.kind().to_owned(), status, detail, error: None }
    }

    fn failed(event: &DirectoryEvent, error: Error) -> EventResult {
        EventResult { error: Some(error.clone()), ..EventResult::new(event, Status::Failed, error.to_string()) }
    }
}

impl From<Ignored> for EventResult {
    /// An entry ignored when the document was parsed, as a result.
    fn from(ignored: Ignored) -> EventResult {
        EventResult {
            id: ignored.id,
            kind: ignored.event_type,
            status: Status::Ignored,
            detail: ignored.reason,
            error: None,
        }
    }
}

/// Parses a document of events (generic or an Okta delivery, Okta groups
/// mapped by `groups`) and applies it: one result per event in order, then
/// the entries ignored at parse time. The WIT `events.apply` export.
pub fn apply_document<I: Io>(
    client: &mut Client<'_, I>,
    groups: &GroupMapping,
    defaults: &JoinDefaults,
    document: &[u8],
) -> Result<Vec<EventResult>, Error> {
    let (events, ignored) = crate::events::split(crate::events::parse_document(document, groups)?);
    let mut results = apply(client, defaults, &events);
    results.extend(ignored.into_iter().map(EventResult::from));
    Ok(results)
}

/// Applies `events` in order and reports one result per event.
pub fn apply<I: Io>(
    client: &mut Client<'_, I>,
    defaults: &JoinDefaults,
    events: &[DirectoryEvent],
) -> Vec<EventResult> {
    let (results, deferred) = apply_while(client, defaults, events, |_| true);
    debug_assert!(deferred.is_empty());
    results
}

/// Like [`apply`], but stops starting new steps once `budget` has passed
/// on the client's clock: the events not attempted are returned as deferred,
/// in order. The webhook uses it so a delivery is answered before the sender
/// gives up.
pub fn apply_within<'e, I: Io>(
    client: &mut Client<'_, I>,
    defaults: &JoinDefaults,
    events: &'e [DirectoryEvent],
    budget: Duration,
) -> (Vec<EventResult>, Vec<&'e DirectoryEvent>) {
    let started = client.now();
    // No request outlives the budget: each lane's deadline is at most its end.
    client.limit_until(started.saturating_add(budget));
    apply_while(client, defaults, events, |client| client.now().saturating_sub(started) < budget)
}

/// Like [`apply`], but before each step asks `has_time`; once it says no,
/// the events not yet attempted are returned as deferred (in order) instead
/// of being applied. The results cover every other event, in order.
pub fn apply_while<'e, I: Io>(
    client: &mut Client<'_, I>,
    defaults: &JoinDefaults,
    events: &'e [DirectoryEvent],
    mut has_time: impl FnMut(&mut Client<'_, I>) -> bool,
) -> (Vec<EventResult>, Vec<&'e DirectoryEvent>) {
    apply_while_dyn(client, defaults, events, &mut has_time)
}

/// [`apply_while`] with the budget check behind a `dyn`, so the loop is
/// compiled once for every caller's closure.
fn apply_while_dyn<'e, I: Io>(
    client: &mut Client<'_, I>,
    defaults: &JoinDefaults,
    events: &'e [DirectoryEvent],
    has_time: &mut dyn FnMut(&mut Client<'_, I>) -> bool,
) -> (Vec<EventResult>, Vec<&'e DirectoryEvent>) {
    let mut results: Vec<Option<EventResult>> = vec![None; events.len()];
    let mut seen = HashSet::new();
    let mut teams = TeamCache::default();
    let mut joins: Vec<usize> = Vec::new();
    let mut out_of_time = false;
    for (i, event) in events.iter().enumerate() {
        if let Some(id) = &event.id {
            if !seen.insert(id.as_str()) {
                results[i] = Some(EventResult::new(
                    event,
                    Status::Ignored,
                    format!("duplicate of an earlier event with id {id:?}"),
                ));
                continue;
            }
        }
        if !has_time(client) {
            out_of_time = true;
            break;
        }
        if matches!(event.event, Event::Joined { .. }) {
            joins.push(i);
            continue;
        }
        // Anything else may depend on the joins before it: send them first.
        flush_joins(client, defaults, events, &mut joins, &mut results);
        results[i] = Some(apply_one(client, &mut teams, event));
    }
    if !out_of_time || has_time(client) {
        flush_joins(client, defaults, events, &mut joins, &mut results);
    }
    let mut done = Vec::new();
    let mut deferred = Vec::new();
    for (event, result) in events.iter().zip(results) {
        match result {
            Some(result) => done.push(result),
            None => deferred.push(event),
        }
    }
    (done, deferred)
}

fn apply_one<I: Io>(client: &mut Client<'_, I>, teams: &mut TeamCache, event: &DirectoryEvent) -> EventResult {
    let outcome = match &event.event {
        Event::Joined { .. } => unreachable!("joins are batched"),
        Event::Left { person: MemberRef::Id(user) } => {
            client.remove_member(user).map(|r| removal_detail(r, user.as_str()))
        }
        Event::Left { person: MemberRef::Email(email) } => {
            client.remove_member_by_email(email).map(|r| match r.user_id {
                Some(id) => removal_detail(r.outcome, &format!("{email} ({id})")),
                None => (Status::Ignored, format!("{email} is not a member; nothing to remove")),
            })
        }
        Event::GroupChanged { team, add, remove } => teams.resolve(client, team).and_then(|team_id| {
            client.update_team_members(&team_id, add, remove)?;
            Ok((Status::Applied, format!("team {team_id}: {} added, {} removed", add.len(), remove.len())))
        }),
        Event::RoleChanged { person, role } => set_role(client, person, *role),
    };
    match outcome {
        Ok((status, detail)) => EventResult::new(event, status, detail),
        Err(error) => EventResult::failed(event, error),
    }
}

fn removal_detail(removal: Removal, who: &str) -> (Status, String) {
    match removal {
        Removal::Deleted => (Status::Applied, format!("removed {who}")),
        Removal::NotAMember => (Status::Ignored, format!("{who} was not a member")),
        Removal::ApprovalRequested => {
            (Status::Applied, format!("removal of {who} sent to the organization's admins for approval"))
        }
    }
}

fn set_role<I: Io>(
    client: &mut Client<'_, I>,
    person: &MemberRef,
    role: Option<Role>,
) -> Result<(Status, String), Error> {
    let user = match person {
        MemberRef::Id(id) => id.clone(),
        MemberRef::Email(email) => {
            let member = client.find_member_by_email(email)?.ok_or_else(|| {
                not_found("set member role", format!("no member has the email {email}; invite them first"))
            })?;
            GitBookId::parse("user-id", &member.id)?
        }
    };
    client.set_member_role(&user, role)?;
    Ok((Status::Applied, format!("{} is now {}", person.as_str(), role_or_guest_name(role))))
}

fn not_found(operation: &'static str, message: String) -> Error {
    Error::Api(
        FailureKind::NotFound,
        crate::error::ApiFailure {
            operation,
            status: None,
            message,
            attempts: 0,
            elapsed_ms: 0,
            retry_after_ms: None,
            effect_unknown: false,
        },
    )
}

/// Sends the pending joins as one invite per `sso` value and records a
/// result for each.
fn flush_joins<I: Io>(
    client: &mut Client<'_, I>,
    defaults: &JoinDefaults,
    events: &[DirectoryEvent],
    joins: &mut Vec<usize>,
    results: &mut [Option<EventResult>],
) {
    for sso in [true, false] {
        let batch: Vec<usize> = joins
            .iter()
            .copied()
            .filter(|&i| matches!(events[i].event, Event::Joined { sso: s, .. } if s.unwrap_or(defaults.sso) == sso))
            .collect();
        if batch.is_empty() {
            continue;
        }
        let with_roles: Vec<Invitee> = batch
            .iter()
            .map(|&i| {
                let Event::Joined { email, role, .. } = &events[i].event else { unreachable!() };
                let role = match role {
                    RoleChoice::Default => defaults.role,
                    RoleChoice::Set(role) => *role,
                };
                Invitee { email: email.clone(), role }
            })
            .collect();
        let invite = Invite { emails: vec![], with_roles: with_roles.clone(), default_role: defaults.role, sso };
        match client.invite(&invite) {
            Ok(result) => {
                // GitBook lists the users in request order.
                let ids_line_up = result.user_ids.len() == batch.len();
                for (n, &i) in batch.iter().enumerate() {
                    let invitee = &with_roles[n];
                    let mut detail = format!("invited {} as {}", invitee.email, role_or_guest_name(invitee.role));
                    if ids_line_up {
                        detail.push_str(&format!(" (user {})", result.user_ids[n]));
                    }
                    if result.failed_sso_emails.iter().any(|e| e.eq_ignore_ascii_case(invitee.email.as_str())) {
                        detail.push_str("; not made an SSO user: the email belongs to another organization");
                    }
                    results[i] = Some(EventResult::new(&events[i], Status::Applied, detail));
                }
            }
            Err(error) => {
                for &i in &batch {
                    results[i] = Some(EventResult::failed(&events[i], error.clone()));
                }
            }
        }
    }
    joins.clear();
}

/// Team titles resolved to IDs once per batch.
#[derive(Default)]
struct TeamCache {
    by_title: HashMap<TitleKey, GitBookId>,
}

impl TeamCache {
    fn resolve<I: Io>(&mut self, client: &mut Client<'_, I>, team: &TeamRef) -> Result<GitBookId, Error> {
        let title = match team {
            TeamRef::Id(id) => return Ok(id.clone()),
            TeamRef::Title(title) => title,
        };
        let key = title.key();
        if let Some(id) = self.by_title.get(&key) {
            return Ok(id.clone());
        }
        let team = client.find_team_by_title(title)?.ok_or_else(|| missing_team(title))?;
        let id = GitBookId::parse("team-id", &team.id)?;
        self.by_title.insert(key, id.clone());
        Ok(id)
    }
}

fn missing_team(title: &TeamTitle) -> Error {
    not_found(
        "find team by title",
        format!("no GitBook team is titled {:?}; create it, or map the group to a team ID", title.as_str()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::generic;
    use crate::gitbook::fake::{json, ScriptedIo};

    use crate::gitbook::fake::settings;

    fn body(io: &ScriptedIo, n: usize) -> serde_json::Value {
        serde_json::from_slice(io.sent[n].body.as_deref().unwrap()).unwrap()
    }

    #[test]
    fn consecutive_joins_become_one_invite_with_personal_roles() {
        let events = generic::parse(
            br#"[
            {"id": "1", "type": "user.joined", "email": "a@x.io"},
            {"id": "2", "type": "user.joined", "email": "b@x.io", "role": "admin"},
            {"id": "1", "type": "user.joined", "email": "a@x.io"}
        ]"#,
        )
        .unwrap();
        let settings = settings();
        let mut io = ScriptedIo::new([json(200, r#"{"users":["ua","ub"],"invited":2}"#)]);
        let results = apply(&mut Client::new(&settings, &mut io), &JoinDefaults::default(), &events);
        assert_eq!(io.sent.len(), 1);
        assert_eq!(
            body(&io, 0),
            serde_json::json!({"emails": [{"email": "a@x.io", "role": "read"}, {"email": "b@x.io", "role": "admin"}], "role": "read", "sso": true})
        );
        let statuses: Vec<Status> = results.iter().map(|r| r.status).collect();
        assert_eq!(statuses, [Status::Applied, Status::Applied, Status::Ignored]);
        assert_eq!(results[1].detail, "invited b@x.io as admin (user ub)");
    }

    #[test]
    fn events_left_when_time_runs_out_are_deferred_not_attempted() {
        let events = generic::parse(
            br#"[
            {"type": "user.left", "userId": "u1"},
            {"type": "user.joined", "email": "a@x.io"},
            {"type": "user.left", "userId": "u2"}
        ]"#,
        )
        .unwrap();
        let settings = settings();
        let mut io = ScriptedIo::new([json(205, "")]);
        let mut budget = 1;
        let (results, deferred) =
            apply_while(&mut Client::new(&settings, &mut io), &JoinDefaults::default(), &events, |_| {
                budget -= 1;
                budget >= 0
            });
        assert_eq!(results.len(), 1);
        assert_eq!(deferred.len(), 2);
        assert_eq!(io.sent.len(), 1, "nothing is sent for deferred events");
    }

    #[test]
    fn a_leave_after_a_join_is_sent_after_it() {
        let events = generic::parse(
            br#"[
            {"type": "user.joined", "email": "a@x.io"},
            {"type": "user.left", "userId": "ua"}
        ]"#,
        )
        .unwrap();
        let settings = settings();
        let mut io = ScriptedIo::new([json(200, r#"{"users":["ua"],"invited":1}"#), json(205, "")]);
        let results = apply(&mut Client::new(&settings, &mut io), &JoinDefaults::default(), &events);
        assert!(io.sent[0].url.ends_with("/invites") && io.sent[1].url.ends_with("/members/ua"));
        assert_eq!(results[1].detail, "removed ua");
    }

    #[test]
    fn one_failure_does_not_stop_the_others_and_titles_resolve_once() {
        let events = generic::parse(
            br#"[
            {"type": "group.changed", "team": "Eng", "add": ["a@x.io"]},
            {"type": "user.left", "userId": "gone"},
            {"type": "group.changed", "team": "eng", "remove": ["b@x.io"]},
            {"type": "group.changed", "team": "Nope", "add": ["a@x.io"]}
        ]"#,
        )
        .unwrap();
        let settings = settings();
        let mut io = ScriptedIo::new([
            json(
                200,
                r#"{"items":[{"id":"t1","title":"Eng","members":1},{"id":"t2","title":"Engineering Ops","members":0}]}"#,
            ),
            json(204, ""),
            json(500, r#"{"error":{"code":500,"message":"boom"}}"#),
            json(500, r#"{"error":{"code":500,"message":"boom"}}"#),
            json(500, r#"{"error":{"code":500,"message":"boom"}}"#),
            json(500, r#"{"error":{"code":500,"message":"boom"}}"#),
            json(500, r#"{"error":{"code":500,"message":"boom"}}"#),
            json(204, ""),
            json(200, r#"{"items":[]}"#),
        ]);
        let results = apply(&mut Client::new(&settings, &mut io), &JoinDefaults::default(), &events);
        let statuses: Vec<Status> = results.iter().map(|r| r.status).collect();
        assert_eq!(statuses, [Status::Applied, Status::Failed, Status::Applied, Status::Failed]);
        assert_eq!(results[1].error.as_ref().and_then(Error::kind), Some(FailureKind::ServerError));
        assert!(results[3].detail.contains("no GitBook team is titled \"Nope\""), "{}", results[3].detail);
        let team_lookups = io.sent.iter().filter(|r| r.url.contains("/teams?")).count();
        assert_eq!(team_lookups, 2, "Eng was resolved once");
    }
}
