//! `tenx ledger seed` (hidden): a large ledger, fast, for the scaling benchmark of issue 43
//! (`scripts/bench.sh ledger`). Each line is the one the ledger's sink writes for a conversion
//! (`ledger::accrue`): a `conversion` line of the campaign's partner, its amount computed by the
//! plan's own arithmetic (`plans::earn`), its conversion's signed receipt, and
//! `Commission::create`'s writes (the line put-if-absent, its index entries, its running balance
//! adds), plus its due entry while pending. Only the `commission.created` outbox entry is left
//! out (no webhooks for seeded lines), and no cap counter is taken (give the plan no caps).
//!
//! An approved line is stored as the hold's end leaves it (`ledger::due::approve_if_due`): status
//! `approved`, version 1, no due entry, its amount in `approved`. Lines are spread over `--days`
//! days, ids time-ordered like real ones: the approved lines before the hold (their
//! `availableAt` past), the pending ones within it (theirs to come, so the approval sweep leaves
//! them). The plan applied is the one in force now (a benchmark's lines predate it; nothing read
//! at query time depends on that).
//!
//! Many lines go in one transaction (at most `MAX_TRANSACT_OPS` operations, no item twice: the
//! balance adds that meet on one item are summed), several transactions in flight (the embedded
//! store commits them together). `tenx ledger check` afterwards must find no drift.

use std::collections::HashMap;
use std::time::Instant;

use anyhow::Context;
use tenx_shared::domain::proof::{jcs, jws::RECEIPT_TYP};
use tenx_shared::domain::risk::Risk;
use tenx_shared::domain::{
    CampaignId, ClickId, CommissionId, ConversionId, Handle, PartnerId, SubIds,
};
use tenx_shared::kernel::state::AppState;
use tenx_shared::ledger::model::{Commission, Kind, Status};
use tenx_shared::plans::earn::{self, Facts};
use tenx_shared::plans::model::Plan;
use tenx_shared::platform::config::Secrets;
use tenx_shared::platform::store::{MAX_TRANSACT_OPS, StoreError, WriteOp};
use tokio::task::JoinSet;

use super::Target;

const DAY_MS: i64 = 86_400_000;
const HOUR_MS: i64 = 3_600_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum SeedStatus {
    /// Every line approved (its hold over).
    Approved,
    /// Every line pending (within its hold).
    Pending,
    /// `--pending-percent` of the lines pending, the rest approved.
    Mixed,
}

#[derive(clap::Args)]
pub(crate) struct SeedArgs {
    #[command(flatten)]
    target: Target,
    /// The partner whose lines these are (it must exist).
    #[arg(long)]
    partner: String,
    /// The partner's campaign, with a commission plan in force.
    #[arg(long)]
    campaign: String,
    /// How many lines.
    #[arg(long)]
    lines: u64,
    #[arg(long, value_enum, default_value = "approved")]
    status: SeedStatus,
    /// With `--status mixed`: the share of pending lines.
    #[arg(long, default_value_t = 10)]
    pending_percent: u8,
    /// The approved lines are spread over this many days before the hold; the pending ones
    /// over the hold.
    #[arg(long, default_value_t = 30)]
    days: u32,
    /// Transactions in flight at once.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Also write each line's conversion record (what a backtest replays, issue 47).
    #[arg(long)]
    with_conversions: bool,
}

/// What every line of the run shares.
struct Run {
    handle: Handle,
    partner: PartnerId,
    campaign: CampaignId,
    plan: Plan,
    /// Distinguishes this run's ids from another's (the same partner seeded twice).
    tag: i64,
    with_conversions: bool,
}

