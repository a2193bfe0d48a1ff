//! A/B tests of destinations: a link's `variants` (2 to 4 destinations with whole weights
//! summing to 100), the pure choice of one for a visit, and the statistics that name a winner.
//!
//! The choice is a number in `0..100` (a keyed digest of the visitor and the link, computed by
//! the caller with [`super::CtxKeyring::variant_bucket`]) laid against the cumulative weights:
//! no store read, and the same visitor always lands on the same variant while the weights stay.

use serde::{Deserialize, Serialize};

use super::DomainError;
use super::time::Timestamp;
use super::url_check::validate_destination;

pub const MIN_VARIANTS: usize = 2;
pub const MAX_VARIANTS: usize = 4;
/// Weights are whole percentages of the traffic no rule takes.
pub const TOTAL_WEIGHT: u32 = 100;

/// One destination of a test and its share of the traffic, in percent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Variant {
    pub destination_url: String,
    pub weight: u32,
}

/// A variant as sent: the weight taken as any JSON value, so `50.5`, `-1` or `"50"` are
/// refused in words by [`validate`] rather than in the parser's jargon.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VariantSpec {
    pub destination_url: String,
    pub weight: serde_json::Value,
}

/// When the current weights took effect: a test's numbers count from here, so changing the
/// variants or their weights starts a new period (older clicks stay in analytics, apart).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VariantPeriod {
    pub variants_since: Timestamp,
    /// Unix milliseconds of `variants_since`: the period's id in every click's variant tag (the
    /// redirect writes a number, never parses; two changes in one second stay apart).
    pub variants_since_millis: i64,
}

impl VariantPeriod {
    pub fn starting(at: Timestamp) -> Self {
        Self {
            variants_since_millis: at.millis(),
            variants_since: at,
        }
    }
}

/// Checks `variants` as sent (`None` and `[]` both mean no test): 2 to 4 entries, each
/// destination checked like `destinationUrl` and normalized, no two the same, whole weights
/// from 1 to 99 summing to 100. Messages name the entry (`variants[2].weight: …`).
pub fn validate(variants: Option<Vec<VariantSpec>>) -> Result<Vec<Variant>, DomainError> {
    let variants = variants.unwrap_or_default();
    if variants.is_empty() {
        return Ok(Vec::new());
    }
    if !(MIN_VARIANTS..=MAX_VARIANTS).contains(&variants.len()) {
        return Err(DomainError::new(
            "variants",
            format!(
                "a test splits the traffic between {MIN_VARIANTS} and {MAX_VARIANTS} destinations; \
                 {} were given (send [] or null for no test).",
                variants.len()
            ),
        ));
    }
    let mut out: Vec<Variant> = Vec::with_capacity(variants.len());
    for (i, v) in variants.into_iter().enumerate() {
        let url =
            validate_destination(&format!("variants[{i}].destinationUrl"), &v.destination_url)?;
        let destination_url = String::from(url);
        if let Some(j) = out
            .iter()
            .position(|o| o.destination_url == destination_url)
        {
            return Err(DomainError::new(
                format!("variants[{i}].destinationUrl"),
                format!(
                    "is the same destination as variants[{j}]; each variant must go somewhere else."
                ),
            ));
        }
        let weight = v
            .weight
            .as_u64()
            .and_then(|w| u32::try_from(w).ok())
            .filter(|w| (1..TOTAL_WEIGHT).contains(w))
            .ok_or_else(|| {
                DomainError::new(
                    format!("variants[{i}].weight"),
                    format!(
                        "must be a whole number from 1 to 99 (the percent of visitors it gets); \
                         {} was given.",
                        v.weight
                    ),
                )
            })?;
        out.push(Variant {
            destination_url,
            weight,
        });
    }
    let total: u32 = out.iter().map(|v| v.weight).sum();
    if total != TOTAL_WEIGHT {
        return Err(DomainError::new(
            "variants",
            format!(
                "the weights must add up to 100 (percent of visitors); they add up to {total}."
            ),
        ));
    }
    Ok(out)
}

/// The variant a visitor in `bucket` (`0..100`) gets: the first whose cumulative weight passes
/// the bucket. `None` only for a link without variants.
pub fn choose(variants: &[Variant], bucket: u8) -> Option<usize> {
    let mut cumulative = 0u32;
    for (i, v) in variants.iter().enumerate() {
        cumulative += v.weight;
        if u32::from(bucket) < cumulative {
            return Some(i);
        }
    }
    // Only for weights that do not reach 100 (never stored by `validate`): the last one.
    variants.len().checked_sub(1)
}

/// The variant as a click and its conversions carry it: `{index}@{periodStartMillis}`, so a
/// period's numbers can be told from an earlier one's.
pub fn tag(index: usize, since_millis: i64) -> String {
    format!("{index}@{since_millis}")
}

