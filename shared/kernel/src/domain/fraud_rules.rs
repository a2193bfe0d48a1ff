//! A program's fraud rules (issue 83, pure): per partner signal, what its firing does to the
//! money (`flag`: only said on the risk screen; `hold_commissions`: the partner's new lines wait
//! for review; `hold_payouts`: its payouts stay out of batches), and the program's thresholds
//! for paid traffic, refunds after payout and a first payout. The signal codes live here, below
//! both the program (which validates its rules) and partner risk (which computes them).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::DomainError;

/// Every partner signal's code, as `GET …/partners/{partnerId}/risk` answers it.
pub const SIGNALS: [&str; 11] = [
    "self_referral",
    "click_spike",
    "conversion_ip_reuse",
    "fast_conversions",
    "high_reversal_rate",
    "shared_payout_account",
    "shared_tax_id",
    "customer_matches_partner",
    "disposable_email",
    "paid_traffic",
    "refunds_after_payout",
];

/// The default `refundAfterPayoutThreshold`: a quarter of the paid lines refunded afterwards.
pub const DEFAULT_REFUND_AFTER_PAYOUT_PERCENT: u8 = 25;
/// The most `minCustomersBeforePayout` may ask.
pub const MAX_MIN_CUSTOMERS: u32 = 10_000;

/// What a fired signal does, mildest first (so the strictest of several is their maximum).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FraudAction {
    Flag,
    HoldCommissions,
    HoldPayouts,
}

impl FraudAction {
    pub fn as_str(self) -> &'static str {
        match self {
            FraudAction::Flag => "flag",
            FraudAction::HoldCommissions => "hold_commissions",
            FraudAction::HoldPayouts => "hold_payouts",
        }
    }

    fn parse(raw: &str) -> Option<Self> {
        match raw {
            "flag" => Some(FraudAction::Flag),
            "hold_commissions" => Some(FraudAction::HoldCommissions),
            "hold_payouts" => Some(FraudAction::HoldPayouts),
            _ => None,
        }
    }
}

/// `fraudRules` as sent: each key a signal's code, each value `flag`, `hold_commissions` or
/// `hold_payouts`; `400` naming `fraudRules` (and the entry) otherwise.
pub fn validate(
    raw: Option<serde_json::Value>,
) -> Result<BTreeMap<String, FraudAction>, DomainError> {
    let mut out = BTreeMap::new();
    let entries = match raw {
        None | Some(serde_json::Value::Null) => serde_json::Map::new(),
        Some(serde_json::Value::Object(m)) => m,
        Some(_) => {
            return Err(DomainError::new(
                "fraudRules",
                "must be an object: {signal: flag | hold_commissions | hold_payouts}.",
            ));
        }
    };
    for (code, action) in entries {
        if !SIGNALS.contains(&code.as_str()) {
            return Err(DomainError::new(
                "fraudRules",
                format!(
                    "`{}` is not a partner signal; expected one of {}.",
                    code.chars().take(60).collect::<String>(),
                    SIGNALS.join(", ")
                ),
            ));
        }
        let action = action
            .as_str()
            .and_then(FraudAction::parse)
            .ok_or_else(|| {
                DomainError::new(
                    "fraudRules",
                    format!("{code}: expected flag, hold_commissions or hold_payouts."),
                )
            })?;
        out.insert(code, action);
    }
    Ok(out)
}

/// The strictest action among the fired signals' rules (`None`: no rule for any of them).
pub fn strictest<'a>(
    rules: &BTreeMap<String, FraudAction>,
    fired: impl IntoIterator<Item = &'a str>,
) -> Option<FraudAction> {
    fired
        .into_iter()
        .filter_map(|c| rules.get(c).copied())
        .max()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn raw(v: serde_json::Value) -> Option<serde_json::Value> {
        Some(v)
    }

    #[test]
    fn rules_name_a_signal_and_an_action_and_the_strictest_wins() {
        let rules = validate(raw(json!({"paid_traffic": "hold_payouts",
            "disposable_email": "flag", "shared_tax_id": "hold_commissions"})))
        .unwrap();
        assert_eq!(
            strictest(&rules, ["disposable_email", "shared_tax_id"]),
            Some(FraudAction::HoldCommissions)
        );
        assert_eq!(
            strictest(&rules, ["paid_traffic", "shared_tax_id"]),
            Some(FraudAction::HoldPayouts)
        );
        assert_eq!(strictest(&rules, ["click_spike"]), None);
        for bad in [
            json!({"bogus": "flag"}),
            json!({"paid_traffic": "hold"}),
            json!({"paid_traffic": 1}),
            json!(["paid_traffic"]),
        ] {
            let e = validate(raw(bad.clone())).unwrap_err();
            assert_eq!(e.field, "fraudRules", "{bad}");
        }
        assert!(validate(None).unwrap().is_empty());
    }
}
