//! The commission ledger's line, as stored under `H#{handle}#COM` / `{commissionId}` (ids are
//! time-ordered, so a query reads the ledger in time order). Amounts are never edited: a change
//! of money is a new, linked line. Only the status and review fields move.

use crate::domain::time::Timestamp;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::domain::Handle;
use crate::domain::{
    CampaignId, ClickId, CommissionId, ConversionId, Currency, CustomerId, PartnerId, PayoutId,
    SubIds,
};
use std::collections::BTreeSet;

use crate::ledger::placed::Placed;
pub use crate::ledger::placed::{Kind, Status};
use crate::platform::store::{Cond, Item, StoreError, WriteOp, keys};
use crate::{ledger::index, ledger::index::Entry};
use crate::{ledger::running, ledger::running::Standing};

/// The campaign's confidence when it held a commission (below 50), and over which window.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConfidenceAtHold {
    pub value: u8,
    pub from: String,
    pub to: String,
}

/// One line of the ledger.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Commission {
    pub commission_id: CommissionId,
    pub kind: Kind,
    #[serde(default)]
    pub adjusts_commission_id: Option<CommissionId>,
    #[serde(default)]
    pub conversion_id: Option<ConversionId>,
    #[serde(default)]
    pub click_id: Option<ClickId>,
    #[serde(default)]
    pub click_day: Option<String>,
    #[serde(default)]
    pub event_type: Option<String>,
    #[serde(default)]
    pub sub_ids: SubIds,
    #[serde(default)]
    pub campaign_id: Option<CampaignId>,
    pub partner_id: PartnerId,
    /// The bound customer whose conversion this line pays (and its reversal's line).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<CustomerId>,
    /// Minor units of `currency`; `None` while no exchange rate is known.
    pub amount_minor: Option<i64>,
    pub currency: Currency,
    /// The conversion's own value and currency (what a percentage was taken of).
    #[serde(default, with = "rust_decimal::serde::str_option")]
    pub value: Option<Decimal>,
    #[serde(default)]
    pub value_currency: Option<Currency>,
    pub status: Status,
    pub reasons: Vec<String>,
    #[serde(default)]
    pub plan_version: Option<u64>,
    /// Units of `currency` per one unit of `value_currency`.
    #[serde(default, with = "rust_decimal::serde::str_option")]
    pub fx_rate: Option<Decimal>,
    pub available_at: Timestamp,
    pub created_at: Timestamp,
    #[serde(default)]
    pub payout_id: Option<PayoutId>,
    #[serde(default)]
    pub reviewed_by: Option<String>,
    #[serde(default)]
    pub reviewed_at: Option<Timestamp>,
    #[serde(default)]
    pub review_note: Option<String>,
    /// The adjustment or clawback a reversal wrote against this line.
    #[serde(default)]
    pub adjusted_by: Option<CommissionId>,
    /// The share of the conversion's value reversed so far, in `(0, 1]`: on a conversion's line,
    /// by every reversal applied to it; on a reversal's linked line, by it and those before it.
    /// Refunds that add up may arrive in any order: each takes what its total adds to this.
    /// `None` on a line with `adjusted_by` written before shares were kept.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        with = "rust_decimal::serde::str_option"
    )]
    pub reversed_share: Option<Decimal>,
    #[serde(default)]
    pub confidence: Option<ConfidenceAtHold>,
    /// The conversion's signed receipt, for the partner to keep.
    #[serde(default)]
    pub receipt: Option<String>,
    /// The qualified clicks a `click_day` line (or its late adjustment) pays.
    #[serde(default)]
    pub click_count: Option<i64>,
    /// While a payment dispute holds the line: the status it had before (it returns to it
    /// when the dispute is won).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub disputed_from: Option<Status>,
    /// The keyed digest of the address behind the conversion's click (partner risk).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub address_hash: Option<String>,
    /// The keyed fingerprint of the browser behind the conversion's click (partner risk).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub visitor_hash: Option<String>,
    /// The plan rule that paid the line (its index in the plan version's `rules`), and the tier
    /// of it that set the rate (issue 47).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_index: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier_index: Option<u32>,
    /// A `claim` line's claim and the signed decision that wrote it (issue 63): shown on the
    /// partner's statement, checked by `tenx verify`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_id: Option<crate::domain::ClaimId>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub claim_decision: Option<String>,
    /// The slug of the link whose click the line's conversion came through (its reversal's
    /// line keeps it): what the partner's earnings per link count it under (`running`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub link: Option<String>,
    /// The line's conversion is counted in its partner's month tally (`ledger::tally`): a
    /// reversal or rejection takes it back out, once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counted: Option<Counted>,
    /// A line of test money (test mode's sale): in the test balances and the test indexes
    /// only, never in a real figure, a tally, a cap, a statement or a batch file.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub test: bool,
    /// Whether the line's amount is in the running balances (`commissions::running`): every
    /// line written since they exist; older ones once changed or rebuilt.
    #[serde(default)]
    pub balanced: bool,
    /// The stored item's version (not part of the document).
    #[serde(skip)]
    pub version: u64,
    /// Where the line stood in the balances and the indexes when it was read (`None`: in
    /// none).
    #[serde(skip)]
    pub as_read: Option<AsRead>,
}

