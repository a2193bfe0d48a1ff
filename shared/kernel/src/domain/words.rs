//! The words for every code the API answers in a `status`, `reasons`, `kind`, `type` or error
//! `code` field: the one dictionary (issue 62) that `GET /v2/reasons` serves and that the
//! console, the partner portal, the mails and the batch exclusions read. Codes stay in the API
//! (engineers and integrations match on them); people read these words.
//!
//! One flat map, as the contract says (`{CODE: "words"}`): a code that means one thing in two
//! places (`paid` for a line and for a payout) has one sentence that fits both. Words are
//! written for a manager or a partner: what happened and, for an error, what to do.
//! `tests/api/reasons.rs` enumerates the domain's enums and the reason codes the services write
//! and fails on any without words here.

use std::collections::BTreeMap;

/// Every code with its words, grouped by where it is answered.
pub const WORDS: &[(&str, &str)] = &[
    // Commission line statuses (`commission.status`), payout, batch, claim, application and
    // domain statuses.
    ("pending", "Pending: not final yet"),
    ("held", "Held for a review"),
    ("approved", "Approved"),
    ("rejected", "Rejected: not paid"),
    ("capped", "Over the plan's cap: not paid"),
    ("paid", "Paid"),
    ("failed", "Failed: see why beside it"),
    ("canceled", "Canceled"),
    // A payout sent through a payment provider (Stripe Connect, PayPal Payouts, issue 78).
    ("sending", "Being sent by the payment provider"),
    (
        "returned",
        "Sent, then given back: the amount is back on the balance",
    ),
    ("open", "Open"),
    ("denied", "Denied"),
    ("verified", "Verified"),
    ("failing", "Failing its daily check: fix the DNS record"),
    // A custom domain's TLS on AWS (issue 64); `active` (live) and `failed` are above.
    ("pending_dns", "Waiting for your DNS record"),
    ("pending_tls", "Setting up HTTPS: live within minutes"),
    ("open_negative", "Owed back: taken from the next payout"),
    // A store's (Stripe, Shopify) event as the integration handled it.
    ("received", "Received, not handled yet"),
    ("processed", "Handled"),
    ("ignored", "Not about a sale: nothing to do"),
    ("parked", "Waiting for its sale to be reported"),
    // Partner and campaign statuses, and a campaign's goal.
    ("active", "Active"),
    ("suspended", "Paused: earns nothing new"),
    ("ACTIVE", "Active"),
    ("PAUSED", "Paused"),
    ("ARCHIVED", "Archived"),
    ("AFFILIATE_CLICKOUT", "Click-outs to a merchant"),
    ("LEAD_CAPTURE", "Leads (a form filled)"),
    ("PURCHASE", "Sales in a shop"),
    ("APP_INSTALL", "App installs"),
    // Claim verdicts.
    ("approve", "Approve"),
    ("deny", "Deny"),
    ("unsure", "Needs a person to decide"),
    // Commission line kinds.
    ("conversion", "A sale or sign-up the partner brought"),
    ("click_day", "A day's qualified clicks"),
    ("adjustment", "Taken back after a refund"),
    (
        "clawback",
        "Taken back after a refund, from the next payout",
    ),
    ("manual", "By hand, outside the plan and the payout batches"),
    ("bonus", "A milestone bonus"),
    ("claim", "A partner's claim, approved"),
    ("imported", "Earned in the program's previous tool"),
    // Commission line reasons (`commission.reasons`).
    (
        "fx_rate_missing",
        "Waiting for an exchange rate: add one under Commissions, exchange rates",
    ),
    ("partner_suspended", "The partnership is paused"),
    (
        "low_confidence",
        "The sale could not yet be tied to the partner's click with confidence",
    ),
    ("dispute", "A payment dispute is open"),
    (
        "superseded_by_verified",
        "The merchant reported the same sale, verified",
    ),
    (
        "outside_customer_duration",
        "The customer came longer ago than the plan pays for",
    ),
    (
        "outside_window",
        "The sale came after the plan's attribution window",
    ),
    ("no_rule", "No rule of the plan pays this sale"),
    (
        "no_value",
        "The sale has no amount, so a percentage cannot be taken",
    ),
    (
        "out_of_range",
        "The sale's amount is outside what the plan's rule pays for",
    ),
    (
        "unverified",
        "Not verified: reported from the browser, not by the merchant's server",
    ),
    ("self_referral", "The partner bought through their own link"),
    (
        "coupon_without_click",
        "The partner's coupon code was used with no click of the partner: the program's coupon policy applies",
    ),
    // A coupon code's leak reasons (`GET …/coupon-codes/{code}/leak`).
    (
        "coupon_sales_without_partner_click",
        "Half or more of the code's sales came with no click of its partner",
    ),
    (
        "coupon_site_referrer",
        "Sales on the code landed from coupon sites or browser extensions",
    ),
    ("coupon_few_sales", "Too few sales yet to judge the code"),
    (
        "cap_conversions_per_day",
        "Over the plan's daily cap on sales",
    ),
    (
        "cap_amount_per_month",
        "Over the plan's monthly cap on earnings",
    ),
    (
        "cap_amount_per_month_partial",
        "Cut to what was left of the plan's monthly cap",
    ),
    (
        "payout_tax_profile_missing",
        "The partner's tax details are missing",
    ),
    (
        "payout_tax_profile_not_accepted",
        "The partner's tax details are not accepted yet",
    ),
    // Conversion risk reasons (`conversion.risk.reasons`).
    ("too_fast", "The sale came very soon after the click"),
    (
        "per_click_cap",
        "More sales from one click than the policy allows",
    ),
    (
        "value_above_limit",
        "The sale's amount is above the policy's limit",
    ),
    // A line held for its conversion's risk (`risk_{reason}`).
    (
        "risk_unverified",
        "Held: the sale was not verified by the merchant's server",
    ),
    (
        "risk_too_fast",
        "Held: the sale came very soon after the click",
    ),
    (
        "risk_per_click_cap",
        "Held: more sales from one click than the policy allows",
    ),
    (
        "risk_value_above_limit",
        "Held: the sale's amount is above the policy's limit",
    ),
    // A line held for its partner's risk (`partner_risk_{signal}`).
    (
        "partner_risk_self_referral",
        "Held: the partner buys through their own links",
    ),
    (
        "partner_risk_click_spike",
        "Held: the partner's clicks jumped far above their usual days",
    ),
    (
        "partner_risk_conversion_ip_reuse",
        "Held: several of the partner's sales came from one address",
    ),
    (
        "partner_risk_fast_conversions",
        "Held: many of the partner's sales came seconds after their clicks",
    ),
    (
        "partner_risk_high_reversal_rate",
        "Held: many of the partner's sales were refunded",
    ),
    (
        "partner_risk_shared_payout_account",
        "Held: another partner is paid into the same account",
    ),
    (
        "partner_risk_shared_tax_id",
        "Held: another partner gave the same tax id",
    ),
    (
        "partner_risk_customer_matches_partner",
        "Held: the partner's sales came from where the partner signs in",
    ),
    (
        "partner_risk_disposable_email",
        "Held: the partner signed up with a throwaway email address",
    ),
    (
        "partner_risk_paid_traffic",
        "Held: the partner's clicks came from paid ads",
    ),
    (
        "partner_risk_refunds_after_payout",
        "Held: many of the partner's paid sales were refunded afterwards",
    ),
    // Partner risk signals (`risk.signals[].code`).
    (
        "shared_payout_account",
        "Another partner is paid into the same account",
    ),
    ("shared_tax_id", "Another partner gave the same tax id"),
    (
        "customer_matches_partner",
        "Sales came from where the partner signs in",
    ),
    (
        "disposable_email",
        "An address of the partner is at a throwaway-mail domain",
    ),
    (
        "refunds_after_payout",
        "Many of the partner's paid sales were refunded afterwards",
    ),
    ("paid_traffic", "The partner's clicks came from paid ads"),
    (
        "click_spike",
        "Clicks jumped far above the partner's usual days",
    ),
    ("conversion_ip_reuse", "Several sales came from one address"),
    (
        "fast_conversions",
        "Many sales came seconds after their clicks",
    ),
    (
        "high_reversal_rate",
        "Many of the partner's sales were refunded",
    ),
    // Campaign confidence reasons (`confidence.reasons[].code`).
    ("bot_ratio_elevated", "More bot clicks than usual"),
    ("bot_ratio_high", "Many of the clicks are bots"),
    (
        "conversions_exceed_qualified_clicks",
        "More sales than real clicks",
    ),
    (
        "flagged_conversions_high",
        "Many sales were flagged as risky",
    ),
    (
        "unverified_conversions_high",
        "Many sales were not verified by the merchant's server",
    ),
    (
        "stale_data",
        "The numbers are behind: events are still being counted",
    ),
    // Bot reasons (`botReasons`).
    ("user_agent", "A crawler or a script, by its browser name"),
    ("link_preview", "A chat or social app previewing the link"),
    ("head_request", "A request no browser sends (HEAD)"),
    ("missing_user_agent", "No browser name"),
    ("malformed_user_agent", "A malformed browser name"),
    // Payout methods (`method.type`).
    ("sepa", "SEPA bank transfer"),
    ("paypal", "PayPal"),
    ("wise", "Wise"),
    (
        "stripe_connect",
        "Stripe (the partner's own Stripe account)",
    ),
    // Batch exclusions (`excluded[].reason`).
    (
        "no_payout_method",
        "The partner has no payout method: give the partner a payout method first.",
    ),
    (
        "payout_method_unconfirmed",
        "The partner's payout details changed in the last 24 hours and no manager confirmed the change.",
    ),
    (
        "other_method",
        "The partner is paid by another method than this batch's.",
    ),
    (
        "currency_not_supported",
        "This batch's method does not pay this currency.",
    ),
    ("in_live_batch", "The payout is already in another batch."),
    (
        "payout_method_invalid",
        "The partner's payout details break a rule made after they were set: the partner must set them again.",
    ),
    (
        "payout_fraud_hold",
        "Held for a fraud review: a signal the program's fraud rules hold payouts on fired. See the partner's risk.",
    ),
    (
        "payout_min_customers",
        "The partner's first payout waits until they have brought the program's minimum of paying customers.",
    ),
    (
        "payout_method_disputed",
        "The partner said a change of their payout details was not theirs: payouts are frozen until an admin lifts the freeze.",
    ),
    // Error codes (the envelope's `code`): what happened and what to do.
    (
        "invalid_request",
        "Something in the form is not right: see the field named",
    ),
    (
        "invalid_ctx",
        "The click's token is not valid: follow the link again",
    ),
    (
        "invalid_signature",
        "The signature does not match: check the signing secret",
    ),
    ("unauthorized", "Not signed in: sign in again"),
    ("forbidden", "Not allowed for this account"),
    ("csrf", "The page is out of date: reload it and try again"),
    (
        "insufficient_role",
        "Your role cannot do this: ask an admin",
    ),
    (
        "insufficient_scope",
        "This token cannot do this: make a token with the right access",
    ),
    ("verification_required", "Verify your email address first"),
    ("not_found", "Not found: it may have been deleted"),
    ("method_not_allowed", "This cannot be done here"),
    ("conflict", "It already exists: choose another name"),
    ("invalid_state", "Not possible in its current state"),
    (
        "idempotency_key_reused",
        "This request was already sent with other details",
    ),
    ("link_expired", "The link has expired: ask for a new one"),
    (
        "precondition_failed",
        "Someone changed it meanwhile: reload and try again",
    ),
    ("payload_too_large", "Too large: send less at once"),
    (
        "rate_limited",
        "Too many requests: wait a moment and try again",
    ),
    ("internal", "Something went wrong on our side: try again"),
    ("unavailable", "The service is busy: try again in a moment"),
    (
        "not_verified",
        "The DNS record was not found yet: add it and check again",
    ),
    (
        "passkey_required",
        "Admins of this team sign in with a passkey: add one on your account screen",
    ),
    // Mail (issue 59): a message's status (`failed` is above), a suppression's reason and the
    // kinds (`X-Tenx-Kind`).
    ("queued", "Waiting to be sent"),
    ("sent", "Sent"),
    (
        "suppressed",
        "Not sent: the address is suppressed or turned these mails off",
    ),
    ("bounced", "Bounced: the address does not take mail"),
    ("complained", "Marked as spam by its recipient"),
    ("refused", "Refused for good by the receiving server"),
    ("sign_in", "Sign-in link"),
    ("invitation", "Invitation"),
    ("partner_approved", "Partner approved"),
    ("application_received", "New partner application"),
    ("commission_digest", "New commissions of the day"),
    ("payout_sent", "Payout sent"),
    ("plan_notice", "Commission plan change"),
    ("payout_method_changed", "Payout method changed"),
    ("weekly_summary", "Weekly summary"),
    ("message", "A message from the program or a partner"),
    ("claim_opened", "Commission claim opened"),
    ("claim_decided", "Commission claim decided"),
    ("domain_failing", "Domain failing its DNS check"),
    ("coupon_leak", "Coupon code may have leaked"),
    ("tax_profile_needs_fix", "Tax details sent back for a fix"),
    ("application_rejected", "Application turned down"),
    ("partner_email_changed", "Partner's email address changed"),
    // Who did something, in the audit log (`actor.type`, issue 62).
    ("user", "A person of the team"),
    ("pat", "A personal access token"),
    ("partner_user", "A person of a partner"),
    ("partner_token", "A partner's token"),
    ("provider", "A payment provider (Stripe, Shopify)"),
    ("system", "10x itself, by a rule"),
    (
        "jwt",
        "A signed token (the console's sign-in or a program's own)",
    ),
];

/// Whether `code` is a reason about risk (a conversion's `risk_{reason}`, a partner's
/// `partner_risk_{signal}`, the partner's own email on its customer): the program's people read
/// it on a line, the partner never does.
pub fn about_risk(code: &str) -> bool {
    code.starts_with("risk_") || code.starts_with("partner_risk_") || code == "self_referral"
}

/// The words for `code`, if it has any.
pub fn of(code: &str) -> Option<&'static str> {
    WORDS.iter().find(|(c, _)| *c == code).map(|(_, w)| *w)
}

/// The words for `code`, or the code itself (an unknown code is shown, never hidden).
pub fn or_code(code: &str) -> &str {
    of(code).unwrap_or(code)
}

/// The whole dictionary, as `GET /v2/reasons` answers it.
pub fn all() -> BTreeMap<&'static str, &'static str> {
    WORDS.iter().copied().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_appears_once() {
        let all = all();
        assert_eq!(all.len(), WORDS.len(), "a code is listed twice");
        assert!(all.values().all(|w| !w.trim().is_empty()));
    }
}
