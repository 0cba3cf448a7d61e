//! Reading a whole directory, as a state machine with no I/O: which
//! requests to make next (the token exchange first, then the user list and
//! every group's members side by side, each list page after page), what
//! each answer adds, and at the end the users with the rule groups each
//! belongs to. The driver ([`drive`](super::drive)) sends what [`Walk::next`]
//! plans and hands every answer (or the error its retries ended in) to
//! [`Walk::land`].
//!
//! Safety: the first failure ends the walk; no further request is planned
//! and [`Walk::finish`] returns that error, never a partial directory (a
//! partial directory would read as "these people left" and remove them).

use super::api::{AccessToken, DirectoryApi, ListedUser, Member, SourceKind};
use crate::error::{ApiFailure, Error, FailureKind};
use crate::http::{Method, Request, Response};
use crate::sync::reconcile::DirectoryUser;
use crate::validate::Email;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::Duration;

/// Nested groups are followed up to this many groups in all, so a
/// directory with a runaway nesting cannot make the walk endless.
pub const MAX_GROUPS: usize = 2000;

/// What a request is for, to name it in errors and count it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Step {
    Token,
    Users,
    FindGroup,
    Members,
}

impl Step {
    /// The operation named in errors, e.g. "read Okta users".
    pub fn operation(self, kind: SourceKind) -> &'static str {
        use SourceKind::*;
        use Step::*;
        match (kind, self) {
            (Google, Token) => "Google Workspace sign-in",
            (Google, Users) => "Google Workspace: read users",
            (Google, FindGroup) => "Google Workspace: find group",
            (Google, Members) => "Google Workspace: read group members",
            (Entra, Token) => "Microsoft Entra ID sign-in",
            (Entra, Users) => "Microsoft Entra ID: read users",
            (Entra, FindGroup) => "Microsoft Entra ID: find group",
            (Entra, Members) => "Microsoft Entra ID: read group members",
            (Okta, Token) => "Okta sign-in",
            (Okta, Users) => "Okta: read users",
            (Okta, FindGroup) => "Okta: find group",
            (Okta, Members) => "Okta: read group members",
        }
    }
}

/// A planned request of the walk.
#[derive(Debug)]
pub struct Flight {
    /// Which job it belongs to; hand it back to [`Walk::land`].
    pub job: usize,
    pub step: Step,
    pub operation: &'static str,
    pub request: Request,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Job {
    Token,
    Users,
    /// Finding the rule group `rules[rule]` by name.
    FindGroup {
        rule: usize,
    },
    /// Reading the members of a group, by its key.
    Members {
        key: String,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum JobState {
    /// Waiting for the token, or ready to plan its next page.
    Idle,
    InFlight,
    Done,
}

struct JobSlot {
    job: Job,
    state: JobState,
    /// The next page's token or URL; `None` before the first page.
    next: Option<String>,
}

/// What was read, for the report beside the snapshot.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadStats {
    /// Pages (answers) of each kind.
    pub user_pages: u32,
    pub group_lookups: u32,
    pub member_pages: u32,
    /// Users listed, and of those the active ones with a usable email.
    pub users_listed: usize,
    pub users_kept: usize,
    /// Active users left out for having no usable email (by directory ID).
    pub without_email: Vec<String>,
    /// Groups whose members were read, nested ones included.
    pub groups_read: usize,
}

/// The directory as read: the users and, for each, the rule groups they
/// belong to (directly or through nested groups).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DirectoryRead {
    pub users: Vec<DirectoryUser>,
    pub stats: ReadStats,
}

pub struct Walk<'a> {
    api: &'a dyn DirectoryApi,
    /// The group names the rules use, in order, and the key each was found
    /// under.
    rules: Vec<(String, Option<String>)>,
    jobs: Vec<JobSlot>,
    token: Option<AccessToken>,
    needs_token: bool,
    users: Vec<ListedUser>,
    /// Members of every group read, by lower-cased key.
    members: HashMap<String, Vec<Member>>,
    failure: Option<Error>,
    stats: ReadStats,
}

