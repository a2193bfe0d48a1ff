//! The customer use cases: a lead (bind, then a `lead` conversion), a binding by ctx or by
//! hand, and the claims a bound customer's conversion is attributed with.

use sha2::{Digest, Sha256};

use super::coupons::Coupon;
use super::repo;
use super::{Binding, Customer, CustomerError, Email, SELF_REFERRAL};
use crate::campaigns::model::Campaign;
use crate::conversions::idempotency::IdempotencyRecord;
use crate::conversions::{Channel, ConversionError, CustomerSale, Intake, Receipt};
use crate::domain::CtxKeyring;
use crate::domain::conversion::ValidConversion;
use crate::domain::{
    Attribution, BoundBy, CampaignId, ClickId, CouponCode, CtxClaims, CustomerId, Handle,
    IdempotencyKey, PartnerId, Slug,
};
use crate::kernel::io::Io;
use crate::platform::store::StoreError;

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

/// What a binding uses: the store and queue it commits and enqueues through, and the keyring
/// that digests an email (`None` in a process without ctx keys: no self-referral is flagged).
#[derive(Clone, Copy)]
pub struct Binder<'a> {
    pub io: Io<'a>,
    pub email_keys: Option<&'a CtxKeyring>,
}

impl<'a> Binder<'a> {
    pub fn new(io: Io<'a>, email_keys: Option<&'a CtxKeyring>) -> Self {
        Self { io, email_keys }
    }
}

/// `POST /v2/public/leads`: binds `customer_id` to the ctx's click (first binding wins), then
/// records ONE conversion of type `lead`, attributed by the binding (idempotency key
/// `idempotency_key`, else derived from the customer: a lead replayed or raced counts once).
/// Round trips: the campaign read, the binding's transaction, then a conversion's.
#[tracing::instrument(skip_all, fields(handle = %claims.handle, customer = %customer_id))]
pub async fn lead(
    (binder, intake): (Binder<'_>, Intake<'_>),
    claims: CtxClaims,
    customer_id: &CustomerId,
    email: Option<Email>,
    idempotency_key: Option<IdempotencyKey>,
    channel: Channel,
) -> Result<Lead, LeadError> {
    refuse_derivable(customer_id)?;
    let test = claims.test;
    let (customer, bound) = by_ctx(binder, claims, customer_id, email).await?;
    let conversion = ValidConversion {
        idempotency_key: idempotency_key.unwrap_or_else(|| lead_key(customer_id)),
        event_type: "lead".to_owned(),
        value: None,
        currency: None,
        test,
        metadata: None,
        coupon: None,
    };
    let handle = customer.claims.handle.clone();
    let receipt = convert(intake, &handle, &customer, conversion, channel).await?;
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
    intake: Intake<'_>,
    handle: &Handle,
    customer: &Customer,
    conversion: ValidConversion,
    channel: Channel,
) -> Result<Receipt, LeadError> {
    let store = intake.io.store.as_ref();
    let (id, key) = (&customer.customer_id, &conversion.idempotency_key);
    let first = repo::claim_first(store, handle, id, &conversion.event_type, key)
        .await
        .map_err(CustomerError::from)?;
    let currency = conversion.currency;
    let counted = repo::conversion_counted(handle, id, conversion.value, currency);
    let sale = CustomerSale {
        customer_id: id.clone(),
        first,
        bound_at: Some(customer.bound_at.clone()),
        self_referral: customer.flags.iter().any(|f| f == SELF_REFERRAL),
        counted: Some(counted),
    };
    let claims = &customer.claims;
    Ok(crate::conversions::submit_as(intake, claims, conversion, channel, Some(&sale)).await?)
}

/// A public lead carries only a click, which its partner can always make: it may not bind an
/// id anyone can derive from a buyer (issue 57), or a partner would take another's buyer
/// before the sale. Those ids are bound by verified provider events and the merchant's
/// authenticated routes.
fn refuse_derivable(customer_id: &CustomerId) -> Result<(), CustomerError> {
    if !customer_id.is_derivable() {
        return Ok(());
    }
    Err(CustomerError::Invalid(format!(
        "customerId: {customer_id} is made from an email address or a shop's customer number, \
         which anyone can know; a lead names the customer by an id your own checkout made \
         (Stripe's cus_…, your user id). Bind such a customer with POST /v2/handles/{{handle}}/customers \
         or let the Stripe or Shopify connector bind it from the verified purchase."
    )))
}

