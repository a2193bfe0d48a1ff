//! RFC 4180 CSV of a report: a header row, CRLF line ends, quoting where needed (the `csv`
//! crate). Same numbers as the JSON: each kind of money (`revenue`, `verifiedRevenue`,
//! `flaggedRevenue`, `reversedRevenue`) gets one `{kind}_{CURRENCY}` column per currency present
//! (empty ones read `0`); the funnel's reasons are their codes joined by `;`.
//!
//! Text cells an attacker can choose (sources, referrers) that start with `=`, `+`, `-`, `@`, tab
//! or carriage return are prefixed with `'`, so a spreadsheet never runs them as formulas.

use std::collections::{BTreeMap, BTreeSet};

use super::report::{CommissionAmounts, FunnelReport, GroupReport, Metrics};

fn neutralize(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_owned(),
    }
}

/// A ratio written exactly as the JSON writes it (`0.0`, `0.3333`); empty for null.
fn ratio_cell(r: Option<f64>) -> String {
    r.and_then(|r| serde_json::to_string(&r).ok())
        .unwrap_or_default()
}

fn write(rows: Vec<Vec<String>>) -> Result<Vec<u8>, csv::Error> {
    let mut w = csv::WriterBuilder::new()
        .terminator(csv::Terminator::CRLF)
        .from_writer(Vec::new());
    for row in rows {
        w.write_record(&row)?;
    }
    w.into_inner()
        .map_err(|e| csv::Error::from(std::io::Error::other(e.to_string())))
}

/// Every currency any money column of these metrics mentions.
fn currencies<'a>(all: impl Iterator<Item = &'a Metrics>) -> Vec<String> {
    let set: BTreeSet<&String> = all
        .flat_map(|m| {
            [
                &m.revenue,
                &m.verified_revenue,
                &m.flagged_revenue,
                &m.reversed_revenue,
            ]
        })
        .flat_map(|map| map.keys())
        .collect();
    set.into_iter().cloned().collect()
}

/// The metric columns both reports share, money as one column per currency and kind.
fn metric_header(ccys: &[String]) -> Vec<String> {
    let mut header: Vec<String> = [
        "clicks",
        "qualifiedClicks",
        "botClicks",
        "conversions",
        "verifiedConversions",
        "flaggedConversions",
    ]
    .map(String::from)
    .to_vec();
    for kind in MONEY {
        header.extend(ccys.iter().map(|c| format!("{kind}_{c}")));
    }
    header.extend(["conversionRate", "botRatio", "expiredClicks"].map(String::from));
    header
}

const MONEY: [&str; 4] = [
    "revenue",
    "verifiedRevenue",
    "flaggedRevenue",
    "reversedRevenue",
];

fn metric_cells(m: &Metrics, ccys: &[String]) -> Vec<String> {
    let mut row: Vec<String> = [
        m.clicks,
        m.qualified_clicks,
        m.bot_clicks,
        m.conversions,
        m.verified_conversions,
        m.flagged_conversions,
    ]
    .map(|n| n.to_string())
    .to_vec();
    for map in [
        &m.revenue,
        &m.verified_revenue,
        &m.flagged_revenue,
        &m.reversed_revenue,
    ] {
        row.extend(
            ccys.iter()
                .map(|c| map.get(c).cloned().unwrap_or_else(|| "0".into())),
        );
    }
    row.push(ratio_cell(m.conversion_rate));
    row.push(ratio_cell(m.bot_ratio));
    row.push(m.expired_clicks.to_string());
    row
}

