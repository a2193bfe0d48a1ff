//! RFC 4180 CSV of a report: a header row, CRLF line ends, quoting where needed (the `csv`
//! crate). Same numbers as the JSON: revenue gets one `revenue_{CURRENCY}` column per currency
//! present (empty currencies read `0`); the funnel's reasons are their codes joined by `;`.
//!
//! Text cells an attacker can choose (sources, referrers) that start with `=`, `+`, `-`, `@`, tab
//! or carriage return are prefixed with `'`, so a spreadsheet never runs them as formulas.

use std::collections::{BTreeMap, BTreeSet};

use super::report::{FunnelReport, GroupReport};

fn neutralize(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_owned(),
    }
}

fn currencies<'a>(maps: impl Iterator<Item = &'a BTreeMap<String, String>>) -> Vec<String> {
    let set: BTreeSet<&String> = maps.flat_map(|m| m.keys()).collect();
    set.into_iter().cloned().collect()
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

/// One row per campaign (`campaignId` empty for links without a campaign).
pub fn funnel_csv(report: &FunnelReport) -> Result<Vec<u8>, csv::Error> {
    let ccys = currencies(report.campaigns.iter().map(|r| &r.metrics.revenue));
    let mut header: Vec<String> = [
        "campaignId",
        "status",
        "clicks",
        "qualifiedClicks",
        "botClicks",
        "conversions",
    ]
    .map(String::from)
    .to_vec();
    header.extend(ccys.iter().map(|c| format!("revenue_{c}")));
    header.extend(
        [
            "conversionRate",
            "botRatio",
            "confidence",
            "confidenceReasons",
        ]
        .map(String::from),
    );
    let mut rows = vec![header];
    for r in &report.campaigns {
        let m = &r.metrics;
        let mut row = vec![
            r.campaign_id.clone().unwrap_or_default(),
            r.status.map(|s| s.as_str().to_owned()).unwrap_or_default(),
            m.clicks.to_string(),
            m.qualified_clicks.to_string(),
            m.bot_clicks.to_string(),
            m.conversions.to_string(),
        ];
        row.extend(
            ccys.iter()
                .map(|c| m.revenue.get(c).cloned().unwrap_or_else(|| "0".into())),
        );
        row.push(ratio_cell(m.conversion_rate));
        row.push(ratio_cell(m.bot_ratio));
        row.push(r.confidence.to_string());
        row.push(
            r.confidence_reasons
                .iter()
                .map(|x| x.code)
                .collect::<Vec<_>>()
                .join(";"),
        );
        rows.push(row);
    }
    write(rows)
}

/// One row per group key.
pub fn groups_csv(report: &GroupReport) -> Result<Vec<u8>, csv::Error> {
    let ccys = currencies(report.rows.iter().map(|r| &r.revenue));
    let mut header: Vec<String> = [
        report.group_by,
        "clicks",
        "qualifiedClicks",
        "botClicks",
        "conversions",
    ]
    .map(String::from)
    .to_vec();
    header.extend(ccys.iter().map(|c| format!("revenue_{c}")));
    let mut rows = vec![header];
    for r in &report.rows {
        let mut row = vec![
            neutralize(&r.key),
            r.clicks.to_string(),
            r.qualified_clicks.to_string(),
            r.bot_clicks.to_string(),
            r.conversions.to_string(),
        ];
        row.extend(
            ccys.iter()
                .map(|c| r.revenue.get(c).cloned().unwrap_or_else(|| "0".into())),
        );
        rows.push(row);
    }
    write(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analytics::report::{GroupRow, Metrics};

    fn metrics() -> Metrics {
        Metrics {
            clicks: 0,
            qualified_clicks: 0,
            bot_clicks: 0,
            conversions: 0,
            revenue: BTreeMap::new(),
            conversion_rate: None,
            bot_ratio: None,
        }
    }

    #[test]
    fn groups_are_rfc4180_with_quoting_and_neutralized_formulas() {
        let row = |key: &str, ccy: Option<(&str, &str)>| GroupRow {
            key: key.into(),
            clicks: 2,
            qualified_clicks: 1,
            bot_clicks: 1,
            conversions: 1,
            revenue: ccy
                .map(|(c, v)| BTreeMap::from([(c.to_owned(), v.to_owned())]))
                .unwrap_or_default(),
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
            "referrer,clicks,qualifiedClicks,botClicks,conversions,revenue_EUR,revenue_USD\r\n\
             \"news, \"\"daily\"\"\",2,1,1,1,0,24.99\r\n\
             '=cmd(),2,1,1,1,5,0\r\n"
        );
    }
}
