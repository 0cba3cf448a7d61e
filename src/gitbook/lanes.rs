//! The lanes every caller needs: one call, a walk over a list's pages, and
//! a team creation that looks before it repeats. Each keeps its own result,
//! read once the run is over. They know the driver ([`super::flight`]) and
//! the planned calls, never the client.

use super::flight::{failure, Flight, Landing, Lane, Within};
use super::ops::{self, Call, MAX_PAGE_LIMIT};
use super::pagination::Cursor;
use crate::error::{Error, FailureKind};
use crate::gitbook::model::{Page, Team};
use crate::http::{Request, Response};
use crate::settings::Settings;
use crate::validate::{GitBookId, TeamTitle};
use std::time::Duration;

/// How a call reads its 2xx answer.
type Parse<T> = fn(&Response) -> Result<T, String>;

/// Reads a landing with the call's parser; a 2xx body it cannot read is an
/// invalid response.
fn parse<T>(settings: &Settings, operation: &'static str, parse: Parse<T>, landing: Landing) -> Result<T, Error> {
    match landing {
        Landing::Answered { response, attempts, elapsed } => parse(&response).map_err(|message| {
            failure(
                settings,
                operation,
                FailureKind::InvalidResponse,
                Some(response.status),
                message,
                attempts,
                elapsed,
                None,
            )
        }),
        Landing::Failed(error) | Landing::MayRepeat { error, .. } => Err(error),
    }
}

/// One idempotent call.
pub struct One<T> {
    call: Option<Call<T>>,
    operation: &'static str,
    parse: Parse<T>,
    result: Option<Result<T, Error>>,
}

impl<T> One<T> {
    pub fn new(call: Call<T>) -> One<T> {
        One { operation: call.operation, parse: call.parse, call: Some(call), result: None }
    }

    /// The call's result; `None` if it never started (the run stopped first).
    pub fn into_result(self) -> Option<Result<T, Error>> {
        self.result
    }
}

impl<T> Lane for One<T> {
    fn next(&mut self, _: &Settings) -> Option<Flight> {
        self.call.take().map(|call| Flight::new(call.operation, call.request))
    }

    fn land(&mut self, settings: &Settings, landing: Landing) {
        self.result = Some(parse(settings, self.operation, self.parse, landing));
    }
}

/// Creating a team: the one request that is not idempotent (each success
/// makes another team), so it is never repeated blindly. After a failure
/// that may have come after GitBook created the team (a timeout, a 5xx),
/// the lane first looks the title up (exact, case-insensitive, every page)
/// and a team found there is the one the lost answer would have named; only
/// when none is found does it send the creation again. The look-up is this
/// lane's own requests, under the creation's deadline, so a stop or a
/// deadline bounds it like any other request.
pub struct TeamCreation {
    title: TeamTitle,
    create: Request,
    parse: Parse<Team>,
    next: Step,
    /// The look-up under way, if any.
    look_up: Option<LookUp>,
    /// The result so far: after a lost answer, that failure (it stands if
    /// the run stops before the look-up ends).
    result: Option<Result<Team, Error>>,
}

/// What the lane sends next.
enum Step {
    Create(Option<Within>),
    Page(Option<String>, Option<Duration>),
    /// A request is out, or the lane is done.
    Nothing,
}

struct LookUp {
    cursor: Cursor,
    /// How the page asked for is read.
    parse: Option<Parse<Page<Team>>>,
    found: Vec<Team>,
    /// The creation's clock, to go on with.
    within: Within,
}

impl TeamCreation {
    pub fn new(settings: &Settings, title: &TeamTitle, members: &[GitBookId]) -> TeamCreation {
        let call = ops::create_team(settings, title, members);
        TeamCreation {
            title: title.clone(),
            create: call.request,
            parse: call.parse,
            next: Step::Create(None),
            look_up: None,
            result: None,
        }
    }

    /// The creation's result; `None` if it never started (the run stopped
    /// first).
    pub fn into_result(self) -> Option<Result<Team, Error>> {
        self.result
    }

    fn end(&mut self, result: Result<Team, Error>) {
        self.result = Some(result);
        self.look_up = None;
        self.next = Step::Nothing;
    }

