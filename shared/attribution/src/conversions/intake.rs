//! What a conversion's intake depends on (issue 48), apart from the use case: the submission
//! (`submit`) and its rate limits (`limits`) both take it.

use crate::kernel::io::Io;
use crate::kernel::state::{FullCounters, PolicyCache};
use crate::platform::config::RateLimits;

/// What a conversion's intake uses of the process (issue 48): the store and queue, the
/// handles' cached policies, the rate limits and the cache of counters found full, the keys
/// that sign a receipt (none: unsigned) and how long an idempotency key is kept. A few
/// references, `Copy`: the router builds one per request (`http::conversions::intake`).
#[derive(Clone, Copy)]
pub struct Intake<'a> {
    pub io: Io<'a>,
    pub policies: &'a PolicyCache,
    pub limits: &'a RateLimits,
    pub full: &'a FullCounters,
    pub signing: Option<&'a crate::domain::proof::jws::ProofKeyring>,
    pub retention: std::time::Duration,
}
