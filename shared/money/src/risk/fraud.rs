//! The partner signals beyond its own lines and clicks (pure): the same payout account or tax
//! id behind another partner of the handle, a throwaway address behind the partner, and refunds
//! on lines already paid out. Each says its evidence in words a manager can act on: the other
//! partner by its name, the address (masked) and its domain, the conversions refunded.

use super::signals::{LineFacts, Signal, SignalCode};

/// What these signals are computed from, gathered by [`super::assess`] from stored facts.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    /// The other partners paid into the same account now: (name, the rail in words).
    pub shared_account: Vec<(String, String)>,
    /// The other partners whose tax profile has one of the partner's tax ids, by name.
    pub shared_tax_id: Vec<String>,
    /// Where the partner's people sign in from: (the address's keyed digest, whose, masked).
    pub sign_ins: Vec<(String, String)>,
    /// The browsers the partner's people sign in from: (the visitor fingerprint, whose, masked).
    pub sign_in_browsers: Vec<(String, String)>,
    /// The partner's addresses at a disposable domain: (whose, masked address, domain).
    pub disposable: Vec<(String, String, String)>,
    /// The program's `refundAfterPayoutThreshold` (percent).
    pub refund_after_payout_percent: u8,
    /// The partner's newest clicks from paid ads, and whether the program allows them.
    pub paid_clicks: Vec<crate::analytics::paid::PaidClick>,
    pub paid_traffic_allowed: bool,
}

/// The signals, in [`SignalCode::ALL`]'s order after the line signals.
pub fn all(lines: &[LineFacts], facts: &Facts) -> Vec<Signal> {
    vec![
        shared_account(facts),
        shared_tax_id(facts),
        customer_matches_partner(lines, facts),
        disposable(facts),
        paid_traffic(facts),
        refunds_after_payout(lines, facts.refund_after_payout_percent),
    ]
}

fn shared_account(f: &Facts) -> Signal {
    let n = f.shared_account.len() as u64;
    let detail = format!("{n} other partner(s) paid into the same account");
    let examples = f
        .shared_account
        .iter()
        .map(|(name, rail)| format!("{name} is paid into the same {rail} account"))
        .collect();
    Signal::new(SignalCode::SharedPayoutAccount, n, n > 0, detail, examples)
}

fn shared_tax_id(f: &Facts) -> Signal {
    let n = f.shared_tax_id.len() as u64;
    let detail = format!("{n} other partner(s) with the same tax id");
    let examples = f
        .shared_tax_id
        .iter()
        .map(|name| format!("{name} gave the same tax id"))
        .collect();
    Signal::new(SignalCode::SharedTaxId, n, n > 0, detail, examples)
}

/// Sales whose click came from a browser or an address the partner's people sign in from
/// (the partner's own email on the customer is `self_referral`'s, not counted twice), each
/// counted once and said by what matched.
fn customer_matches_partner(lines: &[LineFacts], f: &Facts) -> Signal {
    let find = |hash: Option<&str>, among: &[(String, String)]| -> Option<String> {
        let hash = hash?;
        let (_, who) = among.iter().find(|(h, _)| h == hash)?;
        Some(who.clone())
    };
    let own: Vec<(&LineFacts, String)> = lines
        .iter()
        .filter(|l| !l.self_referral)
        .filter_map(|l| {
            let browser = find(l.visitor_hash.as_deref(), &f.sign_in_browsers);
            let address = find(l.address_hash.as_deref(), &f.sign_ins);
            let words = match (browser, address) {
                (Some(b), Some(a)) if a == b => {
                    format!("a browser and the address {b} signs in from")
                }
                (Some(b), Some(a)) => {
                    format!("a browser {b} signs in from and the address {a} signs in from")
                }
                (Some(b), None) => format!("a browser {b} signs in from"),
                (None, Some(a)) => format!("the address {a} signs in from"),
                (None, None) => return None,
            };
            Some((l, words))
        })
        .collect();
    let n = own.len() as u64;
    let detail = format!("{n} sale(s) from where the partner's people sign in");
    let examples = own
        .iter()
        .map(|(l, words)| {
            let customer = l
                .customer_id
                .as_ref()
                .map(|c| format!(", customer {c},"))
                .unwrap_or_default();
            format!("The sale {}{customer} came from {words}", l.sale())
        })
        .collect();
    Signal::new(
        SignalCode::CustomerMatchesPartner,
        n,
        n > 0,
        detail,
        examples,
    )
}

