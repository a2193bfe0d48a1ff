//! Cells of the CSV files people open in a spreadsheet (the audit log's and the tax profiles'
//! exports): a cell a spreadsheet would run as a formula is written as text.

/// `value`, prefixed with `'` when its first character would make a spreadsheet run it as a
/// formula (`=`, `+`, `-`, `@`, a tab or a carriage return).
pub fn cell(value: &str) -> String {
    match value.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{value}"),
        _ => value.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::cell;

    #[test]
    fn formulas_become_text_and_the_rest_stays() {
        for (raw, written) in [
            ("=SUM(A1:A9)", "'=SUM(A1:A9)"),
            ("+1", "'+1"),
            ("-2", "'-2"),
            ("@cmd", "'@cmd"),
            ("\tx", "'\tx"),
            ("plain", "plain"),
            ("", ""),
        ] {
            assert_eq!(cell(raw), written, "{raw:?}");
        }
    }
}
