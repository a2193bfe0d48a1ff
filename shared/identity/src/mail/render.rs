//! A message's words, from templates compiled into the binary (minijinja, `include_str!`): each
//! kind's template (`templates/{kind}.txt`) gives the subject, the paragraphs and the action;
//! one layout makes them the text part and one the HTML part. The HTML layout escapes every
//! value (a partner named `<script>` is text), and an action that is not an absolute http(s)
//! link is left out. Amounts and dates are written for the handle's locale (English unless set).

use std::sync::LazyLock;

use minijinja::value::Value;
use minijinja::{Environment, Error, ErrorKind, State, context};

use super::MailKind;
use super::branding::{Branding, DEFAULT_COLOR};
use super::locale::Locale;

/// What a message says, in both forms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Everything a message is rendered with besides its own data.
pub struct Frame<'a> {
    pub branding: &'a Branding,
    /// `en` unless the handle set another (`de`, `fr`: amounts, counts and dates).
    pub locale: Locale,
    pub unsubscribe_url: Option<&'a str>,
}

macro_rules! templates {
    ($($name:literal),* $(,)?) => {
        [$(($name, include_str!(concat!("templates/", $name)))),*]
    };
}

static ENV: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    let sources = templates!(
        "layout.html",
        "layout.txt",
        "sign_in.txt",
        "invitation.txt",
        "partner_approved.txt",
        "application_received.txt",
        "commission_digest.txt",
        "payout_sent.txt",
        "plan_notice.txt",
        "payout_method_changed.txt",
        "weekly_summary.txt",
        "message.txt",
        "claim_opened.txt",
        "claim_decided.txt",
        "domain_failing.txt",
        "coupon_leak.txt",
        "tax_profile_needs_fix.txt",
        "payout_returned.txt",
        "application_rejected.txt",
        "partner_email_changed.txt",
    );
    for (name, source) in sources {
        env.add_template(name, source)
            .unwrap_or_else(|e| panic!("template {name} does not compile: {e}"));
    }
    env.add_filter("money", money);
    env.add_filter("date", date);
    env.add_filter("number", number);
    env
});

#[derive(Debug, thiserror::Error)]
#[error("rendering {kind}: {source}")]
pub struct RenderError {
    kind: &'static str,
    source: Error,
}

/// Renders `kind` with `data` (the enqueuer's fields) in `frame`.
pub fn render(
    kind: MailKind,
    data: &serde_json::Value,
    frame: &Frame<'_>,
) -> Result<Rendered, RenderError> {
    let fail = |source| RenderError {
        kind: kind.as_str(),
        source,
    };
    let b = frame.branding;
    let own = context! { brand => &b.name, locale => frame.locale.as_str() };
    let ctx = context! { ..Value::from_serialize(data), ..own };
    let template = ENV
        .get_template(&format!("{}.txt", kind.as_str()))
        .map_err(fail)?;
    let mut captured = template.render_captured(ctx).map_err(fail)?;
    let mut block = |name: &str| {
        captured
            .with_state_mut(|state| state.render_block(name))
            .map(|s| s.trim().to_owned())
            .map_err(fail)
    };
    let subject = one_line(&block("subject")?);
    let paragraphs: Vec<String> = block("body")?
        .split("\n\n")
        .map(|p| p.trim().to_owned())
        .filter(|p| !p.is_empty())
        .collect();
    let action_url = block("action")?;
    let action_url = absolute(&action_url).then_some(action_url);
    let action_label = block("action_label")?;
    let layout = context! {
        subject => &subject,
        paragraphs => paragraphs,
        action_url => action_url,
        action_label => action_label,
        brand => &b.name,
        color => b.color.as_deref().unwrap_or(DEFAULT_COLOR),
        logo_url => &b.logo_url,
        locale => frame.locale.as_str(),
        footer => format!("Sent by {} with 10x.", b.name),
        unsubscribe_url => frame.unsubscribe_url,
        unsubscribe_label => "Unsubscribe from these mails",
    };
    let html = ENV
        .get_template("layout.html")
        .and_then(|t| t.render(&layout));
    let text = ENV
        .get_template("layout.txt")
        .and_then(|t| t.render(&layout));
    Ok(Rendered {
        subject,
        text: text.map_err(fail)?,
        html: html.map_err(fail)?,
    })
}

/// A subject is one line (a template's line breaks and runs of spaces become one space; the
/// locale's no-break spaces, inside an amount, stay).
fn one_line(s: &str) -> String {
    s.split(|c: char| c.is_ascii_whitespace())
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

fn absolute(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "https" | "http"))
}

fn locale(state: &State<'_, '_>) -> Locale {
    state
        .lookup("locale")
        .and_then(|v| v.as_str().and_then(Locale::parse))
        .unwrap_or_default()
}

/// `{{ amount | money(currency) }}`: a decimal (string or number) in the locale's way:
/// `$1,234.50`, `1.234,50 €`, `1 234,50 €`.
fn money(state: &State<'_, '_>, amount: Value, currency: Option<String>) -> Result<String, Error> {
    if amount.is_undefined() || amount.is_none() {
        return Err(Error::new(
            ErrorKind::UndefinedError,
            "an amount is missing",
        ));
    }
    let raw = amount.to_string();
    let Ok(value) = raw.parse::<rust_decimal::Decimal>() else {
        return Ok(raw);
    };
    Ok(locale(state).money(value, &currency.unwrap_or_default()))
}

/// `{{ clicks | number }}`: a whole number with the locale's groups (`1,234`, `1.234`); anything
/// else as given.
fn number(state: &State<'_, '_>, value: Value) -> String {
    let raw = value.to_string();
    match raw.parse::<i128>() {
        Ok(n) => locale(state).count(n),
        Err(_) => raw,
    }
}