fn disposable(f: &Facts) -> Signal {
    let n = f.disposable.len() as u64;
    let detail = format!("{n} address(es) at a throwaway-mail domain");
    let examples = f
        .disposable
        .iter()
        .map(|(whose, masked, domain)| {
            format!("{whose} {masked} is at {domain}, a throwaway-mail domain")
        })
        .collect();
    Signal::new(SignalCode::DisposableEmail, n, n > 0, detail, examples)
}

/// One click from a paid ad fires it, unless the program allows paid traffic.
fn paid_traffic(f: &Facts) -> Signal {
    let n = f.paid_clicks.len() as u64;
    let detail = if f.paid_traffic_allowed {
        format!("{n} click(s) from paid ads (the program allows paid traffic)")
    } else {
        format!("{n} click(s) from paid ads")
    };
    let examples = f
        .paid_clicks
        .iter()
        .map(|c| {
            let when = c.at.get(..16).unwrap_or(&c.at).replace('T', " ");
            format!(
                "The click of {when} UTC on /{} came with {} (click {})",
                c.slug,
                crate::domain::ad_clicks::words(&c.ad_click),
                c.click_id
            )
        })
        .collect();
    let fired = n > 0 && !f.paid_traffic_allowed;
    Signal::new(SignalCode::PaidTraffic, n, fired, detail, examples)
}

