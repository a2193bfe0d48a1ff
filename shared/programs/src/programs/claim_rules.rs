//! The program's claim rules (`PUT …/program` `claims: {deadlineDays, onOverdue}`): how long the
//! merchant has to decide, and what an overdue claim becomes. A handle without a program, or a
//! program without them, has the defaults: 30 days, then `deny`.

use serde::{Deserialize, Serialize};

use crate::domain::DomainError;

/// What an overdue claim becomes: `approve` applies only to claims proposed `approve` (any
/// other is denied).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnOverdue {
    Approve,
    #[default]
    Deny,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClaimRules {
    pub deadline_days: u32,
    #[serde(default)]
    pub on_overdue: OnOverdue,
}

impl Default for ClaimRules {
    fn default() -> Self {
        Self {
            deadline_days: 30,
            on_overdue: OnOverdue::Deny,
        }
    }
}

impl ClaimRules {
    /// 1 to 365 days.
    pub fn validate(self) -> Result<Self, DomainError> {
        if !(1..=365).contains(&self.deadline_days) {
            return Err(DomainError::new(
                "claims.deadlineDays",
                "must be 1 to 365 days.",
            ));
        }
        Ok(self)
    }

    pub fn deadline_ms(&self) -> i64 {
        i64::from(self.deadline_days) * 86_400_000
    }
}