/// One row per campaign (`campaignId` empty for links without a campaign), then its
/// commissions report: one `{commissionsPending|Approved|Paid}_{CURRENCY}` column per plan
/// currency present, the same exact decimals as the JSON's `commissions…Amount` maps.
pub fn funnel_csv(report: &FunnelReport) -> Result<Vec<u8>, csv::Error> {
    let ccys = currencies(report.campaigns.iter().map(|r| &r.metrics));
    let paid_in = commission_currencies(report.campaigns.iter().map(|r| &r.commissions));
    let mut header: Vec<String> = vec!["campaignId".into(), "status".into()];
    header.extend(metric_header(&ccys));
    header.extend(["confidence", "confidenceReasons"].map(String::from));
    for kind in COMMISSIONS {
        header.extend(paid_in.iter().map(|c| format!("{kind}_{c}")));
    }
    // Issue 62: the reasons in words, after every documented column.
    header.push("confidenceReasonsWords".into());
    header.push("statusWords".into());
    let mut rows = vec![header];
    for r in &report.campaigns {
        let mut row = vec![
            r.campaign_id
                .as_ref()
                .map_or_else(String::new, ToString::to_string),
            r.status.map(|s| s.as_str().to_owned()).unwrap_or_default(),
        ];
        row.extend(metric_cells(&r.metrics, &ccys));
        row.push(r.confidence.to_string());
        let codes: Vec<&str> = r.confidence_reasons.iter().map(|x| x.code).collect();
        row.push(codes.join(";"));
        row.extend(commission_cells(&r.commissions, &paid_in));
        let words: Vec<&str> = codes
            .iter()
            .map(|c| crate::domain::words::or_code(c))
            .collect();
        row.push(words.join("; "));
        row.push(
            r.status
                .map(|s| crate::domain::words::or_code(s.as_str()).to_owned())
                .unwrap_or_default(),
        );
        rows.push(row);
    }
    write(rows)
}

const COMMISSIONS: [&str; 3] = [
    "commissionsPending",
    "commissionsApproved",
    "commissionsPaid",
];

fn commission_maps(c: &CommissionAmounts) -> [&BTreeMap<String, String>; 3] {
    [
        &c.commissions_pending_amount,
        &c.commissions_approved_amount,
        &c.commissions_paid_amount,
    ]
}

fn commission_currencies<'a>(all: impl Iterator<Item = &'a CommissionAmounts>) -> Vec<String> {
    let set: BTreeSet<&String> = all
        .flat_map(commission_maps)
        .flat_map(|map| map.keys())
        .collect();
    set.into_iter().cloned().collect()
}

fn commission_cells(c: &CommissionAmounts, ccys: &[String]) -> Vec<String> {
    commission_maps(c)
        .into_iter()
        .flat_map(|map| {
            ccys.iter()
                .map(|ccy| map.get(ccy).cloned().unwrap_or_else(|| "0".into()))
        })
        .collect()
}

