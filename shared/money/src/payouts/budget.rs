//! How much work one call of a payout run or status change may do (issue 43): a request stops
//! after its line budget or its time, whichever comes first, and the sweeper carries the rest
//! (`payouts::jobs`). Work stops only between pages, where everything done is stored and a
//! later call resumes from it.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::platform::config::Config;

/// How long one sweep works on payout jobs: under the sweeper function's 60 s timeout, with
/// room for its other sweeps.
pub const JOB_TIME: Duration = Duration::from_secs(40);

/// The work left: lines and time. Shared by the passes of one call (atomics: the run's futures
/// must be `Send`).
#[derive(Debug)]
pub struct Budget {
    lines: AtomicUsize,
    deadline: Option<Instant>,
}

/// Work remains: the call stopped at a page boundary, everything before it stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Suspended;

impl Budget {
    /// No bound: the payout batches' status changes and tests.
    pub fn unbounded() -> Self {
        Self {
            lines: AtomicUsize::new(usize::MAX),
            deadline: None,
        }
    }

    /// A request's: `TENX_PAYOUT_SYNC_LINES` lines within `TENX_PAYOUT_SYNC_SECS`.
    pub fn request(config: &Config) -> Self {
        Self {
            lines: AtomicUsize::new(config.payout_sync_lines),
            deadline: Some(Instant::now() + config.payout_sync_time),
        }
    }

    /// A sweep's: [`JOB_TIME`], any number of lines.
    pub fn sweep() -> Self {
        Self::lines_within(usize::MAX, JOB_TIME)
    }

    /// `lines` within `time` (a test's worker cut short).
    pub fn lines_within(lines: usize, time: Duration) -> Self {
        Self {
            lines: AtomicUsize::new(lines),
            deadline: Some(Instant::now() + time),
        }
    }

    /// Before reading a page: refused once the lines are spent or the time is up.
    pub fn check(&self) -> Result<(), Suspended> {
        let out_of_time = self.deadline.is_some_and(|d| Instant::now() >= d);
        match self.lines.load(Ordering::Relaxed) == 0 || out_of_time {
            true => Err(Suspended),
            false => Ok(()),
        }
    }

    /// After reading a page of `lines`.
    pub fn spend(&self, lines: usize) {
        let _ = self
            .lines
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |left| {
                Some(left.saturating_sub(lines))
            });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_allows_the_page_that_spends_it_and_refuses_the_next() {
        let b = Budget::lines_within(500, Duration::from_secs(60));
        assert_eq!(b.check(), Ok(()));
        b.spend(300);
        assert_eq!(b.check(), Ok(()));
        b.spend(500);
        assert_eq!(b.check(), Err(Suspended));
        let late = Budget::lines_within(500, Duration::ZERO);
        assert_eq!(late.check(), Err(Suspended));
        assert_eq!(Budget::unbounded().check(), Ok(()));
    }
}
