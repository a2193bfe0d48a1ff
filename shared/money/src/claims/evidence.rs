//! What 10x itself holds about a claimed sale, gathered when the claim is opened, and the
//! proposal it makes from it, each reason in words.
//!
//! A click is only worth what ties it to the buyer: a partner can always click its own link,
//! so its own ctx proves that it clicked, not that this buyer did. A click is tied to the buyer
//! when the sale or the buyer's binding already names it, when the sale's checkout carried its
//! ref (`POST /v2/public/refs`, kept by `t.js` on the merchant's pages). Only a tied click,
//! before the sale and inside the attribution window, is proposed `approve`. A visitor address
//! shared by the click and the sale is one signal among others, never a tie alone: an office
//! or a mobile carrier puts many people behind one address.

use crate::campaigns;
use crate::claims::ClaimError;
use crate::claims::model::{Evidence, Found, Proposal, Target, Verdict};
use crate::claims::names::{self, Names};
use crate::conversions::idempotency::IdempotencyRecord;
use crate::customers::Customer;
use crate::domain::proof::jws::{self, Jwks};
use crate::domain::{
    ClickId, CommissionId, CtxClaims, CtxKeyring, Handle, IdempotencyKey, PartnerId,
};
use crate::kernel::events::ConversionData;
use crate::ledger::model::Commission;
use crate::platform::store::Store;

/// What gathering uses: the store, the ctx keys (a ctx's signature, a click's ref) and the
/// published statement keys (a receipt's), and the attribution window.
#[derive(Clone, Copy)]
pub struct Sources<'a> {
    pub store: &'a dyn Store,
    pub ctx_keys: Option<&'a CtxKeyring>,
    pub receipt_keys: Option<&'a Jwks>,
    pub window_ms: i64,
}

/// The claim as asked.
pub struct Asked<'a> {
    pub handle: &'a Handle,
    pub partner: &'a PartnerId,
    pub target: &'a Target,
    pub occurred_ms: i64,
    pub evidence: &'a Evidence,
}

/// Gathers and proposes. `Err`: bad input (evidence of another handle, a receipt or click id
/// that is not one), nothing written.
#[tracing::instrument(skip_all, fields(handle = %asked.handle, partner = %asked.partner))]
pub async fn propose(src: Sources<'_>, asked: &Asked<'_>) -> Result<(Proposal, Found), ClaimError> {
    let mut r = Reasons::default();
    let sale = sale_of(src.store, asked.handle, asked.target).await?;
    let binding = binding_of(src.store, asked.handle, asked.target, sale.as_ref()).await?;
    let sale_ms = sale
        .as_ref()
        .map_or(asked.occurred_ms, |s| s.received_at.millis());
    let mut found = Found {
        conversion_id: sale.as_ref().map(|s| s.conversion_id.clone()),
        ..Found::default()
    };
    match &sale {
        Some(s) => r.say(format!(
            "10x recorded the sale on {} ({}).",
            s.received_at.as_str(),
            value_words(s)
        )),
        None if asked.target.customer_id.is_none() => r.unsure(
            "10x has not seen this order: whether it happened, and its amount, are the \
             merchant's to say at the decision.",
        ),
        None => {}
    }
    check_receipt(src, asked, sale.as_ref(), &mut r)?;
    let credited = credited(src.store, asked.handle, sale.as_ref()).await?;
    let names = others(
        src,
        asked,
        (sale.as_ref(), binding.as_ref(), credited.as_ref()),
    )
    .await?;
    let whom = Whom {
        asker: asked.partner,
        names: &names,
    };
    competing(
        whom,
        sale.as_ref(),
        binding.as_ref(),
        credited.as_ref(),
        &mut r,
        &mut found,
    );
    let click = click_of(src, asked, &mut r).await?;
    if let Some(c) = &click {
        found.click_id = Some(c.click_id.clone());
        found.campaign_id = c.campaign_id.clone();
        judge_click(src, c, sale_ms, &mut r);
        let tie = tie(src, c, sale.as_ref(), binding.as_ref());
        match tie {
            Some(Tie::Strong(how)) => r.tied(format!("The click is tied to this buyer: {how}.")),
            Some(Tie::AddressOnly) => r.unsure(
                "The sale's visitor came from the same address as your click, but an office or \
                 a mobile carrier puts many people behind one address: that alone does not tie \
                 your click to this buyer, so a person decides.",
            ),
            None => r.unsure(
                "Only your own click backs this claim: a partner can always click its own \
                 link, so nothing ties that click to this buyer.",
            ),
        }
    } else if let Some(raw) = &asked.evidence.click_id {
        clicked_id(raw, sale.as_ref(), binding.as_ref(), &mut r)?;
    } else if r.deny.is_none() {
        r.unsure("No click of yours is in the evidence: nothing ties you to this buyer.");
    }
    if let Some(s) = &sale {
        coupon_words(whom, s, &mut r);
        sale_risk(s, &mut r);
    }
    partner_risk(src.store, asked, &mut r).await?;
    Ok((r.proposal(), found))
}

