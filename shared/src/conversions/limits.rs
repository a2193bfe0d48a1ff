//! The guards written in a conversion's own transaction, so a cancelled submission counts
//! nothing: the handle's rate limit, on the public route also per click and per client address
//! (a flood on one ctx is refused without starving the handle's other clicks), and the per-click
//! cap of the handle's policy. Every counter is its own item, so none is shared by all traffic.

use sha2::{Digest, Sha256};

use super::record::Channel;
use crate::domain::conversion::ValidConversion;
use crate::domain::risk::ConversionPolicy;
use crate::domain::{CtxClaims, Handle};
use crate::ratelimit::{increment_op, Limited, Window};
use crate::state::AppState;
use crate::store::{keys, now_unix, CounterCap, StoreError, WriteOp};

/// Rate-limit bucket of conversion submissions (per handle).
pub const CONVERSIONS_BUCKET: &str = "c";

/// What a cancelled guard means.
#[derive(Clone, Debug)]
pub enum Guard {
    /// The click already has its maximum of this event type.
    ClickCap,
    /// A rate limit is reached: this refusal.
    Rate(Limited),
}

pub struct Guards(Vec<(Guard, WriteOp)>);

impl Guards {
    pub fn new(
        state: &AppState,
        handle: &Handle,
        ctx: &CtxClaims,
        conversion: &ValidConversion,
        policy: &ConversionPolicy,
        channel: &Channel,
        over_cap: bool,
    ) -> Result<Self, StoreError> {
        let limits = &state.config.rate_limits;
        let now = now_unix();
        let window = Window::at(now, limits.window_secs);
        let rate =
            |bucket: &str, limit: u32, scope: &str| -> Result<(Guard, WriteOp), StoreError> {
                let refusal =
                    Limited::new(handle, limit, limits.window_secs, window, now).of(scope);
                Ok((
                    Guard::Rate(refusal),
                    increment_op(handle, bucket, limit, window)?,
                ))
            };
        let mut guards = vec![rate(
            CONVERSIONS_BUCKET,
            limits.conversions,
            &format!("handle {handle}"),
        )?];
        if let Channel::Public { client } = channel {
            let click = ctx.click_id.trim_start_matches("clk_").to_ascii_lowercase();
            guards.push(rate(
                &format!("cc_{click}"),
                limits.conversions_per_click,
                "this click (ctx)",
            )?);
            guards.push(rate(
                &address_bucket(client),
                limits.conversions_per_address,
                "this client address",
            )?);
        }
        if let Some(max) = policy.max_conversions_per_click {
            guards.push((
                Guard::ClickCap,
                click_cap(handle, ctx, conversion, max, over_cap),
            ));
        }
        Ok(Guards(guards))
    }

    pub fn ops(&self) -> impl Iterator<Item = WriteOp> + '_ {
        self.0.iter().map(|(_, op)| op.clone())
    }

    /// The guard written `i`-th after the conversion's own operations.
    pub fn at(&self, i: usize) -> Option<&Guard> {
        self.0.get(i).map(|(guard, _)| guard)
    }
}

/// The address as a bucket name: hashed (the store never holds a client's address) and
/// shortened to what a bucket may contain.
fn address_bucket(client: &str) -> String {
    let digest = hex::encode(Sha256::digest(client.as_bytes()));
    format!("ca_{}", &digest[..20])
}

/// One more conversion of this click and event type; capped unless it is already known to be
/// over (then it is counted, and flagged by the caller). Kept until the click's ctx expires:
/// no conversion can name the click after that.
fn click_cap(
    handle: &Handle,
    ctx: &CtxClaims,
    conversion: &ValidConversion,
    max: u32,
    over_cap: bool,
) -> WriteOp {
    let (pk, sk) = keys::click_conversions(handle.as_str(), &ctx.click_id, &conversion.event_type);
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
