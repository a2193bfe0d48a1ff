//! A payout's statement: every line traceable to its conversion, click, plan version and rate,
//! as JSON and as RFC 4180 CSV; its header sealed (Merkle root, previous statement's hash,
//! signature) when the payout is created; inclusion proofs.

use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::domain::proof::jws::{self, ProofKeyring};
use crate::domain::proof::{jcs, merkle};
use crate::domain::{
    CampaignId, ClaimId, ClickId, CommissionId, ConversionId, Currency, Handle, PartnerId,
    PayoutId, SubIds,
};
use crate::ledger::model::Commission;
use crate::payouts::model::Payout;
use crate::platform::store::StoreError;

/// One statement line.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Line {
    pub commission_id: CommissionId,
    pub kind: crate::ledger::model::Kind,
    pub adjusts_commission_id: Option<CommissionId>,
    pub conversion_id: Option<ConversionId>,
    pub click_id: Option<ClickId>,
    pub click_day: Option<String>,
    pub event_type: Option<String>,
    pub sub_ids: SubIds,
    pub campaign_id: Option<CampaignId>,
    pub value: Option<String>,
    pub value_currency: Option<Currency>,
    pub fx_rate: Option<String>,
    pub plan_version: Option<u64>,
    pub amount: String,
    pub currency: Currency,
    /// When the line was earned (written to the ledger): read by people, not in the line's
    /// leaf (statements verify as they did).
    pub earned_at: crate::domain::time::Timestamp,
    /// A `claim` line's claim and its signed decision (`tenx verify` checks that it names this
    /// line); not in the line's leaf, so statements made before them verify unchanged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claim_id: Option<ClaimId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claim_decision: Option<String>,
}

impl From<&Commission> for Line {
    fn from(c: &Commission) -> Self {
        Line {
            commission_id: c.commission_id.clone(),
            kind: c.kind,
            adjusts_commission_id: c.adjusts_commission_id.clone(),
            conversion_id: c.conversion_id.clone(),
            click_id: c.click_id.clone(),
            click_day: c.click_day.clone(),
            event_type: c.event_type.clone(),
            sub_ids: c.sub_ids.clone(),
            campaign_id: c.campaign_id.clone(),
            value: c.value.map(|v| v.normalize().to_string()),
            value_currency: c.value_currency,
            fx_rate: c.fx_rate.map(|r| r.normalize().to_string()),
            plan_version: c.plan_version,
            amount: c.currency.format(c.minor()),
            currency: c.currency,
            earned_at: c.created_at.clone(),
            claim_id: c.claim_id.clone(),
            claim_decision: c.claim_decision.clone(),
        }
    }
}

/// Statements up to this many lines are answered whole when no page is asked for: ~1.9 MB of
/// JSON (~370 bytes a line), well under the 6 MB an AWS Lambda response may hold, and about
/// the 256 MB function's comfortable working set. Larger ones are read a page at a time.
pub const WHOLE_MAX_LINES: usize = 5_000;
/// The most lines one statement page answers (the same bound, for the same reasons).
pub const PAGE_MAX_LINES: usize = 5_000;

/// Lines `offset .. offset + limit` of the statement (fewer on the last page), in the payout's
/// order. Reads only what it answers. Round trips: ONE read per page of 1,000 ids the range
/// touches, then ONE read per line, 64 at a time.
#[tracing::instrument(skip_all, fields(handle = %handle, payout = %p.payout_id, offset, limit))]
pub async fn page(
    store: &dyn crate::platform::store::Store,
    handle: &Handle,
    p: &Payout,
    offset: usize,
    limit: usize,
) -> Result<Vec<Line>, StoreError> {
    let ids = crate::payouts::lines::ids_range(store, handle, p, offset, limit).await?;
    let read = crate::payouts::select::read_lines(store, handle, &ids).await?;
    if read.len() != ids.len() {
        return Err(StoreError::Corrupt(format!(
            "payout {} lists {} lines from {offset}, {} exist",
            p.payout_id,
            ids.len(),
            read.len()
        )));
    }
    Ok(read.iter().map(Line::from).collect())
}

/// One plan version a statement's lines were paid under.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanVersionRef {
    pub campaign_id: CampaignId,
    pub plan_version: u64,
}

