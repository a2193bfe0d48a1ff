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
    /// `en` unless the handle set another (`de`, `fr`, …: amounts and dates).
    pub locale: &'a str,
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
    );
    for (name, source) in sources {
        env.add_template(name, source)
            .unwrap_or_else(|e| panic!("template {name} does not compile: {e}"));
    }
    env.add_filter("money", money);
    env.add_filter("date", date);
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
    let own = context! { brand => &b.name, locale => frame.locale };
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
        locale => frame.locale,
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

/// A subject is one line (a template's line breaks become spaces).
fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn absolute(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "https" | "http"))
}

fn locale(state: &State<'_, '_>) -> String {
    state
        .lookup("locale")
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_else(|| "en".into())
}

/// `{{ amount | money(currency) }}`: a decimal (string or number) in the locale's way:
/// `$1,234.50`, `1.234,50 €`.
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
    let currency = currency.unwrap_or_default();
    Ok(format_money(value, &currency, &locale(state)))
}

pub fn format_money(value: rust_decimal::Decimal, currency: &str, locale: &str) -> String {
    let negative = value.is_sign_negative() && !value.is_zero();
    let fixed = format!("{:.2}", value.abs().round_dp(2));
    let (int, frac) = fixed.split_once('.').unwrap_or((&fixed, "00"));
    let european = matches!(locale, "de" | "fr" | "es" | "it" | "nl" | "pt");
    let (group, point) = if european { ('.', ',') } else { (',', '.') };
    let mut grouped = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            grouped.push(group);
        }
        grouped.push(c);
    }
    let number = format!("{grouped}{point}{frac}");
    let symbol = match currency {
        "USD" => Some("$"),
        "EUR" => Some("€"),
        "GBP" => Some("£"),
        _ => None,
    };
    let sign = if negative { "-" } else { "" };
    match (symbol, european) {
        (Some(s), false) => format!("{sign}{s}{number}"),
        (Some(s), true) => format!("{sign}{number} {s}"),
        (None, _) => format!("{sign}{number} {currency}").trim_end().to_owned(),
    }
}

/// `{{ at | date }}`: an RFC 3339 time or a `yyyy-mm-dd` day as `26 November 2026`
/// (`26. November 2026` in German); anything else as given.
fn date(state: &State<'_, '_>, value: Value) -> String {
    let raw = value.to_string();
    let day = raw.get(..10).unwrap_or(&raw);
    let format = time::macros::format_description!("[year]-[month]-[day]");
    let Ok(d) = time::Date::parse(day, &format) else {
        return raw;
    };
    let month = d.month().to_string();
    match locale(state).as_str() {
        "de" => format!("{}. {} {}", d.day(), month, d.year()),
        _ => format!("{} {} {}", d.day(), month, d.year()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn frame(b: &Branding) -> Frame<'_> {
        Frame {
            branding: b,
            locale: "en",
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
    fn a_missing_amount_fails_the_render_in_words() {
        let b = Branding::default_for(None);
        let e = render(MailKind::PayoutSent, &json!({}), &frame(&b)).unwrap_err();
        assert!(e.to_string().contains("an amount is missing"), "{e}");
    }

    #[test]
    fn amounts_follow_the_locale() {
        let d = |s: &str| s.parse::<rust_decimal::Decimal>().unwrap();
        assert_eq!(format_money(d("1234567.5"), "USD", "en"), "$1,234,567.50");
        assert_eq!(format_money(d("1234.5"), "EUR", "de"), "1.234,50 €");
        assert_eq!(format_money(d("-3"), "CHF", "en"), "-3.00 CHF");
        assert_eq!(format_money(d("999"), "GBP", "en"), "£999.00");
    }
}
