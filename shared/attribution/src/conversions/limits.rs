//! A submission's limits: the rate limits, counted BEFORE its transaction, and the per-click cap
//! of the handle's policy, written IN it.
//!
//! **Rate limits** (the handle's, and on the public route also per click and per client
//! address, so a flood on one ctx is refused without starving the handle's other clicks) are
//! atomic counters of their own ([`crate::kernel::ratelimit::admit`]): one round of concurrent capped
//! `ADD`s, the handle's spread over several items when one would be hot. They stay out of the
//! transaction because every conversion of a handle would write the same counter there, and
//! DynamoDB cancels a transaction that meets another one in flight on any of its items: a hot
//! item in the transaction serializes the handle's conversions and turns bursts into
//! cancellations. A plain `UpdateItem ADD` on a hot item only queues. The price is that counting
//! is no longer undone by a cancelled transaction, so the submission takes its admissions back
//! ([`refund`]) when it did not create a conversion (a replay, a reused or busy key, a refused
//! click cap). A submission whose outcome is unknown (the store failed) keeps them: the limit
//! errs towards refusing.
//!
//! **The per-click cap** stays in the transaction: it must be exact, and only one click's
//! conversions share its item.

use futures::future::join_all;

use super::record::Channel;
use crate::domain::conversion::ValidConversion;
use crate::domain::{CtxClaims, Handle};
use crate::platform::store::{CounterCap, Store, StoreError, WriteOp, keys, now_unix};
use crate::{
    kernel::ratelimit,
    kernel::ratelimit::{Admission, Limited, Window},
};

/// Rate-limit bucket of public conversion submissions (per handle).
pub(super) const CONVERSIONS_BUCKET: &str = "c";
/// Rate-limit bucket of verified conversion submissions (per handle).
pub(super) const VERIFIED_BUCKET: &str = "cv";

/// What a submission counted against its rate limits, to be taken back if it creates nothing.
#[derive(Debug, Default)]
pub(super) struct Admissions(Vec<Admission>);

/// Counts a submission against every rate limit that applies to it, concurrently: ONE round
/// trip of conditional `ADD`s (1 on the verified route, 3 on the public route), plus one more
/// per full shard of the handle's counter near its limit. `Err(limited)` names the first limit
/// reached (handle, then click, then address); nothing stays counted then.
pub(super) async fn admit(
    intake: super::intake::Intake<'_>,
    handle: &Handle,
    ctx: &CtxClaims,
    channel: &Channel,
) -> Result<Result<Admissions, Limited>, StoreError> {
    let limits = intake.limits;
    let now = now_unix();
    let window = Window::at(now, limits.window_secs);
    // The verified route has a bucket of its own: public submissions never spend it.
    let (bucket, limit) = match channel {
        Channel::Public { .. } => (CONVERSIONS_BUCKET, limits.conversions),
        Channel::Verified => (VERIFIED_BUCKET, limits.verified_conversions),
    };
    let mut counters = vec![(bucket.to_owned(), limit, format!("handle {handle}"))];
    if let Channel::Public { client } = channel {
        let click = ctx.click_id.hex();
        counters.push((
            format!("cc_{click}"),
            limits.conversions_per_click,
            "this click (ctx)".to_owned(),
        ));
        counters.push((
            address_bucket(client),
            limits.conversions_per_address,
            "this client address".to_owned(),
        ));
    }
    let counted = join_all(counters.iter().map(|(bucket, limit, _)| {
        ratelimit::admit(
            intake.io.store.as_ref(),
            intake.full,
            handle,
            bucket,
            *limit,
            window,
        )
    }))
    .await;
    let mut admitted = Admissions::default();
    let mut refused = None;
    let mut failed = None;
    for ((_, limit, scope), result) in counters.iter().zip(counted) {
        match result {
            Ok(Some(admission)) => admitted.0.push(admission),
            Ok(None) => {
                refused = refused.or_else(|| {
                    Some(Limited::new(handle, *limit, limits.window_secs, window, now).of(scope))
                });
            }
            Err(e) => failed = failed.or(Some(e)),
        }
    }
    let outcome = match (failed, refused) {
        (Some(e), _) => Err(e),
        (None, Some(limited)) => Ok(Err(limited)),
        (None, None) => return Ok(Ok(admitted)),
    };
    refund(intake.io.store.as_ref(), admitted).await;
    outcome
}

/// Takes admissions back: ONE round trip of concurrent uncapped `ADD -1`s. Best effort: a
/// refund that fails leaves the request counted (logged), which only errs towards refusing.
pub(super) async fn refund(store: &dyn Store, admissions: Admissions) {
    let refunds = admissions
        .0
        .iter()
        .map(|a| store.write_lazily(a.refund_op()));
    for result in join_all(refunds).await {
        if let Err(e) = result {
            tracing::warn!(error = %e, "a rate-limit refund failed; the request stays counted");
        }
    }
}

/// The address as a bucket name (IPv6 grouped by /64, hashed).
fn address_bucket(client: &str) -> String {
    ratelimit::address_bucket("ca_", client)
}

/// One more conversion of this click and event type; capped unless it is already known to be
/// over (then it is counted, and flagged by the caller). Kept until the click's ctx expires:
/// no conversion can name the click after that.
pub(super) fn click_cap(
    handle: &Handle,
    ctx: &CtxClaims,
    conversion: &ValidConversion,
    max: u32,
    over_cap: bool,
) -> WriteOp {
    let (pk, sk) = keys::click_conversions(handle, ctx.click_id.as_str(), &conversion.event_type);
    WriteOp::Add {
        pk,
        sk,
        deltas: vec![("n".into(), 1)],
        cap: (!over_cap).then(|| CounterCap {
            counter: "n".into(),
            max: i64::from(max),
        }),
        expires_at: Some(ctx.expires_at.saturating_add(86_400)),
    }
}
