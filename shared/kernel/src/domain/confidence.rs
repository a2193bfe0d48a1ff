//! The confidence score of a campaign's numbers (0–100): how far to trust them before paying a
//! partner. Pure: the caller supplies the counters, the campaign's state and the clock.
//!
//! Starts at 100 and loses points for each warning sign, each named in the reasons:
//! - bot ratio (bots / clicks) below 20 %: nothing; 20 % to 40 % inclusive: −15; above 40 %: −30;
//! - more conversions than qualified clicks: −25 (conversions cannot outnumber the humans who
//!   clicked unless something upstream is replaying or forging them);
//! - stale data: an `ACTIVE` campaign with no click for more than 7 days: −20;
//! - flagged conversions (fraud signals: too fast, over the per-click cap, value over the limit)
//!   above 10 % of conversions: −20;
//! - unverified conversions (public route, no merchant signature) above 50 % of conversions: −10.
//!
//! The bot-ratio reasons name the dominant bot reason, so an operator knows where to look.
//!
//! The result is clamped to 0–100. A campaign without any click has no bot ratio, so neither
//! ratio penalty applies (its conversion rate is reported as null by the caller); conversions
//! without any qualified click still count as exceeding them.

use serde::Serialize;

/// How long an active campaign may go without a click before its data counts as stale.
pub const STALE_AFTER_SECS: i64 = 7 * 86_400;

pub const BOT_PENALTY_ELEVATED: u8 = 15;
pub const BOT_PENALTY_HIGH: u8 = 30;
pub const CONVERSIONS_PENALTY: u8 = 25;
pub const STALE_PENALTY: u8 = 20;
pub const FLAGGED_PENALTY: u8 = 20;
pub const UNVERIFIED_PENALTY: u8 = 10;

/// What the score is computed from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ConfidenceInput<'a> {
    pub clicks: u64,
    pub bot_clicks: u64,
    /// The reason behind most bot clicks, and how many it covers.
    pub top_bot_reason: Option<(&'a str, u64)>,
    pub qualified_clicks: u64,
    pub conversions: u64,
    /// Conversions carrying at least one fraud signal.
    pub flagged_conversions: u64,
    /// Conversions from the public route (not signed off by the merchant's server).
    pub unverified_conversions: u64,
    /// Only active campaigns can be stale (a paused or archived one is expected to be quiet).
    pub active: bool,
    /// Unix seconds of the campaign's last known activity: the latest moment its last click can
    /// have happened, or its creation when it never had one. `None`: unknown, never stale.
    pub last_activity: Option<i64>,
    /// Unix seconds.
    pub now: i64,
}

/// One penalty: a machine-readable code, a human sentence and the points it cost.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Reason {
    pub code: &'static str,
    pub message: String,
    pub penalty: u8,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Confidence {
    pub score: u8,
    pub reasons: Vec<Reason>,
}

/// The bot-ratio band, decided with integer arithmetic so 20 % and 40 % are exact.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BotBand {
    Normal,
    Elevated,
    High,
}

fn bot_band(clicks: u64, bots: u64) -> Option<BotBand> {
    if clicks == 0 {
        return None;
    }
    // bots / clicks < 1/5  ⇔  5·bots < clicks;  > 2/5  ⇔  5·bots > 2·clicks (u128: no overflow).
    let five_bots = u128::from(bots) * 5;
    let clicks = u128::from(clicks);
    Some(if five_bots < clicks {
        BotBand::Normal
    } else if five_bots <= 2 * clicks {
        BotBand::Elevated
    } else {
        BotBand::High
    })
}

pub fn score(input: &ConfidenceInput<'_>) -> Confidence {
    let mut reasons = Vec::new();
    bot_reasons(input, &mut reasons);
    conversion_reasons(input, &mut reasons);
    stale_reason(input, &mut reasons);
    let lost: i32 = reasons.iter().map(|r| i32::from(r.penalty)).sum();
    Confidence {
        score: u8::try_from((100 - lost).clamp(0, 100)).unwrap_or(0),
        reasons,
    }
}

fn bot_reasons(input: &ConfidenceInput<'_>, reasons: &mut Vec<Reason>) {
    match bot_band(input.clicks, input.bot_clicks) {
        Some(BotBand::Elevated) => reasons.push(Reason {
            code: "bot_ratio_elevated",
            message: format!(
                "{} of {} clicks ({}) came from bots{}: 20 % to 40 % is some bot noise.",
                input.bot_clicks,
                input.clicks,
                percent(input.bot_clicks, input.clicks),
                mostly(input.top_bot_reason, input.bot_clicks),
            ),
            penalty: BOT_PENALTY_ELEVATED,
        }),
        Some(BotBand::High) => reasons.push(Reason {
            code: "bot_ratio_high",
            message: format!(
                "{} of {} clicks ({}) came from bots{}: above 40 % is likely fraudulent.",
                input.bot_clicks,
                input.clicks,
                percent(input.bot_clicks, input.clicks),
                mostly(input.top_bot_reason, input.bot_clicks),
            ),
            penalty: BOT_PENALTY_HIGH,
        }),
        Some(BotBand::Normal) | None => {}
    }
}

