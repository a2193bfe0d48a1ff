//! The program's coupon rules (issue 63; `PUT …/program` `couponWithoutClick`,
//! `couponReducePercent`, `couponLeakThreshold`): what a sale earns when it used a partner's
//! coupon code with no click of that partner behind it, and the leak score that raises
//! `coupon.leak_suspected`. A handle without a program, or a program without them, pays such
//! sales as any other (the merchant opts in to governing leaks) and alerts at a score of 60.

use serde::{Deserialize, Serialize};

use super::DomainError;

/// The reason a line governed by the policy names.
pub const COUPON_WITHOUT_CLICK: &str = "coupon_without_click";

/// What a sale on a partner's code with no click of that partner earns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CouponWithoutClick {
    /// As any other sale (the default).
    #[default]
    Pay,
    /// Held for the merchant's review.
    Hold,
    /// Reduced by `couponReducePercent`.
    Reduce,
    /// Nothing: the line is written, rejected, so the partner sees why.
    None,
}

/// The rules as the program stores them, defaults filled in. A sale on a code with no click of
/// its partner carries the policy in force when it arrived (`CouponUse::rules`), so its line
/// follows that policy whenever the events worker accrues it (as a plan in force at the sale).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CouponRules {
    pub without_click: CouponWithoutClick,
    /// 1 to 99, only with `Reduce`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reduce_percent: Option<u8>,
    /// A code's leak score (0 to 100) at which `coupon.leak_suspected` is raised (not carried
    /// by a sale).
    #[serde(skip, default = "default_threshold")]
    pub leak_threshold: u8,
}

fn default_threshold() -> u8 {
    DEFAULT_LEAK_THRESHOLD
}

pub const DEFAULT_LEAK_THRESHOLD: u8 = 60;

impl Default for CouponRules {
    fn default() -> Self {
        Self {
            without_click: CouponWithoutClick::Pay,
            reduce_percent: None,
            leak_threshold: DEFAULT_LEAK_THRESHOLD,
        }
    }
}

impl CouponRules {
    /// The three fields as sent: a percent goes with `reduce` and only with it.
    pub fn validate(
        without_click: Option<CouponWithoutClick>,
        reduce_percent: Option<u32>,
        leak_threshold: Option<u32>,
    ) -> Result<Self, DomainError> {
        let without_click = without_click.unwrap_or_default();
        let reduce_percent = match (without_click, reduce_percent) {
            (CouponWithoutClick::Reduce, Some(p)) if (1..=99).contains(&p) => u8::try_from(p).ok(),
            (CouponWithoutClick::Reduce, _) => {
                return Err(DomainError::new(
                    "couponReducePercent",
                    "must be 1 to 99 with couponWithoutClick reduce (0 is pay, 100 is none).",
                ));
            }
            (_, Some(_)) => {
                return Err(DomainError::new(
                    "couponReducePercent",
                    "is only for couponWithoutClick reduce.",
                ));
            }
            (_, None) => None,
        };
        let leak_threshold = match leak_threshold {
            None => DEFAULT_LEAK_THRESHOLD,
            Some(t) => u8::try_from(t)
                .ok()
                .filter(|t| (1..=100).contains(t))
                .ok_or_else(|| {
                    DomainError::new("couponLeakThreshold", "must be a score of 1 to 100.")
                })?,
        };
        Ok(Self {
            without_click,
            reduce_percent,
            leak_threshold,
        })
    }

    /// A line's amount and status under the policy, with the reason when it changed anything.
    /// A reduction rounds down to the minor unit (the partner is never paid a fraction more).
    pub fn govern(&self, amount_minor: Option<i64>) -> Governed {
        let (amount_minor, held, rejected) = match self.without_click {
            CouponWithoutClick::Pay => return Governed::unchanged(amount_minor),
            CouponWithoutClick::Hold => (amount_minor, true, false),
            CouponWithoutClick::Reduce => {
                let keep = i64::from(100 - self.reduce_percent.unwrap_or(0));
                (amount_minor.map(|a| a * keep / 100), false, false)
            }
            CouponWithoutClick::None => (amount_minor.map(|_| 0), false, true),
        };
        Governed {
            amount_minor,
            held,
            rejected,
            reason: Some(COUPON_WITHOUT_CLICK),
        }
    }
}

/// What the policy made of one line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Governed {
    pub amount_minor: Option<i64>,
    pub held: bool,
    pub rejected: bool,
    pub reason: Option<&'static str>,
}

impl Governed {
    fn unchanged(amount_minor: Option<i64>) -> Self {
        Self {
            amount_minor,
            held: false,
            rejected: false,
            reason: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_policy_governs_the_line_and_names_its_reason() {
        let rules = |w, p| CouponRules::validate(Some(w), p, None).unwrap();
        let pay = rules(CouponWithoutClick::Pay, None).govern(Some(1000));
        assert_eq!((pay.amount_minor, pay.reason), (Some(1000), None));
        let hold = rules(CouponWithoutClick::Hold, None).govern(Some(1000));
        assert!(hold.held && hold.amount_minor == Some(1000));
        let reduce = rules(CouponWithoutClick::Reduce, Some(35)).govern(Some(999));
        assert_eq!(reduce.amount_minor, Some(649), "649.35 rounds down");
        let none = rules(CouponWithoutClick::None, None).govern(Some(1000));
        assert!(none.rejected && none.amount_minor == Some(0));
        assert_eq!(none.reason, Some(COUPON_WITHOUT_CLICK));
    }

    #[test]
    fn a_percent_goes_with_reduce_only_and_the_threshold_is_a_score() {
        let err = |r: Result<CouponRules, DomainError>| r.unwrap_err().field;
        assert_eq!(
            err(CouponRules::validate(
                Some(CouponWithoutClick::Reduce),
                None,
                None
            )),
            "couponReducePercent"
        );
        assert_eq!(
            err(CouponRules::validate(
                Some(CouponWithoutClick::Reduce),
                Some(100),
                None
            )),
            "couponReducePercent"
        );
        assert_eq!(
            err(CouponRules::validate(
                Some(CouponWithoutClick::Hold),
                Some(10),
                None
            )),
            "couponReducePercent"
        );
        assert_eq!(
            err(CouponRules::validate(None, None, Some(0))),
            "couponLeakThreshold"
        );
        assert_eq!(
            CouponRules::validate(None, None, None).unwrap(),
            CouponRules::default()
        );
    }
}