/// The lead's key when the caller gives none: one lead per customer and handle.
fn lead_key(customer_id: &CustomerId) -> IdempotencyKey {
    let digest = hex::encode(&Sha256::digest(customer_id.as_str().as_bytes())[..16]);
    IdempotencyKey::parse(&format!("lead:{digest}")).expect("hex is within the key alphabet")
}

/// The ways a merchant binds a customer: to a click (its ctx), to a coupon's partner, or by
/// hand to a partner's campaign.
pub enum BindBy {
    Ctx(Box<CtxClaims>),
    Coupon(CouponCode),
    Hand {
        partner: PartnerId,
        campaign: CampaignId,
    },
}

/// Binds `customer_id` the way asked (the first binding wins) and answers the customer as
/// stored then, with whether this call bound it. Round trips: the way's own, then ONE read.
#[tracing::instrument(skip_all, fields(handle = %handle, customer = %customer_id))]
pub async fn bind(
    binder: Binder<'_>,
    handle: &Handle,
    customer_id: &CustomerId,
    way: BindBy,
    email: Option<Email>,
) -> Result<(super::CustomerView, bool), CustomerError> {
    let (_, bound) = match way {
        BindBy::Ctx(claims) => by_ctx(binder, *claims, customer_id, email).await?,
        BindBy::Coupon(code) => by_coupon(binder, handle, customer_id, &code, email).await?,
        BindBy::Hand { partner, campaign } => {
            by_hand(binder, handle, customer_id, &partner, &campaign, email).await?
        }
    };
    let (_, view) = repo::get(binder.io.store.as_ref(), handle, customer_id)
        .await?
        .ok_or_else(|| CustomerError::NotFound(customer_id.clone()))?;
    Ok((view, bound))
}

/// Binds `customer_id` to the ctx's click, its campaign and the campaign's partner (first
/// binding wins). Round trips: ONE campaign read, ONE transaction.
pub async fn by_ctx(
    binder: Binder<'_>,
    claims: CtxClaims,
    customer_id: &CustomerId,
    email: Option<Email>,
) -> Result<(Customer, bool), CustomerError> {
    by_ctx_from(binder, claims, customer_id, email, BoundBy::Ctx).await
}

/// [`by_ctx`], saying what carried the ctx (`stripe`, `shopify`: a connector's checkout).
pub async fn by_ctx_from(
    binder: Binder<'_>,
    claims: CtxClaims,
    customer_id: &CustomerId,
    email: Option<Email>,
    by: BoundBy,
) -> Result<(Customer, bool), CustomerError> {
    let store = binder.io.store.as_ref();
    let partner_id = match &claims.campaign_id {
        Some(c) => crate::campaigns::get(store, &claims.handle, c)
            .await?
            .and_then(|campaign| campaign.partner_id),
        None => None,
    };
    let handle = claims.handle.clone();
    let binding = binding(binder, &handle, claims, partner_id, by, email).await?;
    repo::bind(binder.io, &handle, customer_id, binding).await
}

/// Binds `customer_id` by hand to `partner`'s `campaign` (which must exist and be the
/// partner's). Its conversions name a click id derived from the handle and customer, on the
/// campaign's primary link. Round trips: ONE campaign read, ONE transaction.
pub async fn by_hand(
    binder: Binder<'_>,
    handle: &Handle,
    customer_id: &CustomerId,
    partner: &PartnerId,
    campaign_id: &CampaignId,
    email: Option<Email>,
) -> Result<(Customer, bool), CustomerError> {
    let store = binder.io.store.as_ref();
    let campaign = campaign_of(store, handle, campaign_id, "campaignId").await?;
    if campaign.partner_id.as_ref() != Some(partner) {
        return Err(CustomerError::Invalid(format!(
            "partnerId: campaign {campaign_id} is not partner {partner}'s."
        )));
    }
    let by = BoundBy::Manual;
    on_campaign(
        binder,
        handle,
        customer_id,
        &campaign,
        partner.clone(),
        by,
        email,
    )
    .await
}