fn conversion_reasons(input: &ConfidenceInput<'_>, reasons: &mut Vec<Reason>) {
    if input.conversions > input.qualified_clicks {
        reasons.push(Reason {
            code: "conversions_exceed_qualified_clicks",
            message: format!(
                "{} conversions but only {} qualified clicks.",
                input.conversions, input.qualified_clicks
            ),
            penalty: CONVERSIONS_PENALTY,
        });
    }
    // flagged / conversions > 1/10  ⇔  10·flagged > conversions.
    if u128::from(input.flagged_conversions) * 10 > u128::from(input.conversions) {
        reasons.push(Reason {
            code: "flagged_conversions_high",
            message: format!(
                "{} of {} conversions ({}) carry fraud signals: above 10 % needs review.",
                input.flagged_conversions,
                input.conversions,
                percent(input.flagged_conversions, input.conversions)
            ),
            penalty: FLAGGED_PENALTY,
        });
    }
    // unverified / conversions > 1/2  ⇔  2·unverified > conversions.
    if u128::from(input.unverified_conversions) * 2 > u128::from(input.conversions) {
        reasons.push(Reason {
            code: "unverified_conversions_high",
            message: format!(
                "{} of {} conversions ({}) were not verified by the merchant's server.",
                input.unverified_conversions,
                input.conversions,
                percent(input.unverified_conversions, input.conversions)
            ),
            penalty: UNVERIFIED_PENALTY,
        });
    }
}

fn stale_reason(input: &ConfidenceInput<'_>, reasons: &mut Vec<Reason>) {
    if let (true, Some(last)) = (input.active, input.last_activity) {
        let quiet = input.now - last;
        if quiet > STALE_AFTER_SECS {
            reasons.push(Reason {
                code: "stale_data",
                message: format!(
                    "The campaign is active but has had no click for {} days.",
                    quiet / 86_400
                ),
                penalty: STALE_PENALTY,
            });
        }
    }
}

/// ` (mostly a crawler or a script, by its browser name: 12)` when one reason covers more than
/// half of the bot clicks, ` (most often a request no browser sends (HEAD): 1)` when it leads
/// without a majority (1 of 2 is not "mostly"),
/// or nothing when the reasons are unknown.
fn mostly(top: Option<(&str, u64)>, bot_clicks: u64) -> String {
    match top {
        Some((reason, n)) if u128::from(n) * 2 > u128::from(bot_clicks) => {
            format!(" (mostly {}: {n})", reason_words(reason))
        }
        Some((reason, n)) => format!(" (most often {}: {n})", reason_words(reason)),
        None => String::new(),
    }
}

/// A bot reason as people read it inside a sentence: its words (`GET /v2/reasons`), lower-cased
/// ("a crawler or a script, by its browser name"), or the code when the dictionary has none.
fn reason_words(code: &str) -> String {
    let words = crate::domain::words::or_code(code);
    let mut chars = words.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => String::new(),
    }
}