impl<'a> Walk<'a> {
    /// A walk that reads every user and the members of `groups` (the
    /// group names the rules use).
    pub fn new(api: &'a dyn DirectoryApi, groups: impl IntoIterator<Item = String>) -> Walk<'a> {
        let rules: Vec<(String, Option<String>)> =
            groups.into_iter().collect::<BTreeSet<_>>().into_iter().map(|g| (g, None)).collect();
        let mut walk = Walk {
            api,
            jobs: Vec::new(),
            token: None,
            needs_token: false,
            users: Vec::new(),
            members: HashMap::new(),
            failure: None,
            stats: ReadStats::default(),
            rules: Vec::new(),
        };
        walk.push(Job::Users);
        for (rule, (name, _)) in rules.iter().enumerate() {
            if api.group_lookup_url(name).is_some() {
                walk.push(Job::FindGroup { rule });
            }
        }
        walk.rules = rules;
        let keyed: Vec<String> = walk
            .rules
            .iter_mut()
            .filter(|(name, _)| api.group_lookup_url(name).is_none())
            .map(|(name, key)| key.insert(name.clone()).clone())
            .collect();
        for key in keyed {
            walk.add_group(key);
        }
        walk
    }

    fn push(&mut self, job: Job) {
        self.jobs.push(JobSlot { job, state: JobState::Idle, next: None });
    }

    /// Starts reading a group's members unless it is already being read
    /// (this is what stops cycles of nested groups).
    fn add_group(&mut self, key: String) {
        let folded = key.to_lowercase();
        if self.members.contains_key(&folded) {
            return;
        }
        if self.members.len() >= MAX_GROUPS {
            self.fail_with(
                Step::Members,
                FailureKind::InvalidResponse,
                None,
                format!("more than {MAX_GROUPS} groups are nested under the rules' groups; the walk stops there"),
            );
            return;
        }
        self.members.insert(folded, Vec::new());
        self.push(Job::Members { key });
    }

    /// The next request to send, if any may start now. Each job has at most
    /// one in flight: a list's next page depends on the page before.
    pub fn next(&mut self, unix_now: Duration) -> Option<Flight> {
        if self.failure.is_some() {
            return None;
        }
        if self.token.is_none() && !self.needs_token {
            if let Some(request) = self.api.token_request(unix_now) {
                self.needs_token = true;
                self.jobs.insert(0, JobSlot { job: Job::Token, state: JobState::Idle, next: None });
                // Job indexes shift by one only before anything was planned.
                debug_assert!(self.jobs.iter().all(|j| j.state == JobState::Idle));
                self.jobs[0].state = JobState::InFlight;
                return Some(self.flight(0, Step::Token, request));
            }
            // Sent as it is: nothing to wait for.
            self.needs_token = false;
        }
        if self.needs_token && self.token.is_none() {
            return None;
        }
        let i = self.jobs.iter().position(|j| j.state == JobState::Idle)?;
        let slot = &self.jobs[i];
        let next = slot.next.as_deref();
        let (step, url) = match &slot.job {
            Job::Token => unreachable!("the token job is never idle"),
            Job::Users => (Step::Users, self.api.users_url(next)),
            Job::FindGroup { rule } => {
                let name = &self.rules[*rule].0;
                (Step::FindGroup, Ok(self.api.group_lookup_url(name).expect("planned for a lookup")))
            }
            Job::Members { key } => (Step::Members, self.api.members_url(key, next)),
        };
        let url = match url {
            Ok(url) => url,
            Err(message) => {
                self.fail_with(step, FailureKind::InvalidResponse, Some(200), message);
                return None;
            }
        };
        let request = Request {
            method: Method::Get,
            url,
            headers: vec![
                ("authorization".into(), self.api.authorization(self.token.as_ref())),
                ("accept".into(), "application/json".into()),
            ],
            body: None,
        };
        self.jobs[i].state = JobState::InFlight;
        Some(self.flight(i, step, request))
    }

    fn flight(&self, job: usize, step: Step, request: Request) -> Flight {
        Flight { job, step, operation: step.operation(self.api.kind()), request }
    }

    /// Whether nothing is left to plan or in flight: every list read to
    /// its end, or a failure and nothing left in flight.
    pub fn is_finished(&self) -> bool {
        let in_flight = self.jobs.iter().any(|j| j.state == JobState::InFlight);
        let idle = self.jobs.iter().any(|j| j.state == JobState::Idle);
        !in_flight && (self.failure.is_some() || !idle)
    }

    /// The end of a flight: a 2xx answer, or the error its retries ended in.
    pub fn land(&mut self, job: usize, result: Result<Response, Error>) {
        let step = match self.jobs[job].job {
            Job::Token => Step::Token,
            Job::Users => Step::Users,
            Job::FindGroup { .. } => Step::FindGroup,
            Job::Members { .. } => Step::Members,
        };
        self.jobs[job].state = JobState::Done;
        let response = match result {
            Ok(response) => response,
            Err(error) => {
                self.fail(self.explain(step, error));
                return;
            }
        };
        if self.failure.is_some() {
            return;
        }
        let parsed = match self.jobs[job].job.clone() {
            Job::Token => self.api.parse_token(&response).map(|token| {
                self.token = Some(token);
                None
            }),
            Job::Users => self.api.parse_users(&response).map(|page| {
                self.stats.user_pages += 1;
                self.users.extend(page.items);
                page.next
            }),
            Job::FindGroup { rule } => {
                let name = self.rules[rule].0.clone();
                self.api.parse_group_lookup(&name, &response).map(|key| {
                    self.stats.group_lookups += 1;
                    self.rules[rule].1 = Some(key.clone());
                    self.add_group(key);
                    None
                })
            }
            Job::Members { key } => self.api.parse_members(&response).map(|page| {
                self.stats.member_pages += 1;
                let mut nested = Vec::new();
                for member in &page.items {
                    if let Member::Group(group) = member {
                        nested.push(group.clone());
                    }
                }
                self.members.entry(key.to_lowercase()).or_default().extend(page.items);
                for group in nested {
                    self.add_group(group);
                }
                page.next
            }),
        };
        match parsed {
            Ok(Some(next)) => {
                self.jobs[job].next = Some(next);
                self.jobs[job].state = JobState::Idle;
            }
            Ok(None) => {}
            Err(message) => {
                let kind = if step == Step::FindGroup { FailureKind::NotFound } else { FailureKind::InvalidResponse };
                // A lookup that finds no group is not an HTTP failure.
                let status = (step != Step::FindGroup).then_some(response.status);
                self.fail_with(step, kind, status, message);
            }
        }
    }

    fn fail(&mut self, error: Error) {
        self.failure.get_or_insert(error);
    }

    fn fail_with(&mut self, step: Step, kind: FailureKind, status: Option<u16>, message: String) {
        let failure = ApiFailure {
            operation: step.operation(self.api.kind()),
            status,
            message: self.api.redact(&message),
            attempts: 1,
            elapsed_ms: 0,
            retry_after_ms: None,
            effect_unknown: false,
        };
        self.fail(Error::Api(kind, failure));
    }

    /// Says what an authorization failure means at this point of the walk.
    fn explain(&self, step: Step, error: Error) -> Error {
        let Error::Api(kind, mut failure) = error else { return error };
        let source = self.api.kind().title();
        let why = match (kind, step) {
            (FailureKind::Unauthorized, Step::Token) | (FailureKind::Rejected, Step::Token) => {
                format!("{source} refused the credentials")
            }
            (FailureKind::Unauthorized, _) => format!("{source} refused the credentials part-way through the read"),
            (FailureKind::Forbidden, _) => {
                format!("{source} did not let the credentials read this; grant the read-only scopes or role")
            }
            _ => return Error::Api(kind, failure),
        };
        failure.message = format!("{why}: {}", failure.message);
        Error::Api(kind, failure)
    }

    /// The users and their rule groups, or the walk's first failure.
    pub fn finish(self) -> Result<DirectoryRead, Error> {
        if let Some(error) = self.failure {
            return Err(error);
        }
        let Walk { users, members, rules, mut stats, .. } = self;
        let active: Vec<&ListedUser> = users.iter().filter(|u| u.active).collect();
        stats.users_listed = users.len();
        stats.groups_read = members.len();
        // Each rule group's users, through nested groups, each group once.
        let mut groups_of: HashMap<&str, BTreeSet<&str>> = HashMap::new();
        for (name, key) in &rules {
            let key = key.as_deref().expect("every rule group was found");
            let mut seen = BTreeSet::new();
            let mut stack = vec![key.to_lowercase()];
            let mut everyone = false;
            while let Some(group) = stack.pop() {
                if !seen.insert(group.clone()) {
                    continue;
                }
                for member in members.get(&group).map(Vec::as_slice).unwrap_or_default() {
                    match member {
                        Member::User(id) => groups_of.entry(id.as_str()).or_default().insert(name.as_str()),
                        Member::Group(nested) => {
                            stack.push(nested.to_lowercase());
                            true
                        }
                        Member::Everyone => {
                            everyone = true;
                            true
                        }
                        Member::Other => true,
                    };
                }
            }
            if everyone {
                for user in &active {
                    groups_of.entry(user.id.as_str()).or_default().insert(name.as_str());
                }
            }
        }
        // One entry per email: two directory accounts with one address
        // (an alias, a UPN reused) are one GitBook member.
        let mut by_email: BTreeMap<Email, BTreeSet<String>> = BTreeMap::new();
        for user in &active {
            let email = user.email.as_deref().and_then(|e| Email::parse("email", e).ok());
            let Some(email) = email else {
                stats.without_email.push(user.id.clone());
                continue;
            };
            let groups = groups_of.get(user.id.as_str()).into_iter().flatten().map(|g| g.to_string());
            by_email.entry(email).or_default().extend(groups);
        }
        stats.users_kept = by_email.len();
        let users = by_email
            .into_iter()
            .map(|(email, groups)| DirectoryUser { email, role: None, groups: groups.into_iter().collect() })
            .collect();
        Ok(DirectoryRead { users, stats })
    }
}
