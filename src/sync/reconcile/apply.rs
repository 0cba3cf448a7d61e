//! Carries out a plan and records every action with GitBook's answer: the
//! audit trail of a reconciliation.
//!
//! Order: create teams (their new IDs are needed next) → invites (so new
//! people can be added to teams by email) → team updates → role changes →
//! removals last, so a run cut short has added before it took away. The
//! stage order is what keeps a plan safe, so it holds whatever the
//! concurrency; within a stage the requests are independent (each touches
//! its own team, batch or member) and run together, up to
//! `settings.concurrency` at once. Actions are reported in plan order, not
//! in the order answers came. One failed action does not stop the others,
//! except an unauthorized or forbidden answer: every later request would
//! fail the same way, so none is started (those in flight finish, or are
//! abandoned at their deadline, and are reported as they ended). Because a
//! stage's steps run together, a plan with two steps for one target in a
//! stage is refused before anything is sent.
//!
//! An action whose request reached (or may have reached) GitBook without
//! an answer saying what happened (a timeout, a reset, a 5xx, a request
//! abandoned at its deadline) is reported `unknown`, not `failed`: it may
//! have been carried out.

use super::model::{Plan, PlannedInvite, SafetyStop};
use super::ser;
use crate::error::{ApiFailure, Error, FailureKind};
use crate::gitbook::client::MAX_INVITE_BATCH;
use crate::gitbook::lanes::One;
use crate::gitbook::lanes::TeamCreation;
use crate::gitbook::model::Removal;
use crate::gitbook::ops::{self, Call, Invite, Invitee};
use crate::gitbook::Client;
use crate::io::Io;
use crate::role::role_or_guest_name;
use crate::validate::{printable, Email, GitBookId, MemberRef};
use crate::validate::{TeamTitle, TitleKey};
use serde::Serialize;
use std::collections::{HashMap, HashSet};

/// At most this many removals are named in a refusal message.
const NAMED_IN_REFUSAL: usize = 20;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActionKind {
    CreateTeam,
    Invite,
    UpdateTeam,
    ChangeRole,
    RemoveMember,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    Ok,
    /// Surely not carried out.
    Failed,
    /// Sent, and whether GitBook carried it out cannot be known; read the
    /// state again (plan) to see.
    Unknown,
}

/// One action and GitBook's answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Action {
    pub kind: ActionKind,
    /// Who or what: an email, a team title, `email (user ID)`.
    pub target: String,
    pub outcome: Outcome,
    /// What was done, or why not, for people.
    pub detail: String,
    /// The failure, serialized as [`Error::to_json`].
    #[serde(serialize_with = "ser::error", skip_serializing_if = "Option::is_none")]
    pub error: Option<Error>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportCounts {
    /// Actions in the plan.
    pub planned: usize,
    pub ok: usize,
    pub failed: usize,
    /// Sent, with no answer saying whether they were carried out.
    pub unknown: usize,
    /// Actions never tried because the run stopped early.
    pub not_attempted: usize,
}

/// What apply did.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub actions: Vec<Action>,
    pub counts: ReportCounts,
    /// Why the run stopped before the end, if it did.
    pub stopped: Option<String>,
}

impl Report {
    /// Every planned action was carried out.
    pub fn is_success(&self) -> bool {
        self.counts.failed == 0 && self.counts.unknown == 0 && self.counts.not_attempted == 0
    }
}

/// Applies `plan`, inviting with `sso`. A plan with a safety stop is refused
/// (`Error::SafetyStop`, naming who would be removed), and so is a step its
/// strategy does not allow ([`Plan::check_strategy`]), and two steps for one
/// target in a stage ([`Plan::check_targets`]); nothing is sent then.
/// Otherwise the report holds every action's outcome.
pub fn apply<I: Io>(client: &mut Client<'_, I>, plan: &Plan, sso: bool) -> Result<Report, Error> {
    plan.check_strategy()?;
    plan.check_targets()?;
    if let Some(stop) = &plan.safety {
        return Err(refusal(stop));
    }
    let mut log = Log::default();
    let created = create_teams(client, plan, &mut log);
    log.check_time(client);
    let failed_invites = invite(client, plan, sso, &mut log);
    log.check_time(client);
    update_teams(client, plan, &created, &failed_invites, &mut log);
    log.check_time(client);
    change_roles(client, plan, &mut log);
    log.check_time(client);
    remove_members(client, plan, &mut log);
    let planned = plan.create_teams.len()
        + plan.invites.len()
        + plan.team_updates.len()
        + plan.role_changes.len()
        + plan.removals.len();
    Ok(log.into_report(planned))
}

