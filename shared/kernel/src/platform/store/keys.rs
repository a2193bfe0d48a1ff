//! Every item's key, in one place. Handles, slugs and ids are validated newtypes that cannot
//! contain `#`, so one handle's keys can never collide with another's. Layout: `docs/storage.md`.

use crate::domain::{
    CampaignId, Handle, IdempotencyKey, InvitationId, PartnerId, SessionId, Slug, SubscriptionId,
    UserId,
};

pub fn handle_pk(handle: &Handle) -> String {
    format!("H#{handle}")
}

pub fn link_sk(slug: &Slug) -> String {
    format!("L#{slug}")
}

pub const LINK_SK_PREFIX: &str = "L#";

pub fn campaign_sk(campaign_id: &CampaignId) -> String {
    format!("C#{campaign_id}")
}

pub const CAMPAIGN_SK_PREFIX: &str = "C#";

/// Idempotency record of a conversion key (its own partition: written by one conditional put).
/// The key's type keeps `#` out of it.
pub fn idempotency(handle: &Handle, key: &IdempotencyKey) -> (String, String) {
    (format!("H#{handle}#K#{key}"), "K".into())
}

/// A conversion, in its handle's partition of the UTC day it was received (`yyyy-mm-dd`, which
/// the time-ordered conversion id also carries): listings read a day at a time, newest first,
/// and no partition takes more than one handle-day of writes.
pub fn conversion(handle: &Handle, day: &str, conversion_id: &str) -> (String, String) {
    (conversion_day_pk(handle, day), conversion_id.to_owned())
}

pub fn conversion_day_pk(handle: &Handle, day: &str) -> String {
    format!("H#{handle}#V#{day}")
}

/// A campaign's conversion index (issue 57): one entry per conversion of the campaign, sk the
/// time-ordered conversion id, put in the conversion's own transaction. What the plan backtest
/// reads instead of every day of its period.
pub fn conversion_campaign_pk(handle: &Handle, campaign_id: &CampaignId) -> String {
    format!("H#{handle}#VC#{campaign_id}")
}

/// A handle's redirect settings (fallback URLs), beside its links.
pub const REDIRECT_SETTINGS_SK: &str = "P#redirect";

/// Orphan-visit counters of a handle: sk `{yyyy-mm-dd}#{kind}#{shard}`. A scan of random slugs
/// spreads over the shards instead of heating one item.
pub fn orphans_pk(handle: &Handle) -> String {
    format!("H#{handle}#O")
}

/// A handle's conversion policy, beside its links and campaigns.
pub const CONVERSION_POLICY_SK: &str = "P#conversions";
/// A handle's partner program (its public page's settings), beside its links and campaigns.
pub const PROGRAM_SK: &str = "P#program";

/// A handle's program applications: one item per application, sk its (time-ordered) id.
pub fn applications_pk(handle: &Handle) -> String {
    format!("H#{handle}#APP")
}

/// The applications' email index: sk the email's keyed digest, holding the application id
/// (put if absent, in the application's own transaction: one application per email).
pub fn application_emails_pk(handle: &Handle) -> String {
    format!("H#{handle}#APPE")
}

/// The marker that a handle exists (its owner used it through an authenticated write).
pub const HANDLE_SEEN_SK: &str = "P#seen";

/// Conversions of one click and event type so far (the per-click cap's counter).
pub fn click_conversions(handle: &Handle, click_id: &str, event_type: &str) -> (String, String) {
    (
        format!("H#{handle}#CC#{click_id}"),
        format!("T#{event_type}"),
    )
}

/// Marker that an event was applied by a consumer (dedupe of at-least-once delivery).
pub fn processed_event(consumer: &str, event_id: &str) -> (String, String) {
    (format!("E#{consumer}#{event_id}"), "E".into())
}

/// A stream consumer's checkpoint in one shard: the last sequence number it applied.
pub fn stream_checkpoint(consumer: &str, shard: &str) -> (String, String) {
    (format!("SCP#{consumer}"), format!("S#{shard}"))
}

/// The click fingerprints one aggregator chunk counted on a shard, for one minute of mint
/// time (`analytics::seen`): a partition per shard and minute, an item per chunk.
pub fn seen_clicks(shard: &str, minute: &str, last_sequence: &str) -> (String, String) {
    (format!("SEEN#{shard}#{minute}"), last_sequence.to_owned())
}

/// The dead letters of a consumer: one partition (poison is rare), by shard and sequence.
pub fn dead_letter(consumer: &str, shard: &str, sequence: &str) -> (String, String) {
    (dead_letter_pk(consumer), format!("{shard}#{sequence}"))
}

pub fn dead_letter_pk(consumer: &str) -> String {
    format!("DEADLETTER#{consumer}")
}

pub fn rate_window(handle: &Handle, bucket: &str, window: i64) -> (String, String) {
    (format!("H#{handle}#T#{bucket}#{window}"), "T".into())
}

/// One shard of a rate-limit window counter spread over several items (`ratelimit::admit`): a
/// partition key of its own, so the shards land on different DynamoDB partitions.
pub fn rate_shard(handle: &Handle, bucket: &str, window: i64, shard: u32) -> (String, String) {
    (
        format!("H#{handle}#T#{bucket}#{window}#{shard}"),
        "T".into(),
    )
}

/// A personal access token, addressed by the SHA-256 of the token (the token is never stored).
pub fn pat(token_hash_hex: &str) -> (String, String) {
    (format!("P#{token_hash_hex}"), "P".into())
}

/// The per-handle listing entry of a personal access token.
pub fn pat_index_sk(token_id: &str) -> String {
    format!("T#{token_id}")
}

pub const PAT_INDEX_SK_PREFIX: &str = "T#";