/// The sale's own risk signals, in words for the program's people.
fn sale_risk(s: &ConversionData, r: &mut Reasons) {
    match s.risk.flagged() {
        true => r.for_managers(
            format!(
                "The sale carries risk signals ({}, score {}).",
                risk_words(s),
                s.risk.score
            ),
            true,
        ),
        false => r.for_managers("The sale carries no risk signal.".into(), false),
    }
}

/// The other partners the reasons name (the buyer's binding, the line credited, the coupon's),
/// by their names, never their ids. Round trips: ONE read per partner.
async fn others(
    src: Sources<'_>,
    asked: &Asked<'_>,
    (sale, binding, credited): (
        Option<&ConversionData>,
        Option<&Customer>,
        Option<&Commission>,
    ),
) -> Result<Names, ClaimError> {
    let ids = binding
        .and_then(|b| b.partner_id.as_ref())
        .into_iter()
        .chain(credited.map(|l| &l.partner_id))
        .chain(sale.and_then(|s| s.coupon.as_ref()).map(|c| &c.partner_id))
        .filter(|p| *p != asked.partner)
        .cloned()
        .collect();
    Ok(Names::of(src.store, asked.handle, ids).await?)
}

/// A partner's risk score at or above this makes a proposal `unsure`: its claims are a person's
/// to look at, whatever the evidence.
pub const PARTNER_RISK_DOUBT: u8 = 50;

/// The claiming partner's own risk (`GET …/partners/{partnerId}/risk`, its standing snapshot),
/// in words: each fired signal, and doubt at or above [`PARTNER_RISK_DOUBT`].
async fn partner_risk(
    store: &dyn Store,
    asked: &Asked<'_>,
    r: &mut Reasons,
) -> Result<(), ClaimError> {
    let risk = crate::risk::snapshot::current(store, asked.handle, asked.partner).await?;
    if risk.fired.is_empty() {
        r.for_managers(
            "The partner's risk shows no signal (score 0).".into(),
            false,
        );
        return Ok(());
    }
    let signals: Vec<&str> = risk
        .fired
        .iter()
        .map(|code| crate::domain::words::or_code(code))
        .collect();
    let words = format!(
        "The partner's risk score is {} ({}).",
        risk.score,
        signals.join("; ").to_lowercase()
    );
    r.for_managers(words, risk.score >= PARTNER_RISK_DOUBT);
    Ok(())
}

/// Who a reason names: the asking partner is "you", any other partner its name.
#[derive(Clone, Copy)]
struct Whom<'a> {
    asker: &'a PartnerId,
    names: &'a Names,
}

impl Whom<'_> {
    fn of(&self, p: &PartnerId) -> String {
        match p == self.asker {
            true => "you".to_owned(),
            false => self.names.get(p).to_owned(),
        }
    }
}

/// The coupon code the sale used: whose, and whether a click of that partner came with it.
fn coupon_words(whom: Whom<'_>, s: &ConversionData, r: &mut Reasons) {
    let Some(used) = &s.coupon else {
        r.say("The sale used no coupon code.");
        return;
    };
    let whose = match &used.partner_id {
        p if p == whom.asker => "your own code".to_owned(),
        p => format!("a code of {}", whom.names.get(p)),
    };
    let click = match used.with_click {
        true => "with a click of that partner",
        false => "with no click of that partner",
    };
    let from = used
        .landing_referrer
        .as_deref()
        .map(|host| format!(", the buyer landing from {host}"))
        .unwrap_or_default();
    r.say(format!(
        "The sale used coupon code {} ({whose}), {click}{from}.",
        used.code
    ));
}