/// `(index, periodStartMillis)` of a [`tag`].
pub fn parse_tag(tag: &str) -> Option<(usize, i64)> {
    let (index, since) = tag.split_once('@')?;
    Some((index.parse().ok()?, since.parse().ok()?))
}

/// The level a difference must reach to name a winner: 95%, two-sided.
pub const SIGNIFICANCE: &str = "0.95";
/// The two-sided 95% critical value of the standard normal distribution.
pub const Z_CRITICAL: f64 = 1.959_964;
/// Fewest qualified clicks each compared variant needs before the test is run at all.
pub const MIN_CLICKS: i64 = 30;

/// One variant's conversions out of its qualified clicks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Sample {
    pub clicks: i64,
    pub conversions: i64,
}

/// What the numbers say about a test.
#[derive(Debug, Clone, PartialEq)]
pub enum Judgement {
    /// `best` converts better than `runner_up`, significantly at 95%; `z` is the statistic.
    Winner {
        best: usize,
        runner_up: usize,
        z: f64,
    },
    /// No winner yet, and why, in words.
    NotYet(String),
}

/// The two-proportion z-test (pooled) between the variant with the best conversion rate and
/// the runner-up. A winner only when each has at least [`MIN_CLICKS`] qualified clicks, the
/// pooled rate leaves at least 5 conversions and 5 non-conversions expected in each (where the
/// normal approximation holds) and |z| ≥ 1.96. Rates are compared in integers; floating point
/// is used for the statistic alone.
pub fn judge(samples: &[Sample]) -> Judgement {
    let mut order: Vec<usize> = (0..samples.len())
        .filter(|&i| samples[i].clicks > 0)
        .collect();
    if order.len() < 2 {
        return Judgement::NotYet(
            "not yet: fewer than two variants have visitors to compare.".into(),
        );
    }
    // Best rate first: a/b > c/d ⇔ a·d > c·b (clicks are positive here). Ties keep list order.
    order.sort_by(|&i, &j| {
        let (a, b) = (samples[i], samples[j]);
        (i128::from(b.conversions) * i128::from(a.clicks))
            .cmp(&(i128::from(a.conversions) * i128::from(b.clicks)))
    });
    let (best, runner_up) = (order[0], order[1]);
    let (a, b) = (samples[best], samples[runner_up]);
    if a.clicks < MIN_CLICKS || b.clicks < MIN_CLICKS {
        return Judgement::NotYet(format!(
            "not yet: each of the two best variants needs at least {MIN_CLICKS} qualified clicks \
             ({} and {} so far).",
            a.clicks, b.clicks
        ));
    }
    let n = i128::from(a.clicks) + i128::from(b.clicks);
    let x = i128::from(a.conversions) + i128::from(b.conversions);
    let smaller = i128::from(a.clicks.min(b.clicks));
    if x * smaller < 5 * n || (n - x) * smaller < 5 * n {
        return Judgement::NotYet(
            "not yet: too few conversions (or too few visitors who did not convert) to judge; \
             wait for more."
                .into(),
        );
    }
    let z = z_statistic(a, b);
    if z.abs() >= Z_CRITICAL {
        Judgement::Winner { best, runner_up, z }
    } else {
        Judgement::NotYet(format!(
            "not yet: the difference between the two best variants could still be chance \
             (z = {z:.2}, below the 1.96 a 95% level needs)."
        ))
    }
}

