//! The conversion write path: the rate-limit admissions, then one conditional transaction, then
//! one enqueue.

use crate::domain::time::Timestamp;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::idempotency::{Existing, IdempotencyRecord, judge};
use super::intake::Intake;
use super::record::Channel;
use crate::domain::conversion::ValidConversion;
use crate::domain::risk::{ConversionPolicy, Facts, PublicConversions, Risk, assess};
use crate::domain::{
    CampaignId, ClickId, ConversionId, CtxClaims, CustomerId, Handle, IdempotencyKey,
};
use crate::kernel::events::{ConversionData, Event, Payload};
use crate::kernel::io::Io;
use crate::kernel::ratelimit::Limited;
use crate::platform::store::{Cond, Item, Store, StoreError, WriteOp, keys, now_unix};

/// Positions in the transaction: the idempotency record first (a replay is recognised before
/// any other condition is looked at), then the conversion record, its outbox entry, and under a
/// per-click cap the click's counter. Nothing else: no item in it is shared by conversions of
/// different clicks (the rate limits are counted before it, see [`super::limits`]).
const OP_KEY: usize = 0;
const OP_OUTBOX: usize = 2;
const OP_CLICK_CAP: usize = OP_OUTBOX + 1;

/// Abandoned in-progress records or a record that expired mid-race may cost a retry; more than
/// a few means something else is wrong.
const MAX_ATTEMPTS: usize = 4;

/// The response of a submission, stored verbatim in the idempotency record and replayed with
/// `deduped: true`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Receipt {
    pub accepted: bool,
    pub deduped: bool,
    pub conversion_id: ConversionId,
    pub click_id: ClickId,
    pub campaign_id: Option<CampaignId>,
    pub event_type: String,
    #[serde(with = "crate::kernel::events::money")]
    pub value: Option<Decimal>,
    pub currency: Option<crate::domain::Currency>,
    pub test: bool,
    pub received_at: Timestamp,
    /// Submitted by the merchant's server (authenticated route) rather than the public route.
    #[serde(default)]
    pub verified: bool,
    /// Fraud signals (absent in receipts stored before they existed).
    #[serde(default)]
    pub risk: Risk,
    /// The signed receipt (a compact JWS, `tenx verify` checks it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<String>,
}

/// A bound customer's conversion (issue 44): who, whether it is the customer's first of its
/// event type, and when the customer was bound.
#[derive(Clone, Debug)]
pub struct CustomerSale {
    pub customer_id: CustomerId,
    pub first: bool,
    /// When the customer was bound; `None` for an unbound customer's unattributed conversion
    /// (no customer record to count it on).
    pub bound_at: Option<Timestamp>,
    /// The customer is flagged `self_referral`: its commissions are held for review.
    pub self_referral: bool,
    /// The write that counts this conversion on the customer's record, committed with it
    /// (left out for a test conversion); `None` for an unbound customer (no record). Built by
    /// the customers service, which owns the record.
    pub counted: Option<WriteOp>,
}

