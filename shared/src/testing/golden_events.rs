//! The wire of every event family, pinned: each payload's JSON as the code wrote it before the
//! payloads were typed (issue 48), kept in `golden_events.json`.

use serde_json::{Value, json};

use crate::domain::{
    ApplicationId, Attribution, BoundBy, CampaignId, ClickId, CommissionId, ConversionId, Currency,
    CustomerId, Device, Handle, IdempotencyKey, NoticeId, PartnerId, PayoutId, ReversalId, Slug,
    SubscriptionId, TokenId,
};
use crate::kernel::events::{ClickData, ConversionData, Event, EventType, Reversal, ReversalData};
use crate::payout_methods::model::PartnerUpdatedData;

fn eur() -> Currency {
    Currency::parse("EUR").unwrap()
}

fn attribution() -> Attribution {
    Attribution {
        country: "DE".into(),
        device: Device::Mobile,
        source: "instagram".into(),
        referrer: "direct".into(),
        segment: "new-mobile".into(),
        variant: None,
    }
}

fn click() -> ClickData {
    ClickData {
        click_id: ClickId::parse("clk_0190a1b2c3d4e5f60718293a4b5c6d7e").unwrap(),
        slug: "spring".into(),
        campaign_id: Some(CampaignId::parse("spring-sale").unwrap()),
        attribution: attribution(),
        bot: false,
        bot_reason: None,
        expired: false,
        sub_ids: Default::default(),
        test: false,
        ad_click: None,
        user_agent: None,
        region: None,
        city: None,
        destination_url: "https://example.com/?a=\"b\"".into(),
        at: "2026-11-21T09:00:00.000Z".into(),
    }
}

fn conversion(test: bool) -> ConversionData {
    ConversionData {
        conversion_id: ConversionId::parse("cnv_0190a1b2c3d4e5f60718293a4b5c6d7e").unwrap(),
        idempotency_key: IdempotencyKey::parse("order-1").unwrap(),
        click_id: ClickId::parse("clk_0190a1b2c3d4e5f60718293a4b5c6d7e").unwrap(),
        campaign_id: Some(CampaignId::parse("spring-sale").unwrap()),
        slug: "spring".into(),
        event_type: "purchase".into(),
        value: Some("19.99".parse().unwrap()),
        currency: Some("EUR".parse().unwrap()),
        test,
        metadata: Some(json!({"order": "A-1"})),
        attribution: attribution(),
        sub_ids: Default::default(),
        received_at: crate::domain::time::Timestamp::literal("2026-11-21T09:05:00.000Z"),
        verified: true,
        risk: Default::default(),
        reversal: None,
        superseded_by: None,
        receipt: Some("eyJhbGciOiJFZERTQSJ9.e30.c2ln".into()),
        customer_id: Some(CustomerId::parse("cus-42").unwrap()),
        customer_first: true,
        customer_bound_at: Some(crate::domain::time::Timestamp::literal(
            "2026-11-20T09:00:00.000Z",
        )),
        customer_self_referral: false,
        coupon: None,
        address_hash: Some("ab12cd34".into()),
        visitor_hash: None,
    }
}

fn reversal() -> ReversalData {
    ReversalData {
        reversal: Reversal {
            reversal_id: ReversalId::parse("rev_0190a1b2c3d4e5f60718293a4b5c6d7e").unwrap(),
            reason: "refund".into(),
            amount: Some("12.5".parse().unwrap()),
            currency: Some("EUR".parse().unwrap()),
            reversed_at: crate::domain::time::Timestamp::literal("2026-11-22T09:00:00.000Z"),
            reversed_by: "stripe".into(),
            previous_amount: Some("10".parse().unwrap()),
        },
        conversion: conversion(false),
    }
}

fn commission() -> crate::ledger::model::Commission {
    use crate::ledger::model::{Commission, Kind, Status};
    let mut c = Commission::blank(
        CommissionId::parse("com_0190a1b2c3d4e5f60718293a4b5c6d7e").unwrap(),
        Kind::Conversion,
        PartnerId::parse("partner-alpha").unwrap(),
        Some(250),
        eur(),
        Status::Approved,
    );
    c.conversion_id =
        Some(crate::domain::ConversionId::parse("cnv_0190a1b2c3d4e5f60718293a4b5c6d7e").unwrap());
    c.campaign_id = Some(CampaignId::parse("spring-sale").unwrap());
    c.event_type = Some("purchase".into());
    c.value = Some("19.99".parse().unwrap());
    c.value_currency = Some("EUR".parse().unwrap());
    c.plan_version = Some(3);
    c.fx_rate = Some("1.0".parse().unwrap());
    c.available_at = crate::domain::time::Timestamp::literal("2026-12-21T09:05:00.000Z");
    c.created_at = crate::domain::time::Timestamp::literal("2026-11-21T09:05:00.000Z");
    c.rule_index = Some(0);
    c
}

