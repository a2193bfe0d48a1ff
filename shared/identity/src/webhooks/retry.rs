//! The retry schedule: a failed automatic attempt `n` (1..=5) is retried after `base × 2^(n-1)`
//! (base 5 s: 5, 10, 20, 40, 80 s); the sixth failure is final. Manual re-sends are single
//! attempts. Pure.

use std::time::Duration;

/// Automatic retries after the first attempt.
pub const RETRIES: u32 = 5;
/// The last automatic attempt (1 + [`RETRIES`]).
pub const LAST_AUTOMATIC_ATTEMPT: u32 = 1 + RETRIES;
/// Attempt numbers are two digits in the log's sort keys; re-sends stop here.
pub const MAX_ATTEMPT: u32 = 99;

/// How long to wait before the attempt after failed attempt `attempt`, or `None` when that
/// failure is final.
pub fn delay_after_failure(base: Duration, attempt: u32, manual: bool) -> Option<Duration> {
    if manual || attempt == 0 || attempt >= LAST_AUTOMATIC_ATTEMPT {
        return None;
    }
    Some(base.saturating_mul(1 << (attempt - 1)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_schedule_is_5_10_20_40_80_seconds_then_final() {
        let base = Duration::from_secs(5);
        let delays: Vec<_> = (1..=6)
            .map(|n| delay_after_failure(base, n, false).map(|d| d.as_secs()))
            .collect();
        assert_eq!(
            delays,
            vec![Some(5), Some(10), Some(20), Some(40), Some(80), None]
        );
        assert_eq!(delay_after_failure(base, 0, false), None);
        assert_eq!(delay_after_failure(base, 7, false), None);
    }

    #[test]
    fn the_base_scales_the_schedule_and_manual_attempts_never_retry() {
        let base = Duration::from_millis(100);
        assert_eq!(
            delay_after_failure(base, 2, false),
            Some(Duration::from_millis(200))
        );
        assert_eq!(delay_after_failure(base, 1, true), None);
    }
}
