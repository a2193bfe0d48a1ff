//! The customer use cases: a lead (bind, then a `lead` conversion), a binding by ctx or by
//! hand, and the claims a bound customer's conversion is attributed with.

use sha2::{Digest, Sha256};

use super::repo;
use super::{Binding, Customer, CustomerError};
use crate::conversions::{Channel, ConversionError, CustomerSale, Receipt};
use crate::domain::conversion::ValidConversion;
use crate::domain::{
    Attribution, BoundBy, CampaignId, ClickId, CtxClaims, CustomerId, Handle, IdempotencyKey,
    PartnerId,
};
use crate::state::AppState;

/// What a lead did: the customer's binding (new or the one that won before), whether this
/// request made it, and the lead conversion's receipt.
pub struct Lead {
    pub customer: Customer,
    pub bound: bool,
    pub receipt: Receipt,
}

/// Why a lead failed.
#[derive(Debug, thiserror::Error)]
pub enum LeadError {
    #[error(transparent)]
    Customer(#[from] CustomerError),
    #[error(transparent)]
    Conversion(#[from] ConversionError),
}

/// `POST /v2/public/leads`: binds `customer_id` to the ctx's click (first binding wins), then
/// records ONE conversion of type `lead`, attributed by the binding (idempotency key
/// `idempotency_key`, else derived from the customer: a lead replayed or raced counts once).
/// Round trips: the campaign read, the binding's transaction, then a conversion's.
#[tracing::instrument(skip_all, fields(handle = %claims.handle, customer = %customer_id))]
pub async fn lead(
    state: &AppState,
    claims: CtxClaims,
    customer_id: &CustomerId,
    email_masked: Option<String>,
    idempotency_key: Option<IdempotencyKey>,
    channel: Channel,
) -> Result<Lead, LeadError> {
    let test = claims.test;
    let (customer, bound) = by_ctx(state, claims, customer_id, email_masked).await?;
    let conversion = ValidConversion {
        idempotency_key: idempotency_key.unwrap_or_else(|| lead_key(customer_id)),
        event_type: "lead".to_owned(),
        value: None,
        currency: None,
        test,
        metadata: None,
    };
    let handle = customer.claims.handle.clone();
    let receipt = convert(state, &handle, &customer, conversion, channel).await?;
    Ok(Lead {
        customer,
        bound,
        receipt,
    })
}

/// Submits `customer`'s conversion with its binding's click, knowing whether it is the
/// customer's first of its event type (a plan's `appliesTo`). Round trips: the first-sale claim,
/// then a conversion's.
pub async fn convert(
    state: &AppState,
    handle: &Handle,
    customer: &Customer,
    conversion: ValidConversion,
    channel: Channel,
) -> Result<Receipt, LeadError> {
    let store = state.store.as_ref();
    let (id, key) = (&customer.customer_id, &conversion.idempotency_key);
    let first = repo::claim_first(store, handle, id, &conversion.event_type, key)
        .await
        .map_err(CustomerError::from)?;
    let sale = CustomerSale {
        customer_id: id.clone(),
        first,
        bound_at: customer.bound_at.clone(),
    };
    let claims = &customer.claims;
    Ok(crate::conversions::submit_as(state, claims, conversion, channel, Some(&sale)).await?)
}

/// The lead's key when the caller gives none: one lead per customer and handle.
fn lead_key(customer_id: &CustomerId) -> IdempotencyKey {
    let digest = hex::encode(&Sha256::digest(customer_id.as_str().as_bytes())[..16]);
    IdempotencyKey::parse(&format!("lead:{digest}")).expect("hex is within the key alphabet")
}

/// Binds `customer_id` to the ctx's click, its campaign and the campaign's partner (first
/// binding wins). Round trips: ONE campaign read, ONE transaction.
pub async fn by_ctx(
    state: &AppState,
    claims: CtxClaims,
    customer_id: &CustomerId,
    email_masked: Option<String>,
) -> Result<(Customer, bool), CustomerError> {
    let store = state.store.as_ref();
    let partner_id = match &claims.campaign_id {
        Some(c) => crate::campaigns::get(store, &claims.handle, c)
            .await?
            .and_then(|campaign| campaign.partner_id),
        None => None,
    };
    let handle = claims.handle.clone();
    let binding = Binding {
        claims,
        partner_id,
        by: BoundBy::Ctx,
        email_masked,
    };
    repo::bind(store, &handle, customer_id, binding).await
}

/// Binds `customer_id` by hand to `partner`'s `campaign` (which must exist and be the
/// partner's). Its conversions name a click id derived from the handle and customer, on the
/// campaign's primary link. Round trips: ONE campaign read, ONE transaction.
pub async fn by_hand(
    state: &AppState,
    handle: &Handle,
    customer_id: &CustomerId,
    partner: &PartnerId,
    campaign_id: &CampaignId,
    email_masked: Option<String>,
) -> Result<(Customer, bool), CustomerError> {
    let store = state.store.as_ref();
    let campaign = crate::campaigns::get(store, handle, campaign_id)
        .await?
        .ok_or_else(|| {
            CustomerError::Invalid(format!(
                "campaignId: campaign {campaign_id} does not exist."
            ))
        })?;
    if campaign.partner_id.as_ref() != Some(partner) {
        return Err(CustomerError::Invalid(format!(
            "partnerId: campaign {campaign_id} is not partner {partner}'s."
        )));
    }
    let now = crate::store::now_unix();
    let claims = CtxClaims {
        click_id: binding_click(handle, customer_id),
        handle: handle.clone(),
        slug: campaign.primary_slug.clone(),
        campaign_id: Some(campaign_id.clone()),
        attribution: Attribution::unknown(),
        issued_at: now,
        expires_at: i64::MAX,
        sub_ids: Default::default(),
        test: false,
    };
    let binding = Binding {
        claims,
        partner_id: Some(partner.clone()),
        by: BoundBy::Manual,
        email_masked,
    };
    repo::bind(store, handle, customer_id, binding).await
}

/// The click id a binding without a click stands for: time-ordered from now, its rest derived
/// from the handle and customer (so it reads as this binding's, never as a visitor's click).
fn binding_click(handle: &Handle, customer_id: &CustomerId) -> ClickId {
    let ms = u64::try_from(crate::time::now_millis()).unwrap_or(0);
    let digest = Sha256::digest(format!("{handle}\n{customer_id}").as_bytes());
    let rest = hex::encode(&digest[..10]);
    ClickId::parse(&format!("{}{ms:012x}{rest}", ClickId::PREFIX)).expect("32 hex digits")
}

/// The claims a conversion of `customer_id` is attributed with: its binding's. With a ctx the
/// customer is bound first (first binding wins). `None`: not bound and no ctx.
pub async fn attributed(
    state: &AppState,
    handle: &Handle,
    customer_id: &CustomerId,
    ctx: Option<CtxClaims>,
) -> Result<Option<Customer>, CustomerError> {
    match ctx {
        Some(claims) => Ok(Some(by_ctx(state, claims, customer_id, None).await?.0)),
        None => Ok(repo::get(state.store.as_ref(), handle, customer_id)
            .await?
            .map(|(c, _)| c)),
    }
}
