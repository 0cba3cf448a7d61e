//! The call's deadline, and the host's last word on it.
//!
//! Three things stop a call at its deadline, and none of them alone makes the
//! outcome depend only on the deadline:
//! - the epoch callback traps running guest code once the clock says the
//!   deadline has passed (checked at every tick);
//! - the outbound policy cuts request timeouts to what is left, so a guest
//!   blocked in host I/O is released at the deadline;
//! - but the guest, released with a timeout error, may return its own error
//!   (or even a result) before it executes another epoch check.
//!
//! So the host decides when the call returns: past the deadline, the outcome
//! is [`DeadlineExceeded`], whatever the guest returned. A request timeout cut
//! to the deadline expires at or after it (tokio timers never fire early), so
//! a call released that way always lands on this side of the comparison.

use std::fmt;
use std::time::{Duration, Instant};

/// The host stopped a call at its deadline ([`crate::HostConfig::call_deadline`]).
///
/// It is the error of every `Host::call*` and `Host::handle_http` that ends
/// past its deadline, whether the guest was trapped or returned on its own;
/// find it with `error.downcast_ref::<DeadlineExceeded>()`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DeadlineExceeded {
    /// The configured budget.
    pub deadline: Duration,
}

impl fmt::Display for DeadlineExceeded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "the host interrupted the call at its {} ms deadline", self.deadline.as_millis())
    }
}

impl std::error::Error for DeadlineExceeded {}

/// One call's deadline, fixed when its store is made.
#[derive(Clone, Copy, Debug)]
pub(crate) struct CallDeadline {
    budget: Duration,
    /// `None` when the budget is too large to be a point in time: no deadline.
    at: Option<Instant>,
}

impl CallDeadline {
    pub(crate) fn starting_now(budget: Duration) -> CallDeadline {
        CallDeadline::starting_at(Instant::now(), budget)
    }

    fn starting_at(start: Instant, budget: Duration) -> CallDeadline {
        CallDeadline { budget, at: start.checked_add(budget) }
    }

    pub(crate) fn instant(&self) -> Option<Instant> {
        self.at
    }

    /// `Some` once the deadline has passed.
    pub(crate) fn exceeded(&self) -> Option<DeadlineExceeded> {
        self.exceeded_at(Instant::now())
    }

    fn exceeded_at(&self, now: Instant) -> Option<DeadlineExceeded> {
        self.at.filter(|at| now >= *at).map(|_| DeadlineExceeded { deadline: self.budget })
    }

    /// The outcome of a call that has just returned `result`.
    pub(crate) fn decide<R>(&self, result: wasmtime::Result<R>) -> anyhow::Result<R> {
        self.decide_at(result, Instant::now())
    }

    fn decide_at<R>(&self, result: wasmtime::Result<R>, now: Instant) -> anyhow::Result<R> {
        match self.exceeded_at(now) {
            Some(exceeded) => Err(exceeded.into()),
            None => result.map_err(anyhow::Error::from),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BUDGET: Duration = Duration::from_millis(500);

    #[test]
    fn past_the_deadline_every_outcome_is_the_host_s_interruption() {
        let start = Instant::now();
        let deadline = CallDeadline::starting_at(start, BUDGET);
        let late = start + BUDGET;
        let exceeded = |outcome: anyhow::Result<u8>| *outcome.unwrap_err().downcast_ref::<DeadlineExceeded>().unwrap();
        assert_eq!(exceeded(deadline.decide_at(Ok(1), late)), DeadlineExceeded { deadline: BUDGET });
        let guest_s_own_error = wasmtime::Error::msg("connecting timed out");
        assert_eq!(exceeded(deadline.decide_at(Err(guest_s_own_error), late)), DeadlineExceeded { deadline: BUDGET });
    }

    #[test]
    fn before_the_deadline_the_guest_s_outcome_stands() {
        let start = Instant::now();
        let deadline = CallDeadline::starting_at(start, BUDGET);
        let early = start + BUDGET - Duration::from_nanos(1);
        assert_eq!(deadline.decide_at(Ok(1), early).unwrap(), 1);
        let trap = deadline.decide_at::<u8>(Err(wasmtime::Error::msg("unreachable")), early).unwrap_err();
        assert!(trap.downcast_ref::<DeadlineExceeded>().is_none(), "{trap:?}");
    }

    #[test]
    fn a_budget_beyond_the_clock_s_range_is_no_deadline() {
        let deadline = CallDeadline::starting_now(Duration::MAX);
        assert!(deadline.instant().is_none());
        assert!(deadline.exceeded().is_none());
    }
}