fn refusal(stop: &SafetyStop) -> Error {
    let mut named: Vec<String> =
        stop.would_remove.iter().take(NAMED_IN_REFUSAL).map(|r| format!("{} ({})", r.email, r.user_id)).collect();
    if stop.would_remove.len() > NAMED_IN_REFUSAL {
        named.push(format!("and {} more", stop.would_remove.len() - NAMED_IN_REFUSAL));
    }
    let who = if named.is_empty() { "no member".to_owned() } else { named.join(", ") };
    Error::SafetyStop(format!("{}; it would remove: {who}", stop.reason))
}

/// The actions so far, and whether the run must stop.
#[derive(Default)]
struct Log {
    actions: Vec<Action>,
    stopped: Option<Stop>,
}

/// Why the run stopped before its end.
enum Stop {
    /// This action's answer (401/403) said every later request would fail.
    After(String, Error),
    /// The budget of the request being served ran out between two stages.
    OutOfTime,
}

impl Log {
    /// Before a stage: a budget that has run out stops the run there, so
    /// the report counts what is left as not attempted (rather than as
    /// failures of requests that were never sent).
    fn check_time<I: Io>(&mut self, client: &mut Client<'_, I>) {
        if self.stopped.is_none() && client.out_of_time() {
            self.stopped = Some(Stop::OutOfTime);
        }
    }

    fn stopped(&self) -> bool {
        self.stopped.is_some()
    }

    fn record(&mut self, kind: ActionKind, target: String, result: Result<String, Error>) {
        match result {
            Ok(detail) => self.actions.push(Action { kind, target, outcome: Outcome::Ok, detail, error: None }),
            Err(error) => {
                if matches!(error.kind(), Some(FailureKind::Unauthorized | FailureKind::Forbidden)) {
                    self.stopped.get_or_insert_with(|| Stop::After(target.clone(), error.clone()));
                }
                let outcome = if error.effect_unknown() { Outcome::Unknown } else { Outcome::Failed };
                let detail = error.to_string();
                self.actions.push(Action { kind, target, outcome, detail, error: Some(error) });
            }
        }
    }

    fn into_report(self, planned: usize) -> Report {
        let count = |outcome| self.actions.iter().filter(|a| a.outcome == outcome).count();
        let counts = ReportCounts {
            planned,
            ok: count(Outcome::Ok),
            failed: count(Outcome::Failed),
            unknown: count(Outcome::Unknown),
            not_attempted: planned.saturating_sub(self.actions.len()),
        };
        // Says exactly what was and was not attempted: the actions reported
        // beside the one that stopped the run were in flight with it.
        let stopped = self.stopped.map(|stop| match stop {
            Stop::After(target, error) => {
                let others = self.actions.len().saturating_sub(1);
                format!(
                    "stopped after {target} failed: {error}; {} of {planned} planned actions were not attempted{}",
                    counts.not_attempted,
                    match others {
                        0 => String::new(),
                        1 =>
                            "; the 1 other action reported was sent before the stop and is reported as it ended".into(),
                        n => format!(
                            "; the {n} other actions reported were sent before the stop and are reported as they ended"
                        ),
                    }
                )
            }
            Stop::OutOfTime => format!(
                "the time budget ran out; {} of {planned} planned actions were not attempted; the {} reported \
                 are as they ended (run again to finish)",
                counts.not_attempted,
                self.actions.len()
            ),
        });
        Report { actions: self.actions, counts, stopped }
    }
}

/// The existing members a new team starts with: the member IDs its planned
/// update adds. People still to be invited join through that update.
fn founding_members(plan: &Plan, title: &TeamTitle) -> Vec<GitBookId> {
    let update = plan.team_updates.iter().find(|u| u.team_id.is_none() && u.title.key() == title.key());
    let ids = update.into_iter().flat_map(|u| &u.add).filter_map(|m| match m {
        MemberRef::Id(id) => Some(id.clone()),
        MemberRef::Email(_) => None,
    });
    ids.collect()
}