/// Binds `customer_id` to the partner and campaign of coupon `code` (first binding wins).
/// Round trips: the coupon's and its campaign's reads, ONE transaction.
pub async fn by_coupon(
    binder: Binder<'_>,
    handle: &Handle,
    customer_id: &CustomerId,
    code: &CouponCode,
    email: Option<Email>,
) -> Result<(Customer, bool), CustomerError> {
    let store = binder.io.store.as_ref();
    let (coupon, campaign) = coupon_of(store, handle, code).await?;
    let by = BoundBy::Coupon;
    on_campaign(
        binder,
        handle,
        customer_id,
        &campaign,
        coupon.partner_id,
        by,
        email,
    )
    .await
}

/// Binds `customer_id` to `partner` on `campaign` as the tool a merchant imported from had it
/// (`boundBy: import`, issue 64; the first binding wins, so a customer bound here before the
/// import keeps its binding). Its email in the old tool is kept as a lead's is (masked, and
/// as the keyed digest the self-referral check compares: the customer of a partner's own
/// address is flagged `self_referral`). Round trips: ONE transaction, plus ONE partner read
/// with an email.
pub async fn by_import(
    binder: Binder<'_>,
    handle: &Handle,
    customer_id: &CustomerId,
    campaign: &Campaign,
    partner: PartnerId,
    email: Option<Email>,
) -> Result<(Customer, bool), CustomerError> {
    on_campaign(
        binder,
        handle,
        customer_id,
        campaign,
        partner,
        BoundBy::Import,
        email,
    )
    .await
}

/// Binds `customer_id` to `partner` on `campaign` without a visitor's click: its conversions
/// name a click id derived from the handle and customer, on the campaign's primary link.
async fn on_campaign(
    binder: Binder<'_>,
    handle: &Handle,
    customer_id: &CustomerId,
    campaign: &Campaign,
    partner: PartnerId,
    by: BoundBy,
    email: Option<Email>,
) -> Result<(Customer, bool), CustomerError> {
    let claims = campaign_claims(handle, campaign, binding_click(handle, customer_id));
    let binding = binding(binder, handle, claims, Some(partner), by, email).await?;
    repo::bind(binder.io, handle, customer_id, binding).await
}

/// The claims a sale carrying coupon `code` and no customer is attributed with: the coupon's
/// campaign, on a click id of its own derived from the code and the sale's idempotency key (so
/// one coupon's many sales are not one click's, held to a per-click cap). Round trips: the
/// coupon's and its campaign's reads.
pub async fn coupon_claims(
    store: &dyn crate::platform::store::Store,
    handle: &Handle,
    code: &CouponCode,
    key: &IdempotencyKey,
) -> Result<CtxClaims, CustomerError> {
    let (_, campaign) = coupon_of(store, handle, code).await?;
    let seed = format!("{handle}\ncoupon\n{}\n{key}", code.key());
    let click = replay_click(store, handle, key, &seed).await?;
    Ok(campaign_claims(handle, &campaign, click))
}

/// A conversion of a customer bound to no one, sent without ctx or coupon code (issue 44):
/// accepted and recorded unattributed (no click, campaign or partner: no commission, counted
/// under no campaign and an empty slug), its customer's first sale claimed as any other's.
/// Round trips: ONE idempotency read (a replay names the first try's click), the first-sale
/// claim, then the conversion's.
#[tracing::instrument(skip_all, fields(handle = %handle, customer = %customer_id))]
pub async fn unattributed(
    intake: Intake<'_>,
    handle: &Handle,
    customer_id: &CustomerId,
    conversion: ValidConversion,
    channel: Channel,
) -> Result<Receipt, LeadError> {
    let store = intake.io.store.as_ref();
    let key = &conversion.idempotency_key;
    let seed = format!("{handle}\nunattributed\n{customer_id}\n{key}");
    let click_id = replay_click(store, handle, key, &seed)
        .await
        .map_err(CustomerError::from)?;
    let first = repo::claim_first(store, handle, customer_id, &conversion.event_type, key)
        .await
        .map_err(CustomerError::from)?;
    let sale = CustomerSale {
        customer_id: customer_id.clone(),
        first,
        bound_at: None,
        self_referral: false,
        counted: None,
    };
    let claims = CtxClaims {
        slug: Slug::unattributed(),
        campaign_id: None,
        ..campaign_less_claims(handle, click_id)
    };
    Ok(crate::conversions::submit_as(intake, &claims, conversion, channel, Some(&sale)).await?)
}