pub(crate) async fn run(args: SeedArgs) -> anyhow::Result<()> {
    let needed = Secrets {
        signing: true,
        ..Secrets::NONE
    };
    let (state, handle) = args.target.open_with(needed).await?;
    let partner = PartnerId::parse(&args.partner)
        .map_err(|e| anyhow::anyhow!("--partner {}: {e}", args.partner))?;
    let campaign = CampaignId::parse(&args.campaign)
        .map_err(|e| anyhow::anyhow!("--campaign {}: {e}", args.campaign))?;
    let store = state.store.as_ref();
    tenx_shared::partners::get(store, &handle, &partner)
        .await?
        .with_context(|| format!("partner {partner} does not exist in {handle}"))?;
    let c = tenx_shared::campaigns::get(store, &handle, &campaign)
        .await?
        .with_context(|| format!("campaign {campaign} does not exist in {handle}"))?;
    anyhow::ensure!(
        c.partner_id.as_ref() == Some(&partner),
        "campaign {campaign} is not partner {partner}'s"
    );
    let now = tenx_shared::platform::time::now_millis();
    let plan = tenx_shared::plans::in_force_at(state.store.as_ref(), &handle, &campaign, now)
        .await?
        .with_context(|| format!("campaign {campaign} has no commission plan"))?;
    let pending = match args.status {
        SeedStatus::Approved => 0,
        SeedStatus::Pending => args.lines,
        SeedStatus::Mixed => args.lines * u64::from(args.pending_percent.min(100)) / 100,
    };
    let approved = args.lines - pending;
    let hold = i64::from(plan.hold_days) * DAY_MS;
    anyhow::ensure!(
        pending == 0 || hold > 2 * HOUR_MS,
        "pending lines need a plan with a hold (holdDays > 0)"
    );
    let run = Run {
        handle,
        partner,
        campaign,
        plan,
        tag: now,
        with_conversions: args.with_conversions,
    };
    // Approved: created in [now - hold - days, now - hold - 1 h); pending: in (now - hold + 1 h,
    // now - 1 min]. Evenly spaced, so the ids are time-ordered in the order written.
    let span = i64::from(args.days.max(1)) * DAY_MS;
    let approved_at = slots(now - hold - span, now - hold - HOUR_MS, approved);
    let pending_at = slots(now - hold + HOUR_MS, now - 60_000, pending);
    let started = Instant::now();
    let mut writer = Writer::new(&state, args.concurrency.max(1));
    let times = approved_at
        .map(|t| (t, Status::Approved))
        .chain(pending_at.map(|t| (t, Status::Pending)));
    for (i, (at, status)) in times.enumerate() {
        let ops = line_ops(&state, &run, i as u64, at, status)?;
        writer.push(ops).await?;
        if (i + 1) % 100_000 == 0 {
            eprintln!(
                "  {} lines, {:.0} lines/s",
                i + 1,
                (i + 1) as f64 / started.elapsed().as_secs_f64()
            );
        }
    }
    let transactions = writer.finish().await?;
    let secs = started.elapsed().as_secs_f64();
    println!(
        "{}: {} lines of {} ({approved} approved, {pending} pending) in {transactions} \
         transactions, {secs:.1} s ({:.0} lines/s)",
        run.handle,
        args.lines,
        run.partner,
        args.lines as f64 / secs.max(1e-9)
    );
    Ok(())
}

/// `n` times evenly spaced in `[from, to)` (all `from` when the range is empty).
fn slots(from: i64, to: i64, n: u64) -> impl Iterator<Item = i64> {
    let width = i128::from((to - from).max(0));
    // The offset is below `width`, itself an i64: the conversion never fails.
    (0..n).map(move |i| {
        let offset = width * i128::from(i) / i128::from(n.max(1));
        from + i64::try_from(offset).unwrap_or(0)
    })
}