/// Why a conversion was not recorded.
#[derive(Debug, thiserror::Error)]
pub enum ConversionError {
    /// The ctx (signed by us) names something invalid: refuse rather than trust it.
    #[error("The ctx token names an invalid handle.")]
    InvalidCtx,
    /// `409 idempotency_key_reused`.
    #[error(
        "Idempotency key {0} was already used with a different payload; use a new key for a new conversion."
    )]
    KeyReused(IdempotencyKey),
    /// `409 conflict` with `retry-after`: the key is held by a request still in progress.
    #[error(
        "A request with idempotency key {key} is still being processed; retry the same request after {retry_after_secs} s."
    )]
    InFlight {
        key: IdempotencyKey,
        retry_after_secs: i64,
    },
    /// `409 conflict` with `retry-after: 1`: the key kept changing under us.
    #[error("This idempotency key is being written concurrently; retry the same request.")]
    Busy,
    /// `403 verification_required`: the handle's policy refuses public conversions.
    #[error(
        "This handle accepts only verified conversions: submit it from your server to POST /v2/handles/{0}/conversions."
    )]
    VerificationRequired(String),
    /// `409 conflict` under `deny`: the click already has its maximum of this event type.
    #[error(
        "Click {click_id} already has {max} conversion(s) of type {event_type} (maxConversionsPerClick)."
    )]
    ClickCapReached {
        click_id: String,
        event_type: String,
        max: u32,
    },
    #[error(transparent)]
    Limited(#[from] Limited),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What one attempt at the transaction learned.
enum Attempt {
    Done(Box<Receipt>),
    /// Try again with this condition on the idempotency record.
    Retry(Cond),
    /// The click already has its maximum of this event type.
    OverCap,
    /// A verified submission found the key held by an unverified one (record at `version`).
    Supersede {
        version: u64,
        held: Box<Receipt>,
    },
}

/// Records a conversion exactly once per `(handle, idempotency key)`, whichever route it came
/// by (both share the keyspace: a key accepted on one replays on the other).
///
/// Round trips of a first submission: the policy read (none when cached); ONE round of
/// rate-limit admissions (concurrent capped `ADD`s on their own items: the handle's, plus the
/// click's and the client address's on the public route); ONE store transaction (key record,
/// conversion, outbox entry, the click's counter under a per-click cap, and the conversion's
/// entry in its campaign's index); ONE enqueue.
///
/// A replay: the admissions, the transaction, cancelled by the key record and returning it
/// (plus one consistent read only if the backend did not), and ONE round of refunds; it
/// enqueues nothing and ends up counted nowhere. Over a rate limit: the admissions (the
/// handle's counter tries its next shard while one is full), then ONE consistent read of the
/// key record, so a replay is still answered as one. Only a conversion beyond its click's cap
/// costs a second transaction.
pub async fn submit(
    intake: Intake<'_>,
    ctx: &CtxClaims,
    conversion: ValidConversion,
    channel: Channel,
) -> Result<Receipt, ConversionError> {
    submit_as(intake, ctx, conversion, channel, None).await
}

/// [`submit`] of a bound customer's conversion (issue 44): `ctx` is the binding's click, and
/// the customer's counters (conversions, revenue) move in the same transaction, so a replay
/// counts nothing twice.
#[tracing::instrument(skip_all, fields(handle = %ctx.handle, click = %ctx.click_id))]
pub async fn submit_as(
    intake: Intake<'_>,
    ctx: &CtxClaims,
    conversion: ValidConversion,
    channel: Channel,
    customer: Option<&CustomerSale>,
) -> Result<Receipt, ConversionError> {
    let handle = ctx.handle.clone();
    let policy =
        super::policy::load_cached(intake.io.store.as_ref(), intake.policies, &handle).await?;
    let public = matches!(channel, Channel::Public { .. });
    if public && policy.public_conversions == PublicConversions::Deny {
        return Err(ConversionError::VerificationRequired(handle.to_string()));
    }
    let submission = Submission {
        intake,
        handle: &handle,
        ctx,
        conversion: &conversion,
        policy: &policy,
        channel: &channel,
        customer,
    };
    let plan = Plan::new(&submission, false)?;
    let admissions = match super::limits::admit(intake, &handle, ctx, &channel).await? {
        Ok(admitted) => admitted,
        Err(limited) => return plan.refused(intake.io.store.as_ref(), limited).await,
    };
    let outcome = submission.commit(plan).await;
    let keep = match &outcome {
        Ok(receipt) => !receipt.deduped,
        // Unknown whether the transaction committed: stay counted (the limit errs towards
        // refusing, never towards admitting more).
        Err(ConversionError::Store(_)) => true,
        Err(_) => false,
    };
    if !keep {
        super::limits::refund(intake.io.store.as_ref(), admissions).await;
    }
    outcome
}

/// One submission's inputs.
struct Submission<'a> {
    intake: Intake<'a>,
    handle: &'a Handle,
    ctx: &'a CtxClaims,
    conversion: &'a ValidConversion,
    policy: &'a ConversionPolicy,
    channel: &'a Channel,
    customer: Option<&'a CustomerSale>,
}

impl<'a> Submission<'a> {
    /// The transaction, retried while the key is abandoned or vanishes under us, and once more
    /// as a flagged plain count when the click's cap is reached under `flag`.
    async fn commit(&self, mut plan: Plan<'a>) -> Result<Receipt, ConversionError> {
        let mut key_cond = Cond::Absent;
        for _ in 0..MAX_ATTEMPTS {
            match plan.attempt(self.intake.io, key_cond.clone()).await? {
                Attempt::Done(receipt) => return Ok(*receipt),
                Attempt::Retry(cond) => key_cond = cond,
                Attempt::Supersede { version, held } => {
                    let (mut ops, event) = plan.created(Cond::Version(version))?;
                    ops.extend(plan.campaign_entry.clone());
                    let handle = self.handle;
                    match super::supersede::commit(self.intake.io, handle, ops, event, &held)
                        .await?
                    {
                        true => return Ok(plan.receipt.clone()),
                        // The key changed under us: read it again.
                        false => key_cond = Cond::Absent,
                    }
                }
                Attempt::OverCap => {
                    if self.policy.public_conversions == PublicConversions::Deny {
                        return Err(ConversionError::ClickCapReached {
                            click_id: self.ctx.click_id.to_string(),
                            event_type: self.conversion.event_type.clone(),
                            max: self.policy.max_conversions_per_click.unwrap_or(0),
                        });
                    }
                    // Accepted, flagged: the cap becomes a plain count.
                    plan = Plan::new(self, true)?;
                }
            }
        }
        Err(ConversionError::Busy)
    }
}

