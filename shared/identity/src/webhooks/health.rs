//! An endpoint's health: what one attempt's outcome does to its subscription. Pure.
//!
//! - A success ends the endpoint's run of failures (`failingSinceMs` cleared).
//! - `410 Gone` disables the subscription at once and makes the attempt final.
//! - Any other failure starts a run of failures (its first attempt's start), or continues one;
//!   a run that has lasted `TENX_WEBHOOK_AUTO_DISABLE_SECS` (5 days by default) disables the
//!   subscription, and the attempt that found out is final (no retry is scheduled to a disabled
//!   subscription). The disabling is written in the attempt's own outcome transaction, like a
//!   410's, so the notifications panel shows the failed delivery and the disabled subscription.
//! - An attempt that was never sent (the subscription was already disabled) changes nothing.
//!
//! Only transitions write the subscription: a run of successes or of failures costs nothing.

use std::time::Duration;

use super::send::SendOutcome;
use super::subscription::Subscription;
use crate::domain::time::unix_millis_to_rfc3339;

/// The error recorded on the attempt that found its subscription disabled.
pub const NOT_SENT: &str = "not sent: the subscription is disabled";
/// The error recorded on an attempt answered `410 Gone`.
pub const GONE: &str = "410 Gone: the subscription was disabled";

/// What one attempt does beyond its own record.
#[derive(Debug, Default, PartialEq)]
pub struct HealthChange {
    /// The attempt is final for this reason (no retry), recorded as its error.
    pub stop: Option<String>,
    /// The subscription as it must be written (conditioned on the version it was read at).
    pub subscription: Option<Subscription>,
}

/// How an attempt went, as far as the endpoint's health is concerned.
pub struct Attempt<'a> {
    /// `None`: nothing was sent (the subscription is disabled).
    pub outcome: Option<&'a SendOutcome>,
    pub started_ms: i64,
    pub finished_ms: i64,
}

/// What `attempt` does to the health of `sub` on `sub` (as read), given the auto-disable period (zero: never).
pub fn assess(sub: &Subscription, attempt: &Attempt<'_>, auto_disable: Duration) -> HealthChange {
    let Some(outcome) = attempt.outcome else {
        return HealthChange {
            stop: Some(NOT_SENT.to_owned()),
            subscription: None,
        };
    };
    let active = sub.is_active();
    let now = || crate::domain::time::Timestamp::from_millis(attempt.finished_ms);
    if outcome.succeeded() {
        let recovered = active && sub.failing_since_ms.is_some();
        return HealthChange {
            stop: None,
            subscription: recovered.then(|| sub.clone().failing_since(None)),
        };
    }
    if outcome.gone() {
        return HealthChange {
            stop: Some(GONE.to_owned()),
            subscription: active.then(|| {
                sub.clone()
                    .disabled("the endpoint answered 410 Gone".into(), now())
            }),
        };
    }
    if !active {
        return HealthChange::default();
    }
    let Some(since) = sub.failing_since_ms else {
        return HealthChange {
            stop: None,
            subscription: Some(sub.clone().failing_since(Some(attempt.started_ms))),
        };
    };
    let limit_ms = i64::try_from(auto_disable.as_millis()).unwrap_or(i64::MAX);
    if auto_disable.is_zero() || attempt.finished_ms - since < limit_ms {
        return HealthChange::default();
    }
    let reason = format!(
        "every attempt failed since {} (auto-disabled after {})",
        unix_millis_to_rfc3339(since),
        describe(auto_disable)
    );
    HealthChange {
        stop: Some(format!("{reason}; the subscription was disabled")),
        subscription: Some(sub.clone().disabled(reason, now())),
    }
}

/// `5 days`, `2 hours`, `90 s`, `300 ms`: the largest whole unit.
fn describe(d: Duration) -> String {
    let secs = d.as_secs();
    match secs {
        0 => format!("{} ms", d.as_millis()),
        s if s % 86_400 == 0 => plural(s / 86_400, "day"),
        s if s % 3600 == 0 => plural(s / 3600, "hour"),
        s => format!("{s} s"),
    }
}

