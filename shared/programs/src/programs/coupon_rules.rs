//! The program's coupon rules (issue 63): the domain's, re-exported where the program's other
//! settings live.

pub use crate::domain::coupon_rules::*;