fn payout() -> crate::payouts::model::Payout {
    crate::payouts::model::Payout {
        payout_id: PayoutId::parse("pay_0190a1b2c3d4e5f60718293a4b5c6d7e").unwrap(),
        partner_id: PartnerId::parse("partner-alpha").unwrap(),
        amount_minor: 12_345,
        currency: eur(),
        commission_count: 3,
        commission_ids: Vec::new(),
        line_pages: 1,
        status: crate::payouts::model::PayoutStatus::Paid,
        period_start: "2026-10-01T00:00:00.000Z".into(),
        period_end: "2026-11-01T00:00:00.000Z".into(),
        sequence: 7,
        created_at: crate::domain::time::Timestamp::literal("2026-11-02T09:00:00.000Z"),
        paid_at: Some(crate::domain::time::Timestamp::literal(
            "2026-11-03T09:00:00.000Z",
        )),
        reference: Some("SEPA-1".into()),
        reason: None,
        created_by: "local-user".into(),
        provider: None,
        merkle_root: "00".into(),
        previous_statement_hash: None,
        statement_hash: "11".into(),
        jws: "x.y.z".into(),
        invoice_sequence: None,
        test: false,
        version: 2,
    }
}

/// The payout sent through PayPal: being sent (`payout.sent`), then failed or returned by it.
fn through_paypal(
    status: crate::payouts::model::PayoutStatus,
    reason: Option<&str>,
) -> crate::payouts::model::Payout {
    let mut p = payout();
    (p.status, p.paid_at, p.reference) = (status, None, None);
    p.reason = reason.map(str::to_owned);
    p.provider = Some(crate::payouts::model::ProviderRef {
        name: "paypal".into(),
        reference: Some("5UXD2E8A7EBQJ".into()),
        state: Some("Sent through PayPal; waiting for its confirmation.".into()),
    });
    p
}

fn notice() -> crate::plans::notice::Notice {
    crate::plans::notice::Notice {
        notice_id: NoticeId::parse("ntc_0190a1b2c3d4e5f60718293a4b5c6d7e").unwrap(),
        handle: Handle::parse("acme").unwrap(),
        partner_id: PartnerId::parse("partner-alpha").unwrap(),
        campaign_id: CampaignId::parse("spring-sale").unwrap(),
        plan_version: 2,
        previous_version: Some(1),
        effective_at: crate::domain::time::Timestamp::literal("2026-12-01T00:00:00.000Z"),
        summary: "10% of each purchase (was 8%)".into(),
        before: vec!["8% of each purchase".into()],
        after: vec!["10% of each purchase".into()],
        difference30d: crate::plans::notice::Difference {
            from: "2026-10-22".into(),
            to: "2026-11-21".into(),
            currency: eur(),
            conversions: 4,
            actual: "8.00".into(),
            draft: "10.00".into(),
            difference: "2.00".into(),
        },
        created_at: crate::domain::time::Timestamp::literal("2026-11-21T09:00:00.000Z"),
        jws: "a.b.c".into(),
    }
}

fn customer() -> crate::customers::CustomerView {
    crate::customers::CustomerView {
        customer_id: CustomerId::parse("cus-42").unwrap(),
        click_id: ClickId::parse("clk_0190a1b2c3d4e5f60718293a4b5c6d7e").unwrap(),
        campaign_id: Some(CampaignId::parse("spring-sale").unwrap()),
        partner_id: Some(PartnerId::parse("partner-alpha").unwrap()),
        bound_at: crate::domain::time::Timestamp::literal("2026-11-20T09:00:00.000Z"),
        bound_by: BoundBy::Ctx,
        email_masked: Some("a***@example.com".into()),
        flags: vec![],
        moved: None,
        conversion_count: 0,
        revenue: Default::default(),
        commissions: Default::default(),
    }
}

fn application() -> crate::programs::model::Application {
    crate::programs::model::Application {
        application_id: ApplicationId::parse("app_0190a1b2c3d4e5f60718293a4b5c6d7e").unwrap(),
        name: "Alpha".into(),
        email: "alpha@example.com".into(),
        email_masked: "a***@example.com".into(),
        email_hash: "digest".into(),
        website: Some("https://alpha.example.com".into()),
        message: None,
        throwaway_domain: None,
        status: crate::programs::model::ApplicationStatus::Pending,
        reason: None,
        partner_id: None,
        campaign_id: None,
        created_at: crate::domain::time::Timestamp::literal("2026-11-21T09:00:00.000Z"),
        decided_at: None,
        decided_by: None,
        version: 1,
        approval_key: Some("digest of a retry key".into()),
    }
}