/// Everything a submission writes, computed once before the first attempt.
struct Plan<'a> {
    handle: &'a Handle,
    key: &'a IdempotencyKey,
    conversion_id: ConversionId,
    payload_hash: String,
    /// The conversion's event: `conversion.tested` for a test one, else `conversion.created`.
    payload: Payload,
    receipt: Receipt,
    record: IdempotencyRecord,
    conversion_put: WriteOp,
    click_cap: Option<WriteOp>,
    /// A bound customer's counters (unconditional: after the conditional writes).
    customer_add: Option<WriteOp>,
    /// The conversion's entry in its campaign's index (unconditional, last).
    campaign_entry: Option<WriteOp>,
}

impl<'a> Plan<'a> {
    fn new(sub: &Submission<'a>, over_cap: bool) -> Result<Self, StoreError> {
        let (intake, ctx, conversion) = (sub.intake, sub.ctx, sub.conversion);
        let conversion_id = ConversionId::new();
        let verified = *sub.channel == Channel::Verified;
        let now = now_unix();
        // A test click is the manager's own try (the console's, a test sale's): how soon its
        // sale follows it says nothing about anyone.
        let seconds_after_click = match ctx.test {
            true => i64::MAX,
            false => now - ctx.issued_at,
        };
        let risk = assess(
            sub.policy,
            &Facts {
                verified,
                seconds_after_click,
                over_click_cap: over_cap,
                value: conversion.value,
                currency: conversion.currency,
            },
        );
        let mut data = conversion_data(ctx, conversion, &conversion_id, verified, risk);
        if let Some(c) = sub.customer {
            data.customer_id = Some(c.customer_id.clone());
            data.customer_first = c.first;
            data.customer_bound_at.clone_from(&c.bound_at);
            data.customer_self_referral = c.self_referral;
        }
        data.receipt = intake
            .signing
            .map(|keys| super::signed::sign(keys, sub.handle.as_str(), &data));
        let receipt = Receipt::of(&data);
        let payload_hash = conversion.payload_hash(ctx.click_id.as_str());
        let retention = crate::domain::time::secs(intake.retention);
        let record = IdempotencyRecord::completed(
            payload_hash.clone(),
            receipt.clone(),
            now.saturating_add(retention),
        );
        let data_doc = crate::platform::store::to_doc(&data)?;
        let campaign_entry = super::record::campaign_entry(sub.handle, &data);
        let (conv_pk, conv_sk) = super::record::record_key(sub.handle, &conversion_id);
        // A bound customer's renewals all name the binding's click: the per-click cap is for
        // one visit's conversions, not a customer's lifetime.
        let click_cap = sub
            .policy
            .max_conversions_per_click
            .filter(|_| sub.customer.is_none())
            .map(|max| super::limits::click_cap(sub.handle, ctx, conversion, max, over_cap));
        let customer_add = sub
            .customer
            .filter(|_| !data.test)
            .and_then(|c| c.counted.clone());
        Ok(Self {
            handle: sub.handle,
            key: &conversion.idempotency_key,
            payload: Payload::of(&data),
            conversion_put: WriteOp::Put {
                item: Item::new(conv_pk, conv_sk, data_doc),
                cond: Cond::Absent,
            },
            conversion_id,
            payload_hash,
            receipt,
            record,
            click_cap,
            customer_add,
            campaign_entry,
        })
    }

    /// Over a rate limit: still a replay (or a reuse, or in flight) when the key is taken; the
    /// refusal otherwise. One consistent read.
    async fn refused(
        &self,
        store: &dyn Store,
        limited: Limited,
    ) -> Result<Receipt, ConversionError> {
        match self.existing_key(store, None).await? {
            Attempt::Done(replayed) => Ok(*replayed),
            Attempt::Retry(_) | Attempt::OverCap | Attempt::Supersede { .. } => Err(limited.into()),
        }
    }

    /// Round trip 1 (the transaction), then round trip 2 (the enqueue), as one unit a departing
    /// client cannot interrupt. An enqueue failure is logged: the outbox entry is durable.
    async fn attempt(&self, io: Io<'_>, key_cond: Cond) -> Result<Attempt, ConversionError> {
        let (mut ops, event) = self.created(key_cond)?;
        debug_assert_eq!(ops.len(), OP_CLICK_CAP);
        ops.extend(self.click_cap.clone());
        ops.extend(self.customer_add.clone());
        ops.extend(self.campaign_entry.clone());
        let committed = crate::kernel::outbox::commit_and_publish(
            io.store.clone(),
            io.queue.clone(),
            ops,
            std::slice::from_ref(&event),
        )
        .await;
        match committed {
            Ok(()) => Ok(Attempt::Done(Box::new(self.receipt.clone()))),
            Err(StoreError::TxConflict {
                index: OP_KEY,
                current,
            }) => self.existing_key(io.store.as_ref(), current).await,
            Err(StoreError::TxConflict {
                index: OP_CLICK_CAP,
                ..
            }) if self.click_cap.is_some() => Ok(Attempt::OverCap),
            Err(e) => Err(e.into()),
        }
    }

