//! A test sale (`POST …/test-sales`): while the handle's test mode is on, a click on one of the
//! partner's links and a sale on it, through the real path: the redirect's use case records a
//! test click and signs its ctx, and the sale is attributed by that ctx as a merchant's server
//! would send it (`test: true`). Its commission line is test money (`ledger::accrue`): it goes
//! through the plan, holds, review, payouts and the partner's portal, and stays out of every
//! real figure.

use rust_decimal::Decimal;

use crate::attribute::{self, AttributeError, Attribution, By};
use crate::clicks::visit::{self, Outcome, Redirector, VisitError, Visitor};
use crate::conversions::Channel;
use crate::domain::conversion::ConversionInput;
use crate::domain::{ClickId, ConversionId, Currency, DomainError, Handle, PartnerId};
use crate::platform::store::StoreError;

/// What a test sale is: whose, how much, and of which event type (by default the first its
/// partner's plan pays).
#[derive(Clone, Debug)]
pub struct TestSale {
    pub partner_id: PartnerId,
    pub amount: Decimal,
    pub currency: Currency,
    pub event_type: Option<String>,
}

/// The test sale made: its conversion and the click it came through.
#[derive(Clone, Debug)]
pub struct Made {
    pub conversion_id: ConversionId,
    pub click_id: ClickId,
}

#[derive(Debug, thiserror::Error)]
pub enum TestSaleError {
    #[error("Test mode is off: switch it on from Home before making a test sale.")]
    Off,
    #[error("partnerId: partner {0} does not exist.")]
    UnknownPartner(PartnerId),
    #[error("partnerId: {0} has no link yet; add one on the partner's page first.")]
    NoLink(String),
    #[error("The partner's link did not send the visitor on (it is expired or gone).")]
    NotRedirected,
    #[error(transparent)]
    Invalid(#[from] DomainError),
    #[error(transparent)]
    Visit(#[from] VisitError),
    #[error(transparent)]
    Attribute(#[from] AttributeError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The User-Agent of a test sale's click: a browser's, so the click is a human's.
const USER_AGENT: &[u8] = b"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36 10x-test-sale";

/// Makes one test sale for `sale.partner_id` on its first link (in slug order).
/// Round trips: the test mode, the partner, the campaigns (a query), the links (a query per
/// 1,000), then a visit's and a conversion's.
#[tracing::instrument(skip_all, fields(handle = %handle, partner = %sale.partner_id))]
pub async fn make(
    (redirector, attribution): (Redirector<'_>, Attribution<'_>),
    handle: &Handle,
    sale: &TestSale,
) -> Result<Made, TestSaleError> {
    let store = redirector.io.store.as_ref();
    if !crate::test_mode::get(store, handle).await?.enabled {
        return Err(TestSaleError::Off);
    }
    let partner = crate::partners::get(store, handle, &sale.partner_id)
        .await?
        .ok_or_else(|| TestSaleError::UnknownPartner(sale.partner_id.clone()))?;
    let own: std::collections::BTreeSet<_> = crate::campaigns::list_all(store, handle)
        .await?
        .into_iter()
        .filter(|c| c.partner_id.as_ref() == Some(&sale.partner_id))
        .map(|c| c.campaign_id)
        .collect();
    let links = crate::links::of_campaigns(store, handle, &own, 1).await?;
    let link = links
        .first()
        .ok_or_else(|| TestSaleError::NoLink(partner.name.clone()))?;
    let visitor = Visitor {
        user_agent: Some(USER_AGENT),
        test: true,
        ..Visitor::default()
    };
    let outcome = visit::visit(redirector, handle, link.slug.as_str(), &visitor).await?;
    let Outcome::Found { ctx: Some(ctx), .. } = outcome else {
        return Err(TestSaleError::NotRedirected);
    };
    let keys = redirector.ctx_keys.map_err(VisitError::from)?;
    let now = crate::platform::store::now_unix();
    let claims = keys
        .verify(&ctx, now)
        .map_err(|_| TestSaleError::NotRedirected)?;
    let event_type = match &sale.event_type {
        Some(given) => given.clone(),
        None => paid_event(store, handle, link).await?,
    };
    let conversion = ConversionInput {
        idempotency_key: Some(format!("test-sale-{}", uuid::Uuid::new_v4())),
        event_type: Some(event_type),
        value: Some(serde_json::Value::String(sale.amount.to_string())),
        currency: Some(sale.currency.as_str().to_owned()),
        test: Some(true),
        metadata: None,
    }
    .validate()?;
    let by = By {
        ctx: Some(claims),
        customer: None,
        coupon: None,
        landing: None,
    };
    let receipt = attribute::submit(attribution, handle, by, conversion, Channel::Verified).await?;
    Ok(Made {
        conversion_id: receipt.conversion_id,
        click_id: receipt.click_id,
    })
}

/// The event type a test sale on `link` is of when none is given: the first one its campaign's
/// plan pays (so the sale earns what a real one would), else `sale`. Round trips: the plan's.
async fn paid_event(
    store: &dyn crate::platform::store::Store,
    handle: &Handle,
    link: &crate::domain::Link,
) -> Result<String, StoreError> {
    let Some(campaign) = &link.campaign_id else {
        return Ok("sale".to_owned());
    };
    let now = crate::platform::time::now_millis();
    let plan = crate::plans::in_force_at(store, handle, campaign, now).await?;
    let paid = plan.and_then(|p| p.rules.into_iter().find_map(|r| r.event_type));
    Ok(paid.unwrap_or_else(|| "sale".to_owned()))
}