/// The reasons and the verdict they add up to: any `deny` wins, then any doubt, and only a
/// click tied to the buyer approves.
#[derive(Default)]
struct Reasons {
    words: Vec<String>,
    for_managers: Vec<String>,
    deny: Option<()>,
    doubt: bool,
    tied: bool,
}

impl Reasons {
    fn say(&mut self, s: impl Into<String>) {
        self.words.push(s.into());
    }
    fn deny(&mut self, s: impl Into<String>) {
        self.deny = Some(());
        self.say(s);
    }
    fn unsure(&mut self, s: &str) {
        self.doubt = true;
        self.say(s);
    }
    /// A reason about risk, for the program's people only; `doubt` makes the verdict unsure.
    fn for_managers(&mut self, s: String, doubt: bool) {
        self.doubt |= doubt;
        self.for_managers.push(s);
    }
    fn tied(&mut self, s: String) {
        self.tied = true;
        self.say(s);
    }
    fn proposal(self) -> Proposal {
        let verdict = if self.deny.is_some() {
            Verdict::Deny
        } else if self.doubt || !self.tied {
            Verdict::Unsure
        } else {
            Verdict::Approve
        };
        Proposal {
            verdict,
            reasons: self.words,
            for_managers: self.for_managers,
        }
    }
}

/// The claimed sale's conversion: named, or found by its order id (the idempotency key the
/// merchant sent it with), or none (a customer claim names no sale).
async fn sale_of(
    store: &dyn Store,
    handle: &Handle,
    target: &Target,
) -> Result<Option<ConversionData>, ClaimError> {
    let id = match (&target.conversion_id, &target.order_id) {
        (Some(id), _) => Some(id.clone()),
        (None, Some(order)) => {
            let key = IdempotencyKey::parse(order)
                .map_err(|e| ClaimError::Invalid(format!("orderId: {}", e.message)))?;
            IdempotencyRecord::load(store, handle, &key)
                .await?
                .and_then(|r| r.response)
                .map(|r| r.conversion_id)
        }
        (None, None) => None,
    };
    let Some(id) = id else { return Ok(None) };
    let found = crate::conversions::record::load(store, handle, &id).await?;
    match (found, &target.conversion_id) {
        (Some((_, c)), _) if !c.test => Ok(Some(c)),
        (_, Some(id)) => Err(ClaimError::NotFound(format!("Conversion {id}"))),
        _ => Ok(None),
    }
}

/// The buyer's binding: the named customer's, or the sale's customer's.
async fn binding_of(
    store: &dyn Store,
    handle: &Handle,
    target: &Target,
    sale: Option<&ConversionData>,
) -> Result<Option<Customer>, ClaimError> {
    let id = target
        .customer_id
        .as_ref()
        .or_else(|| sale.and_then(|s| s.customer_id.as_ref()));
    let Some(id) = id else { return Ok(None) };
    let found = crate::customers::repo::get(store, handle, id).await?;
    if found.is_none() && target.customer_id.is_some() {
        return Err(ClaimError::NotFound(format!("Customer {id}")));
    }
    Ok(found.map(|(c, _)| c))
}

/// The sale's line, if it earned one.
async fn credited(
    store: &dyn Store,
    handle: &Handle,
    sale: Option<&ConversionData>,
) -> Result<Option<Commission>, ClaimError> {
    let Some(s) = sale else { return Ok(None) };
    let id = CommissionId::of_conversion(&s.conversion_id);
    Ok(crate::ledger::get(store, handle, &id).await?)
}

/// Who the sale went to, and why that attribution won.
fn competing(
    whom: Whom<'_>,
    sale: Option<&ConversionData>,
    binding: Option<&Customer>,
    line: Option<&Commission>,
    r: &mut Reasons,
    found: &mut Found,
) {
    if let Some(b) = binding {
        let to = b
            .partner_id
            .as_ref()
            .map_or_else(|| "no partner".to_owned(), |p| whom.of(p));
        r.say(format!(
            "The buyer was bound to {to} by {} on {}; a bound buyer's sales follow the binding.",
            bound_by_words(b),
            b.bound_at.as_str()
        ));
    }
    let Some(line) = line else {
        if sale.is_some() {
            r.say("The sale earned no commission line: no partner is credited with it.");
        }
        return;
    };
    if &line.partner_id == whom.asker {
        r.deny(format!(
            "The sale is already credited to you (commission {}, {} {}).",
            line.commission_id,
            line.currency.format(line.minor()),
            line.currency
        ));
        return;
    }
    found.credited_partner_id = Some(line.partner_id.clone());
    let how = match (binding, sale) {
        (Some(b), _) if b.partner_id.as_ref() == Some(&line.partner_id) => {
            format!("the buyer's binding ({})", bound_by_words(b))
        }
        (_, Some(s)) if s.attribution.source != "unknown" => {
            format!("the click the sale came with ({})", s.attribution.referrer)
        }
        _ => "a coupon code or a binding made without a click".to_owned(),
    };
    r.say(format!(
        "The sale is credited to {} (commission {}, {} {}), won by {how}: approving this \
         claim moves it to you.",
        whom.names.get(&line.partner_id),
        line.commission_id,
        line.currency.format(line.minor()),
        line.currency
    ));
}