/// What a line's conversion added to its partner's month tally.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Counted {
    /// The tally's month (`yyyy-mm`).
    pub month: String,
    /// Where the partner stood in it before this conversion (what the line was rated at; a
    /// line computed again when its rate arrives keeps it).
    pub count_before: u64,
    #[serde(default)]
    pub revenue_before: i64,
    /// Its value in minor units of the plan's currency, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revenue_minor: Option<i64>,
}

/// A line as it stood when read: its place in the running balances and its index entries.
#[derive(Clone, Debug, PartialEq)]
pub struct AsRead {
    pub standing: Standing,
    pub entries: BTreeSet<Entry>,
}

impl AsRead {
    pub fn of(c: &Commission) -> Self {
        let placed = c.placed();
        Self {
            standing: Standing::of(&placed),
            entries: index::entries(&placed),
        }
    }
}

pub fn pk(handle: &Handle) -> String {
    keys::commissions_pk(handle)
}

impl Commission {
    /// A line with only its identity, owner, money and status; every link and review field
    /// empty (the caller sets what its kind carries).
    pub fn blank(
        commission_id: CommissionId,
        kind: Kind,
        partner_id: PartnerId,
        amount_minor: Option<i64>,
        currency: Currency,
        status: Status,
    ) -> Self {
        let now = crate::platform::time::timestamp();
        Commission {
            commission_id,
            kind,
            adjusts_commission_id: None,
            conversion_id: None,
            click_id: None,
            click_day: None,
            event_type: None,
            sub_ids: SubIds::default(),
            campaign_id: None,
            partner_id,
            customer_id: None,
            amount_minor,
            currency,
            value: None,
            value_currency: None,
            status,
            reasons: Vec::new(),
            plan_version: None,
            fx_rate: None,
            available_at: now.clone(),
            created_at: now,
            payout_id: None,
            reviewed_by: None,
            reviewed_at: None,
            review_note: None,
            adjusted_by: None,
            reversed_share: None,
            confidence: None,
            receipt: None,
            click_count: None,
            disputed_from: None,
            address_hash: None,
            visitor_hash: None,
            rule_index: None,
            tier_index: None,
            claim_id: None,
            claim_decision: None,
            link: None,
            counted: None,
            test: false,
            balanced: false,
            version: 0,
            as_read: None,
        }
    }

    pub fn from_item(item: &Item) -> Result<Self, StoreError> {
        let mut c: Commission = item.parse()?;
        c.version = item.version;
        c.as_read = c.balanced.then(|| AsRead::of(&c));
        Ok(c)
    }

    pub fn item(&self, handle: &Handle) -> Result<Item, StoreError> {
        Ok(Item::new(
            pk(handle),
            self.commission_id.as_str(),
            crate::platform::store::to_doc(self)?,
        )
        .with_version(self.version))
    }

    /// The writes that create this line, once (its id is derived, so every retry meets it),
    /// with its amount added to the running balances: one transaction's worth.
    pub fn create(&self, handle: &Handle) -> Result<Vec<WriteOp>, StoreError> {
        let mut line = self.clone();
        line.balanced = true;
        let mut ops = vec![WriteOp::Put {
            item: line.item(handle)?,
            cond: Cond::Absent,
        }];
        let placed = line.placed();
        ops.extend(index::moves(handle, &placed, &BTreeSet::new()));
        ops.extend(running::moves(handle, &placed, None));
        Ok(ops)
    }

    /// The writes that replace it at the version read (`next` carries the bumped version) and
    /// move its amount in the running balances from where it stood when read: one
    /// transaction's worth. A line read outside the balances enters them now, whole.
    pub fn update(&self, handle: &Handle) -> Result<Vec<WriteOp>, StoreError> {
        let mut next = self.clone();
        next.version += 1;
        next.balanced = true;
        let mut ops = vec![WriteOp::Put {
            item: next.item(handle)?,
            cond: Cond::Version(self.version),
        }];
        let (standing, entries) = match &self.as_read {
            Some(r) => (Some(r.standing), r.entries.clone()),
            None => (None, BTreeSet::new()),
        };
        let placed = next.placed();
        ops.extend(index::moves(handle, &placed, &entries));
        ops.extend(running::moves(handle, &placed, standing));
        Ok(ops)
    }

    /// What the running balances and the indexes see of the line.
    pub fn placed(&self) -> Placed<'_> {
        Placed {
            id: &self.commission_id,
            kind: self.kind,
            partner: &self.partner_id,
            campaign: self.campaign_id.as_ref(),
            status: self.status,
            minor: self.minor(),
            in_payout: self.payout_id.is_some(),
            currency: self.currency,
            customer: self.customer_id.as_ref(),
            link: self.link.as_deref(),
            test: self.test,
        }
    }

    /// After its [`Self::create`] committed: the line as stored (in the balances and indexes,
    /// as read back), so a later [`Self::update`] of this copy moves it from there.
    pub fn created(&mut self) {
        self.balanced = true;
        self.as_read = Some(AsRead::of(self));
    }

    /// After its [`Self::update`] committed: the line as stored, its version bumped.
    pub fn updated(&mut self) {
        self.version += 1;
        self.created();
    }

    /// The amount in minor units as a signed wide number (0 while unknown).
    pub fn minor(&self) -> i128 {
        i128::from(self.amount_minor.unwrap_or(0))
    }

    pub fn available_at_ms(&self) -> i64 {
        self.available_at.millis()
    }

    /// Payable in a payout: approved, not in one yet.
    pub fn is_open(&self) -> bool {
        self.status == Status::Approved && self.payout_id.is_none()
    }
}
