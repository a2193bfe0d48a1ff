//! Where a payout run stands (issue 43): the partners it finished, and within the next one the
//! pass and the live-index page it reached. A run cut by its budget leaves its place in its job
//! (`payouts::jobs`), so each sweep goes on from there instead of starting the partner's two
//! passes over: a 10^5-line run needs both passes once in all, however short each sweep.
//!
//! A place only ever points before work not yet stored: a page's claims are staged
//! (`payouts::stage`) before the place moves past it, so a place lost, or two workers on one
//! place, redo pages; they never skip one.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::domain::{Currency, PartnerId};

/// A run's place. The default is its start.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Place {
    /// Every partner up to this one (in id order) is finished.
    #[serde(default)]
    pub done_through: Option<PartnerId>,
    /// How far the next partner got (`None`: not begun).
    #[serde(default)]
    pub at: Option<At>,
}

/// A partner's progress: the pass, and the live-index key its next page starts after.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct At {
    pub partner: PartnerId,
    pub pass: Pass,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "pass", rename_all = "camelCase")]
pub enum Pass {
    /// Pass one, summing per currency what the run would pay.
    Tally { after: Option<String>, nets: Nets },
    /// Pass two for `currency` (those before it are done), claiming.
    #[serde(rename_all = "camelCase")]
    Claim {
        nets: Nets,
        currency: Currency,
        after: Option<String>,
    },
}

impl Place {
    /// Whether `partner` was finished by an earlier call.
    pub fn finished(&self, partner: &PartnerId) -> bool {
        self.done_through.as_ref().is_some_and(|d| partner <= d)
    }

    /// The pass `partner` reached (`None`: from its start).
    pub fn pass_of(&self, partner: &PartnerId) -> Option<&Pass> {
        self.at
            .as_ref()
            .filter(|at| &at.partner == partner)
            .map(|at| &at.pass)
    }

    /// Records `partner` reaching `pass`.
    pub fn reach(&mut self, partner: &PartnerId, pass: Pass) {
        self.at = Some(At {
            partner: partner.clone(),
            pass,
        });
    }

    /// Records `partner` finished.
    pub fn finish(&mut self, partner: &PartnerId) {
        self.done_through = Some(partner.clone());
        self.at = None;
    }
}

/// Per currency, minor units. Stored as decimal strings: a sum of `i64` amounts may pass what a
/// JSON number holds exactly.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    into = "BTreeMap<Currency, String>",
    try_from = "BTreeMap<Currency, String>"
)]
pub struct Nets(pub BTreeMap<Currency, i128>);

impl From<Nets> for BTreeMap<Currency, String> {
    fn from(n: Nets) -> Self {
        n.0.into_iter().map(|(c, v)| (c, v.to_string())).collect()
    }
}

impl TryFrom<BTreeMap<Currency, String>> for Nets {
    type Error = std::num::ParseIntError;
    fn try_from(m: BTreeMap<Currency, String>) -> Result<Self, Self::Error> {
        let parsed = m.into_iter().map(|(c, v)| Ok((c, v.parse()?)));
        parsed.collect::<Result<_, _>>().map(Nets)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_place_keeps_sums_past_what_a_json_number_holds_and_reads_back_the_same() {
        let eur = Currency::parse("EUR").unwrap();
        let mut place = Place::default();
        let p = PartnerId::parse("p-1").unwrap();
        let big = i128::from(i64::MAX) * 3;
        let nets = Nets([(eur, big)].into());
        place.reach(
            &p,
            Pass::Tally {
                after: Some("p-1#x".into()),
                nets: nets.clone(),
            },
        );
        let json = serde_json::to_value(&place).unwrap();
        assert_eq!(json["at"]["pass"]["nets"]["EUR"], big.to_string());
        let back: Place = serde_json::from_value(json).unwrap();
        assert_eq!(back, place);
        assert!(!back.finished(&p));
        assert!(back.pass_of(&PartnerId::parse("p-2").unwrap()).is_none());
        let mut done = back;
        done.finish(&p);
        assert!(done.finished(&p) && done.finished(&PartnerId::parse("a").unwrap()));
        assert!(!done.finished(&PartnerId::parse("p-2").unwrap()));
        let bad = serde_json::json!({"at": {"partner": "p", "pass": {"pass": "tally", "after": null, "nets": {"EUR": "x"}}}});
        assert!(serde_json::from_value::<Place>(bad).is_err());
    }
}