/// The click a conversion without a visitor's click names: the one its first try recorded
/// (read from its idempotency record, so a replay hashes and dedupes as the first), else a
/// new one derived from `seed`. Round trips: ONE read.
async fn replay_click(
    store: &dyn crate::platform::store::Store,
    handle: &Handle,
    key: &IdempotencyKey,
    seed: &str,
) -> Result<ClickId, StoreError> {
    let record = IdempotencyRecord::load(store, handle, key).await?;
    match record.and_then(|r| r.response) {
        Some(receipt) => Ok(receipt.click_id),
        None => Ok(derived_click(seed)),
    }
}

/// The coupon `code` names and its campaign; an unknown code is the caller's error.
async fn coupon_of(
    store: &dyn crate::platform::store::Store,
    handle: &Handle,
    code: &CouponCode,
) -> Result<(Coupon, Campaign), CustomerError> {
    let coupon = super::coupons::lookup(store, handle, code)
        .await?
        .ok_or_else(|| {
            CustomerError::Invalid(format!(
                "couponCode: {code} is not a coupon code of {handle}."
            ))
        })?;
    if !coupon.attributes_at(crate::platform::time::now_millis()) {
        let by = coupon.replaced_by.as_ref().map(ToString::to_string);
        return Err(CustomerError::Invalid(format!(
            "couponCode: {code} was replaced by {} and no longer attributes sales.",
            by.unwrap_or_default()
        )));
    }
    let campaign = campaign_of(store, handle, &coupon.campaign_id, "couponCode").await?;
    Ok((coupon, campaign))
}

async fn campaign_of(
    store: &dyn crate::platform::store::Store,
    handle: &Handle,
    campaign_id: &CampaignId,
    field: &str,
) -> Result<Campaign, CustomerError> {
    crate::campaigns::get(store, handle, campaign_id)
        .await?
        .ok_or_else(|| {
            CustomerError::Invalid(format!("{field}: campaign {campaign_id} does not exist."))
        })
}

/// Claims for a binding or sale without a visitor's click: the campaign, its primary link, and
/// an attribution the click would have had were it unknown.
pub(super) fn campaign_claims(
    handle: &Handle,
    campaign: &Campaign,
    click_id: ClickId,
) -> CtxClaims {
    CtxClaims {
        slug: campaign.primary_slug.clone(),
        campaign_id: Some(campaign.campaign_id.clone()),
        ..campaign_less_claims(handle, click_id)
    }
}

/// Claims with no visitor behind them: attribution unknown, never expiring.
fn campaign_less_claims(handle: &Handle, click_id: ClickId) -> CtxClaims {
    CtxClaims {
        click_id,
        handle: handle.clone(),
        slug: Slug::unattributed(),
        campaign_id: None,
        attribution: Attribution::unknown(),
        issued_at: crate::platform::store::now_unix(),
        expires_at: i64::MAX,
        sub_ids: Default::default(),
        test: false,
        address_hash: None,
        visitor_hash: None,
    }
}

/// The click id a binding without a click stands for: derived from the handle and customer
/// (so it reads as this binding's, never as a visitor's click).
fn binding_click(handle: &Handle, customer_id: &CustomerId) -> ClickId {
    derived_click(&format!("{handle}\n{customer_id}"))
}

/// A click id time-ordered from now, its rest a digest of `seed`.
pub(super) fn derived_click(seed: &str) -> ClickId {
    let ms = u64::try_from(crate::platform::time::now_millis()).unwrap_or(0);
    let digest = Sha256::digest(seed.as_bytes());
    let rest = hex::encode(&digest[..10]);
    ClickId::parse(&format!("{}{ms:012x}{rest}", ClickId::PREFIX)).expect("32 hex digits")
}

/// The binding a conversion of `customer_id` is attributed by, in the contract's order: the
/// customer's binding, else the ctx, else the coupon code (either binds the customer first;
/// with a ctx the binding transaction itself keeps an earlier binding). `None`: not bound, and
/// neither given. Round trips: ONE transaction with a ctx; else ONE read, plus a coupon
/// binding's reads and transaction when unbound.
pub async fn attributed(
    binder: Binder<'_>,
    handle: &Handle,
    customer_id: &CustomerId,
    ctx: Option<CtxClaims>,
    coupon: Option<&CouponCode>,
) -> Result<Option<Customer>, CustomerError> {
    if let Some(claims) = ctx {
        return Ok(Some(by_ctx(binder, claims, customer_id, None).await?.0));
    }
    if let Some((bound, _)) = repo::get(binder.io.store.as_ref(), handle, customer_id).await? {
        return Ok(Some(bound));
    }
    match coupon {
        Some(code) => Ok(Some(
            by_coupon(binder, handle, customer_id, code, None).await?.0,
        )),
        None => Ok(None),
    }
}