fn approved() -> crate::programs::model::PartnerApprovedData {
    crate::programs::model::PartnerApprovedData {
        application_id: ApplicationId::parse("app_0190a1b2c3d4e5f60718293a4b5c6d7e").unwrap(),
        partner_id: PartnerId::parse("alpha").unwrap(),
        campaign_id: CampaignId::parse("alpha").unwrap(),
        slug: Slug::parse("alpha").unwrap(),
        short_url: "https://go.example.com/alpha".into(),
        name: "Alpha".into(),
        email: "alpha@example.com".into(),
        partner_token: crate::programs::model::IssuedToken {
            token_id: TokenId::parse("tok_0190a1b2c3d4e5f60718293a4b5c6d7e").unwrap(),
            token: "tenx_pat_secret".into(),
            expires_at: crate::domain::time::Timestamp::literal("2027-11-21T09:00:00.000Z"),
        },
    }
}

fn partner_updated() -> PartnerUpdatedData {
    PartnerUpdatedData {
        partner_id: PartnerId::parse("partner-alpha").unwrap(),
        changes: vec!["payoutMethod".into()],
        previous: json!({"type": "sepa", "iban": "DE89 **** **** 3000"}),
        current: json!({"type": "sepa", "iban": "DE44 **** **** 0000"}),
        changed_by: "partner-alpha".into(),
        changed_at: crate::domain::time::Timestamp::literal("2026-11-21T09:00:00.000Z"),
        held_until: "2026-11-22T09:00:00.000Z".into(),
    }
}

fn claim(decided: bool) -> crate::claims::Claim {
    use crate::claims::model::{
        Claim, Decision, Evidence, Found, Proposal, Status, Target, Verdict,
    };
    let at = crate::domain::time::Timestamp::literal;
    let id = crate::domain::ClaimId::parse("clm_0190a1b2c3d4e5f60718293a4b5c6d7e").unwrap();
    let partner = PartnerId::parse("partner-alpha").unwrap();
    Claim {
        claim_id: id.clone(),
        partner_id: partner.clone(),
        status: if decided {
            Status::Approved
        } else {
            Status::Open
        },
        target: Target {
            order_id: Some("order-1".into()),
            ..Target::default()
        },
        occurred_at: at("2026-11-20T09:00:00.000Z"),
        evidence: Evidence {
            ctx: Some("(kept)".into()),
            note: Some("My reader bought it.".into()),
            ..Evidence::default()
        },
        amount: None,
        currency: None,
        attachments: Vec::new(),
        opened_at: at("2026-11-21T09:00:00.000Z"),
        deadline_at: at("2026-12-21T09:00:00.000Z"),
        proposal: Proposal {
            verdict: Verdict::Approve,
            reasons: vec!["The click is tied to this buyer.".into()],
            for_managers: Vec::new(),
        },
        found: Found::default(),
        decision: decided.then(|| Decision {
            claim_id: id,
            handle: Handle::parse("acme").unwrap(),
            partner_id: partner,
            decision: Verdict::Approve,
            reason: "The evidence holds.".into(),
            decided_at: at("2026-11-22T09:00:00.000Z"),
            decided_by: "operator".into(),
            overdue: false,
            amount: Some("5.00".into()),
            currency: Some(eur()),
            commission_id: Some(
                CommissionId::parse("com_0190a1b2c3d4e5f60718293a4b5c6d7e").unwrap(),
            ),
            reversed_commission_id: None,
            binding: None,
            jws: "a.b.c".into(),
        }),
        version: 1,
    }
}

fn link() -> crate::domain::link::Link {
    crate::domain::link::Link {
        handle: Handle::parse("acme").unwrap(),
        slug: Slug::parse("spring").unwrap(),
        destination_url: "https://example.com/spring".into(),
        title: Some("Spring".into()),
        tracking: None,
        routing_rules: vec![],
        campaign_id: Some(CampaignId::parse("spring-sale").unwrap()),
        forward_query: true,
        expiry: None,
        variants: Vec::new(),
        variant_period: None,
        version: 1,
        created_at: crate::domain::time::Timestamp::literal("2026-11-21T09:00:00.000Z"),
        updated_at: crate::domain::time::Timestamp::literal("2026-11-21T09:00:00.000Z"),
    }
}