// People, memberships, sessions and sign-in tokens (issue 60, `people`): a user's own partition
// holds their record, memberships and sessions; secrets (a session's cookie, a sign-in link's
// token) are addressed by their SHA-256 only; an email by its keyed form's SHA-256.

/// A user's partition (their record at [`USER_SK`], memberships, sessions).
pub fn user_pk(user_id: &UserId) -> String {
    format!("U#{user_id}")
}

pub const USER_SK: &str = "U";

/// A user's membership of a handle, in the user's partition.
pub fn user_membership_sk(handle: &Handle) -> String {
    format!("M#{handle}")
}

pub const USER_MEMBERSHIP_SK_PREFIX: &str = "M#";

/// A user's partnership on a handle (issue 61: one partner per person and handle), in the
/// user's partition.
pub fn user_partnership_sk(handle: &Handle) -> String {
    format!("PU#{handle}")
}

pub const USER_PARTNERSHIP_SK_PREFIX: &str = "PU#";

/// How many links a partner made itself (issue 61, `portal::links`): the counter `links`,
/// capped, added in the transaction that creates each.
pub fn partner_link_quota(handle: &Handle, partner_id: &PartnerId) -> (String, String) {
    (format!("H#{handle}#PLQ"), partner_id.as_str().to_owned())
}

/// A partner's users (issue 61), the list its owner and the program read: sk the user id,
/// written with the person's own partnership item and removed with it.
pub fn partner_users_pk(handle: &Handle, partner_id: &PartnerId) -> String {
    format!("H#{handle}#PUS#{partner_id}")
}

/// A user's session listing entry, in the user's partition.
pub fn user_session_sk(session_id: &SessionId) -> String {
    format!("S#{session_id}")
}

pub const USER_SESSION_SK_PREFIX: &str = "S#";

/// The user of an email address (put if absent: one user per address), by the digest of the
/// address's compared form.
pub fn user_email(email_digest: &str) -> (String, String) {
    (format!("E#{email_digest}"), "U".into())
}

/// The pending invitations of an email address: sk `I#{handle}#{invitationId}`.
pub fn email_invitations_pk(email_digest: &str) -> String {
    format!("E#{email_digest}")
}

pub fn email_invitation_sk(handle: &Handle, invitation_id: &InvitationId) -> String {
    format!("I#{handle}#{invitation_id}")
}

pub const EMAIL_INVITATION_SK_PREFIX: &str = "I#";

/// A session, by the SHA-256 of its cookie's secret.
pub fn session(secret_hash_hex: &str) -> (String, String) {
    (format!("SES#{secret_hash_hex}"), "S".into())
}

/// A one-time sign-in link's token, by its SHA-256.
pub fn sign_in_token(token_hash_hex: &str) -> (String, String) {
    (format!("SIT#{token_hash_hex}"), "T".into())
}

/// The service's first admin, once made (the first start's set-up link is refused after it).
pub fn first_admin() -> (String, String) {
    ("SETUP#FIRST_ADMIN".into(), "A".into())
}

/// The service's set-up begun: its first start, on an empty data dir, printed a set-up link
/// (a later start prints another only while this stands and no admin was made).
pub fn set_up_begun() -> (String, String) {
    ("SETUP#FIRST_ADMIN".into(), "BEGUN".into())
}

/// A handle's members: sk the user id.
pub fn members_pk(handle: &Handle) -> String {
    format!("H#{handle}#MB")
}

/// A handle's admin count (`admins`, versioned): the item every change of an admin's
/// membership is conditioned on, so the last admin cannot go.
pub fn admin_count(handle: &Handle) -> (String, String) {
    (format!("H#{handle}#MBN"), "N".into())
}

/// A handle's audit log (issue 60): sk `{atMs:013}#{nonce}`.
pub fn audit_pk(handle: &Handle) -> String {
    format!("H#{handle}#AUD")
}

/// A handle's invitations: sk the invitation id.
pub fn invitations_pk(handle: &Handle) -> String {
    format!("H#{handle}#INV")
}

pub fn webhook_sk(subscription_id: &SubscriptionId) -> String {
    format!("W#{subscription_id}")
}

pub const WEBHOOK_SK_PREFIX: &str = "W#";
/// The handle's subscription count (outside the `W#` prefix, so listings never see it).
pub const WEBHOOK_COUNT_SK: &str = "WCOUNT";

/// A subscription's delivery log partition: one delivery per event (`E#`), one record per
/// attempt (`D#`). Ids are shape-checked (no `#`) before they reach a key.
pub fn webhook_log_pk(handle: &Handle, subscription_id: &SubscriptionId) -> String {
    format!("H#{handle}#W#{subscription_id}")
}

/// The delivery of one event to one subscription (its body, status, attempt count).
pub fn webhook_delivery_sk(event_id: &str) -> String {
    format!("E#{event_id}")
}

/// One delivery attempt: the idempotency claim (put if absent) and then its outcome. Event ids
/// are time-ordered (UUIDv7), so a descending query lists the newest event first.
pub fn webhook_attempt_sk(event_id: &str, attempt: u32) -> String {
    format!("D#{event_id}#{attempt:02}")
}

pub const WEBHOOK_ATTEMPT_SK_PREFIX: &str = "D#";

/// A recovery of a subscription's failed deliveries since `since_ms` (its idempotency record,
/// in the delivery log's partition).
pub fn webhook_recover_sk(since_ms: i64) -> String {
    format!("R#{since_ms:013}")
}

/// Per-subscription delivery counters of a handle (one partition: notifications read it whole),
/// in [`WEBHOOK_STATS_SHARDS`] items per subscription: every delivery's outcome adds to one in
/// its transaction, and deliveries to one endpoint run side by side, so one item would be a
/// hot spot of cancelled transactions (issue 58: a drain of 1,000 deliveries to one endpoint
/// met ~1,500 `TransactionConflict`s on it). Shard 0 is the item written before.
pub fn webhook_stats(
    handle: &Handle,
    subscription_id: &SubscriptionId,
    shard: u8,
) -> (String, String) {
    let sk = match shard {
        0 => format!("S#{subscription_id}"),
        n => format!("S#{subscription_id}#{n}"),
    };
    (format!("H#{handle}#WS"), sk)
}

