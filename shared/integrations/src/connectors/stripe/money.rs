//! Stripe amounts: integers in the currency's smallest unit as Stripe counts it
//! (https://docs.stripe.com/currencies): zero-decimal currencies, three-decimal ones, and two
//! decimals for the rest, ISK and UGX included (Stripe takes them ×100 for backwards
//! compatibility, though ISO gives them none).

use rust_decimal::Decimal;

/// Stripe's zero-decimal currencies (UGX left out: see the module).
const ZERO_DECIMAL: [&str; 15] = [
    "BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA", "PYG", "RWF", "VND", "VUV", "XAF",
    "XOF", "XPF",
];
const THREE_DECIMAL: [&str; 5] = ["BHD", "JOD", "KWD", "OMR", "TND"];

/// Stripe's exponent for `currency` (upper case).
pub fn exponent(currency: &str) -> u32 {
    if ZERO_DECIMAL.contains(&currency) {
        0
    } else if THREE_DECIMAL.contains(&currency) {
        3
    } else {
        2
    }
}

/// `amount` of Stripe's minor units of `currency` (any case) as an exact decimal, and the
/// currency upper-cased.
pub fn major(amount: i64, currency: &str) -> (Decimal, String) {
    let code = currency.to_ascii_uppercase();
    (Decimal::new(amount, exponent(&code)).normalize(), code)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minor_units_follow_stripes_exponents() {
        assert_eq!(major(2900, "usd"), (Decimal::new(29, 0), "USD".into()));
        assert_eq!(major(5000, "jpy"), (Decimal::new(5000, 0), "JPY".into()));
        assert_eq!(major(12345, "kwd"), (Decimal::new(12345, 3), "KWD".into()));
        assert_eq!(major(500, "isk"), (Decimal::new(5, 0), "ISK".into()));
        assert_eq!(major(1999, "EUR"), (Decimal::new(1999, 2), "EUR".into()));
    }
}