fn percent(part: u64, whole: u64) -> String {
    format!("{:.1} %", part as f64 * 100.0 / whole as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_750_000_000;
    const DAY: i64 = 86_400;

    fn input(clicks: u64, bots: u64, conversions: u64) -> ConfidenceInput<'static> {
        ConfidenceInput {
            clicks,
            bot_clicks: bots,
            qualified_clicks: clicks - bots,
            conversions,
            active: true,
            last_activity: Some(NOW),
            now: NOW,
            ..ConfidenceInput::default()
        }
    }

    fn codes(c: &Confidence) -> Vec<&'static str> {
        c.reasons.iter().map(|r| r.code).collect()
    }

    #[test]
    fn bot_ratio_boundaries() {
        // (clicks, bots, score, reasons): 19.9 %, 20 %, 40 %, 40.1 % and the extremes.
        let table: &[(u64, u64, u8, &[&str])] = &[
            (1000, 0, 100, &[]),
            (1000, 199, 100, &[]),
            (1000, 200, 85, &["bot_ratio_elevated"]),
            (1000, 300, 85, &["bot_ratio_elevated"]),
            (1000, 400, 85, &["bot_ratio_elevated"]),
            (1000, 401, 70, &["bot_ratio_high"]),
            (1000, 1000, 70, &["bot_ratio_high"]),
            (5, 1, 85, &["bot_ratio_elevated"]),
            (5, 2, 85, &["bot_ratio_elevated"]),
            (5, 3, 70, &["bot_ratio_high"]),
        ];
        for &(clicks, bots, want, want_codes) in table {
            let c = score(&input(clicks, bots, 0));
            assert_eq!(c.score, want, "{bots}/{clicks}");
            assert_eq!(codes(&c), want_codes, "{bots}/{clicks}");
        }
    }

    #[test]
    fn penalties_carry_points_and_a_message() {
        let c = score(&input(1000, 401, 0));
        assert_eq!(c.reasons[0].penalty, BOT_PENALTY_HIGH);
        assert!(c.reasons[0].message.contains("40.1 %"), "{:?}", c.reasons);
    }

    #[test]
    fn conversions_beyond_qualified_clicks() {
        let table: &[(u64, u64, u64, u8, &[&str])] = &[
            (10, 0, 10, 100, &[]),
            (10, 0, 11, 75, &["conversions_exceed_qualified_clicks"]),
            // 10 clicks, 5 bots (50 %): 5 qualified, 6 conversions.
            (
                10,
                5,
                6,
                45,
                &["bot_ratio_high", "conversions_exceed_qualified_clicks"],
            ),
            // No clicks at all: no bot ratio, but any conversion exceeds zero qualified clicks.
            (0, 0, 0, 100, &[]),
            (0, 0, 1, 75, &["conversions_exceed_qualified_clicks"]),
        ];
        for &(clicks, bots, conv, want, want_codes) in table {
            let c = score(&input(clicks, bots, conv));
            assert_eq!(c.score, want, "{clicks}/{bots}/{conv}");
            assert_eq!(codes(&c), want_codes, "{clicks}/{bots}/{conv}");
        }
    }

    #[test]
    fn stale_only_when_active_and_quiet_for_more_than_seven_days() {
        let table: &[(bool, Option<i64>, u8, &[&str])] = &[
            (true, Some(NOW), 100, &[]),
            (true, Some(NOW - 7 * DAY), 100, &[]),
            (true, Some(NOW - 7 * DAY - 1), 80, &["stale_data"]),
            (true, Some(NOW - 30 * DAY), 80, &["stale_data"]),
            (false, Some(NOW - 30 * DAY), 100, &[]),
            (true, None, 100, &[]),
        ];
        for &(active, last, want, want_codes) in table {
            let mut i = input(100, 0, 1);
            i.active = active;
            i.last_activity = last;
            let c = score(&i);
            assert_eq!(c.score, want, "{active} {last:?}");
            assert_eq!(codes(&c), want_codes, "{active} {last:?}");
        }
        let mut i = input(100, 0, 1);
        i.last_activity = Some(NOW - 30 * DAY);
        assert!(score(&i).reasons[0].message.contains("30 days"));
    }

    #[test]
    fn bot_reasons_name_the_dominant_one() {
        let mut i = input(10, 5, 0);
        assert!(!score(&i).reasons[0].message.contains("mostly"));
        i.top_bot_reason = Some(("link_preview", 4));
        let message = &score(&i).reasons[0].message;
        assert!(
            message.contains("(mostly a chat or social app previewing the link: 4)"),
            "{message}"
        );
        // "Mostly" only for a majority of the bot clicks: 4 of 5 is, 2 of 5 and 1 of 2 are not.
        i.top_bot_reason = Some(("link_preview", 2));
        let message = &score(&i).reasons[0].message;
        assert!(
            message.contains("(most often a chat or social app previewing the link: 2)"),
            "{message}"
        );
        let mut tie = input(3, 2, 0);
        tie.top_bot_reason = Some(("head_request", 1));
        let message = &score(&tie).reasons[0].message;
        assert!(
            message.contains("(most often a request no browser sends (HEAD): 1)"),
            "{message}"
        );
    }

    #[test]
    fn flagged_and_unverified_shares_cost_points_above_their_thresholds() {
        // (conversions, flagged, unverified, reasons): 10 % flagged and 50 % unverified are fine.
        let table: &[(u64, u64, u64, &[&str])] = &[
            (10, 1, 5, &[]),
            (10, 2, 5, &["flagged_conversions_high"]),
            (10, 1, 6, &["unverified_conversions_high"]),
            (
                10,
                10,
                10,
                &["flagged_conversions_high", "unverified_conversions_high"],
            ),
            (0, 0, 0, &[]),
        ];
        for &(conversions, flagged, unverified, want) in table {
            let mut i = input(100, 0, conversions);
            i.flagged_conversions = flagged;
            i.unverified_conversions = unverified;
            let c = score(&i);
            assert_eq!(codes(&c), want, "{conversions} {flagged} {unverified}");
            let lost: u8 = c.reasons.iter().map(|r| r.penalty).sum();
            assert_eq!(c.score, 100 - lost);
        }
    }

    #[test]
    fn every_penalty_at_once_stays_within_bounds() {
        let mut i = input(10, 9, 5);
        i.last_activity = Some(NOW - 9 * DAY);
        i.flagged_conversions = 5;
        i.unverified_conversions = 5;
        let c = score(&i);
        assert_eq!(
            codes(&c),
            [
                "bot_ratio_high",
                "conversions_exceed_qualified_clicks",
                "flagged_conversions_high",
                "unverified_conversions_high",
                "stale_data"
            ]
        );
        assert_eq!(c.score, 0, "105 points lost, clamped at 0");
    }
}