/// How many items a subscription's delivery counters are spread over.
pub const WEBHOOK_STATS_SHARDS: u8 = 8;

pub fn webhook_stats_pk(handle: &Handle) -> String {
    format!("H#{handle}#WS")
}

/// A handle's failed deliveries, newest last in sort order (queried descending).
pub fn webhook_notification(
    handle: &Handle,
    failed_ms: i64,
    subscription_id: &str,
    event_id: &str,
) -> (String, String) {
    (
        webhook_notifications_pk(handle),
        format!("{failed_ms:013}#{subscription_id}#{event_id}"),
    )
}

pub fn webhook_notifications_pk(handle: &Handle) -> String {
    format!("H#{handle}#WN")
}

pub fn chain_session_pk(handle: &Handle, session_id: &str) -> String {
    format!("H#{handle}#X#{session_id}")
}

/// One signal of a chain session, ordered by its time (`at` in unix ms, zero-padded).
pub fn chain_signal_sk(at_ms: i64, signal_id: &str) -> String {
    format!("S#{at_ms:013}#{signal_id}")
}

pub const CHAIN_SIGNAL_SK_PREFIX: &str = "S#";

/// The chain session's signal counter (the per-session limit, checked atomically).
pub const CHAIN_SESSION_COUNT_SK: &str = "N";

pub const CHAIN_RULES_SK: &str = "R";

/// Outbox entries live in a few shards so the sweeper can find them without a scan.
pub const OUTBOX_SHARDS: u32 = 4;

/// Outbox entries the sweeper gave up on (`outbox::dead_letter`), same sort keys, 30-day TTL.
pub const OUTBOX_DEAD_PK: &str = "OUTBOXDEAD";

pub fn outbox(shard: u32, created_ms: i64, event_id: &str) -> (String, String) {
    (
        format!("OUTBOX#{shard}"),
        format!("{created_ms:013}#{event_id}"),
    )
}

/// Analytics counters of one handle × campaign × dimension: one partition, so a date range of a
/// dimension is one `Between` query. `campaign` is a campaign id or the reserved `_none` (ids
/// cannot start with `_`); `dimension` is `total`, `country`, `segment`, ….
pub fn analytics_pk(handle: &Handle, campaign: &str, dimension: &str) -> String {
    format!("H#{handle}#A#{campaign}#{dimension}")
}

/// A counter item's sort key: the UTC day first (range queries), then the dimension's value
/// (anything after the first `#`, since the day has a fixed width).
pub fn analytics_sk(day: &str, value: &str) -> String {
    format!("{day}#{value}")
}

/// The sort key of one stream shard's part of a counter item (`{day}!{shard}#{value}`): each
/// shard's consumer writes its own items, so two shards never write the same item (no
/// transaction conflicts), and reads add the parts up. `sk` is an [`analytics_sk`].
pub fn analytics_shard_sk(sk: &str, shard: &str) -> String {
    match sk.split_once('#') {
        Some((day, value)) => format!("{day}!{shard}#{value}"),
        None => format!("{sk}!{shard}#"),
    }
}

/// The `(day, value)` of a counter item's sort key, plain or a shard's part.
pub fn analytics_sk_parts(sk: &str) -> Option<(&str, &str)> {
    let (head, value) = sk.split_once('#')?;
    let day = head.split_once('!').map_or(head, |(day, _)| day);
    Some((day, value))
}

/// The `Between` bounds covering every sort key that begins with a day of `from..=to`
/// (`{day}#…`: analytics counters with their shards' parts, orphan visits): `!` sorts before
/// `#`, `$` right after it. A shape of keys, not an item: any service may bound its own by it.
pub fn day_range(from_day: &str, to_day: &str) -> (String, String) {
    (format!("{from_day}!"), format!("{to_day}$"))
}

// ---- Commissions (docs/commissions.md). Partner and campaign ids are shape-checked: no `#`.

/// A partner record, beside the handle's links and campaigns.
pub fn partner_sk(partner_id: &PartnerId) -> String {
    format!("PA#{partner_id}")
}

pub const PARTNER_SK_PREFIX: &str = "PA#";

/// Every version of a campaign's commission plan: `{campaign}#{version:010}`, newest last.
pub fn plans_pk(handle: &Handle) -> String {
    format!("H#{handle}#CP")
}

pub fn plan_sk(campaign_id: &CampaignId, version: u64) -> String {
    format!("{campaign_id}#{version:010}")
}

/// The commission ledger of a handle: sk = the time-ordered commission id.
/// A partner's running balance in one currency, one of its parts (`commissions::running`).
pub fn partner_balance(
    handle: &Handle,
    partner: &crate::domain::PartnerId,
    currency: crate::domain::Currency,
    shard: u32,
) -> (String, String) {
    (
        partner_balances_pk(handle),
        format!("{partner}#{}#{shard}", currency.as_str()),
    )
}

/// Every partner's running balances of a handle: one partition, an item per partner, currency
/// and part.
pub fn partner_balances_pk(handle: &Handle) -> String {
    format!("H#{handle}#BAL")
}

/// A partner's running balance of test money (test mode's lines) in one currency, one of its
/// parts: apart from [`partner_balance`], so no real figure ever sums a test line.
pub fn test_partner_balance(
    handle: &Handle,
    partner: &crate::domain::PartnerId,
    currency: crate::domain::Currency,
    shard: u32,
) -> (String, String) {
    (
        format!("H#{handle}#TBAL"),
        format!("{partner}#{}#{shard}", currency.as_str()),
    )
}