    /// The writes that record this conversion (key record, conversion, outbox entry) and its
    /// event.
    fn created(&self, key_cond: Cond) -> Result<(Vec<WriteOp>, Event), StoreError> {
        let mut event = Event::of(self.handle, self.payload.clone());
        // Stable per conversion: every copy of the event (enqueue, sweep, redelivery) carries
        // the same id, which is what consumers dedupe on.
        event.id = self.conversion_id.event_id();
        let ops = vec![
            self.record.put(self.handle, self.key, key_cond)?,
            self.conversion_put.clone(),
            crate::kernel::outbox::record(&mut event),
        ];
        Ok((ops, event))
    }

    /// The key is taken: answer from the stored record (a replay, a reuse, a request in flight)
    /// or retry when the record is gone or abandoned.
    async fn existing_key(
        &self,
        store: &dyn Store,
        current: Option<Box<Item>>,
    ) -> Result<Attempt, ConversionError> {
        let current = match current {
            Some(item) => Some(*item),
            None => {
                let (pk, sk) = keys::idempotency(self.handle, self.key);
                store.get(&pk, &sk).await?
            }
        };
        // Gone since (expired): the key is free again.
        let Some(item) = current else {
            return Ok(Attempt::Retry(Cond::Absent));
        };
        let existing: IdempotencyRecord = item.parse()?;
        if let Some(held) = super::supersede::held_unverified(&existing, self.receipt.verified) {
            return Ok(Attempt::Supersede {
                version: item.version,
                held: Box::new(held.clone()),
            });
        }
        let now = crate::platform::time::now_millis();
        match judge(&existing, item.version, &self.payload_hash, now) {
            Existing::Replay(stored) => Ok(Attempt::Done(Box::new(Receipt {
                deduped: true,
                ..*stored
            }))),
            Existing::Reused => Err(ConversionError::KeyReused(self.key.clone())),
            Existing::InFlight { retry_after_secs } => Err(ConversionError::InFlight {
                key: self.key.clone(),
                retry_after_secs,
            }),
            Existing::Abandoned { version } => Ok(Attempt::Retry(Cond::Version(version))),
            Existing::Corrupt => Err(StoreError::Corrupt(format!(
                "idempotency record {}/{} is completed without a response",
                item.pk, item.sk
            ))
            .into()),
        }
    }
}

/// The conversion as recorded: the click's attribution comes from the ctx.
fn conversion_data(
    ctx: &CtxClaims,
    conversion: &ValidConversion,
    id: &ConversionId,
    verified: bool,
    risk: Risk,
) -> ConversionData {
    ConversionData {
        conversion_id: id.clone(),
        idempotency_key: conversion.idempotency_key.clone(),
        click_id: ctx.click_id.clone(),
        campaign_id: ctx.campaign_id.clone(),
        slug: if ctx.slug.is_unattributed() {
            String::new()
        } else {
            ctx.slug.to_string()
        },
        event_type: conversion.event_type.clone(),
        value: conversion.value,
        currency: conversion.currency,
        // A console try's ctx converts only as a test: never counted, never paid.
        test: conversion.test || ctx.test,
        metadata: conversion.metadata.clone().map(serde_json::Value::Object),
        attribution: ctx.attribution.clone(),
        sub_ids: ctx.sub_ids.clone(),
        received_at: crate::platform::time::timestamp(),
        verified,
        risk,
        reversal: None,
        superseded_by: None,
        receipt: None,
        customer_id: None,
        customer_first: false,
        customer_bound_at: None,
        customer_self_referral: false,
        address_hash: ctx.address_hash.clone(),
        visitor_hash: ctx.visitor_hash.clone(),
        coupon: conversion.coupon.clone(),
    }
}

impl Receipt {
    fn of(data: &ConversionData) -> Self {
        Receipt {
            accepted: true,
            deduped: false,
            conversion_id: data.conversion_id.clone(),
            click_id: data.click_id.clone(),
            campaign_id: data.campaign_id.clone(),
            event_type: data.event_type.clone(),
            value: data.value,
            currency: data.currency,
            test: data.test,
            received_at: data.received_at.clone(),
            verified: data.verified,
            risk: data.risk.clone(),
            receipt: data.receipt.clone(),
        }
    }
}
