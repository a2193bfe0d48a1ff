//! The built-in rules every handle gets until it stores its own: sensible retargeting defaults.
//!
//! - `checkout`: a purchase suppresses everything; a cart (or, failing that, a product view)
//!   without a purchase gets a delayed cart-reminder email.
//! - `browse`: nobody who bought in the last day is retargeted; three or more views without a
//!   cart get a browse-abandonment email 2 hours later.
//! - `exit_intent`: buyers are left alone; a visitor with a cart, or who viewed in the last
//!   30 minutes, gets an in-app offer right away.

use std::sync::LazyLock;

use super::rules::{Rule, validate_rules};

static DEFAULT_RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    let raw = serde_json::json!([
        {"ruleId": "checkout-purchased-suppress", "trigger": "checkout", "priority": 10,
         "conditions": [{"hasType": "purchase"}],
         "decision": {"action": "suppress"}},
        {"ruleId": "checkout-cart-reminder", "trigger": "checkout", "priority": 20,
         "conditions": [{"hasType": "add_to_cart"}, {"lacksType": "purchase"}],
         "decision": {"action": "send_message", "channel": "email", "template": "cart-reminder",
                      "delaySeconds": 3600}},
        {"ruleId": "checkout-view-reminder", "trigger": "checkout", "priority": 30,
         "conditions": [{"hasType": "view"}, {"lacksType": "purchase"}],
         "decision": {"action": "send_message", "channel": "email", "template": "cart-reminder",
                      "delaySeconds": 3600}},
        {"ruleId": "browse-recent-purchase-suppress", "trigger": "browse", "priority": 10,
         "conditions": [{"withinSeconds": {"type": "purchase", "seconds": 86400}}],
         "decision": {"action": "suppress"}},
        {"ruleId": "browse-abandonment", "trigger": "browse", "priority": 20,
         "conditions": [{"atLeast": {"type": "view", "count": 3}}, {"lacksType": "add_to_cart"}],
         "decision": {"action": "send_message", "channel": "email", "template": "browse-abandonment",
                      "delaySeconds": 7200}},
        {"ruleId": "exit-intent-purchased-suppress", "trigger": "exit_intent", "priority": 10,
         "conditions": [{"hasType": "purchase"}],
         "decision": {"action": "suppress"}},
        {"ruleId": "exit-intent-cart-offer", "trigger": "exit_intent", "priority": 20,
         "conditions": [{"hasType": "add_to_cart"}],
         "decision": {"action": "send_message", "channel": "in_app", "template": "exit-offer-cart",
                      "delaySeconds": 0}},
        {"ruleId": "exit-intent-recent-view-offer", "trigger": "exit_intent", "priority": 30,
         "conditions": [{"withinSeconds": {"type": "view", "seconds": 1800}}],
         "decision": {"action": "send_message", "channel": "in_app", "template": "exit-offer",
                      "delaySeconds": 0}}
    ]);
    // A constant, proven valid by the tests below; an error here is a bug in this file.
    let rules: Vec<Rule> = serde_json::from_value(raw).expect("built-in chain rules parse");
    validate_rules(rules).expect("built-in chain rules are valid")
});

/// The built-in rule set (validated, sorted by trigger and priority).
pub fn default_rules() -> &'static [Rule] {
    &DEFAULT_RULES
}

#[cfg(test)]
mod tests {
    use super::super::engine::{SessionFacts, evaluate};
    use super::super::rules::Action;
    use super::super::signal::{Signal, SignalType, Trigger};
    use super::*;

    const NOW: i64 = 1_772_971_200_000;

    /// (signal type, seconds ago) pairs.
    type Session<'a> = &'a [(&'a str, i64)];

    fn session(types: &[(&str, i64)]) -> SessionFacts {
        let signals: Vec<Signal> = types
            .iter()
            .map(|(t, ago_s)| Signal {
                signal_type: SignalType::parse(t).unwrap(),
                at_ms: NOW - ago_s * 1000,
                data: None,
            })
            .collect();
        SessionFacts::from_signals(&signals)
    }

    #[test]
    fn defaults_are_valid_and_cover_retargeting() {
        assert_eq!(default_rules().len(), 8);
        // (session, trigger, rule, action)
        let cases: &[(Session<'_>, &str, Option<&str>, Action)] = &[
            (&[], "checkout", None, Action::None),
            (
                &[("view", 5)],
                "checkout",
                Some("checkout-view-reminder"),
                Action::SendMessage,
            ),
            (
                &[("view", 5), ("add_to_cart", 4)],
                "checkout",
                Some("checkout-cart-reminder"),
                Action::SendMessage,
            ),
            (
                &[("view", 5), ("purchase", 1)],
                "checkout",
                Some("checkout-purchased-suppress"),
                Action::Suppress,
            ),
            (
                &[("purchase", 3600)],
                "browse",
                Some("browse-recent-purchase-suppress"),
                Action::Suppress,
            ),
            (
                &[("view", 3), ("view", 2), ("view", 1)],
                "browse",
                Some("browse-abandonment"),
                Action::SendMessage,
            ),
            (
                &[("view", 3), ("view", 2), ("add_to_cart", 1)],
                "browse",
                None,
                Action::None,
            ),
            (
                &[("add_to_cart", 9999)],
                "exit_intent",
                Some("exit-intent-cart-offer"),
                Action::SendMessage,
            ),
            (
                &[("view", 60)],
                "exit_intent",
                Some("exit-intent-recent-view-offer"),
                Action::SendMessage,
            ),
            (&[("view", 3600)], "exit_intent", None, Action::None),
            (
                &[("purchase", 1), ("add_to_cart", 2)],
                "exit_intent",
                Some("exit-intent-purchased-suppress"),
                Action::Suppress,
            ),
        ];
        for (signals, trigger, rule, action) in cases {
            let got = evaluate(
                default_rules(),
                &Trigger::parse(trigger).unwrap(),
                &session(signals),
                NOW,
            );
            assert_eq!(got.rule_id.as_deref(), *rule, "{trigger} {signals:?}");
            assert_eq!(got.decision.action, *action, "{trigger} {signals:?}");
        }
    }

    #[test]
    fn the_view_reminder_is_an_email_cart_reminder_with_a_delay() {
        let got = evaluate(
            default_rules(),
            &Trigger::parse("checkout").unwrap(),
            &session(&[("view", 1)]),
            NOW,
        );
        let json = serde_json::to_value(&got.decision).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"action": "send_message", "template": "cart-reminder",
                               "channel": "email", "delaySeconds": 3600})
        );
    }
}