/// Every partner's running balances of test money of a handle.
pub fn test_partner_balances_pk(handle: &Handle) -> String {
    format!("H#{handle}#TBAL")
}

/// A handle's test mode switch: one item.
pub fn test_mode(handle: &Handle) -> (String, String) {
    (handle_pk(handle), "TESTMODE".to_owned())
}

/// A campaign's commission amounts of one day and currency, one of its parts.
pub fn campaign_balance(
    handle: &Handle,
    campaign: &crate::domain::CampaignId,
    day: &str,
    currency: crate::domain::Currency,
    shard: u32,
) -> (String, String) {
    (
        campaign_balances_pk(handle, campaign),
        format!("{day}#{}#{shard}", currency.as_str()),
    )
}

/// A campaign's commission amounts by day: one partition per campaign.
pub fn campaign_balances_pk(handle: &Handle, campaign: &crate::domain::CampaignId) -> String {
    format!("H#{handle}#CBAL#{campaign}")
}

/// A partner's earnings through one of its links on one day, in one currency, one of its parts
/// (issue 61: the portal's top links by earnings).
pub fn link_earnings(
    handle: &Handle,
    partner: &crate::domain::PartnerId,
    day: &str,
    slug: &str,
    currency: crate::domain::Currency,
    shard: u32,
) -> (String, String) {
    (
        link_earnings_pk(handle, partner),
        format!("{day}#{slug}#{}#{shard}", currency.as_str()),
    )
}

/// A partner's earnings per link by day: one partition per partner.
pub fn link_earnings_pk(handle: &Handle, partner: &crate::domain::PartnerId) -> String {
    format!("H#{handle}#LBAL#{partner}")
}

/// An index of a handle's ledger (`commissions::index`): `by` is `P` (partner), `C`
/// (campaign), `S` (status) or `L` (live lines: pending or approved, not yet paid). Each entry
/// is a pointer whose sort key ends with the line's id.
pub fn commission_index_pk(handle: &Handle, by: &str) -> String {
    format!("H#{handle}#COMX#{by}")
}

/// A handle's customers (`customers`): one item per customer id.
pub fn customers_pk(handle: &Handle) -> String {
    format!("H#{handle}#CUS")
}

/// An index of a handle's customers: `by` is `P` (partner), `C` (campaign) or `T` (binding
/// time); sort keys `{value}#{boundAtMs}#{customerId}` (`T`: `{boundAtMs}#{customerId}`).
pub fn customer_index_pk(handle: &Handle, by: &str) -> String {
    format!("H#{handle}#CUSX#{by}")
}

/// A handle's coupon codes (`customers::coupons`): sort key the code's lower-case form.
pub fn coupons_pk(handle: &Handle) -> String {
    format!("H#{handle}#CPN")
}

/// A partner's coupon codes (a copy of each record, by lower-case code).
pub fn partner_coupons_pk(handle: &Handle, partner: &PartnerId) -> String {
    format!("H#{handle}#CPNP#{partner}")
}

/// A rotated code's lock (`{code in lower case}`): a code is rotated once (issue 63).
pub fn coupon_rotations_pk(handle: &Handle) -> String {
    format!("H#{handle}#CPNR")
}

/// A coupon code's sales (issue 63): `{received ms, 13 digits}#{conversionId}` → how the sale
/// used the code; the leak report reads the newest. Owned by `coupon_leaks`.
pub fn coupon_uses_pk(handle: &Handle, code_key: &str) -> String {
    format!("H#{handle}#CPNU#{code_key}")
}

/// The leak alerts raised (`{code}#{30-day window}`): one `coupon.leak_suspected` per code per
/// window. Owned by `coupon_leaks`.
pub fn coupon_leak_alerts_pk(handle: &Handle) -> String {
    format!("H#{handle}#CPNL")
}

/// Each code's last leak report (`{code in lower case}` → the report and when it was rated),
/// kept by the events worker whenever it rates the code; the ranking of the handle's codes
/// reads these, never the sales. Owned by `coupon_leaks`.
pub fn coupon_leak_scores_pk(handle: &Handle) -> String {
    format!("H#{handle}#CPNS")
}

pub fn commissions_pk(handle: &Handle) -> String {
    format!("H#{handle}#COM")
}

/// Commissions waiting for their hold to end (the approval sweep's index, across handles): sk
/// `{availableAtMs:013}#{handle}#{commissionId}`, deleted with the approval.
pub const COMMISSIONS_DUE_PK: &str = "COMDUE";

pub fn commission_due_sk(available_ms: i64, handle: &str, commission_id: &str) -> String {
    format!("{available_ms:013}#{handle}#{commission_id}")
}

/// A campaign's cap counters: `D#{yyyy-mm-dd}` (conversions) and `M#{yyyy-mm}` (minor units).
pub fn commission_caps_pk(handle: &Handle, campaign_id: &CampaignId) -> String {
    format!("H#{handle}#CAP#{campaign_id}")
}

/// A partner's month tally (tiers and milestone bonuses, issue 47): one item per calendar month
/// (`yyyy-mm`, UTC), version-checked by every line that moves it.
pub fn partner_month_tally(handle: &Handle, partner: &PartnerId, month: &str) -> (String, String) {
    (format!("H#{handle}#TAL#{partner}"), format!("M#{month}"))
}

/// Exchange-rate snapshots of a handle: sk `{asOf rfc3339 (UTC, ms)}#{base}`.
pub fn fx_pk(handle: &Handle) -> String {
    format!("H#{handle}#FX")
}

/// Payouts of a handle: sk = the payout id.
pub fn payouts_pk(handle: &Handle) -> String {
    format!("H#{handle}#PAY")
}