/// Lines reversed after they were in a payout, over the lines in a payout: fired above the
/// program's threshold (one such refund is enough when the threshold is 0).
fn refunds_after_payout(lines: &[LineFacts], threshold: u8) -> Signal {
    let paid = lines.iter().filter(|l| l.in_payout).count() as u64;
    let refunded: Vec<&LineFacts> = lines.iter().filter(|l| l.reversed_after_payout).collect();
    let n = refunded.len() as u64;
    let fired = n > 0 && n * 100 > paid * u64::from(threshold);
    let percent = (n * 100).checked_div(paid).unwrap_or(0);
    let detail = format!(
        "{n} of {paid} paid conversions refunded after their payout ({percent} %, above {threshold} % fires)"
    );
    let examples = refunded
        .iter()
        .map(|l| format!("{} was refunded after it was paid", l.sale()))
        .collect();
    Signal::new(SignalCode::RefundsAfterPayout, n, fired, detail, examples)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{ConversionId, CustomerId};

    fn conversion(n: u64) -> Option<ConversionId> {
        ConversionId::parse(&format!("cnv_{n:032x}")).ok()
    }

    fn paid(n: u64, refunded: bool) -> LineFacts {
        LineFacts {
            conversion_id: conversion(n),
            in_payout: true,
            reversed: refunded,
            reversed_after_payout: refunded,
            ..LineFacts::default()
        }
    }

    #[test]
    fn nothing_shared_nothing_throwaway_and_no_refund_fires_nothing() {
        let lines: Vec<_> = (0..4).map(|i| paid(i, false)).collect();
        let facts = Facts {
            refund_after_payout_percent: 25,
            ..Facts::default()
        };
        let s = all(&lines, &facts);
        assert!(s.iter().all(|s| !s.fired && s.count == 0), "{s:?}");
    }

    #[test]
    fn another_partner_behind_the_account_or_tax_id_is_named() {
        let facts = Facts {
            shared_account: vec![("Jo's Deals".into(), "PayPal".into())],
            shared_tax_id: vec!["Deal Hunters".into()],
            disposable: vec![(
                "The partner's address".into(),
                "j***@mailinator.com".into(),
                "mailinator.com".into(),
            )],
            refund_after_payout_percent: 25,
            ..Facts::default()
        };
        let s = all(&[], &facts);
        let fired: Vec<_> = s.iter().filter(|s| s.fired).map(|s| s.code).collect();
        assert_eq!(
            fired,
            [
                SignalCode::SharedPayoutAccount,
                SignalCode::SharedTaxId,
                SignalCode::DisposableEmail
            ]
        );
        assert_eq!(
            s[0].examples,
            ["Jo's Deals is paid into the same PayPal account"]
        );
        assert_eq!(s[1].examples, ["Deal Hunters gave the same tax id"]);
        assert_eq!(
            s[3].examples,
            [
                "The partner's address j***@mailinator.com is at mailinator.com, a throwaway-mail domain"
            ]
        );
        assert_eq!(s[0].weight, 50);
    }

    #[test]
    fn a_sale_from_where_the_partner_signs_in_is_the_partners_own() {
        let line = |n: u64, address: &str| LineFacts {
            conversion_id: conversion(n),
            address_hash: Some(address.into()),
            ..LineFacts::default()
        };
        let mut lines = vec![line(1, "aa"), line(2, "bb")];
        lines[0].customer_id = CustomerId::parse("cus_1").ok();
        let facts = Facts {
            sign_ins: vec![("aa".into(), "j***@example.com".into())],
            ..Facts::default()
        };
        let s = customer_matches_partner(&lines, &facts);
        assert_eq!((s.count, s.fired, s.weight), (1, true, 40));
        assert_eq!(
            s.examples,
            [
                "The sale cnv_00000000000000000000000000000001, customer cus_1, came from the address \
                 j***@example.com signs in from"
            ]
        );
        // The partner's own email on the customer is self_referral's.
        lines[0].self_referral = true;
        assert!(!customer_matches_partner(&lines, &facts).fired);
        assert!(!customer_matches_partner(&lines, &Facts::default()).fired);
    }

    /// A sale from a browser the partner's people sign in from fires without the address (the
    /// browser went elsewhere), said so; one matching both is counted once; neither, nothing.
    #[test]
    fn a_sale_from_a_browser_the_partner_signs_in_from_is_the_partners_own() {
        let line = |n: u64, address: &str, browser: &str| LineFacts {
            conversion_id: conversion(n),
            address_hash: Some(address.into()),
            visitor_hash: Some(browser.into()),
            ..LineFacts::default()
        };
        let facts = Facts {
            sign_ins: vec![("aa".into(), "j***@example.com".into())],
            sign_in_browsers: vec![("f1".into(), "j***@example.com".into())],
            ..Facts::default()
        };
        let elsewhere = [line(1, "bb", "f1"), line(2, "cc", "f2")];
        let s = customer_matches_partner(&elsewhere, &facts);
        assert_eq!((s.count, s.fired, s.weight), (1, true, 40));
        assert_eq!(
            s.examples,
            [
                "The sale cnv_00000000000000000000000000000001 came from a browser \
                 j***@example.com signs in from"
            ]
        );
        let both = [line(3, "aa", "f1")];
        let s = customer_matches_partner(&both, &facts);
        assert_eq!(s.count, 1);
        assert_eq!(
            s.examples,
            [
                "The sale cnv_00000000000000000000000000000003 came from a browser and the \
                 address j***@example.com signs in from"
            ]
        );
        // Neither the browser nor the address: nothing, and a fingerprint is never an address.
        let neither = [line(4, "f1", "aa"), line(5, "cc", "f2")];
        let s = customer_matches_partner(&neither, &facts);
        assert_eq!((s.count, s.fired), (0, false), "{s:?}");
        let mut own = line(6, "bb", "f1");
        own.self_referral = true;
        assert!(!customer_matches_partner(&[own], &facts).fired);
    }

    #[test]
    fn one_click_from_an_ad_fires_unless_the_program_allows_paid_traffic() {
        let click = crate::analytics::paid::PaidClick {
            click_id: "clk_1".into(),
            slug: "deal".into(),
            ad_click: "gclid".into(),
            at: "2026-11-27T14:03:09.120Z".into(),
        };
        let mut facts = Facts {
            paid_clicks: vec![click],
            ..Facts::default()
        };
        let s = paid_traffic(&facts);
        assert_eq!((s.count, s.fired, s.weight), (1, true, 30));
        assert_eq!(
            s.examples,
            [
                "The click of 2026-11-27 14:03 UTC on /deal came with a Google Ads click id (gclid) (click clk_1)"
            ]
        );
        facts.paid_traffic_allowed = true;
        let s = paid_traffic(&facts);
        assert_eq!((s.count, s.fired), (1, false));
        assert!(s.detail.contains("allows"), "{}", s.detail);
        assert!(!paid_traffic(&Facts::default()).fired);
    }

    #[test]
    fn refunds_after_payout_fire_above_the_programs_share() {
        // 1 of 4 paid lines is 25 %: not above 25.
        let mut lines: Vec<_> = (0..4).map(|i| paid(i, i == 0)).collect();
        // A line refunded before any payout is high_reversal_rate's, not this signal's.
        lines.push(LineFacts {
            reversed: true,
            ..LineFacts::default()
        });
        let s = refunds_after_payout(&lines, 25);
        assert_eq!((s.count, s.fired), (1, false), "{s:?}");
        assert!(refunds_after_payout(&lines, 24).fired);
        lines[1] = paid(1, true);
        let s = refunds_after_payout(&lines, 25);
        assert_eq!((s.count, s.fired), (2, true));
        assert_eq!(
            s.examples[0],
            "cnv_00000000000000000000000000000000 was refunded after it was paid"
        );
        assert!(!refunds_after_payout(&[], 0).fired);
    }
}