/// Creates the missing teams, each with its existing members in the same
/// request; returns the new IDs by title key. A creation whose answer was
/// lost is looked up by title before any repeat (see
/// [`Client::create_team`]).
fn create_teams<I: Io>(client: &mut Client<'_, I>, plan: &Plan, log: &mut Log) -> HashMap<TitleKey, GitBookId> {
    let mut created = HashMap::new();
    if log.stopped() {
        return created;
    }
    let settings = client.settings();
    let founders: Vec<Vec<GitBookId>> = plan.create_teams.iter().map(|title| founding_members(plan, title)).collect();
    let mut lanes: Vec<_> = plan
        .create_teams
        .iter()
        .zip(&founders)
        .map(|(title, members)| TeamCreation::new(settings, title, members))
        .collect();
    client.run_all(&mut lanes);
    for ((title, members), lane) in plan.create_teams.iter().zip(&founders).zip(lanes) {
        let Some(result) = lane.into_result() else { continue };
        let result = result.and_then(|team| {
            let id = GitBookId::parse("team-id", &team.id).map_err(|_| {
                failure(
                    "create team",
                    FailureKind::InvalidResponse,
                    format!("GitBook created the team with the ID {}, which is not a valid ID", printable(&team.id)),
                )
            })?;
            let detail = match members.len() {
                0 => format!("created team {id}"),
                1 => format!("created team {id} with 1 existing member"),
                n => format!("created team {id} with {n} existing members"),
            };
            created.insert(title.key(), id);
            Ok(detail)
        });
        log.record(ActionKind::CreateTeam, title.as_str().to_owned(), result);
    }
    created
}

/// Runs independent calls together; each result in the calls' order, `None`
/// for a call never started because the run stopped.
fn run_stage<T, I: Io>(client: &mut Client<'_, I>, calls: Vec<Call<T>>) -> Vec<Option<Result<T, Error>>> {
    let mut lanes: Vec<One<T>> = calls.into_iter().map(One::new).collect();
    client.run_all(&mut lanes);
    lanes.into_iter().map(One::into_result).collect()
}

/// Sends the invites in batches of at most [`MAX_INVITE_BATCH`], each
/// person with their own role; returns the emails whose invite failed.
fn invite<I: Io>(client: &mut Client<'_, I>, plan: &Plan, sso: bool, log: &mut Log) -> HashSet<Email> {
    let mut failed = HashSet::new();
    if log.stopped() {
        return failed;
    }
    let batches: Vec<&[PlannedInvite]> = plan.invites.chunks(MAX_INVITE_BATCH).collect();
    let calls = batches
        .iter()
        .map(|batch| {
            let with_roles = batch.iter().map(|i| Invitee { email: i.email.clone(), role: i.role }).collect();
            let invite = Invite { emails: vec![], with_roles, default_role: plan.default_role, sso };
            ops::invite(client.settings(), &invite)
        })
        .collect();
    for (batch, result) in batches.into_iter().zip(run_stage(client, calls)) {
        match result {
            None => {}
            Some(Ok(result)) => {
                // GitBook lists the new users in request order.
                let ids = (result.user_ids.len() == batch.len()).then_some(&result.user_ids);
                for (n, PlannedInvite { email, role }) in batch.iter().enumerate() {
                    let mut detail = format!("invited as {}", role_or_guest_name(*role));
                    if let Some(ids) = ids {
                        detail.push_str(&format!(" (user {})", ids[n]));
                    }
                    if result.failed_sso_emails.iter().any(|e| e.eq_ignore_ascii_case(email.as_str())) {
                        detail.push_str("; not made an SSO user: the email belongs to another organization");
                    }
                    log.record(ActionKind::Invite, email.to_string(), Ok(detail));
                }
            }
            Some(Err(error)) => {
                for PlannedInvite { email, .. } in batch {
                    failed.insert(email.clone());
                    log.record(ActionKind::Invite, email.to_string(), Err(error.clone()));
                }
            }
        }
    }
    failed
}