/// One partner's payouts (pointers: sk = the payout id, no body), written in the payout's own
/// transaction, so a partner's page is read from its own entries, not filtered out of the
/// handle's.
pub fn payouts_of_partner_pk(handle: &Handle, partner_id: &PartnerId) -> String {
    format!("H#{handle}#PAYP#{partner_id}")
}

/// The handle's pending payouts (pointers: sk = the payout id, no body), put with the payout
/// and deleted in the transaction that settles it, so a batch finds what is pending without
/// reading every payout ever made.
pub fn payouts_pending_pk(handle: &Handle) -> String {
    format!("H#{handle}#PAYPEND")
}

/// A payout run, addressed by its idempotency key (put-if-absent).
pub fn payout_run(handle: &Handle, key_hash: &str) -> (String, String) {
    (format!("H#{handle}#PAYRUN"), key_hash.to_owned())
}

/// A payout's lines, in its order: one item per page of ids (`{page:06}`), so a payout of
/// 10^5 lines never meets the 400 KB item limit.
pub fn payout_lines_pk(handle: &Handle, payout_id: &crate::domain::PayoutId) -> String {
    format!("H#{handle}#PAYL#{payout_id}")
}

/// A payout run's claims staged page by page before its payout is made (`payouts::stage`):
/// sk `p#{where the page began in the live index}`, expiring.
pub fn payout_stage_pk(handle: &Handle, payout_id: &crate::domain::PayoutId) -> String {
    format!("H#{handle}#PAYSTG#{payout_id}")
}

/// Payout work left to the sweeper (issue 43: a large run or status change), across handles:
/// sk `{handle}#run#{keyHash}` or `{handle}#settle#{payoutId}`, deleted when done.
pub const PAYOUT_JOBS_PK: &str = "PAYJOB";

pub fn payout_job_sk(handle: &Handle, kind: &str, id: &str) -> String {
    format!("{handle}#{kind}#{id}")
}

/// Payouts being sent through a payment provider, across handles (one partition, which each
/// sweep reads): sk `{handle}#{payoutId}`. Owned by `payouts::dispatch`.
pub const PAYOUT_SENDS_PK: &str = "PAYSEND";

pub fn payout_send_sk(handle: &Handle, payout_id: &crate::domain::PayoutId) -> String {
    format!("{handle}#{payout_id}")
}

/// A payout whose lines the sweeper finished settling: its status change, repeated, answers
/// at once instead of reading every line again.
pub fn payout_settled(handle: &Handle, payout_id: &crate::domain::PayoutId) -> (String, String) {
    (format!("H#{handle}#PAYSET"), payout_id.to_string())
}

/// A partner's payout chain head: its last sequence and statement hash (version-checked).
pub fn payout_head(handle: &Handle, partner_id: &PartnerId) -> (String, String) {
    (format!("H#{handle}#PAYHEAD"), partner_id.to_string())
}

/// A partner's chain head of test payouts (test mode's): a chain of their own, so the real
/// statements' chain never holds a test payout.
pub fn test_payout_head(handle: &Handle, partner_id: &PartnerId) -> (String, String) {
    (format!("H#{handle}#TPAYHEAD"), partner_id.to_string())
}

/// A checkout ref (issue 45): `H#{handle}#REF` / `{ref}`, holding its ctx until it expires.
pub fn checkout_ref(handle: &Handle, reference: &str) -> (String, String) {
    (format!("H#{handle}#REF"), reference.to_owned())
}

/// A connector's settings: `H#{handle}` / `INT#{provider}`.
pub fn integration(handle: &Handle, provider: &str) -> (String, String) {
    (handle_pk(handle), format!("INT#{provider}"))
}

/// A provider event received: the log, newest last (`{received ms hex}#{eventId}`).
pub fn integration_log_pk(handle: &Handle, provider: &str) -> String {
    format!("H#{handle}#INTLOG#{provider}")
}

/// A provider event's claim by its id (exactly once per handle): `H#{handle}#INTEV#{provider}`.
pub fn integration_event(handle: &Handle, provider: &str, event_id: &str) -> (String, String) {
    (format!("H#{handle}#INTEV#{provider}"), event_id.to_owned())
}

/// A provider payment (charge, payment intent, invoice, order) and the conversion it made.
pub fn integration_payment(handle: &Handle, provider: &str, payment: &str) -> (String, String) {
    (format!("H#{handle}#INTPAY#{provider}"), payment.to_owned())
}

/// Events waiting for their payment's sale: `{payment}#{eventId}`.
pub fn integration_parked_pk(handle: &Handle, provider: &str) -> String {
    format!("H#{handle}#INTPARK#{provider}")
}

/// A provider's refunds by their own id (issue 57): sort key `{order}#{refund}`, the amount.
pub fn integration_refunds_pk(handle: &Handle, provider: &str) -> String {
    format!("H#{handle}#INTREF#{provider}")
}

/// A partner's risk snapshot (issue 46): the score the accrual holds lines above.
pub fn partner_risk(handle: &Handle, partner_id: &PartnerId) -> (String, String) {
    (format!("H#{handle}#RISK"), partner_sk(partner_id))
}

/// Managers' dismissals of partner signals (issue 83, `risk::dismissals`): sk
/// `{partnerId}#{signal}`.
pub fn risk_dismissals_pk(handle: &Handle) -> String {
    format!("H#{handle}#RISKDIS")
}

/// A partner's plan change notices, newest last (issue 47).
pub fn plan_notices_pk(handle: &Handle, partner_id: &PartnerId) -> String {
    format!("H#{handle}#NT#{partner_id}")
}

/// A partner's payout method (issue 46): `H#{handle}` / `PM#{partnerId}`; its details sealed.
pub fn payout_method(handle: &Handle, partner_id: &PartnerId) -> (String, String) {
    (handle_pk(handle), format!("PM#{partner_id}"))
}