/// One row per group key.
pub fn groups_csv(report: &GroupReport) -> Result<Vec<u8>, csv::Error> {
    let ccys = currencies(report.rows.iter().map(|r| &r.metrics));
    let mut header = vec![report.group_by.to_owned()];
    header.extend(metric_header(&ccys));
    // Issue 62: a group of codes (`botReason`) gets their words, after the documented columns.
    let coded = report.group_by == "botReason";
    if coded {
        header.push("botReasonWords".into());
    }
    let mut rows = vec![header];
    for r in &report.rows {
        let mut row = vec![neutralize(&r.key)];
        row.extend(metric_cells(&r.metrics, &ccys));
        if coded {
            row.push(crate::domain::words::or_code(&r.key).to_owned());
        }
        rows.push(row);
    }
    write(rows)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::analytics::report::GroupRow;

    fn metrics() -> Metrics {
        Metrics {
            clicks: 0,
            qualified_clicks: 0,
            bot_clicks: 0,
            conversions: 0,
            verified_conversions: 0,
            flagged_conversions: 0,
            revenue: BTreeMap::new(),
            verified_revenue: BTreeMap::new(),
            flagged_revenue: BTreeMap::new(),
            reversed_revenue: BTreeMap::new(),
            expired_clicks: 0,
            test_clicks: 0,
            conversion_rate: None,
            bot_ratio: None,
            leads: 0,
            customers: 0,
            recurring_revenue: BTreeMap::new(),
        }
    }

    #[test]
    fn groups_are_rfc4180_with_quoting_and_neutralized_formulas() {
        let row = |key: &str, ccy: Option<(&str, &str)>| GroupRow {
            key: key.into(),
            metrics: Metrics {
                clicks: 2,
                qualified_clicks: 1,
                bot_clicks: 1,
                conversions: 1,
                verified_conversions: 1,
                revenue: ccy
                    .map(|(c, v)| BTreeMap::from([(c.to_owned(), v.to_owned())]))
                    .unwrap_or_default(),
                conversion_rate: Some(1.0),
                bot_ratio: Some(0.5),
                ..metrics()
            },
        };
        let report = GroupReport {
            handle: "acme".into(),
            group_by: "referrer",
            campaign_id: None,
            from: "2026-01-01".into(),
            to: "2026-01-30".into(),
            rows: vec![
                row("news, \"daily\"", Some(("USD", "24.99"))),
                row("=cmd()", Some(("EUR", "5"))),
            ],
            totals: metrics(),
        };
        let csv = String::from_utf8(groups_csv(&report).unwrap()).unwrap();
        assert_eq!(
            csv,
            "referrer,clicks,qualifiedClicks,botClicks,conversions,verifiedConversions,\
             flaggedConversions,revenue_EUR,revenue_USD,verifiedRevenue_EUR,verifiedRevenue_USD,\
             flaggedRevenue_EUR,flaggedRevenue_USD,reversedRevenue_EUR,reversedRevenue_USD,\
             conversionRate,botRatio,expiredClicks\r\n\
             \"news, \"\"daily\"\"\",2,1,1,1,1,0,0,24.99,0,0,0,0,0,0,1.0,0.5,0\r\n\
             '=cmd(),2,1,1,1,1,0,5,0,0,0,0,0,0,0,1.0,0.5,0\r\n"
        );
    }

    #[test]
    fn the_funnel_carries_its_commissions_report_per_plan_currency() {
        use crate::analytics::report::FunnelRow;
        let amounts = |ccy: &str, pending: &str, approved: &str, paid: &str| {
            let one = |v: &str| BTreeMap::from([(ccy.to_owned(), v.to_owned())]);
            CommissionAmounts {
                commissions_pending_amount: one(pending),
                commissions_approved_amount: one(approved),
                commissions_paid_amount: one(paid),
            }
        };
        let row = |id: &str, commissions: CommissionAmounts| FunnelRow {
            campaign_id: Some(crate::domain::CampaignId::parse(id).unwrap()),
            partner_id: None,
            status: None,
            metrics: metrics(),
            confidence: 100,
            confidence_reasons: vec![],
            commissions,
        };
        let report = FunnelReport {
            handle: "acme".into(),
            from: "2026-01-01".into(),
            to: "2026-01-30".into(),
            campaigns: vec![
                row("alpha", amounts("EUR", "1.50", "10.00", "-2.25")),
                row("yen", amounts("JPY", "0", "1200", "0")),
                row("none", CommissionAmounts::default()),
            ],
            totals: metrics(),
            freshness: None,
        };
        let csv = String::from_utf8(funnel_csv(&report).unwrap()).unwrap();
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert!(
            lines[0].ends_with(
                "confidence,confidenceReasons,commissionsPending_EUR,commissionsPending_JPY,\
                 commissionsApproved_EUR,commissionsApproved_JPY,commissionsPaid_EUR,commissionsPaid_JPY,\
                 confidenceReasonsWords,statusWords"
            ),
            "{}",
            lines[0]
        );
        assert!(
            lines[1].ends_with(",100,,1.50,0,10.00,0,-2.25,0,,"),
            "{}",
            lines[1]
        );
        assert!(lines[2].ends_with(",100,,0,0,0,1200,0,0,,"), "{}", lines[2]);
        assert!(lines[3].ends_with(",100,,0,0,0,0,0,0,,"), "{}", lines[3]);
    }

    #[test]
    fn a_funnel_row_names_its_campaign_by_its_id_and_a_row_without_one_by_nothing() {
        use crate::analytics::report::FunnelRow;
        let row = |id: Option<&str>| FunnelRow {
            campaign_id: id.map(|id| crate::domain::CampaignId::parse(id).unwrap()),
            partner_id: None,
            status: None,
            metrics: metrics(),
            confidence: 100,
            confidence_reasons: vec![],
            commissions: CommissionAmounts::default(),
        };
        let report = FunnelReport {
            handle: "acme".into(),
            from: "2026-01-01".into(),
            to: "2026-01-30".into(),
            campaigns: vec![row(Some("spring_25")), row(None)],
            totals: metrics(),
            freshness: None,
        };
        let json = serde_json::to_value(&report).unwrap();
        assert_eq!(json["campaigns"][0]["campaignId"], "spring_25");
        assert_eq!(json["campaigns"][1]["campaignId"], serde_json::Value::Null);
        let csv = String::from_utf8(funnel_csv(&report).unwrap()).unwrap();
        let lines: Vec<&str> = csv.split("\r\n").collect();
        assert!(lines[1].starts_with("spring_25,"), "{}", lines[1]);
        assert!(lines[2].starts_with(",,0,"), "{}", lines[2]);
    }
}