/// One `PUT …/teams/{id}/members` per team. People whose invite failed are
/// left out of the additions (GitBook would refuse or re-invite them).
fn update_teams<I: Io>(
    client: &mut Client<'_, I>,
    plan: &Plan,
    created: &HashMap<TitleKey, GitBookId>,
    failed_invites: &HashSet<Email>,
    log: &mut Log,
) {
    /// What one planned update comes to before anything is sent.
    enum Step {
        /// Settled without a request (with its report).
        Done(Result<String, Error>),
        /// A request, and the counts its report names.
        Send { call: usize, added: usize, removed: usize, dropped: usize },
    }
    if log.stopped() {
        return;
    }
    let mut calls = Vec::new();
    let mut steps = Vec::new();
    for update in &plan.team_updates {
        let id = update.team_id.clone().or_else(|| created.get(&update.title.key()).cloned());
        let target = match &id {
            Some(id) => format!("{} ({id})", update.title.as_str()),
            None => update.title.as_str().to_owned(),
        };
        let Some(id) = id else {
            steps.push((target, Step::Done(Err(not_created(&update.title)))));
            continue;
        };
        // A team this run created already has its existing members.
        let founded = update.team_id.is_none();
        let (add, dropped): (Vec<MemberRef>, Vec<MemberRef>) = update
            .add
            .iter()
            .filter(|m| !(founded && matches!(m, MemberRef::Id(_))))
            .cloned()
            .partition(|m| !matches!(m, MemberRef::Email(email) if failed_invites.contains(email)));
        if add.is_empty() && update.remove.is_empty() {
            let detail = match (founded, dropped.len()) {
                (true, 0) => "its members were added when it was created".to_owned(),
                (true, n) => {
                    format!("its members were added when it was created; {n} not added because their invite failed")
                }
                // Nothing left to send: everyone it would add failed their invite.
                (false, n) => format!("0 added, 0 removed; {n} not added because their invite failed"),
            };
            steps.push((target, Step::Done(Ok(detail))));
            continue;
        }
        let remove: Vec<MemberRef> = update.remove.iter().cloned().map(MemberRef::Id).collect();
        calls.push(ops::update_team_members(client.settings(), &id, &add, &remove));
        let step =
            Step::Send { call: calls.len() - 1, added: add.len(), removed: remove.len(), dropped: dropped.len() };
        steps.push((target, step));
    }
    let mut results = run_stage(client, calls);
    for (target, step) in steps {
        let result = match step {
            Step::Done(result) => result,
            Step::Send { call, added, removed, dropped } => {
                let Some(result) = results[call].take() else { continue };
                result.map(|()| {
                    let mut detail = format!("{added} added, {removed} removed");
                    if dropped > 0 {
                        detail.push_str(&format!("; {dropped} not added because their invite failed"));
                    }
                    detail
                })
            }
        };
        log.record(ActionKind::UpdateTeam, target, result);
    }
}

fn change_roles<I: Io>(client: &mut Client<'_, I>, plan: &Plan, log: &mut Log) {
    if log.stopped() {
        return;
    }
    let calls = plan.role_changes.iter().map(|c| ops::set_member_role(client.settings(), &c.user_id, c.to)).collect();
    for (change, result) in plan.role_changes.iter().zip(run_stage(client, calls)) {
        let Some(result) = result else { continue };
        let result = result.map(|_| {
            format!("role changed from {} to {}", role_or_guest_name(change.from), role_or_guest_name(change.to))
        });
        log.record(ActionKind::ChangeRole, format!("{} ({})", change.email, change.user_id), result);
    }
}

fn remove_members<I: Io>(client: &mut Client<'_, I>, plan: &Plan, log: &mut Log) {
    if log.stopped() {
        return;
    }
    let calls = plan.removals.iter().map(|r| ops::remove_member(client.settings(), &r.user_id)).collect();
    for (removal, result) in plan.removals.iter().zip(run_stage(client, calls)) {
        let Some(result) = result else { continue };
        let result = result.map(|outcome| match outcome {
            Removal::Deleted => "removed from the organization".to_owned(),
            Removal::NotAMember => "was no longer a member".to_owned(),
            Removal::ApprovalRequested => "removal sent to the organization's admins for approval".to_owned(),
        });
        log.record(ActionKind::RemoveMember, format!("{} ({})", removal.email, removal.user_id), result);
    }
}

fn not_created(title: &TeamTitle) -> Error {
    failure(
        "update team members",
        FailureKind::NotFound,
        format!(
            "the team {} was not created (see its create-team action), so nobody was added",
            printable(title.as_str())
        ),
    )
}

fn failure(operation: &'static str, kind: FailureKind, message: String) -> Error {
    Error::Api(
        kind,
        ApiFailure {
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