/// A new binding, flagged `self_referral` when the customer's email is its partner's own.
/// Round trips: ONE partner read, only with an email and a partner.
async fn binding(
    binder: Binder<'_>,
    handle: &Handle,
    claims: CtxClaims,
    partner_id: Option<PartnerId>,
    by: BoundBy,
    email: Option<Email>,
) -> Result<Binding, CustomerError> {
    let mut flags = Vec::new();
    if let (Some(partner), Some(email), Some(keys)) = (&partner_id, &email, binder.email_keys) {
        let record = crate::partners::get(binder.io.store.as_ref(), handle, partner).await?;
        let own = record.and_then(|p| p.email);
        if own.is_some_and(|e| keys.email_digest(e.trim()) == email.digest) {
            flags.push(SELF_REFERRAL.to_owned());
        }
    }
    Ok(Binding {
        claims,
        partner_id,
        by,
        email,
        flags,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn customer(id: &str) -> CustomerId {
        CustomerId::parse(id).unwrap()
    }

    #[test]
    fn a_lead_may_not_bind_an_id_anyone_can_derive_from_a_buyer() {
        for derivable in [
            "email:jo@example.com",
            "jo@example.com",
            "SHOPIFY:1234",
            "import:x",
        ] {
            let e = refuse_derivable(&customer(derivable))
                .unwrap_err()
                .to_string();
            assert!(
                e.contains("customerId:") && e.contains("anyone can know"),
                "{e}"
            );
        }
        for own in ["cus_NffrFeUfNV2Hib", "user-42"] {
            assert!(refuse_derivable(&customer(own)).is_ok(), "{own}");
        }
    }

    #[test]
    fn a_leads_own_key_is_one_per_customer_and_never_the_id_itself() {
        let key = lead_key(&customer("cus_A"));
        assert_eq!(key, lead_key(&customer("cus_A")));
        assert_ne!(key, lead_key(&customer("cus_B")));
        assert!(key.as_str().starts_with("lead:"), "{key}");
        assert!(!key.as_str().contains("cus_A"), "{key}");
    }

    #[test]
    fn a_binding_without_a_click_stands_for_one_click_per_handle_and_customer() {
        let acme = Handle::parse("acme").unwrap();
        let globex = Handle::parse("globex").unwrap();
        let digest = |c: ClickId| c.as_str()[ClickId::PREFIX.len() + 12..].to_owned();
        let a = binding_click(&acme, &customer("cus_A"));
        assert!(ClickId::parse(a.as_str()).is_ok(), "{a}");
        assert_eq!(
            digest(a.clone()),
            digest(binding_click(&acme, &customer("cus_A")))
        );
        assert_ne!(
            digest(a.clone()),
            digest(binding_click(&acme, &customer("cus_B")))
        );
        assert_ne!(
            digest(a),
            digest(binding_click(&globex, &customer("cus_A")))
        );
    }

    /// A binding of `customer` to `partner`, as a manual binding makes it: on the partner's
    /// campaign's primary link.
    fn by_hand_to(handle: &Handle, customer: &CustomerId, partner: &str) -> Binding {
        let claims = CtxClaims {
            slug: Slug::parse(&format!("{partner}-deal")).unwrap(),
            campaign_id: Some(CampaignId::parse(&format!("{partner}-campaign")).unwrap()),
            ..campaign_less_claims(handle, binding_click(handle, customer))
        };
        Binding {
            claims,
            partner_id: Some(PartnerId::parse(partner).unwrap()),
            by: BoundBy::Manual,
            email: None,
            flags: Vec::new(),
        }
    }

    fn io_parts() -> (
        std::sync::Arc<dyn crate::platform::store::Store>,
        std::sync::Arc<dyn crate::platform::queue::Queue>,
    ) {
        (
            std::sync::Arc::new(crate::platform::store::embedded::EmbeddedStore::in_memory()),
            std::sync::Arc::new(crate::platform::queue::embedded::EmbeddedQueue::in_memory()),
        )
    }

    #[tokio::test]
    async fn the_first_binding_wins_and_a_later_one_gets_it_back_unchanged() {
        let acme = Handle::parse("acme").unwrap();
        let (store, queue) = io_parts();
        let io = Io::new(&store, &queue);
        let id = customer("cus_A");
        let (first, made) = repo::bind(io, &acme, &id, by_hand_to(&acme, &id, "pub-one"))
            .await
            .unwrap();
        assert!(made);
        let (second, made) = repo::bind(io, &acme, &id, by_hand_to(&acme, &id, "pub-two"))
            .await
            .unwrap();
        assert!(!made, "a second binding never replaces the first");
        assert_eq!(second.partner_id, first.partner_id);
        assert_eq!(second.bound_at, first.bound_at);
        let (stored, _) = repo::get(store.as_ref(), &acme, &id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(stored.partner_id.unwrap().as_str(), "pub-one");
    }

    #[tokio::test]
    async fn bindings_racing_for_one_customer_bind_it_once() {
        let acme = Handle::parse("acme").unwrap();
        let (store, queue) = io_parts();
        let id = customer("cus_R");
        let partners = ["pub-one", "pub-two", "pub-three", "pub-four"];
        let races = partners.iter().map(|p| {
            let (store, queue, acme, id) = (store.clone(), queue.clone(), acme.clone(), id.clone());
            let binding = by_hand_to(&acme, &id, p);
            async move {
                repo::bind(Io::new(&store, &queue), &acme, &id, binding)
                    .await
                    .unwrap()
            }
        });
        let outcomes = futures::future::join_all(races).await;
        assert_eq!(outcomes.iter().filter(|(_, made)| *made).count(), 1);
        let winner = &outcomes.iter().find(|(_, made)| *made).unwrap().0;
        for (c, _) in &outcomes {
            assert_eq!(
                c.partner_id, winner.partner_id,
                "every caller reads the one binding"
            );
        }
    }

    #[tokio::test]
    async fn a_customers_first_sale_of_a_kind_is_claimed_once_and_a_replay_reads_the_same() {
        let acme = Handle::parse("acme").unwrap();
        let (store, _) = io_parts();
        let id = customer("cus_F");
        let key = |k: &str| crate::domain::IdempotencyKey::parse(k).unwrap();
        let store = store.as_ref();
        let (one, two) = (key("order-1"), key("order-2"));
        let first = |k| repo::claim_first(store, &acme, &id, "purchase", k);
        assert!(first(&one).await.unwrap(), "the first sale claims it");
        assert!(
            first(&one).await.unwrap(),
            "its replay gets the same answer"
        );
        assert!(
            !first(&two).await.unwrap(),
            "a second sale is not the first"
        );
        let other = repo::claim_first(store, &acme, &id, "renewal", &two);
        assert!(
            other.await.unwrap(),
            "each event type has a first of its own"
        );
    }

    #[test]
    fn a_conversion_counts_once_and_its_value_in_whole_micro_units() {
        let acme = Handle::parse("acme").unwrap();
        let id = customer("cus_C");
        let eur = crate::domain::Currency::parse("EUR").unwrap();
        let value: rust_decimal::Decimal = "19.9999999".parse().unwrap();
        let crate::platform::store::WriteOp::Add { deltas, sk, .. } =
            repo::conversion_counted(&acme, &id, Some(value), Some(eur))
        else {
            panic!("an add")
        };
        assert_eq!(sk, "cus_C");
        assert_eq!(
            deltas,
            vec![
                ("conversions".to_owned(), 1),
                ("rev_eur".to_owned(), 19_999_999)
            ]
        );
        let crate::platform::store::WriteOp::Add { deltas, .. } =
            repo::conversion_counted(&acme, &id, None, Some(eur))
        else {
            panic!("an add")
        };
        assert_eq!(
            deltas,
            vec![("conversions".to_owned(), 1)],
            "no value, no revenue"
        );
    }

    #[test]
    fn claims_without_a_visitor_are_unattributed_and_never_expire() {
        let acme = Handle::parse("acme").unwrap();
        let click = binding_click(&acme, &customer("cus_A"));
        let claims = campaign_less_claims(&acme, click.clone());
        assert_eq!((&claims.click_id, &claims.handle), (&click, &acme));
        assert_eq!(claims.slug, Slug::unattributed());
        assert_eq!((claims.campaign_id, claims.expires_at), (None, i64::MAX));
        assert!(!claims.test && claims.address_hash.is_none());
    }
}