/// A partner's Stripe Express account while its onboarding runs (`payout_methods::
/// stripe_connect`): the account Stripe made for it, before it becomes its method.
pub fn payout_method_stripe(handle: &Handle, partner_id: &PartnerId) -> (String, String) {
    (handle_pk(handle), format!("PMSTRIPE#{partner_id}"))
}

/// A partner's tax profile (issue 61, `payout_methods::tax`), sealed: sk the partner id, so the
/// year-end export reads the handle's in one query.
pub fn tax_profile(handle: &Handle, partner_id: &PartnerId) -> (String, String) {
    (tax_profiles_pk(handle), partner_id.as_str().to_owned())
}

pub fn tax_profiles_pk(handle: &Handle) -> String {
    format!("H#{handle}#TAX")
}

/// A partner's acceptance of self-billing (`programs::self_billing`): sk the partner id.
pub fn self_billing_acceptance(handle: &Handle, partner_id: &PartnerId) -> (String, String) {
    (format!("H#{handle}#SBA"), partner_id.as_str().to_owned())
}

/// A paid payout's self-billing invoice (`payouts::invoice`), and its credit note: sk the
/// payout id (`#credit` after it for the note). A partition of their own: `H#{handle}#INV` is
/// the invitations', which are listed by querying it whole.
pub fn invoice(handle: &Handle, payout_id: &crate::domain::PayoutId) -> (String, String) {
    (format!("H#{handle}#BILL"), payout_id.as_str().to_owned())
}

/// A payout's self-billing credit note (`payouts::credit_note`), beside its invoice.
pub fn credit_note(handle: &Handle, payout_id: &crate::domain::PayoutId) -> (String, String) {
    (format!("H#{handle}#BILL"), format!("{payout_id}#credit"))
}

/// A partner's credit-note counter (`payouts::credit_note`): its own gap-free series, moved
/// only in the transaction that writes the note holding the next number.
pub fn credit_note_counter(handle: &Handle, partner_id: &PartnerId) -> (String, String) {
    (format!("H#{handle}#CRNN"), partner_id.as_str().to_owned())
}

/// A partner's invoice counter (`payouts::invoice`): the last number given, moved only in the
/// transaction that writes the invoice holding the next one, so numbers never skip or repeat.
pub fn invoice_counter(handle: &Handle, partner_id: &PartnerId) -> (String, String) {
    (format!("H#{handle}#INVN"), partner_id.as_str().to_owned())
}

/// A campaign's clicks from paid ads (issue 83, `analytics::paid`): sk the click id.
pub fn paid_clicks_pk(handle: &Handle, campaign: &CampaignId) -> String {
    format!("H#{handle}#PAIDCLK#{campaign}")
}

/// Keyed digests of payout accounts and tax ids (issue 83, `payout_methods::digests`): sk
/// `{digest}#{partnerId}`, so the partners behind one account are ONE query.
pub fn payout_digests_pk(handle: &Handle) -> String {
    format!("H#{handle}#PAYDG")
}

/// The changes of payout methods, audited: sk `{partnerId}#{changed ms:013}#{suffix}`.
pub fn payout_method_audit_pk(handle: &Handle) -> String {
    format!("H#{handle}#PMAUDIT")
}

/// The handle's payout settings (the debtor of SEPA files): `H#{handle}` / `P#payouts`.
pub const PAYOUT_SETTINGS_SK: &str = "P#payouts";

/// A payout provider's account of the handle (`stripe`, `paypal`), its credentials sealed:
/// `H#{handle}` / `P#provider#{name}`.
pub fn payout_provider(handle: &Handle, name: &str) -> (String, String) {
    (handle_pk(handle), format!("P#provider#{name}"))
}

/// Payout batches of a handle: sk = the batch id.
pub fn batches_pk(handle: &Handle) -> String {
    format!("H#{handle}#BAT")
}

/// A batch creation, addressed by its idempotency key's hash (put-if-absent).
pub fn batch_key(handle: &Handle, key_hash: &str) -> (String, String) {
    (format!("H#{handle}#BATKEY"), key_hash.to_owned())
}

/// A payout's claim by a live batch (put-if-absent; deleted when the batch is canceled).
pub fn batch_claim(handle: &Handle, payout_id: &crate::domain::PayoutId) -> (String, String) {
    (format!("H#{handle}#BATCLAIM"), payout_id.to_string())
}

/// Mail (issue 59), owned by `mail`: a handle's mail partition (`H#{handle}#M`) holds each
/// message (sk `M#{mailId}`: the id derives from the event, so a repeat finds it) and its log
/// entry, newest first (sk `T#{createdMs:013}#{mailId}`). Mail of no handle (a sign-in link of
/// no handle) has a partition of its own per message.
pub fn mail(handle: Option<&Handle>, mail_id: &str) -> (String, String) {
    match handle {
        Some(h) => (mail_pk(h), format!("M#{mail_id}")),
        None => (format!("MAIL#{mail_id}"), "M".into()),
    }
}

pub fn mail_pk(handle: &Handle) -> String {
    format!("H#{handle}#M")
}

pub fn mail_log_sk(created_ms: i64, mail_id: &str) -> String {
    format!("T#{created_ms:013}#{mail_id}")
}

pub const MAIL_LOG_PREFIX: &str = "T#";

/// Mail whose send is not finished (sk `{createdMs:013}#{mailId}`): what the sweeper re-sends to
/// the mail queue when the queue never confirmed taking it.
pub const MAIL_PENDING_PK: &str = "MAILPENDING";

pub fn mail_pending_sk(created_ms: i64, mail_id: &str) -> String {
    format!("{created_ms:013}#{mail_id}")
}

/// Mail that ended `failed` (sk `{finishedMs:013}#{mailId}`, kept 30 days): what `tenx status`
/// counts beside the queues, across handles.
pub const MAIL_FAILED_PK: &str = "MAILFAILED";