/// One event of every type, each built from its typed payload the way its service builds it.
fn built() -> Vec<Event> {
    use crate::ledger::view::{self, CommissionEvent};
    use crate::payouts::model::{PayoutEvent, payout_event};
    let h = Handle::parse("acme").unwrap();
    let mut updated = link();
    updated.version = 2;
    let test = crate::webhooks::lifecycle::WebhookTestData {
        subscription_id: SubscriptionId::parse("wh_0190a1b2c3d4e5f60718293a4b5c6d7e").unwrap(),
        message: crate::webhooks::lifecycle::TEST_MESSAGE.to_owned(),
    };
    let line = |kind| Event::of(&h, view::event(kind, &commission()).payload);
    let paid = |kind| Event::of(&h, payout_event(&payout(), kind).payload);
    use crate::payouts::model::PayoutStatus;
    const FAILED: &str = "PayPal refused the payment: the partner's PayPal account is locked.";
    const RETURNED: &str = "PayPal gave the payment back: it was not claimed within 30 days.";
    let provider = |status, reason, kind| {
        Event::of(
            &h,
            payout_event(&through_paypal(status, reason), kind).payload,
        )
    };
    vec![
        Event::new(&h, &click()),
        Event::new(&h, &crate::links::LinkEvent::Created(link())),
        Event::new(&h, &crate::links::LinkEvent::Updated(updated)),
        Event::new(&h, &conversion(false)),
        Event::new(&h, &conversion(true)),
        Event::new(&h, &reversal()),
        Event::new(&h, &test),
        line(CommissionEvent::Created),
        line(CommissionEvent::Approved),
        line(CommissionEvent::Rejected),
        line(CommissionEvent::Reversed),
        paid(PayoutEvent::Created),
        paid(PayoutEvent::Paid),
        provider(PayoutStatus::Sending, None, PayoutEvent::Sent),
        provider(PayoutStatus::Failed, Some(FAILED), PayoutEvent::Failed),
        provider(
            PayoutStatus::Returned,
            Some(RETURNED),
            PayoutEvent::Returned,
        ),
        Event::new(&h, &customer()),
        Event::new(&h, &notice()),
        Event::new(
            &h,
            &crate::programs::model::PartnerApplied::of(application()),
        ),
        Event::new(&h, &approved()),
        Event::new(&h, &partner_updated()),
        Event::new(&h, &crate::claims::model::ClaimEvent::Opened(claim(false))),
        Event::new(&h, &crate::claims::model::ClaimEvent::Decided(claim(true))),
        Event::new(&h, &leak()),
    ]
}

/// A leaked code's alert (issue 63).
fn leak() -> crate::coupon_leaks::Leak {
    crate::coupon_leaks::Leak {
        code: "SPRING10".into(),
        partner_id: PartnerId::parse("pub-one").unwrap(),
        scored: crate::coupon_leaks::score::Scored {
            conversions: 10,
            without_click: 8,
            share: 0.8,
            sources: vec![crate::coupon_leaks::score::Source {
                referrer_domain: "retailmenot.com".into(),
                count: 8,
            }],
            score: 86,
            reasons: vec![
                "coupon_sales_without_partner_click".into(),
                "coupon_site_referrer".into(),
            ],
        },
        threshold: 60,
    }
}

/// The golden file was written from the code as it stood before the payloads were typed (the
/// commit that added it); every type's typed payload must still produce exactly it. (That a
/// payload cannot go out under another type is the compiler's: see `EventPayload`.)
#[test]
fn every_event_family_keeps_its_wire_json() {
    let golden: Value = serde_json::from_str(include_str!("golden_events.json")).unwrap();
    let events = built();
    let kinds: Vec<EventType> = events.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, EventType::ALL, "one event per type, in order");
    for event in &events {
        let want = &golden[event.kind.as_str()];
        assert_eq!(&event.data, want, "{}", event.kind.as_str());
        // The bytes on the queue, in the outbox and in the webhook body.
        assert_eq!(
            serde_json::to_string(&event.data).unwrap(),
            serde_json::to_string(want).unwrap()
        );
    }
}

/// The payloads consumers read typed read back from the golden JSON, under their own types only.
#[test]
fn typed_payloads_read_back_from_the_golden_json() {
    let golden: Value = serde_json::from_str(include_str!("golden_events.json")).unwrap();
    let h = Handle::parse("acme").unwrap();
    let stored = |kind: EventType| Event::untyped(kind, &h, golden[kind.as_str()].clone());
    let click_event = stored(EventType::LinkClicked);
    assert_eq!(click_event.payload::<ClickData>().unwrap(), click());
    assert!(click_event.payload::<ConversionData>().is_err());
    let created = stored(EventType::ConversionCreated);
    assert_eq!(
        created.payload::<ConversionData>().unwrap(),
        conversion(false)
    );
    let tested = stored(EventType::ConversionTested);
    assert_eq!(
        tested.payload::<ConversionData>().unwrap(),
        conversion(true)
    );
    let reversed = stored(EventType::ConversionReversed);
    assert_eq!(reversed.payload::<ReversalData>().unwrap(), reversal());
    assert!(reversed.payload::<ConversionData>().is_err());
    let updated = stored(EventType::PartnerUpdated);
    assert_eq!(
        updated.payload::<PartnerUpdatedData>().unwrap(),
        partner_updated()
    );
}