/// The plan versions the lines were paid under, each once (each line's own is in its signed
/// leaf, so the list is as provable as the lines; a partner matches them to its notices).
pub fn plan_versions(lines: &[Line]) -> Vec<PlanVersionRef> {
    let set: std::collections::BTreeSet<PlanVersionRef> = lines
        .iter()
        .filter_map(|l| {
            Some(PlanVersionRef {
                campaign_id: l.campaign_id.clone()?,
                plan_version: l.plan_version?,
            })
        })
        .collect();
    set.into_iter().collect()
}

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// The statement as RFC 4180 CSV (CRLF line ends, quoted where needed); the last column,
/// `kindWords`, says the kind in words.
pub fn csv(lines: &[Line]) -> String {
    const HEADER: &str = "commissionId,kind,adjustsCommissionId,conversionId,clickId,clickDay,eventType,sub1,sub2,sub3,sub4,sub5,campaignId,value,valueCurrency,fxRate,planVersion,amount,currency,kindWords";
    let mut out = format!("{HEADER}\r\n");
    for l in lines {
        let kind = serde_json::to_value(l.kind).ok();
        let opt = |o: &Option<String>| o.clone().unwrap_or_default();
        let id = |o: Option<&str>| o.unwrap_or_default().to_owned();
        let subs = serde_json::to_value(&l.sub_ids).unwrap_or_default();
        let sub = |k: &str| {
            subs.get(k)
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned()
        };
        let fields = [
            l.commission_id.to_string(),
            kind.as_ref()
                .and_then(|v| v.as_str())
                .unwrap_or_default()
                .to_owned(),
            id(l.adjusts_commission_id.as_ref().map(CommissionId::as_str)),
            id(l.conversion_id.as_ref().map(ConversionId::as_str)),
            id(l.click_id.as_ref().map(ClickId::as_str)),
            opt(&l.click_day),
            opt(&l.event_type),
            sub("sub1"),
            sub("sub2"),
            sub("sub3"),
            sub("sub4"),
            sub("sub5"),
            id(l.campaign_id.as_ref().map(CampaignId::as_str)),
            opt(&l.value),
            opt(&l.value_currency.map(|c| c.to_string())),
            opt(&l.fx_rate),
            l.plan_version.map(|v| v.to_string()).unwrap_or_default(),
            l.amount.clone(),
            l.currency.to_string(),
            // Issue 62: the kind in words (`GET /v2/reasons`' dictionary), after every
            // documented column.
            crate::domain::words::or_code(
                kind.as_ref().and_then(|v| v.as_str()).unwrap_or_default(),
            )
            .to_owned(),
        ];
        let row: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
        out.push_str(&row.join(","));
        out.push_str("\r\n");
    }
    out
}

/// The statement's header: what the payout is, for whom, over which period, the root of its
/// lines and the hash of the partner's previous statement. Its RFC 8785 form is what is signed.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Header {
    pub payout_id: PayoutId,
    pub partner_id: PartnerId,
    pub handle: Handle,
    pub currency: Currency,
    pub amount: String,
    pub period_start: String,
    pub period_end: String,
    pub sequence: u64,
    pub tree_size: usize,
    pub merkle_root: String,
    pub previous_statement_hash: Option<String>,
}

pub fn header(handle: &Handle, p: &Payout) -> Header {
    Header {
        payout_id: p.payout_id.clone(),
        partner_id: p.partner_id.clone(),
        handle: handle.clone(),
        currency: p.currency,
        amount: p.currency.format(i128::from(p.amount_minor)),
        period_start: p.period_start.clone(),
        period_end: p.period_end.clone(),
        sequence: p.sequence,
        tree_size: p.commission_count,
        merkle_root: p.merkle_root.clone(),
        previous_statement_hash: p.previous_statement_hash.clone(),
    }
}

/// The header's canonical JSON (RFC 8785).
pub fn canonical_header(h: &Header) -> String {
    jcs::canonical(&serde_json::to_value(h).unwrap_or_default())
}

/// What a line's leaf holds, picked from the line as the statement shows it (so a verifier
/// holding only the statement computes the same): no metadata, no personal data, since a
/// signed copy can never be erased.
pub fn leaf_value(line: &serde_json::Value) -> serde_json::Value {
    let field = |name: &str| line.get(name).cloned().unwrap_or(serde_json::Value::Null);
    serde_json::json!({
        "commissionId": field("commissionId"),
        "kind": field("kind"),
        "clickId": field("clickId"),
        "subIds": field("subIds"),
        "value": field("value"),
        "rate": field("fxRate"),
        "planVersion": field("planVersion"),
        "amount": field("amount"),
    })
}

