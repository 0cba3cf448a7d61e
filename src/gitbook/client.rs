//! Drives planned calls over an [`Io`]: sends, retries what is safe to
//! retry, maps failures to [`Error`], and composes the multi-request
//! operations (every page of a list, remove by email).

use crate::error::{ApiFailure, Error, FailureKind};
use crate::gitbook::model::{error_message, EmailRemoval, InviteResult, Member, MemberPage, Page, Removal, Team};
use crate::gitbook::ops::{self, Call, Invite, MemberFilter, MAX_PAGE_LIMIT};
use crate::gitbook::pagination::Cursor;
use crate::gitbook::retry::{self, Decision};
use crate::http::{Request, Response};
use crate::io::{Io, TransportErrorKind};
use crate::role::Role;
use crate::settings::Settings;
use crate::validate::TeamTitle;
use crate::validate::{printable, Email, GitBookId, MemberRef};
use std::time::Duration;

/// The most emails one invite request carries; bigger batches are split.
pub const MAX_INVITE_BATCH: usize = 1000;

pub struct Client<'s, I: Io> {
    settings: &'s Settings,
    io: I,
}

/// Why an attempt failed, before deciding whether to try again.
struct Attempt {
    kind: FailureKind,
    status: Option<u16>,
    message: String,
    retryable: bool,
    server_wait: Option<Duration>,
}

/// How the retry loop ended, when it did not fail.
enum Sent {
    /// A 2xx answer, after `attempts` requests over `elapsed`.
    Answered { response: Response, attempts: u32, elapsed: Duration },
    /// The check before a repeat found the request had already taken effect.
    Settled,
}

impl<'s, I: Io> Client<'s, I> {
    pub fn new(settings: &'s Settings, io: I) -> Self {
        Client { settings, io }
    }

    /// The I/O clock's monotonic time, for budgets that span several calls.
    pub fn now(&mut self) -> Duration {
        self.io.monotonic()
    }

    pub fn settings(&self) -> &Settings {
        self.settings
    }

    /// Runs one planned call to completion: success, or the error after the
    /// retry policy gave up. For idempotent requests only: a retry repeats
    /// the request as it is.
    pub fn execute<T>(&mut self, call: Call<T>) -> Result<T, Error> {
        match self.send(call.operation, &call.request, &mut |_| Ok(false))? {
            Sent::Answered { response, attempts, elapsed } => self.parse(&call, &response, attempts, elapsed),
            Sent::Settled => unreachable!("nothing settles an idempotent call"),
        }
    }

    /// Like [`Client::execute`], for a request that may have taken effect
    /// although its answer was lost: before each repeat, `settled` looks at
    /// GitBook's state, and `Some(value)` ends the call with that value
    /// instead of sending the request again.
    fn execute_checked<T>(
        &mut self,
        call: Call<T>,
        mut settled: impl FnMut(&mut Self) -> Result<Option<T>, Error>,
    ) -> Result<T, Error> {
        let mut found = None;
        let mut check = |client: &mut Self| {
            found = settled(client)?;
            Ok(found.is_some())
        };
        match self.send(call.operation, &call.request, &mut check)? {
            Sent::Answered { response, attempts, elapsed } => self.parse(&call, &response, attempts, elapsed),
            Sent::Settled => Ok(found.expect("settled means found")),
        }
    }

    fn parse<T>(&self, call: &Call<T>, response: &Response, attempts: u32, elapsed: Duration) -> Result<T, Error> {
        (call.parse)(response).map_err(|message| {
            self.failure(
                call.operation,
                FailureKind::InvalidResponse,
                Some(response.status),
                message,
                attempts,
                elapsed,
                None,
            )
        })
    }

