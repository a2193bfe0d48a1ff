//! The leak score of a code's recent sales: pure, so the report, the alert and the tests rate
//! the same history the same way.

use serde::{Deserialize, Serialize};

/// One sale of the code as the score sees it.
#[derive(Clone, Debug)]
pub struct Use {
    pub with_click: bool,
    /// The landing referrer's host; `None`: direct or unknown.
    pub referrer: Option<String>,
}

/// Where a code's sales without a click came from.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Source {
    pub referrer_domain: String,
    pub count: u64,
}

/// The score and what it is made of.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Scored {
    pub conversions: u64,
    pub without_click: u64,
    /// `withoutClick / conversions`, two decimals (0 with no sales): a ratio, never money.
    pub share: f64,
    pub sources: Vec<Source>,
    /// 0 to 100.
    pub score: u8,
    pub reasons: Vec<String>,
}

/// Sites that publish codes and extensions that inject them: a sale landing from one of these
/// (or a sub-domain) with no click of the partner is the leak the issue describes.
const COUPON_SITES: &[&str] = &[
    "retailmenot.com",
    "couponfollow.com",
    "joinhoney.com",
    "capitaloneshopping.com",
    "rakuten.com",
    "slickdeals.net",
    "dealspotr.com",
    "knoji.com",
    "couponbirds.com",
    "coupons.com",
    "couponcabin.com",
    "couponchief.com",
    "groupon.com",
    "savings.com",
    "wethrift.com",
    "simplycodes.com",
    "dontpayfull.com",
    "promocodes.com",
    "vouchercodes.co.uk",
    "myvouchercodes.co.uk",
    "dealabs.com",
    "mydealz.de",
    "karmanow.com",
    "goodshop.com",
];

/// Fewer sales than this say little: the score is capped at [`FEW_SALES_CAP`].
pub const FEW_SALES: u64 = 5;
const FEW_SALES_CAP: u8 = 40;
/// At most this many sources are listed (the largest).
const MAX_SOURCES: usize = 10;

/// The reason codes (the reason dictionary has their words).
pub const SALES_WITHOUT_PARTNER_CLICK: &str = "coupon_sales_without_partner_click";
pub const COUPON_SITE_REFERRER: &str = "coupon_site_referrer";
pub const FEW_SALES_REASON: &str = "coupon_few_sales";

/// `host` is a known coupon site or one of its sub-domains.
pub fn is_coupon_site(host: &str) -> bool {
    COUPON_SITES
        .iter()
        .any(|site| host == *site || host.ends_with(&format!(".{site}")))
}

/// Up to 70 points for the share of sales without a click, up to 30 for the share of those that
/// landed from coupon sites; capped at 40 under [`FEW_SALES`] sales.
pub fn score(uses: &[Use]) -> Scored {
    let conversions = uses.len() as u64;
    let without: Vec<&Use> = uses.iter().filter(|u| !u.with_click).collect();
    let without_click = without.len() as u64;
    let from_sites = without
        .iter()
        .filter(|u| u.referrer.as_deref().is_some_and(is_coupon_site))
        .count() as u64;
    let points = |part: u64, whole: u64, max: u64| (part * max).checked_div(whole).unwrap_or(0);
    let raw = points(without_click, conversions, 70) + points(from_sites, without_click, 30);
    let mut reasons = Vec::new();
    if without_click * 2 >= conversions && without_click > 0 {
        reasons.push(SALES_WITHOUT_PARTNER_CLICK.to_owned());
    }
    if from_sites > 0 {
        reasons.push(COUPON_SITE_REFERRER.to_owned());
    }
    let mut score = u8::try_from(raw.min(100)).unwrap_or(100);
    if conversions < FEW_SALES {
        score = score.min(FEW_SALES_CAP);
        reasons.push(FEW_SALES_REASON.to_owned());
    }
    let share = match conversions {
        0 => 0.0,
        n => (without_click * 100).div_ceil(n).min(100) as f64 / 100.0,
    };
    Scored {
        conversions,
        without_click,
        share,
        sources: sources(&without),
        score,
        reasons,
    }
}

/// The referrer domains of the sales without a click, the largest first (`direct` for none).
fn sources(without: &[&Use]) -> Vec<Source> {
    let mut counts: std::collections::BTreeMap<&str, u64> = Default::default();
    for u in without {
        *counts
            .entry(u.referrer.as_deref().unwrap_or("direct"))
            .or_default() += 1;
    }
    let mut out: Vec<Source> = counts
        .into_iter()
        .map(|(d, count)| Source {
            referrer_domain: d.to_owned(),
            count,
        })
        .collect();
    out.sort_by(|a, b| {
        b.count
            .cmp(&a.count)
            .then(a.referrer_domain.cmp(&b.referrer_domain))
    });
    out.truncate(MAX_SOURCES);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uses(with: usize, without: &[Option<&str>]) -> Vec<Use> {
        let mut out: Vec<Use> = (0..with)
            .map(|_| Use {
                with_click: true,
                referrer: None,
            })
            .collect();
        out.extend(without.iter().map(|r| Use {
            with_click: false,
            referrer: r.map(str::to_owned),
        }));
        out
    }

    #[test]
    fn a_code_used_from_coupon_sites_without_clicks_scores_high() {
        let leaked = score(&uses(2, &[Some("retailmenot.com"); 8]));
        assert_eq!(leaked.score, 56 + 30);
        assert_eq!(leaked.share.to_string(), "0.8");
        assert_eq!(leaked.sources[0].referrer_domain, "retailmenot.com");
        assert!(leaked.reasons.contains(&COUPON_SITE_REFERRER.to_owned()));
        let own = score(&uses(9, &[None]));
        assert!(own.score < 10 && own.reasons.is_empty(), "{own:?}");
    }

    #[test]
    fn few_sales_cap_the_score_and_say_so() {
        let few = score(&uses(0, &[Some("deals.slickdeals.net"); 3]));
        assert_eq!(few.score, 40);
        assert!(few.reasons.contains(&FEW_SALES_REASON.to_owned()));
        let none = score(&[]);
        assert_eq!((none.score, none.share.to_string()), (0, "0".to_owned()));
    }

    #[test]
    fn only_a_site_or_its_sub_domains_count_as_a_coupon_site() {
        assert!(is_coupon_site("www.retailmenot.com"));
        assert!(!is_coupon_site("notretailmenot.com"));
    }
}