/// A suppressed address of a handle (sk: the address's comparison key), or of mail of no handle.
pub fn mail_suppression(handle: Option<&Handle>, email_key: &str) -> (String, String) {
    (mail_suppressions_pk(handle), email_key.to_owned())
}

pub fn mail_suppressions_pk(handle: Option<&Handle>) -> String {
    match handle {
        Some(h) => format!("H#{h}#MS"),
        None => "MAILSUP".into(),
    }
}

/// A recipient's mail preferences with a handle (sk: the address's comparison key).
pub fn mail_preferences(handle: Option<&Handle>, email_key: &str) -> (String, String) {
    let pk = match handle {
        Some(h) => format!("H#{h}#MP"),
        None => "MAILPREF".into(),
    };
    (pk, email_key.to_owned())
}

/// Mail counted per hour (`hour`: unix hours) for the limits: one item per handle (sk `h`) or
/// recipient (sk `r#{emailKey}`) and hour.
pub fn mail_rate(handle: Option<&Handle>, hour: i64, who: Option<&str>) -> (String, String) {
    let h = handle.map_or("_", Handle::as_str);
    let sk = match who {
        Some(key) => format!("r#{key}"),
        None => "h".into(),
    };
    (format!("MAILRATE#{h}#{hour}"), sk)
}

/// Custom domains (issue 64), owned by `domains`: the claim of a domain by one handle
/// (`DOMAINS` / the domain, put-if-absent: the one place a domain's owner is decided, and the
/// redirect's lookup by `Host`), and the same record in its handle's partition (`DOM#{domain}`).
pub const CUSTOM_DOMAINS_PK: &str = "DOMAINS";

pub fn custom_domain_claim(domain: &str) -> (String, String) {
    (CUSTOM_DOMAINS_PK.to_owned(), domain.to_owned())
}

pub fn custom_domain(handle: &Handle, domain: &str) -> (String, String) {
    (
        handle_pk(handle),
        format!("{CUSTOM_DOMAIN_SK_PREFIX}{domain}"),
    )
}

pub const CUSTOM_DOMAIN_SK_PREFIX: &str = "DOM#";

/// A given-up domain's certificate and distribution still to delete on AWS (owned by
/// `domains`: written with the removal, deleted by `domains::edge` once both are gone):
/// `DOMAINGONE` / `{domain}#{reference}` (one per claim attempt, so a domain claimed and given
/// up again never overwrites the last one's).
pub const DOMAIN_TEARDOWN_PK: &str = "DOMAINGONE";

pub fn domain_teardown(domain: &str, reference: &str) -> (String, String) {
    (
        DOMAIN_TEARDOWN_PK.to_owned(),
        format!("{domain}#{reference}"),
    )
}

/// A handle's mail branding (name, logo, colour, reply-to), beside its other settings.
pub const MAIL_BRANDING_SK: &str = "P#branding";

/// A day's commission digests (owned by `mail::digest`): per partner one counter item (sk
/// `D#{handle}#{partnerId}`: `n` and an amount per currency) and one marker per commission
/// event counted (sk `S#{eventId}`), so a redelivered event is counted once.
/// The handles with events in the week starting `monday` (owned by `weekly`): sk the handle,
/// `done` once its `weekly_summary` went out (or had nothing to say).
pub fn weekly_pk(monday: &str) -> String {
    format!("WEEKLY#{monday}")
}

pub fn mail_digest_pk(day: &str) -> String {
    format!("MAILDIGEST#{day}")
}

pub fn mail_digest_sk(handle: &Handle, partner: &PartnerId) -> String {
    format!("D#{handle}#{partner}")
}

pub const MAIL_DIGEST_PREFIX: &str = "D#";

pub fn mail_digest_seen_sk(event_id: &str) -> String {
    format!("S#{event_id}")
}

/// A partner's message thread (owned by `messages`): sk `{at ms:013}#{messageId}`, oldest first.
pub fn messages_pk(handle: &Handle, partner: &PartnerId) -> String {
    format!("H#{handle}#MSG#{partner}")
}

pub fn message_sk(at_ms: i64, message_id: &str) -> String {
    format!("{at_ms:013}#{message_id}")
}

/// A handle's threads (owned by `messages`): per partner its last message (sk `L#{partnerId}`),
/// its counters of messages sent to each side (sk `U#{partnerId}`) and each side's read marker
/// (sk `R#{partnerId}#{side}`).
pub fn threads_pk(handle: &Handle) -> String {
    format!("H#{handle}#MTH")
}

pub fn thread_last_sk(partner: &PartnerId) -> String {
    format!("L#{partner}")
}

pub fn thread_counts_sk(partner: &PartnerId) -> String {
    format!("U#{partner}")
}

pub fn thread_read_sk(partner: &PartnerId, side: &str) -> String {
    format!("R#{partner}#{side}")
}

/// A handle's partner groups (owned by `messages::groups`): sk the group id.
pub fn partner_groups_pk(handle: &Handle) -> String {
    format!("H#{handle}#PGRP")
}

/// A handle's broadcasts (owned by `messages::broadcasts`): sk the broadcast id.
pub fn broadcasts_pk(handle: &Handle) -> String {
    format!("H#{handle}#BRD")
}

/// Broadcasts not yet sent to every recipient, across handles (sk `{handle}#{broadcastId}`): the
/// sweeper carries them on.
pub const BROADCASTS_PENDING_PK: &str = "BRDPENDING";
/// A handle's claims (issue 63, `claims`): sort key the claim id (time-ordered).
pub fn claims_pk(handle: &Handle) -> String {
    format!("H#{handle}#CLM")
}

/// A partner's claims (a copy of each record, by claim id).
pub fn partner_claims_pk(handle: &Handle, partner: &PartnerId) -> String {
    format!("H#{handle}#CLMP#{partner}")
}