    /// The retry loop, not generic over the result (one copy in the
    /// component, whatever the operation): a 2xx answer with the attempts
    /// made and the time taken, [`Sent::Settled`] when `before_retry` says
    /// the request already took effect, or the error after the retry policy
    /// gave up.
    fn send(
        &mut self,
        operation: &'static str,
        request: &Request,
        before_retry: &mut dyn FnMut(&mut Self) -> Result<bool, Error>,
    ) -> Result<Sent, Error> {
        let started = self.io.monotonic();
        let mut attempts = 0;
        loop {
            attempts += 1;
            // No single request may outlive the operation's deadline.
            let remaining = self.settings.retry.deadline.saturating_sub(self.io.monotonic().saturating_sub(started));
            let timeouts = self.settings.timeouts.capped_at(remaining.max(Duration::from_millis(1)));
            let attempt = match self.io.send(request, &timeouts, self.settings.max_response_bytes) {
                Ok(response) if (200..300).contains(&response.status) => {
                    let elapsed = self.io.monotonic().saturating_sub(started);
                    return Ok(Sent::Answered { response, attempts, elapsed });
                }
                Ok(response) if (300..400).contains(&response.status) => Attempt {
                    kind: FailureKind::InvalidResponse,
                    status: Some(response.status),
                    message: format!(
                        "GitBook answered with a redirect to {}; redirects are not followed, \
                         so the token is never sent elsewhere",
                        printable(response.header("location").unwrap_or("nowhere"))
                    ),
                    retryable: false,
                    server_wait: None,
                },
                Ok(response) => {
                    let message = error_message(&response.body).unwrap_or_else(|| {
                        let body = String::from_utf8_lossy(&response.body);
                        if body.trim().is_empty() {
                            format!("HTTP {} with an empty body", response.status)
                        } else {
                            format!(
                                "HTTP {} with a body that is not a GitBook error: {}",
                                response.status,
                                printable(body.trim())
                            )
                        }
                    });
                    let now = self.io.unix_time();
                    Attempt {
                        kind: FailureKind::from_status(response.status),
                        status: Some(response.status),
                        message,
                        retryable: retry::is_retryable_status(response.status),
                        server_wait: retry::server_wait(&response, now),
                    }
                }
                Err(error) => Attempt {
                    kind: match error.kind {
                        TransportErrorKind::BodyTooLarge => FailureKind::InvalidResponse,
                        _ => FailureKind::Transport,
                    },
                    status: None,
                    message: error.message,
                    retryable: error.kind.is_retryable(),
                    server_wait: None,
                },
            };
            let elapsed = self.io.monotonic().saturating_sub(started);
            let random = self.io.random();
            match retry::decide(&self.settings.retry, attempts, elapsed, attempt.retryable, attempt.server_wait, random)
            {
                Decision::Retry(wait) => {
                    self.io.sleep(wait);
                    if before_retry(self)? {
                        return Ok(Sent::Settled);
                    }
                }
                Decision::GiveUp { retry_after } => {
                    return Err(self.failure(
                        operation,
                        attempt.kind,
                        attempt.status,
                        attempt.message,
                        attempts,
                        elapsed,
                        retry_after,
                    ));
                }
            }
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn failure(
        &self,
        operation: &'static str,
        kind: FailureKind,
        status: Option<u16>,
        message: String,
        attempts: u32,
        elapsed: Duration,
        retry_after: Option<Duration>,
    ) -> Error {
        Error::Api(
            kind,
            ApiFailure {
                operation,
                status,
                // A server that echoes the request must not make us print the token.
                message: self.settings.token.redact(&message),
                attempts,
                elapsed_ms: elapsed.as_millis() as u64,
                retry_after_ms: retry_after.map(|d| d.as_millis() as u64),
            },
        )
    }

    /// Invites a batch (split into requests of at most [`MAX_INVITE_BATCH`]
    /// emails). An empty batch sends nothing.
    pub fn invite(&mut self, invite: &Invite) -> Result<InviteResult, Error> {
        let mut total = InviteResult { user_ids: vec![], invited: 0, failed_sso_emails: vec![] };
        let mut emails = invite.emails.as_slice();
        let mut with_roles = invite.with_roles.as_slice();
        while !emails.is_empty() || !with_roles.is_empty() {
            let take_plain = emails.len().min(MAX_INVITE_BATCH);
            let take_roles = with_roles.len().min(MAX_INVITE_BATCH - take_plain);
            let batch = Invite {
                emails: emails[..take_plain].to_vec(),
                with_roles: with_roles[..take_roles].to_vec(),
                ..invite.clone()
            };
            (emails, with_roles) = (&emails[take_plain..], &with_roles[take_roles..]);
            let result = self.execute(ops::invite(self.settings, &batch))?;
            total.user_ids.extend(result.user_ids);
            total.invited += result.invited;
            total.failed_sso_emails.extend(result.failed_sso_emails);
        }
        Ok(total)
    }

    pub fn remove_member(&mut self, user: &GitBookId) -> Result<Removal, Error> {
        self.execute(ops::remove_member(self.settings, user))
    }

    /// Finds the member by email, then removes them by ID. Nobody with that
    /// email is `NotAMember`, and no DELETE is sent.
    pub fn remove_member_by_email(&mut self, email: &Email) -> Result<EmailRemoval, Error> {
        let Some(member) = self.find_member_by_email(email)? else {
            return Ok(EmailRemoval { outcome: Removal::NotAMember, user_id: None });
        };
        let user = GitBookId::parse("user-id", &member.id).map_err(|_| {
            self.failure(
                "remove member by email",
                FailureKind::InvalidResponse,
                Some(200),
                format!("GitBook returned the member ID {} which is not a valid ID", printable(&member.id)),
                1,
                Duration::ZERO,
                None,
            )
        })?;
        let outcome = self.remove_member(&user)?;
        Ok(EmailRemoval { outcome, user_id: Some(member.id) })
    }

    /// Adds and removes team members in one request; nothing to change sends
    /// nothing.
    pub fn update_team_members(
        &mut self,
        team: &GitBookId,
        add: &[MemberRef],
        remove: &[MemberRef],
    ) -> Result<(), Error> {
        if add.is_empty() && remove.is_empty() {
            return Ok(());
        }
        self.execute(ops::update_team_members(self.settings, team, add, remove))
    }

    /// One page of members: `page` is the cursor of the previous page's
    /// `next_page` (`None` or empty: the first page), `limit` from 1 to
    /// [`MAX_PAGE_LIMIT`] (`None`: the largest).
    pub fn list_members_page(
        &mut self,
        filter: &MemberFilter,
        page: Option<&str>,
        limit: Option<u32>,
    ) -> Result<MemberPage, Error> {
        let limit = limit.unwrap_or(MAX_PAGE_LIMIT);
        if !(1..=MAX_PAGE_LIMIT).contains(&limit) {
            return Err(Error::invalid("limit", format!("must be between 1 and {MAX_PAGE_LIMIT}")));
        }
        let page = page.filter(|p| !p.is_empty());
        let page = self.execute(ops::list_members_page(self.settings, filter, page, limit))?;
        Ok(MemberPage { items: page.items, count: page.count, next_page: page.next.map(|n| n.page) })
    }

    /// Calls `each` with every page's members, in order, at the largest page
    /// size. Stops early (returning `Ok`) when `each` returns `false`.
    pub fn for_each_member_page(
        &mut self,
        filter: &MemberFilter,
        each: impl FnMut(Vec<Member>, Option<u64>) -> bool,
    ) -> Result<(), Error> {
        self.walk("list members", |settings, page| ops::list_members_page(settings, filter, page, MAX_PAGE_LIMIT), each)
    }

    /// Every member matching the filter, across all pages.
    pub fn list_members(&mut self, filter: &MemberFilter) -> Result<Vec<Member>, Error> {
        let mut all = Vec::new();
        self.for_each_member_page(filter, |items, _| {
            all.extend(items);
            true
        })?;
        Ok(all)
    }

    pub fn get_member(&mut self, user: &GitBookId) -> Result<Member, Error> {
        self.execute(ops::get_member(self.settings, user))
    }

    pub fn set_member_role(&mut self, user: &GitBookId, role: Option<Role>) -> Result<Member, Error> {
        self.execute(ops::set_member_role(self.settings, user, role))
    }

    pub fn set_sso_member(&mut self, user: &GitBookId) -> Result<Member, Error> {
        self.execute(ops::set_sso_member(self.settings, user))
    }

    /// Walks every page of a list at the largest page size, calling `each`
    /// with each page's items until it returns `false`.
    fn walk<T>(
        &mut self,
        operation: &'static str,
        mut plan: impl FnMut(&Settings, Option<&str>) -> Call<Page<T>>,
        mut each: impl FnMut(Vec<T>, Option<u64>) -> bool,
    ) -> Result<(), Error> {
        let mut cursor = Cursor::new(MAX_PAGE_LIMIT);
        while let Some(page) = cursor.next_page() {
            let call = plan(self.settings, page);
            let result = self.execute(call)?;
            let next = result.next.map(|n| n.page);
            cursor.advance(result.items.len(), result.count, next).map_err(|message| {
                self.failure(operation, FailureKind::InvalidResponse, Some(200), message, 1, Duration::ZERO, None)
            })?;
            if !each(result.items, result.count) {
                break;
            }
        }
        Ok(())
    }

    /// Every team (optionally only those whose title contains `title`).
    pub fn list_teams(&mut self, title: Option<&str>) -> Result<Vec<Team>, Error> {
        let mut teams = Vec::new();
        self.walk(
            "list teams",
            |settings, page| ops::list_teams_page(settings, title, page),
            |items, _| {
                teams.extend(items);
                true
            },
        )?;
        Ok(teams)
    }

    /// The team with exactly this title (case-insensitive), if any. Two
    /// teams with the title are a conflict naming both.
    pub fn find_team_by_title(&mut self, title: &TeamTitle) -> Result<Option<Team>, Error> {
        let mut matches: Vec<Team> =
            self.list_teams(Some(title.as_str()))?.into_iter().filter(|t| title.matches(&t.title)).collect();
        if matches.len() > 1 {
            let ids: Vec<&str> = matches.iter().map(|t| t.id.as_str()).collect();
            return Err(self.failure(
                "find team by title",
                FailureKind::Conflict,
                None,
                format!(
                    "{} teams are titled {:?}: {}; rename all but one in GitBook or use the team ID",
                    matches.len(),
                    title.as_str(),
                    ids.join(", ")
                ),
                1,
                Duration::ZERO,
                None,
            ));
        }
        Ok(matches.pop())
    }

    /// Creates a team titled `title` with `members` in it. Creation is the
    /// one operation that is not idempotent (each success makes another
    /// team), so it is never repeated blindly: a timeout or a 5xx may come
    /// after GitBook created the team. Before each repeat the title is
    /// looked up (exact, case-insensitive), and a team found there is the
    /// one the lost answer would have named.
    pub fn create_team(&mut self, title: &TeamTitle, members: &[GitBookId]) -> Result<Team, Error> {
        self.execute_checked(ops::create_team(self.settings, title, members), |client| client.find_team_by_title(title))
    }

    /// The IDs of every member of a team, across pages.
    pub fn list_team_member_ids(&mut self, team: &GitBookId) -> Result<Vec<String>, Error> {
        let mut ids = Vec::new();
        self.walk(
            "list team members",
            |settings, page| ops::list_team_members_page(settings, team, page),
            |items, _| {
                ids.extend(items.into_iter().map(|m| m.organization.id));
                true
            },
        )?;
        Ok(ids)
    }

    /// The member whose email is exactly `email` (case-insensitive). GitBook's
    /// `search` narrows the list; the exact match is ours, across every page.
    pub fn find_member_by_email(&mut self, email: &Email) -> Result<Option<Member>, Error> {
        let filter = MemberFilter { role: None, search: Some(email.as_str().to_owned()) };
        let mut found = None;
        self.for_each_member_page(&filter, |items, _| {
            found = items.into_iter().find(|m| m.has_email(email.as_str()));
            found.is_none()
        })?;
        Ok(found)
    }
}