/// The evidence's ctx: verified (signature and key, not its age: a claim comes after the
/// click's token expired) and of this handle, else bad input; a forged one and one of another
/// partner's link are reasons to deny.
async fn click_of(
    src: Sources<'_>,
    asked: &Asked<'_>,
    r: &mut Reasons,
) -> Result<Option<CtxClaims>, ClaimError> {
    let Some(token) = &asked.evidence.ctx else {
        return Ok(None);
    };
    let keys = src.ctx_keys.ok_or(ClaimError::Unconfigured)?;
    let Ok(claims) = keys.verify(token, i64::MIN) else {
        r.deny("The ctx in the evidence does not verify: 10x did not sign it.");
        return Ok(None);
    };
    if &claims.handle != asked.handle {
        return Err(ClaimError::Invalid(format!(
            "evidence.ctx: the click belongs to another handle, not {}.",
            asked.handle
        )));
    }
    let owner = match &claims.campaign_id {
        Some(c) => campaigns::get(src.store, asked.handle, c)
            .await?
            .and_then(|c| c.partner_id),
        None => None,
    };
    if owner.as_ref() != Some(asked.partner) {
        let whose = match owner {
            Some(p) => format!(
                "a link of {}",
                names::name_of(src.store, asked.handle, &p).await?
            ),
            None => "a link of no partner".to_owned(),
        };
        r.deny(format!(
            "The click in the evidence was on {whose}, not yours."
        ));
        return Ok(None);
    }
    if claims.test {
        r.deny("The click in the evidence is a console test click, never paid.");
        return Ok(None);
    }
    Ok(Some(claims))
}

/// The click's time against the sale's.
fn judge_click(src: Sources<'_>, c: &CtxClaims, sale_ms: i64, r: &mut Reasons) {
    let click_ms = c.issued_at.saturating_mul(1000);
    let at = crate::domain::time::unix_to_rfc3339(c.issued_at);
    if click_ms > sale_ms {
        r.deny(format!("The click ({at}) came after the sale."));
    } else if sale_ms - click_ms > src.window_ms {
        r.deny(format!(
            "The click ({at}) was {} days before the sale, outside the {}-day attribution \
             window.",
            (sale_ms - click_ms) / 86_400_000,
            src.window_ms / 86_400_000
        ));
    } else {
        r.say(format!(
            "A signed click on your link {} ({at}) came {} before the sale.",
            c.slug,
            span_words(sale_ms - click_ms)
        ));
    }
}