/// A line's leaf: the canonical JSON of [`leaf_value`].
pub fn leaf(l: &Line) -> String {
    jcs::canonical(&leaf_value(&serde_json::to_value(l).unwrap_or_default()))
}

/// A line's leaf hash as its statement will show it (what the payout's Merkle root is made of).
pub fn leaf_hash_of(c: &Commission) -> merkle::Hash {
    merkle::leaf_hash(leaf(&Line::from(c)).as_bytes())
}

/// Completes a new payout's statement: its hash and its signature over the canonical header.
pub fn seal(keys: &ProofKeyring, handle: &Handle, p: &mut Payout) {
    let canonical = canonical_header(&header(handle, p));
    p.statement_hash = hex::encode(Sha256::digest(canonical.as_bytes()));
    p.jws = keys.sign(jws::STATEMENT_TYP, canonical.as_bytes());
}

/// A commission's inclusion proof in a payout's statement.
#[derive(Clone, Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Proof {
    pub leaf: String,
    pub leaf_index: usize,
    pub tree_size: usize,
    pub path: Vec<String>,
    pub header: Header,
    pub jws: String,
}

/// The proof that `commission` is a line of the payout's statement, or `None` when it is not
/// in it. From the leaf hashes stored beside the ids (a payout made since they were): the ids'
/// pages and the one line. Round trips: ONE query per 1,000 pages of ids, then ONE read.
pub async fn proof_of(
    store: &dyn crate::platform::store::Store,
    handle: &Handle,
    p: &Payout,
    commission: &CommissionId,
) -> Result<Option<Proof>, StoreError> {
    let (ids, leaves) = crate::payouts::lines::ids_and_leaves(store, handle, p).await?;
    if leaves.is_empty() {
        return proof_from_lines(store, handle, p, commission, &ids).await;
    }
    let Some(index) = ids.iter().position(|id| id == commission) else {
        return Ok(None);
    };
    let read = crate::payouts::select::read_lines(store, handle, &ids[index..=index]).await?;
    let line = read.first().map(Line::from).ok_or_else(|| {
        StoreError::Corrupt(format!(
            "payout {} lists a line that does not exist",
            p.payout_id
        ))
    })?;
    Ok(Some(proof_at(handle, p, leaf(&line), index, &leaves)))
}

/// The proof of a payout made before its leaf hashes were stored: every line read, a page of
/// 500 at a time, and kept as leaf hashes (32 bytes a line: 3 MB at 10^5 lines, where the
/// lines themselves took hundreds). Round trips: ONE read per line, 64 at a time.
async fn proof_from_lines(
    store: &dyn crate::platform::store::Store,
    handle: &Handle,
    p: &Payout,
    commission: &CommissionId,
    ids: &[CommissionId],
) -> Result<Option<Proof>, StoreError> {
    let mut hashes = Vec::with_capacity(ids.len());
    let mut found = None;
    for chunk in ids.chunks(crate::payouts::select::PAGE) {
        for c in crate::payouts::select::read_lines(store, handle, chunk).await? {
            let line = Line::from(&c);
            if &line.commission_id == commission {
                found = Some((hashes.len(), leaf(&line)));
            }
            hashes.push(merkle::leaf_hash(leaf(&line).as_bytes()));
        }
    }
    if hashes.len() != ids.len() {
        return Err(StoreError::Corrupt(format!(
            "payout {} lists lines that do not exist",
            p.payout_id
        )));
    }
    Ok(found.map(|(index, leaf)| proof_at(handle, p, leaf, index, &hashes)))
}

fn proof_at(
    handle: &Handle,
    p: &Payout,
    leaf: String,
    index: usize,
    leaves: &[merkle::Hash],
) -> Proof {
    Proof {
        leaf,
        leaf_index: index,
        tree_size: leaves.len(),
        path: merkle::path(leaves, index)
            .iter()
            .map(hex::encode)
            .collect(),
        header: header(handle, p),
        jws: p.jws.clone(),
    }
}
