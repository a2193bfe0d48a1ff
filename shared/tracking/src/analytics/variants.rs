//! A link's A/B test, judged: each variant's numbers since the current weights took effect
//! (`variantsSince`), and a winner only when the difference is significant at 95%
//! (`domain::variants::judge`), else a verdict in words.
//!
//! Round trips: ONE read of the link, ONE paginated query of its campaign's `variant` counters
//! from the period's first day on.

use serde::Serialize;

use super::days::DayRange;
use super::report::{Metrics, read_cells};
use super::{Counters, Dimension, NO_CAMPAIGN};
use crate::domain::time::Timestamp;
use crate::domain::variants::{self, Judgement, Sample};
use crate::domain::{Handle, Link, Slug};
use crate::platform::store::{Store, StoreError};

/// Why the report cannot be made.
#[derive(Debug, thiserror::Error)]
pub enum VariantsError {
    #[error("Link {0}")]
    NotFound(Slug),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// One variant and its numbers over the period.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VariantRow {
    pub index: usize,
    pub destination_url: String,
    pub weight: u32,
    /// `clicks` (humans the split sent), `qualifiedClicks`, `conversions`, `revenue` (exact
    /// decimal strings per currency), `conversionRate` (conversions / qualifiedClicks), …, as
    /// in analytics.
    #[serde(flatten)]
    pub metrics: Metrics,
}

/// The variant that converts better, significantly.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Winner {
    pub index: usize,
    pub destination_url: String,
    /// The level the difference passed: `"0.95"` (two-sided two-proportion z-test).
    pub significance: &'static str,
    /// The test statistic against the runner-up, two decimals.
    pub z_score: f64,
    pub runner_up: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VariantsReport {
    pub slug: String,
    /// When the current variants and weights took effect; every number counts from here.
    /// `null` when the link has no test.
    pub variants_since: Option<Timestamp>,
    pub variants: Vec<VariantRow>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub winner: Option<Winner>,
    /// What the numbers say, in words: the winner, or "not yet: …" and why.
    pub verdict: String,
}

/// The report of `slug`'s test on `handle` (its numbers up to `today`, UTC).
#[tracing::instrument(skip_all, fields(handle = %handle, slug = %slug))]
pub async fn report(
    store: &dyn Store,
    handle: &Handle,
    slug: &Slug,
    today: time::Date,
) -> Result<VariantsReport, VariantsError> {
    let link = crate::links::load(store, handle, slug)
        .await?
        .ok_or_else(|| VariantsError::NotFound(slug.clone()))?;
    let Some(period) = link
        .variant_period
        .clone()
        .filter(|_| !link.variants.is_empty())
    else {
        return Ok(VariantsReport {
            slug: slug.to_string(),
            variants_since: None,
            variants: Vec::new(),
            winner: None,
            verdict: "This link has no A/B test: give it variants to start one.".into(),
        });
    };
    let since = period.variants_since.datetime().date();
    let range = DayRange {
        from: since.min(today),
        to: today,
    };
    let campaign = link
        .campaign_id
        .as_ref()
        .map_or(NO_CAMPAIGN, |c| c.as_str());
    let cells = read_cells(store, handle, campaign, Dimension::Variant, &range).await?;
    let mut counters = vec![Counters::default(); link.variants.len()];
    let prefix = format!("{slug}/");
    for cell in cells {
        let Some((index, at)) = cell
            .value
            .strip_prefix(&prefix)
            .and_then(variants::parse_tag)
        else {
            continue;
        };
        // Another period's clicks (before the weights last changed) are not this test's.
        if at == period.variants_since_millis
            && let Some(slot) = counters.get_mut(index)
        {
            slot.add(&cell.counters);
        }
    }
    Ok(judged(&link, period.variants_since, &counters))
}

/// The rows, and the judgement of their conversions out of qualified clicks.
fn judged(link: &Link, since: Timestamp, counters: &[Counters]) -> VariantsReport {
    let samples: Vec<Sample> = counters
        .iter()
        .map(|c| Sample {
            clicks: c.qualified,
            conversions: c.conversions,
        })
        .collect();
    let name = |i: usize| format!("variants[{i}] ({})", link.variants[i].destination_url);
    let (winner, verdict) = match variants::judge(&samples) {
        Judgement::Winner { best, runner_up, z } => {
            let rate = |s: Sample| percent(s.conversions, s.clicks);
            let verdict = format!(
                "{} converts better: {} of its visitors against {} for {}; a difference this \
                 large would come by chance less than 5% of the time (95% level).",
                name(best),
                rate(samples[best]),
                rate(samples[runner_up]),
                name(runner_up),
            );
            let winner = Winner {
                index: best,
                destination_url: link.variants[best].destination_url.clone(),
                significance: variants::SIGNIFICANCE,
                z_score: (z * 100.0).round() / 100.0,
                runner_up,
            };
            (Some(winner), verdict)
        }
        Judgement::NotYet(why) => (None, why),
    };
    VariantsReport {
        slug: link.slug.to_string(),
        variants_since: Some(since),
        variants: link
            .variants
            .iter()
            .zip(counters)
            .enumerate()
            .map(|(index, (v, c))| VariantRow {
                index,
                destination_url: v.destination_url.clone(),
                weight: v.weight,
                metrics: Metrics::from(c),
            })
            .collect(),
        winner,
        verdict,
    }
}

/// `part / whole` as a percentage with one decimal (`6.0%`), in integers.
fn percent(part: i64, whole: i64) -> String {
    if whole <= 0 {
        return "no visitors".into();
    }
    // Tenths of a percent, rounded half up.
    let tenths = (i128::from(part) * 2000 + i128::from(whole)) / (2 * i128::from(whole));
    format!("{}.{}%", tenths / 10, tenths % 10)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentages_are_rounded_in_integers() {
        assert_eq!(percent(60, 1000), "6.0%");
        assert_eq!(percent(35, 1000), "3.5%");
        assert_eq!(percent(1, 3), "33.3%");
        assert_eq!(percent(2, 3), "66.7%");
        assert_eq!(percent(0, 0), "no visitors");
    }
}