/// What ties a click to the buyer.
#[derive(Debug, PartialEq, Eq)]
enum Tie {
    /// Something only this buyer's visit could carry, in words.
    Strong(&'static str),
    /// Only the visitor address, which many people may share.
    AddressOnly,
}

/// What ties the click to this buyer; `None`: nothing does.
fn tie(
    src: Sources<'_>,
    c: &CtxClaims,
    sale: Option<&ConversionData>,
    binding: Option<&Customer>,
) -> Option<Tie> {
    if sale.is_some_and(|s| s.click_id == c.click_id) {
        return Some(Tie::Strong("the sale itself came with it"));
    }
    if binding.is_some_and(|b| b.click_id == c.click_id) {
        return Some(Tie::Strong("the buyer's lead or binding was made by it"));
    }
    let reference = src.ctx_keys.map(|k| k.ref_of(c.click_id.as_str()));
    if let (Some(s), Some(reference)) = (sale, reference)
        && checkout_refs(s).any(|r| r == reference)
    {
        return Some(Tie::Strong(
            "the buyer's checkout carried its ref (the visitor's own first-party ctx)",
        ));
    }
    let same = |s: &ConversionData| s.address_hash.is_some() && s.address_hash == c.address_hash;
    sale.is_some_and(same).then_some(Tie::AddressOnly)
}

/// The checkout refs a sale's metadata carries (`ref`, `tenxRef`, `clientReferenceId`).
fn checkout_refs(s: &ConversionData) -> impl Iterator<Item = &str> {
    let meta = s.metadata.as_ref().and_then(serde_json::Value::as_object);
    ["ref", "tenxRef", "clientReferenceId", "client_reference_id"]
        .into_iter()
        .filter_map(move |k| {
            meta.and_then(|m| m.get(k))
                .and_then(serde_json::Value::as_str)
        })
}

/// A bare click id: unsigned, so it counts only when the sale or the binding names it.
fn clicked_id(
    raw: &str,
    sale: Option<&ConversionData>,
    binding: Option<&Customer>,
    r: &mut Reasons,
) -> Result<(), ClaimError> {
    let id = ClickId::parse(raw).map_err(|_| {
        ClaimError::Invalid(format!("evidence.clickId: `{raw}` is not a click id."))
    })?;
    if sale.is_some_and(|s| s.click_id == id) || binding.is_some_and(|b| b.click_id == id) {
        r.say("The click id in the evidence is the one the sale or the buyer's binding names.");
    } else {
        r.unsure(
            "The click id in the evidence is not signed and neither the sale nor the buyer's \
             binding names it.",
        );
    }
    Ok(())
}

/// A receipt in the evidence: 10x's signature, of this handle, else bad input; it counts when
/// it is this sale's.
fn check_receipt(
    src: Sources<'_>,
    asked: &Asked<'_>,
    sale: Option<&ConversionData>,
    r: &mut Reasons,
) -> Result<(), ClaimError> {
    let Some(token) = &asked.evidence.receipt else {
        return Ok(());
    };
    let keys = src.receipt_keys.ok_or(ClaimError::Unconfigured)?;
    let payload = jws::verify(token, jws::RECEIPT_TYP, keys)
        .ok()
        .and_then(|p| serde_json::from_slice::<serde_json::Value>(&p).ok());
    let Some(payload) = payload else {
        r.deny("The receipt in the evidence does not verify: 10x did not sign it.");
        return Ok(());
    };
    if payload["handle"].as_str() != Some(asked.handle.as_str()) {
        return Err(ClaimError::Invalid(format!(
            "evidence.receipt: the receipt is of another handle, not {}.",
            asked.handle
        )));
    }
    let of_sale = sale.is_some_and(|s| payload["conversionId"] == s.conversion_id.as_str());
    r.say(match of_sale {
        true => "The receipt in the evidence is 10x's for this very sale.",
        false => "The receipt in the evidence is of another sale.",
    });
    Ok(())
}

fn bound_by_words(b: &Customer) -> &'static str {
    use crate::domain::BoundBy;
    match b.bound_by {
        BoundBy::Ctx => "a click",
        BoundBy::Coupon => "a coupon code",
        BoundBy::Manual => "hand",
        BoundBy::Stripe => "a Stripe payment",
        BoundBy::Shopify => "a Shopify order",
        BoundBy::Import => "the tool the merchant imported from",
        BoundBy::Claim => "an approved claim",
    }
}

fn value_words(s: &ConversionData) -> String {
    match (s.value, s.currency) {
        (Some(v), Some(c)) => format!("{} {c}", v.normalize()),
        _ => "no value".to_owned(),
    }
}

fn risk_words(s: &ConversionData) -> String {
    use crate::domain::risk::RiskReason;
    let words: Vec<&str> = s
        .risk
        .reasons
        .iter()
        .map(|r| match r {
            RiskReason::Unverified => "sent from a browser, not the merchant's server",
            RiskReason::TooFast => "too soon after its click",
            RiskReason::PerClickCap => "one click's sales past their cap",
            RiskReason::ValueAboveLimit => "a value above the limit",
        })
        .collect();
    words.join("; ")
}

fn span_words(ms: i64) -> String {
    match ms {
        m if m < 3_600_000 => format!("{} minutes", m / 60_000),
        m if m < 2 * 86_400_000 => format!("{} hours", m / 3_600_000),
        m => format!("{} days", m / 86_400_000),
    }
}