fn plural(n: u64, unit: &str) -> String {
    if n == 1 {
        format!("1 {unit}")
    } else {
        format!("{n} {unit}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::webhooks::subscription::{SubscriptionSpec, SubscriptionStatus};

    const DAY_MS: i64 = 86_400_000;

    fn sub() -> Subscription {
        let spec = SubscriptionSpec {
            endpoint_url: "https://hooks.example.com/x".into(),
            event_types: vec!["link.clicked".into()],
            description: None,
        };
        Subscription::new(
            &crate::domain::Handle::parse("acme").unwrap(),
            spec.validate().unwrap(),
            "whsec_x".into(),
            crate::domain::time::Timestamp::literal("2026-01-01T00:00:00Z"),
        )
    }

    fn outcome(code: u16) -> SendOutcome {
        SendOutcome {
            status_code: Some(code),
            duration_ms: 5,
            error: None,
        }
    }

    fn at(outcome: Option<&SendOutcome>, started_ms: i64) -> Attempt<'_> {
        Attempt {
            outcome,
            started_ms,
            finished_ms: started_ms + 5,
        }
    }

    const FIVE_DAYS: Duration = Duration::from_secs(5 * 86_400);

    #[test]
    fn a_run_of_failures_starts_continues_and_ends_with_a_success() {
        let failed = outcome(500);
        let p = assess(&sub(), &at(Some(&failed), 1000), FIVE_DAYS);
        assert_eq!(p.stop, None);
        let failing = p.subscription.expect("the run begins");
        assert_eq!(failing.failing_since_ms, Some(1000));
        assert_eq!(
            failing.updated_at, "2026-01-01T00:00:00Z",
            "not an API change"
        );
        // Continuing the run writes nothing.
        assert_eq!(
            assess(&failing, &at(Some(&failed), 4 * DAY_MS), FIVE_DAYS),
            HealthChange::default()
        );
        let ok = outcome(204);
        let p = assess(&failing, &at(Some(&ok), 4 * DAY_MS), FIVE_DAYS);
        assert_eq!(p.stop, None);
        assert_eq!(p.subscription.unwrap().failing_since_ms, None);
        // A healthy endpoint's success writes nothing.
        assert_eq!(
            assess(&sub(), &at(Some(&ok), 0), FIVE_DAYS),
            HealthChange::default()
        );
    }

    #[test]
    fn a_run_as_long_as_the_period_disables_and_stops() {
        let failing = sub().failing_since(Some(1000));
        let failed = outcome(503);
        let p = assess(&failing, &at(Some(&failed), 1000 + 5 * DAY_MS), FIVE_DAYS);
        let disabled = p.subscription.expect("disabled");
        assert_eq!(disabled.status, SubscriptionStatus::Disabled);
        let reason = disabled.disabled_reason.unwrap();
        assert!(reason.contains("5 days"), "{reason}");
        assert!(reason.contains("1970-01-01T00:00:01"), "{reason}");
        assert!(p.stop.unwrap().contains("disabled"));
        // Zero turns auto-disabling off.
        let p = assess(
            &failing,
            &at(Some(&failed), 1000 + 50 * DAY_MS),
            Duration::ZERO,
        );
        assert_eq!(p, HealthChange::default());
    }

    #[test]
    fn gone_disables_at_once_and_unsent_attempts_only_stop() {
        let p = assess(&sub(), &at(Some(&outcome(410)), 0), FIVE_DAYS);
        assert_eq!(p.stop.as_deref(), Some(GONE));
        assert_eq!(p.subscription.unwrap().status, SubscriptionStatus::Disabled);
        let paused = sub().disabled(
            "paused".into(),
            crate::domain::time::Timestamp::literal("2026-01-01T00:00:01Z"),
        );
        let p = assess(&paused, &at(Some(&outcome(410)), 0), FIVE_DAYS);
        assert_eq!(p.subscription, None, "already disabled");
        let p = assess(&paused, &at(None, 0), FIVE_DAYS);
        assert_eq!(p.stop.as_deref(), Some(NOT_SENT));
        assert_eq!(p.subscription, None);
    }

    #[test]
    fn periods_read_naturally() {
        assert_eq!(describe(Duration::from_secs(5 * 86_400)), "5 days");
        assert_eq!(describe(Duration::from_secs(86_400)), "1 day");
        assert_eq!(describe(Duration::from_secs(7200)), "2 hours");
        assert_eq!(describe(Duration::from_secs(90)), "90 s");
        assert_eq!(describe(Duration::from_millis(300)), "300 ms");
    }
}