/// The one open claim a partner may hold on a sale: sk `{partner}#{sale}`, put-if-absent with
/// the claim, deleted with its decision.
pub fn open_claims_pk(handle: &Handle) -> String {
    format!("H#{handle}#CLMO")
}

/// How many claims a partner opened on a day: sk `{yyyy-mm-dd}` (a capped counter).
pub fn claim_days_pk(handle: &Handle, partner: &PartnerId) -> String {
    format!("H#{handle}#CLMN#{partner}")
}

/// Open claims by deadline, across handles (the overdue sweep's index): sk
/// `{deadlineMs:013}#{handle}#{claimId}`, deleted with the decision.
pub const CLAIMS_DUE_PK: &str = "CLMDUE";
// OpenID Connect (issue 60, `people::oidc`): a sign-in under way, by the SHA-256 of its `state`
// (10 minutes, spent once), and a provider's person (`iss` + `sub`, digested) → their user; the
// user's partition lists their identities (sk `O#{digest}`) for the account screen.

/// A sign-in with a provider under way, by its state's SHA-256.
pub fn oidc_state(state_hash_hex: &str) -> (String, String) {
    (format!("OIS#{state_hash_hex}"), "S".into())
}

/// A provider's person (`iss` and `sub`, digested): the user they sign in as.
pub fn oidc_identity(identity_digest: &str) -> (String, String) {
    (format!("OID#{identity_digest}"), "I".into())
}

/// The listing entry of an identity in its user's partition.
pub fn user_identity_sk(identity_digest: &str) -> String {
    format!("O#{identity_digest}")
}

pub const USER_IDENTITY_SK_PREFIX: &str = "O#";

// Imports (issue 64, `imports`): the job (status, counts, cursor), its staged rows in chunks,
// the handle's one running import, its daily count, each written row's marker, and an
// imported link's history (tags, the old tool's click total: never a live counter).

/// An import job: `H#{handle}#IMP` / `{importId}`.
pub fn import_job(handle: &Handle, import_id: &str) -> (String, String) {
    (format!("H#{handle}#IMP"), import_id.to_owned())
}

/// A staged chunk of an import's rows: `H#{handle}#IMPC#{importId}` / `{chunk:06}`.
pub fn import_chunk(handle: &Handle, import_id: &str, chunk: u64) -> (String, String) {
    (
        format!("H#{handle}#IMPC#{import_id}"),
        format!("{chunk:06}"),
    )
}

/// A piece of the pages a pull by API key has read: `H#{handle}#IMPP#{importId}` /
/// `{piece:06}` (the tool's items, kept until the pull is staged).
pub fn import_pull_piece(handle: &Handle, import_id: &str, piece: u64) -> (String, String) {
    (
        format!("H#{handle}#IMPP#{import_id}"),
        format!("{piece:06}"),
    )
}

/// The handle's running import (one at a time): put if absent when one starts.
pub fn import_running(handle: &Handle) -> (String, String) {
    (format!("H#{handle}#IMPRUN"), "R".into())
}

/// How many imports a handle started on a UTC day (a capped counter).
pub fn import_day(handle: &Handle, day: &str) -> (String, String) {
    (format!("H#{handle}#IMPDAY"), day.to_owned())
}

/// The outcome of one written row, in the row's own transaction: a resumed chunk reads it.
pub fn import_row(handle: &Handle, import_id: &str, row: u64) -> (String, String) {
    (format!("H#{handle}#IMPR#{import_id}"), format!("{row:07}"))
}

/// A manager's column map of a tool's CSV, by the tool's name as compared loosely.
pub fn import_column_map(handle: &Handle, tool_key: &str) -> (String, String) {
    (format!("H#{handle}#IMPMAP"), tool_key.to_owned())
}

/// An imported link's history (source, tags, the old tool's click total).
pub fn imported_link(handle: &Handle, slug: &Slug) -> (String, String) {
    (format!("H#{handle}#IMPL"), slug.as_str().to_owned())
}

/// An imported slug the native rule refuses (`Spring_Sale`) → the link's native slug: the
/// links service owns it; the redirect reads it when a path is not a native slug.
pub fn link_alias(handle: &Handle, alias: &str) -> (String, String) {
    (format!("H#{handle}#LA"), alias.to_owned())
}

/// A source's own id of an imported record (a Rewardful commission): put if absent with the
/// record, so a re-run of another import of the same export writes it once.
pub fn import_external(handle: &Handle, source: &str, external_id: &str) -> (String, String) {
    (
        format!("H#{handle}#IMPX"),
        format!("{source}#{external_id}"),
    )
}

// Passkeys (issue 60, `people::passkeys`): a credential by the SHA-256 of its id (the
// authentication's one read), its copy in its user's partition (the account screen's list), the
// user's WebAuthn user handle, a ceremony under way by its challenge (5 minutes, spent once), and
// a handle's sign-in policy.

/// A passkey, by the SHA-256 (hex) of its credential id.
pub fn passkey(credential_digest: &str) -> (String, String) {
    (format!("PKC#{credential_digest}"), "C".into())
}

/// A passkey's copy in its user's partition.
pub fn user_passkey_sk(passkey_id: &str) -> String {
    format!("PK#{passkey_id}")
}

pub const USER_PASSKEY_SK_PREFIX: &str = "PK#";

/// The user's WebAuthn user handle (64 random bytes, made at their first passkey).
pub const USER_WEBAUTHN_HANDLE_SK: &str = "WAH";

/// A registration or authentication ceremony under way, by its challenge (hex).
pub fn passkey_ceremony(challenge_hex: &str) -> (String, String) {
    (format!("PKX#{challenge_hex}"), "X".into())
}

/// A handle's sign-in policy (`requirePasskeyForAdmins`), in the handle's partition.
pub const SIGN_IN_POLICY_SK: &str = "P#sign-in";
