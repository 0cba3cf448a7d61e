//! Drives planned calls over an [`Io`]: sends, retries what is safe to
//! retry, maps failures to [`Error`], and composes the multi-request
//! operations (every page of a list, remove by email). Every call goes
//! through the flight driver ([`Client::run`]), alone or beside others.

use crate::error::{Error, FailureKind};
use crate::gitbook::flight::{failure, Lane, Link};
use crate::gitbook::lanes::{One, TeamCreation, Walk};
use crate::gitbook::model::{EmailRemoval, InviteResult, Member, MemberPage, Page, Removal, Team};
use crate::gitbook::ops::{self, Call, Invite, MemberFilter, MAX_PAGE_LIMIT};
use crate::io::Io;
use crate::role::Role;
use crate::settings::Settings;
use crate::validate::TeamTitle;
use crate::validate::{printable, Email, GitBookId, MemberRef};
use std::time::Duration;

/// The most emails one invite request carries; bigger batches are split.
pub const MAX_INVITE_BATCH: usize = 1000;

pub struct Client<'s, I: Io> {
    settings: &'s Settings,
    /// The transport and what every run shares (the rate limit, the horizon).
    link: Link<I>,
}

impl<'s, I: Io> Client<'s, I> {
    pub fn new(settings: &'s Settings, io: I) -> Self {
        Client { settings, link: Link::new(io) }
    }

    /// The I/O clock's monotonic time, for budgets that span several calls.
    pub fn now(&mut self) -> Duration {
        self.link.io.monotonic()
    }

    /// No operation of this client may run past the monotonic time `at`
    /// (an incoming route's budget): every lane's deadline is at most it,
    /// so a request still unanswered then is abandoned.
    pub fn limit_until(&mut self, at: Duration) {
        self.link.horizon = Some(self.link.horizon.map_or(at, |h| h.min(at)));
    }

    /// The limit [`Client::limit_until`] set, if any: what other work the
    /// same incoming request does (a directory read) is bounded by it too.
    pub fn horizon(&self) -> Option<std::time::Duration> {
        self.link.horizon
    }

    /// Whether [`Client::limit_until`]'s limit has passed: no request
    /// would be sent now.
    pub fn out_of_time(&mut self) -> bool {
        let now = self.now();
        self.link.horizon.is_some_and(|h| now >= h)
    }

    /// Runs independent lanes together, each to its end (see
    /// [`Link::run`]).
    pub fn run(&mut self, lanes: &mut [&mut dyn Lane]) {
        self.link.run(self.settings, lanes);
    }

    /// The transport, for requests to someone other than GitBook (a
    /// directory source read before the GitBook calls). Only between
    /// calls: the client has nothing in flight then.
    pub fn io(&mut self) -> &mut I {
        &mut self.link.io
    }

    /// The settings, for as long as the client's borrow of them lasts.
    pub fn settings(&self) -> &'s Settings {
        self.settings
    }

    /// Runs one planned call to completion: success, or the error after the
    /// retry policy gave up. For idempotent requests only: a retry repeats
    /// the request as it is.
    pub fn execute<T>(&mut self, call: Call<T>) -> Result<T, Error> {
        let mut one = One::new(call);
        self.run(&mut [&mut one]);
        one.into_result().expect("a lone flight always runs")
    }

    /// Runs independent lanes together (see [`Client::run`]).
    pub fn run_all<L: Lane>(&mut self, lanes: &mut [L]) {
        let mut lanes: Vec<&mut dyn Lane> = lanes.iter_mut().map(|l| l as &mut dyn Lane).collect();
        self.run(&mut lanes);
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
            failure(
                self.settings,
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
        plan: impl FnMut(&Settings, Option<&str>) -> Call<Page<T>>,
        each: impl FnMut(Vec<T>, Option<u64>) -> bool,
    ) -> Result<(), Error> {
        let mut walk = Walk::new(operation, plan, each);
        self.run(&mut [&mut walk]);
        walk.into_result().expect("a lone walk always runs")
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
            return Err(failure(
                self.settings,
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
    /// one the lost answer would have named (see [`TeamCreation`]).
    pub fn create_team(&mut self, title: &TeamTitle, members: &[GitBookId]) -> Result<Team, Error> {
        let mut lane = TeamCreation::new(self.settings, title, members);
        self.run(&mut [&mut lane]);
        lane.into_result().expect("a lone flight always runs")
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
