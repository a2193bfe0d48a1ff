//! Coupon leaks (issue 63): a partner's code shared beyond its audience (coupon sites, browser
//! extensions) wins sales its partner never clicked. Every sale that names a code is recorded
//! here with how it used it (`domain::CouponUse`, decided at intake); the report per code is the
//! share of its sales with no click of its partner, where those came from (the landing
//! referrer), and a score with its reasons; crossing the program's `couponLeakThreshold` raises
//! `coupon.leak_suspected` once per code per 30 days. What such a sale earns is the program's
//! `couponWithoutClick` policy, applied by the ledger's accrual. Each rating is kept with its
//! sales counted by day (`days`), so the handle's codes are ranked by score without reading
//! their sales (`ranked`), each as of the day it is read.

pub mod days;
pub mod ranked;
pub mod report;
pub mod score;
pub mod sink;
pub mod uses;

pub use report::{Leak, LeakError};