/// Line `i` of the run, created at `at`, and the writes that store it.
fn line_ops(
    state: &AppState,
    run: &Run,
    i: u64,
    at: i64,
    status: Status,
) -> anyhow::Result<Vec<WriteOp>> {
    let seed = format!("bench-seed:{}:{}:{}:{i}", run.tag, run.handle, run.partner);
    let id = CommissionId::derived(at, &seed);
    let conversion_id = ConversionId::parse(&format!("cnv_{}", id.hex()))?;
    // The click a few minutes before its conversion.
    let click_ms = at - 60_000 - i64::try_from(i % 600).unwrap_or(0) * 1000;
    let click_id = ClickId::parse(&format!(
        "clk_{}",
        CommissionId::derived(click_ms, &format!("click:{seed}")).hex()
    ))?;
    // 10.00 … 259.99 in the plan's currency.
    let minor_value = 1000 + (i * 7919) % 25_000;
    let raw = format!("{}.{:02}", minor_value / 100, minor_value % 100);
    let value =
        serde_json::from_value(serde_json::Value::String(raw)).context("a decimal value")?;
    let received_at = tenx_shared::domain::time::Timestamp::from_millis(at);
    let risk = Risk::default();
    let facts = Facts {
        event_type: "purchase",
        value: Some(value),
        currency: Some(run.plan.currency),
        received_ms: at,
        click_ms,
        verified: true,
        risk: &risk,
        customer: None,
        attribution: None,
        metadata: None,
        month: tenx_shared::plans::tally::Standing::default(),
    };
    let earned = earn::earn(&run.plan, &facts, None);
    let receipt = jcs::canonical(&serde_json::json!({
        "conversionId": conversion_id,
        "clickId": click_id,
        "handle": run.handle.as_str(),
        "campaignId": run.campaign.as_str(),
        "value": value.normalize().to_string(),
        "currency": run.plan.currency.as_str(),
        "receivedAt": received_at,
    }));
    let receipt = state.signing()?.sign(RECEIPT_TYP, receipt.as_bytes());
    let mut line = Commission::blank(
        id,
        Kind::Conversion,
        run.partner.clone(),
        earned.minor,
        run.plan.currency,
        status,
    );
    line.conversion_id = Some(conversion_id);
    line.click_id = Some(click_id);
    line.event_type = Some("purchase".to_owned());
    line.sub_ids = SubIds::default();
    line.campaign_id = Some(run.campaign.clone());
    line.value = Some(value);
    line.value_currency = Some(run.plan.currency);
    line.reasons = earned.reasons;
    line.plan_version = Some(run.plan.version);
    line.fx_rate = earned.fx_rate;
    line.available_at = tenx_shared::domain::time::Timestamp::from_millis(
        at + i64::from(run.plan.hold_days) * DAY_MS,
    );
    // The sink writes the line a moment after the conversion; the sweep approves it later.
    line.created_at = tenx_shared::domain::time::Timestamp::from_millis(at + 150);
    line.receipt = Some(receipt);
    if status == Status::Approved {
        line.version = 1;
    }
    let mut ops = line.create(&run.handle)?;
    ops.extend(tenx_shared::ledger::due::entry(&run.handle, &line));
    if run.with_conversions {
        ops.push(conversion_op(run, &line, i)?);
    }
    Ok(ops)
}

/// The conversion record behind `line`, as the conversion route stores it.
fn conversion_op(run: &Run, line: &Commission, i: u64) -> anyhow::Result<WriteOp> {
    use tenx_shared::domain::{Attribution, IdempotencyKey};
    let id = line
        .conversion_id
        .clone()
        .context("a seeded line has its conversion")?;
    let data = tenx_shared::kernel::events::ConversionData {
        conversion_id: id.clone(),
        idempotency_key: IdempotencyKey::parse(&format!("seed-{}-{i}", run.tag))?,
        click_id: line
            .click_id
            .clone()
            .context("a seeded line has its click")?,
        campaign_id: Some(run.campaign.clone()),
        slug: "seeded".to_owned(),
        event_type: "purchase".to_owned(),
        value: line.value,
        currency: line.value_currency,
        test: false,
        metadata: None,
        attribution: Attribution::unknown(),
        sub_ids: SubIds::default(),
        received_at: tenx_shared::domain::time::Timestamp::from_millis(id.unix_millis()),
        verified: true,
        risk: Risk::default(),
        reversal: None,
        superseded_by: None,
        receipt: line.receipt.clone(),
        customer_id: None,
        customer_first: false,
        customer_bound_at: None,
        customer_self_referral: false,
        address_hash: None,
        visitor_hash: None,
        coupon: None,
    };
    let (pk, sk) = tenx_shared::conversions::record::record_key(&run.handle, &id);
    let item = tenx_shared::platform::store::Item::new(
        pk,
        sk,
        tenx_shared::platform::store::to_doc(&data)?,
    );
    Ok(WriteOp::Put {
        item,
        cond: tenx_shared::platform::store::Cond::Absent,
    })
}

/// Fills transactions with whole lines and keeps `concurrency` of them in flight.
struct Writer {
    store: std::sync::Arc<dyn tenx_shared::platform::store::Store>,
    concurrency: usize,
    ops: Vec<WriteOp>,
    /// Where each item of the transaction being filled is in `ops`.
    at: HashMap<(String, String), usize>,
    in_flight: JoinSet<Result<(), StoreError>>,
    sent: u64,
}

