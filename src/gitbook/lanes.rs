//! The lanes every caller needs: one call, one call checked before a
//! repeat, and a walk over a list's pages. Each keeps its own result, read
//! once the run is over.

use super::client::{failure, Client};
use super::flight::{Flight, Landing, Lane};
use super::ops::{Call, MAX_PAGE_LIMIT};
use super::pagination::Cursor;
use crate::error::{Error, FailureKind};
use crate::gitbook::model::Page;
use crate::http::Response;
use crate::io::Io;
use crate::settings::Settings;
use std::time::Duration;

/// Reads a 2xx answer with the call's parser; a body it cannot read is an
/// invalid response.
fn parse<T>(
    settings: &Settings,
    operation: &'static str,
    parse: Parse<T>,
    landing: Result<Landing, Error>,
) -> Result<Option<T>, Error> {
    match landing? {
        Landing::Answered { response, attempts, elapsed } => parse(&response).map(Some).map_err(|message| {
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
        Landing::Settled => Ok(None),
    }
}

/// How a call reads its 2xx answer.
type Parse<T> = fn(&Response) -> Result<T, String>;

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

impl<T, I: Io> Lane<I> for One<T> {
    fn next(&mut self, _: &Settings) -> Option<Flight> {
        self.call.take().map(|call| Flight { operation: call.operation, request: call.request })
    }

    fn land(&mut self, settings: &Settings, landing: Result<Landing, Error>) {
        let result = parse(settings, self.operation, self.parse, landing)
            .map(|value| value.expect("only a checked call settles"));
        self.result = Some(result);
    }
}

/// One call that may take effect although its answer is lost (team
/// creation): before each repeat, `settled` looks for its effect, and what
/// it finds is the result.
pub struct Checked<T, S> {
    one: One<T>,
    settled: S,
    found: Option<T>,
}

impl<T, S> Checked<T, S> {
    pub fn new(call: Call<T>, settled: S) -> Checked<T, S> {
        Checked { one: One::new(call), settled, found: None }
    }

    /// The call's result; `None` if it never started (the run stopped first).
    pub fn into_result(self) -> Option<Result<T, Error>> {
        self.one.into_result()
    }
}

impl<T, I: Io, S> Lane<I> for Checked<T, S>
where
    S: FnMut(&mut Client<'_, I>) -> Result<Option<T>, Error>,
{
    fn next(&mut self, settings: &Settings) -> Option<Flight> {
        <One<T> as Lane<I>>::next(&mut self.one, settings)
    }

    fn land(&mut self, settings: &Settings, landing: Result<Landing, Error>) {
        let result = match parse(settings, self.one.operation, self.one.parse, landing) {
            Ok(Some(value)) => Ok(value),
            Ok(None) => Ok(self.found.take().expect("settled means found")),
            Err(error) => Err(error),
        };
        self.one.result = Some(result);
    }

    fn settled(&mut self, client: &mut Client<'_, I>) -> Result<bool, Error> {
        self.found = (self.settled)(client)?;
        Ok(self.found.is_some())
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

impl<P, E, T, I: Io> Lane<I> for Walk<P, E, T>
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
        Some(Flight { operation: call.operation, request: call.request })
    }

    fn land(&mut self, settings: &Settings, landing: Result<Landing, Error>) {
        let read = self.parse.expect("a page was asked for");
        let page = match parse(settings, self.operation, read, landing) {
            Ok(page) => page.expect("only a checked call settles"),
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