/// The pooled two-proportion z statistic of `a` against `b`.
pub fn z_statistic(a: Sample, b: Sample) -> f64 {
    let (n1, n2) = (a.clicks as f64, b.clicks as f64);
    let (p1, p2) = (a.conversions as f64 / n1, b.conversions as f64 / n2);
    let pooled = (a.conversions + b.conversions) as f64 / (n1 + n2);
    let se = (pooled * (1.0 - pooled) * (1.0 / n1 + 1.0 / n2)).sqrt();
    if se == 0.0 { 0.0 } else { (p1 - p2) / se }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(url: &str, weight: u32) -> VariantSpec {
        VariantSpec {
            destination_url: url.into(),
            weight: weight.into(),
        }
    }

    fn stored(url: &str, weight: u32) -> Variant {
        Variant {
            destination_url: url.into(),
            weight,
        }
    }

    fn err(variants: Vec<VariantSpec>) -> (String, String) {
        let e = validate(Some(variants)).unwrap_err();
        (e.field, e.message)
    }

    #[test]
    fn validation_names_the_entry() {
        assert_eq!(validate(None).unwrap(), vec![]);
        assert_eq!(validate(Some(vec![])).unwrap(), vec![]);
        let ok = validate(Some(vec![
            v("https://A.example/x", 70),
            v("https://b.example", 30),
        ]))
        .unwrap();
        assert_eq!(ok[0].destination_url, "https://a.example/x");
        assert_eq!(ok[1].destination_url, "https://b.example/");
        assert_eq!(err(vec![v("https://a.example", 100)]).0, "variants");
        let five = (0..5)
            .map(|i| v(&format!("https://{i}.example"), 20))
            .collect();
        assert_eq!(err(five).0, "variants");
        assert_eq!(
            err(vec![v("https://a.example", 50), v("https://b.example", 40)]).0,
            "variants"
        );
        assert_eq!(
            err(vec![
                v("https://a.example", 50),
                v("https://b.example", 0),
                v("https://c.example", 50)
            ])
            .0,
            "variants[1].weight"
        );
        assert_eq!(
            err(vec![v("https://a.example", 50), v("ftp://b.example", 50)]).0,
            "variants[1].destinationUrl"
        );
        for odd in [
            serde_json::json!(50.5),
            serde_json::json!(-50),
            serde_json::json!("50"),
        ] {
            let spec = VariantSpec {
                destination_url: "https://b.example".into(),
                weight: odd.clone(),
            };
            let (field, message) = err(vec![v("https://a.example", 50), spec]);
            assert_eq!(field, "variants[1].weight", "{odd}");
            assert!(message.contains("whole number"), "{message}");
        }
        let (field, message) = err(vec![
            v("https://a.example/", 50),
            v("https://A.example", 50),
        ]);
        assert_eq!(field, "variants[1].destinationUrl");
        assert!(message.contains("variants[0]"), "{message}");
    }

    #[test]
    fn buckets_fall_on_the_cumulative_weights() {
        let vs = [
            stored("https://a.example", 70),
            stored("https://b.example", 20),
            stored("https://c.example", 10),
        ];
        assert_eq!(choose(&vs, 0), Some(0));
        assert_eq!(choose(&vs, 69), Some(0));
        assert_eq!(choose(&vs, 70), Some(1));
        assert_eq!(choose(&vs, 89), Some(1));
        assert_eq!(choose(&vs, 90), Some(2));
        assert_eq!(choose(&vs, 99), Some(2));
        let counts = (0..100u8).fold([0; 3], |mut c, b| {
            c[choose(&vs, b).unwrap()] += 1;
            c
        });
        assert_eq!(counts, [70, 20, 10]);
        assert_eq!(choose(&[], 5), None);
    }

    #[test]
    fn tags_round_trip() {
        assert_eq!(tag(2, 1_764_000_000), "2@1764000000");
        assert_eq!(parse_tag("2@1764000000"), Some((2, 1_764_000_000)));
        assert_eq!(parse_tag("x@1"), None);
        assert_eq!(parse_tag("2"), None);
    }

    fn s(clicks: i64, conversions: i64) -> Sample {
        Sample {
            clicks,
            conversions,
        }
    }

    #[test]
    fn no_winner_with_few_data() {
        assert!(
            matches!(judge(&[s(0, 0), s(0, 0)]), Judgement::NotYet(m) if m.starts_with("not yet"))
        );
        assert!(matches!(judge(&[s(12, 3), s(0, 0)]), Judgement::NotYet(_)));
        // 10 of 10 against 0 of 10 looks clear, but ten visitors each are too few to tell.
        assert!(matches!(
            judge(&[s(10, 10), s(10, 0)]),
            Judgement::NotYet(_)
        ));
        // Enough visitors, too few conversions for the approximation.
        assert!(matches!(
            judge(&[s(500, 3), s(500, 0)]),
            Judgement::NotYet(_)
        ));
        // 5.0% against 4.0% on 1,000 each: z ≈ 1.08, could be chance.
        match judge(&[s(1000, 50), s(1000, 40)]) {
            Judgement::NotYet(m) => assert!(m.contains("1.08"), "{m}"),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn a_clear_difference_names_the_winner() {
        // The docs' example: 6.0% (60 of 1,000) against 3.5% (35 of 1,000): z ≈ 2.63.
        match judge(&[s(1000, 35), s(1000, 60)]) {
            Judgement::Winner { best, runner_up, z } => {
                assert_eq!((best, runner_up), (1, 0));
                assert!((z - 2.63).abs() < 0.01, "{z}");
            }
            other => panic!("{other:?}"),
        }
        // Four variants: the best against the runner-up only.
        match judge(&[s(400, 8), s(400, 40), s(400, 12), s(400, 10)]) {
            Judgement::Winner {
                best, runner_up, ..
            } => assert_eq!((best, runner_up), (1, 2)),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_statistic_is_symmetric_and_zero_without_variance() {
        let (a, b) = (s(1000, 60), s(1000, 35));
        assert!((z_statistic(a, b) + z_statistic(b, a)).abs() < 1e-12);
        assert!(z_statistic(s(100, 0), s(100, 0)).abs() < 1e-12);
    }
}