impl Writer {
    fn new(state: &AppState, concurrency: usize) -> Self {
        Self {
            store: state.store.clone(),
            concurrency,
            ops: Vec::with_capacity(MAX_TRANSACT_OPS),
            at: HashMap::new(),
            in_flight: JoinSet::new(),
            sent: 0,
        }
    }

    /// Adds one line's writes to the transaction being filled (sent first when they might not
    /// fit, or when one of them names an item already in it other than by a counter add).
    async fn push(&mut self, line: Vec<WriteOp>) -> anyhow::Result<()> {
        let clash = line.iter().any(|op| {
            !is_plain_add(op) && self.at.contains_key(&key_of(op))
                || is_plain_add(op)
                    && self
                        .at
                        .get(&key_of(op))
                        .is_some_and(|&i| !is_plain_add(&self.ops[i]))
        });
        if clash || self.ops.len() + line.len() > MAX_TRANSACT_OPS {
            self.flush().await?;
        }
        for op in line {
            let key = key_of(&op);
            match self.at.get(&key) {
                Some(&i) => merge(&mut self.ops[i], op),
                None => {
                    self.at.insert(key, self.ops.len());
                    self.ops.push(op);
                }
            }
        }
        Ok(())
    }

    async fn flush(&mut self) -> anyhow::Result<()> {
        if self.ops.is_empty() {
            return Ok(());
        }
        while self.in_flight.len() >= self.concurrency {
            self.settle_one().await?;
        }
        let ops = std::mem::replace(&mut self.ops, Vec::with_capacity(MAX_TRANSACT_OPS));
        self.at.clear();
        let store = self.store.clone();
        self.in_flight
            .spawn(async move { transact_retried(store.as_ref(), ops).await });
        self.sent += 1;
        Ok(())
    }

    async fn settle_one(&mut self) -> anyhow::Result<()> {
        if let Some(done) = self.in_flight.join_next().await {
            done.context("a seeding transaction panicked")?
                .context("a seeding transaction failed (seeded twice in the same millisecond?)")?;
        }
        Ok(())
    }

    /// Sends what is left and waits for every transaction; answers how many were sent.
    async fn finish(mut self) -> anyhow::Result<u64> {
        self.flush().await?;
        while !self.in_flight.is_empty() {
            self.settle_one().await?;
        }
        Ok(self.sent)
    }
}

/// One transaction, tried again while the store is contended: on DynamoDB the transactions in
/// flight meet on the balance items (the store retries a conflict a few times, then answers
/// `Unavailable`). A transaction is all or nothing and each line's put is put-if-absent, so a
/// retry of one that did commit (a lost answer) is refused, never applied twice.
async fn transact_retried(
    store: &dyn tenx_shared::platform::store::Store,
    ops: Vec<WriteOp>,
) -> Result<(), StoreError> {
    let mut attempt = 0;
    loop {
        match store.transact(ops.clone()).await {
            Err(StoreError::Unavailable(_)) if attempt < 10 => {
                attempt += 1;
                tokio::time::sleep(std::time::Duration::from_millis(50 * attempt)).await;
            }
            done => return done,
        }
    }
}

fn key_of(op: &WriteOp) -> (String, String) {
    let (pk, sk) = op.key();
    (pk.to_owned(), sk.to_owned())
}

/// A counter add without a cap or expiry: two on one item sum into one.
fn is_plain_add(op: &WriteOp) -> bool {
    matches!(
        op,
        WriteOp::Add {
            cap: None,
            expires_at: None,
            ..
        }
    )
}

/// Sums the plain add `more` into `into` (on the same item).
fn merge(into: &mut WriteOp, more: WriteOp) {
    let (
        WriteOp::Add { deltas, .. },
        WriteOp::Add {
            deltas: more_deltas,
            ..
        },
    ) = (into, more)
    else {
        unreachable!("only plain adds share an item in one transaction");
    };
    for (name, d) in more_deltas {
        match deltas.iter_mut().find(|(n, _)| *n == name) {
            Some((_, sum)) => *sum = sum.saturating_add(d),
            None => deltas.push((name, d)),
        }
    }
}