/// `{{ at | date }}`: an RFC 3339 time or a `yyyy-mm-dd` day as `26 November 2026`
/// (`26. November 2026`, `26 novembre 2026`); anything else as given.
fn date(state: &State<'_, '_>, value: Value) -> String {
    let raw = value.to_string();
    let day = raw.get(..10).unwrap_or(&raw);
    let format = time::macros::format_description!("[year]-[month]-[day]");
    match time::Date::parse(day, &format) {
        Ok(d) => locale(state).date(d),
        Err(_) => raw,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn frame(b: &Branding) -> Frame<'_> {
        Frame {
            branding: b,
            locale: Locale::En,
            unsubscribe_url: Some("https://x.example/v2/public/unsubscribe?token=t"),
        }
    }

    #[test]
    fn every_kind_renders_with_its_subject_and_action() {
        let b = Branding::default_for(None);
        for kind in MailKind::ALL {
            let data = json!({"link": "https://x.example/l", "partnerName": "Ann",
                "amount": "10", "currency": "EUR", "totals": [{"amount": "3", "currency": "USD"}],
                "count": 2, "day": "2026-11-26", "difference30d": "-4.5"});
            let r = render(kind, &data, &frame(&b)).unwrap_or_else(|e| panic!("{e}"));
            assert!(!r.subject.is_empty(), "{kind:?}");
            assert!(r.html.contains("<!doctype html>"), "{kind:?}");
            assert!(r.text.contains(&r.subject), "{kind:?}");
        }
    }

    #[test]
    fn markup_in_data_is_text_in_the_html() {
        let b = Branding {
            name: "<b>Acme</b>".into(),
            ..Branding::default()
        };
        let data = json!({"partnerName": "<script>alert(1)</script>", "amount": "1234.5",
            "currency": "USD", "statementUrl": "javascript:alert(1)"});
        let r = render(MailKind::PayoutSent, &data, &frame(&b)).unwrap();
        assert!(!r.html.contains("<script>"), "{}", r.html);
        assert!(r.html.contains("&lt;script&gt;"), "{}", r.html);
        assert!(!r.html.contains("<b>Acme"), "{}", r.html);
        assert!(
            !r.html.contains("javascript:"),
            "a non-http action is dropped"
        );
        assert!(
            r.text.contains("<script>alert(1)</script>"),
            "text stays as typed"
        );
        assert_eq!(r.subject, "Your payout of $1,234.50 was sent");
    }

    #[test]
    fn a_payout_given_back_in_part_says_how_much_came_back() {
        let b = Branding::default_for(None);
        let whole = json!({"partnerName": "Ann", "amount": "12.00", "currency": "EUR",
            "reason": "Stripe reversed the transfer.", "portalUrl": "https://x.example/portal/acme"});
        let r = render(MailKind::PayoutReturned, &whole, &frame(&b)).unwrap();
        assert_eq!(r.subject, "Your payout of €12.00 did not reach you");
        assert!(
            r.text.contains("The amount is back on your balance"),
            "{}",
            r.text
        );
        let mut part = whole.clone();
        part["returned"] = json!("4.00");
        part["reason"] = json!("Stripe reversed part of the transfer.");
        let r = render(MailKind::PayoutReturned, &part, &frame(&b)).unwrap();
        assert_eq!(r.subject, "€4.00 of your payout of €12.00 came back");
        assert!(
            r.text
                .contains("sent you €12.00, and €4.00 of it came back: Stripe reversed part"),
            "{}",
            r.text
        );
        assert!(
            r.text.contains("That €4.00 is back on your balance"),
            "{}",
            r.text
        );
        assert!(!r.text.contains("did not reach you"), "{}", r.text);
    }

    #[test]
    fn a_missing_amount_fails_the_render_in_words() {
        let b = Branding::default_for(None);
        let e = render(MailKind::PayoutSent, &json!({}), &frame(&b)).unwrap_err();
        assert!(e.to_string().contains("an amount is missing"), "{e}");
    }

    #[test]
    fn amounts_dates_and_counts_follow_the_locale_in_every_part() {
        let b = Branding::default_for(None);
        let data = json!({"amount": "1234.5", "currency": "EUR", "paidAt": "2026-03-05T10:00:00Z",
            "partnerName": "Ann", "statementUrl": "https://x.example/s"});
        let cases = [
            (Locale::En, "€1,234.50", "5 March 2026"),
            (Locale::De, "1.234,50\u{a0}€", "5. März 2026"),
            (Locale::Fr, "1\u{202f}234,50\u{a0}€", "5 mars 2026"),
        ];
        for (locale, amount, day) in cases {
            let f = Frame {
                locale,
                ..frame(&b)
            };
            let r = render(MailKind::PayoutSent, &data, &f).unwrap();
            assert_eq!(r.subject, format!("Your payout of {amount} was sent"));
            assert!(
                r.text.contains(&format!("on {day}")),
                "{locale}: {}",
                r.text
            );
            assert!(r.html.contains(day), "{locale}: {}", r.html);
            assert!(r.html.contains(&format!("lang=\"{locale}\"")), "{locale}");
        }
        let week = json!({"from": "2026-11-16", "to": "2026-11-22", "clicks": 12345,
            "conversions": 1200, "commissions": [], "payouts": [], "consoleUrl": "https://x.example/"});
        let f = Frame {
            locale: Locale::De,
            ..frame(&b)
        };
        let r = render(MailKind::WeeklySummary, &week, &f).unwrap();
        assert!(
            r.text.contains("12.345 clicks, 1.200 conversions"),
            "{}",
            r.text
        );
    }
}