    /// One page of the look-up landed.
    fn look_up_page(&mut self, settings: &Settings, landing: Landing) {
        let look_up = self.look_up.as_mut().expect("a look-up is under way");
        let read = look_up.parse.expect("a page was asked for");
        let page: Page<Team> = match parse(settings, LOOK_UP, read, landing) {
            Ok(page) => page,
            // The creation may still have happened: the look-up could not tell.
            Err(error) => return self.end(Err(error.unknown_if(true))),
        };
        if let Err(message) = look_up.cursor.advance(page.items.len(), page.count, page.next.map(|n| n.page)) {
            let error =
                failure(settings, LOOK_UP, FailureKind::InvalidResponse, Some(200), message, 1, Duration::ZERO, None);
            return self.end(Err(error.unknown_if(true)));
        }
        look_up.found.extend(page.items.into_iter().filter(|team| self.title.matches(&team.title)));
        if let Some(page) = look_up.cursor.next_page() {
            self.next = Step::Page(page.map(str::to_owned), None);
            return;
        }
        let mut found = std::mem::take(&mut look_up.found);
        let within = look_up.within;
        match found.len() {
            // Not created: send it again, on the same clock.
            0 => {
                self.look_up = None;
                self.next = Step::Create(Some(within));
            }
            1 => self.end(Ok(found.pop().expect("one"))),
            n => {
                let ids: Vec<&str> = found.iter().map(|t| t.id.as_str()).collect();
                let message = format!(
                    "{n} teams are titled {:?}: {}; rename all but one in GitBook or use the team ID",
                    self.title.as_str(),
                    ids.join(", ")
                );
                let error = failure(settings, LOOK_UP, FailureKind::Conflict, None, message, 1, Duration::ZERO, None);
                self.end(Err(error))
            }
        }
    }
}

/// The look-up's operation name, in errors.
const LOOK_UP: &str = "find team by title";

impl Lane for TeamCreation {
    fn next(&mut self, settings: &Settings) -> Option<Flight> {
        match std::mem::replace(&mut self.next, Step::Nothing) {
            Step::Create(within) => Some(Flight {
                operation: "create team",
                request: self.create.clone(),
                checked: true,
                after: None,
                within,
            }),
            Step::Page(page, after) => {
                let look_up = self.look_up.as_mut().expect("a look-up is under way");
                let call = ops::list_teams_page(settings, Some(self.title.as_str()), page.as_deref());
                look_up.parse = Some(call.parse);
                // Its own attempts, within the creation's deadline.
                let within = Within { attempts: 0, uncertain: false, ..look_up.within };
                Some(Flight { operation: LOOK_UP, request: call.request, checked: false, after, within: Some(within) })
            }
            Step::Nothing => None,
        }
    }

    fn land(&mut self, settings: &Settings, landing: Landing) {
        if self.look_up.is_some() {
            return self.look_up_page(settings, landing);
        }
        match landing {
            Landing::MayRepeat { error, retry_at, within } => {
                self.result = Some(Err(error));
                self.look_up =
                    Some(LookUp { cursor: Cursor::new(MAX_PAGE_LIMIT), parse: None, found: Vec::new(), within });
                self.next = Step::Page(None, Some(retry_at));
            }
            landing => {
                let result = parse(settings, "create team", self.parse, landing);
                self.end(result)
            }
        }
    }
}

/// Every page of a list at the largest page size, in order, each handed
/// to `each` until it returns `false`.
pub struct Walk<P, E, T> {
    operation: &'static str,
    plan: P,
    each: E,
    cursor: Cursor,
    parse: Option<Parse<Page<T>>>,
    /// Set when the walk ended early: by `each`, or by an error.
    ended: Option<Result<(), Error>>,
    started: bool,
}

impl<P, E, T> Walk<P, E, T>
where
    P: FnMut(&Settings, Option<&str>) -> Call<Page<T>>,
    E: FnMut(Vec<T>, Option<u64>) -> bool,
{
    pub fn new(operation: &'static str, plan: P, each: E) -> Walk<P, E, T> {
        Walk { operation, plan, each, cursor: Cursor::new(MAX_PAGE_LIMIT), parse: None, ended: None, started: false }
    }

    /// How the walk ended; `None` if it never started (the run stopped
    /// first) or stopped half-way without an error of its own.
    pub fn into_result(self) -> Option<Result<(), Error>> {
        match self.ended {
            Some(result) => Some(result),
            None if self.started && self.cursor.next_page().is_none() => Some(Ok(())),
            None => None,
        }
    }
}

impl<P, E, T> Lane for Walk<P, E, T>
where
    P: FnMut(&Settings, Option<&str>) -> Call<Page<T>>,
    E: FnMut(Vec<T>, Option<u64>) -> bool,
{
    fn next(&mut self, settings: &Settings) -> Option<Flight> {
        if self.ended.is_some() {
            return None;
        }
        let page = self.cursor.next_page()?;
        let call = (self.plan)(settings, page);
        self.parse = Some(call.parse);
        self.started = true;
        Some(Flight::new(call.operation, call.request))
    }

    fn land(&mut self, settings: &Settings, landing: Landing) {
        let read = self.parse.expect("a page was asked for");
        let page = match parse(settings, self.operation, read, landing) {
            Ok(page) => page,
            Err(error) => {
                self.ended = Some(Err(error));
                return;
            }
        };
        let next = page.next.map(|n| n.page);
        if let Err(message) = self.cursor.advance(page.items.len(), page.count, next) {
            let error = failure(
                settings,
                self.operation,
                FailureKind::InvalidResponse,
                Some(200),
                message,
                1,
                Duration::ZERO,
                None,
            );
            self.ended = Some(Err(error));
            return;
        }
        if !(self.each)(page.items, page.count) {
            self.ended = Some(Ok(()));
        }
    }
}
