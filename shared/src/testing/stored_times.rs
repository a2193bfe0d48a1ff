//! Records stored before their times were typed (issue 48: one time type in stored records)
//! read and write back byte for byte, and what was signed or hashed over them is unchanged.
//! The texts below are spellings the earlier code wrote or may have read in (whole seconds
//! without a fraction, a three-digit fraction, a one-digit one); today's code writes only some.

use serde_json::{Value, json};

use crate::domain::time::Timestamp;
use crate::domain::{CommissionId, Currency, PartnerId};
use crate::ledger::model::{Commission, Kind, Status};
use crate::payouts::statement;

/// A line as the store held it, its times in three spellings.
fn stored_line() -> String {
    let mut line = Commission::blank(
        CommissionId::new(),
        Kind::Conversion,
        PartnerId::parse("pub-one").unwrap(),
        Some(1234),
        Currency::parse("EUR").unwrap(),
        Status::Pending,
    );
    line.click_id =
        Some(crate::domain::ClickId::parse("clk_0190a1b2c3d4e5f60718293a4b5c6d7e").unwrap());
    let now = serde_json::to_string(&line).unwrap();
    // The record's text with the times an older writer put there.
    let spelled = |text: String, field: &str, time: &str| {
        let field = format!("\"{field}\":");
        let at = text.find(&field).unwrap() + field.len();
        let end = at + text[at..].find([',', '}']).unwrap();
        format!("{}\"{time}\"{}", &text[..at], &text[end..])
    };
    let old = spelled(now, "availableAt", "2026-12-21T09:05:00Z");
    let old = spelled(old, "createdAt", "2026-11-21T09:05:00.000Z");
    spelled(old, "reviewedAt", "2026-11-22T10:00:00.5Z")
}

#[test]
fn a_line_stored_before_the_type_reads_and_writes_back_byte_for_byte() {
    let text = stored_line();
    let line: Commission = serde_json::from_str(&text).unwrap();
    assert_eq!(serde_json::to_string(&line).unwrap(), text);
    // Its times are times: the due sweep and the payout selection read them as instants.
    assert_eq!(line.available_at.millis(), 1_797_843_900_000);
    assert_eq!(
        line.reviewed_at.as_ref().map(Timestamp::millis),
        Some(1_795_341_600_500)
    );
    assert!(line.created_at < line.available_at);
}

#[test]
fn a_lines_statement_leaf_does_not_move_with_the_spelling_of_its_times() {
    let old: Commission = serde_json::from_str(&stored_line()).unwrap();
    let mut today = old.clone();
    today.available_at = Timestamp::from_millis(old.available_at.millis());
    today.created_at = Timestamp::at(old.created_at.datetime());
    today.reviewed_at = old
        .reviewed_at
        .as_ref()
        .map(|t| Timestamp::at(t.datetime()));
    assert_ne!(
        serde_json::to_string(&today).unwrap(),
        serde_json::to_string(&old).unwrap(),
        "today's code spells these times differently"
    );
    assert_eq!(
        statement::leaf_hash_of(&today),
        statement::leaf_hash_of(&old)
    );
    // A statement's line shows one time, when it was earned, for people to read; it is outside
    // the leaf (above: the leaf did not move), so what a partner verifies is its money and ids.
    let shown = serde_json::to_value(statement::Line::from(&old)).unwrap();
    let times: Vec<&String> = shown
        .as_object()
        .unwrap()
        .keys()
        .filter(|k| k.ends_with("At"))
        .collect();
    assert_eq!(times, ["earnedAt"], "{shown}");
    let raw: Value = serde_json::from_str(&stored_line()).unwrap();
    assert_eq!(shown["amount"], "12.34");
    assert_eq!(shown["clickId"], raw["clickId"]);
}

#[test]
fn a_stored_time_that_is_not_a_time_fails_the_read_instead_of_reading_as_a_default() {
    let mut raw: Value = serde_json::from_str(&stored_line()).unwrap();
    raw["availableAt"] = json!("");
    let err = serde_json::from_value::<Commission>(raw).unwrap_err();
    assert!(err.to_string().contains("RFC 3339"), "{err}");
}
