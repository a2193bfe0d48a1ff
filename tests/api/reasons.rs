//! `GET /v2/reasons` (issue 62): the words for every code the API answers. The codes are
//! enumerated from the domain's enums (their serde names, read from the derived
//! `Deserialize`) and from the reason codes the services write (read from the source), never
//! listed by hand here: a new variant or reason without words fails this test.

use std::collections::BTreeSet;

use serde::de::{self, DeserializeOwned, Visitor};
use serde_json::Value;
use tenx_shared::http::error::ErrorCode;

use crate::helpers::*;

/// A deserializer that only records the variant names a derived enum asks for.
struct Variants(Vec<&'static str>);

#[derive(Debug)]
struct Stop;

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("stop")
    }
}

impl std::error::Error for Stop {}

impl de::Error for Stop {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        Stop
    }
}

impl<'de> de::Deserializer<'de> for &mut Variants {
    type Error = Stop;

    fn deserialize_any<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Stop> {
        Err(Stop)
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Stop> {
        self.0.extend_from_slice(variants);
        Err(Stop)
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map struct identifier
        ignored_any
    }
}

/// Every wire name of a unit-variant enum, as its derived `Deserialize` knows them.
fn variants<T: DeserializeOwned>() -> Vec<&'static str> {
    let mut v = Variants(Vec::new());
    let _ = T::deserialize(&mut v);
    assert!(
        !v.0.is_empty(),
        "{} is not an enum",
        std::any::type_name::<T>()
    );
    v.0
}

/// The reason codes a service writes as string literals: `reasons.push("…")`,
/// `reasons: vec!["…"]`, `Earned::zero("…")`, a confidence reason's `code: "…"`, a cap's
/// name and the ledger's reason constants, read from every crate's `src` under `shared/`.
fn reason_literals() -> BTreeSet<String> {
    let root = concat!(env!("CARGO_MANIFEST_DIR"), "/shared");
    let mut found = BTreeSet::new();
    let mut stack = vec![std::path::PathBuf::from(root)];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            let name = path.to_string_lossy().replace('\\', "/");
            if !name.ends_with(".rs")
                || !name.contains("/src/")
                || name.ends_with("/domain/words.rs")
            {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            // Test modules write made-up reasons; the service's code comes before them.
            let text = text.split("#[cfg(test)]").next().unwrap_or_default();
            let mut openers = vec![
                "reasons.push(\"",
                "reasons: vec![\"",
                "Earned::zero(\"",
                " zero(\"",
            ];
            if name.ends_with("/domain/confidence.rs") {
                openers.push("code: \"");
            }
            // The ledger's reason constants (`running.rs` names balance fields, not reasons).
            if name.contains("/ledger/") && !name.ends_with("/running.rs") {
                openers.push(": &str = \"");
            }
            if name.ends_with("/ledger/accrue.rs") {
                openers.push("\"cap_");
            }
            for opener in openers {
                for (at, _) in text.match_indices(opener) {
                    let rest = &text[at + opener.len()..];
                    let code: String = rest.chars().take_while(|c| *c != '"').collect();
                    let code = if opener == "\"cap_" {
                        format!("cap_{code}")
                    } else {
                        code
                    };
                    // Index and key names are short capitals; reasons are snake case words.
                    if code.len() > 2 && code.chars().all(|c| c.is_ascii_lowercase() || c == '_') {
                        found.insert(code);
                    }
                }
            }
        }
    }
    found
}

/// Every code the server can put in a `status`, `reasons`, `kind`, `type` or error `code`.
fn every_code() -> BTreeSet<String> {
    use tenx_shared::{claims, domain, ledger, payout_batches, payout_methods, payouts, programs};
    let mut codes: BTreeSet<String> = BTreeSet::new();
    let enums = [
        variants::<ledger::model::Status>(),
        variants::<ledger::model::Kind>(),
        variants::<payouts::model::PayoutStatus>(),
        variants::<payout_batches::model::BatchStatus>(),
        variants::<payout_methods::model::MethodType>(),
        variants::<payout_methods::model::Exclusion>(),
        variants::<claims::Status>(),
        variants::<claims::Verdict>(),
        variants::<programs::model::ApplicationStatus>(),
        variants::<domain::risk::RiskReason>(),
        variants::<domain::custom_domain::DomainStatus>(),
        variants::<domain::BotReason>(),
        variants::<tenx_shared::connectors::log::Status>(),
        variants::<tenx_shared::partners::PartnerStatus>(),
        variants::<tenx_shared::campaigns::CampaignStatus>(),
        variants::<tenx_shared::campaigns::GoalType>(),
    ];
    codes.extend(enums.into_iter().flatten().map(str::to_owned));
    let signals = tenx_shared::risk::signals::SignalCode::ALL
        .map(tenx_shared::risk::signals::SignalCode::as_str);
    codes.extend(signals.map(str::to_owned));
    // A held line names the conversion's risk reasons and the partner's fired signals, prefixed
    // (`plans::earn::hold_reasons`, `risk::snapshot::hold_reasons`).
    codes.extend(
        variants::<domain::risk::RiskReason>()
            .into_iter()
            .map(|r| format!("risk_{r}")),
    );
    codes.extend(signals.map(|s| format!("partner_risk_{s}")));
    codes.extend(ErrorCode::ALL.map(|c| c.as_str().to_owned()));
    codes.extend(reason_literals());
    codes
}

#[tokio::test]
async fn every_code_the_api_answers_has_words() {
    let app = spawn_app().await;
    let res = app.client.get(app.url("/v2/reasons")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let cache = res.headers()["cache-control"].to_str().unwrap().to_owned();
    assert!(cache.starts_with("public"), "cacheable: {cache}");
    let words: Value = res.json().await.unwrap();
    let words = words.as_object().expect("an object of code to words");
    let codes = every_code();
    // The enumeration itself is real: it sees the reasons written as literals too.
    for known in [
        "risk_too_fast",
        "partner_risk_click_spike",
        "fx_rate_missing",
        "no_rule",
        "low_confidence",
        "cap_amount_per_month",
        "stale_data",
        "no_payout_method",
        "too_fast",
    ] {
        assert!(codes.contains(known), "{known} not enumerated");
    }
    let missing: Vec<&String> = codes
        .iter()
        .filter(|c| {
            words
                .get(c.as_str())
                .and_then(Value::as_str)
                .is_none_or(|w| w.trim().is_empty())
        })
        .collect();
    assert!(missing.is_empty(), "codes without words: {missing:?}");
    // Words are words: never the code itself.
    for (code, w) in words {
        assert_ne!(
            Some(code.as_str()),
            w.as_str(),
            "{code} has itself as words"
        );
    }
}

#[tokio::test]
async fn a_batch_exclusion_reads_its_words_from_the_one_dictionary() {
    use tenx_shared::payout_methods::model::Exclusion;
    for code in variants::<Exclusion>() {
        let e: Exclusion = serde_json::from_value(Value::String(code.to_owned())).unwrap();
        assert_eq!(
            Some(e.words()),
            tenx_shared::domain::words::of(code),
            "{code}"
        );
    }
    assert!(
        Exclusion::NoPayoutMethod
            .words()
            .contains("payout method first")
    );
}

#[tokio::test]
async fn the_dictionary_refuses_other_methods() {
    let app = spawn_app().await;
    let res = app
        .client
        .post(app.url("/v2/reasons"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 405);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "method_not_allowed", "{body}");
}
