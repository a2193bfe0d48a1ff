//! Decision rules: per trigger, tried in ascending priority; a rule's conditions over the
//! session's signals all have to hold for its decision to apply. This module is the shape and
//! the validation of a handle's rule set; `engine` evaluates it.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use super::signal::{SignalType, Trigger};
use crate::domain::DomainError;

pub const MAX_RULES: usize = 100;
pub const MAX_CONDITIONS: usize = 20;
pub const MAX_RULE_ID_CHARS: usize = 64;
pub const MAX_TEMPLATE_CHARS: usize = 200;
/// A message may be delayed by at most 30 days.
pub const MAX_DELAY_SECONDS: u32 = 30 * 86_400;
/// `withinSeconds` windows: at most 365 days.
pub const MAX_WINDOW_SECONDS: u64 = 365 * 86_400;
/// `atLeast` counts: 1 to this.
pub const MAX_AT_LEAST_COUNT: u32 = 100_000;

/// What to do at a trigger.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Send a message (needs `channel` and `template`; `delaySeconds` optional).
    SendMessage,
    /// Actively hold back any messaging for this session (e.g. the visitor already bought).
    Suppress,
    /// Nothing to do.
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Email,
    Sms,
    Push,
    InApp,
    Webhook,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Decision {
    pub action: Action,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_seconds: Option<u32>,
}

impl Decision {
    /// The decision when no rule matches.
    pub fn none() -> Self {
        Decision {
            action: Action::None,
            template: None,
            channel: None,
            delay_seconds: None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TypeCount {
    #[serde(rename = "type")]
    pub signal_type: SignalType,
    pub count: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct TypeWindow {
    #[serde(rename = "type")]
    pub signal_type: SignalType,
    pub seconds: u64,
}

/// One condition over the session's signals, written `{"hasType": "view"}`,
/// `{"atLeast": {"type": "view", "count": 3}}`, …
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Condition {
    /// At least one signal of this type.
    HasType(SignalType),
    /// No signal of this type.
    LacksType(SignalType),
    /// At least `count` signals of this type.
    AtLeast(TypeCount),
    /// A signal of this type at most `seconds` before the evaluation time.
    WithinSeconds(TypeWindow),
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Rule {
    pub rule_id: String,
    pub trigger: Trigger,
    pub priority: i64,
    /// All must hold; an empty list always holds (a catch-all for the trigger).
    #[serde(default)]
    pub conditions: Vec<Condition>,
    pub decision: Decision,
}

/// Checks a whole rule set and returns it normalized: sorted by trigger, then priority.
pub fn validate_rules(rules: Vec<Rule>) -> Result<Vec<Rule>, DomainError> {
    if rules.len() > MAX_RULES {
        return Err(DomainError::new(
            "rules",
            format!(
                "must contain at most {MAX_RULES} rules (got {})",
                rules.len()
            ),
        ));
    }
    let mut ids = HashSet::with_capacity(rules.len());
    let mut priorities = HashSet::with_capacity(rules.len());
    for (i, rule) in rules.iter().enumerate() {
        check_rule_id(&format!("rules[{i}].ruleId"), &rule.rule_id)?;
        if !ids.insert(rule.rule_id.as_str()) {
            return Err(DomainError::new(
                format!("rules[{i}].ruleId"),
                format!("duplicate ruleId {}", rule.rule_id),
            ));
        }
        if !priorities.insert((rule.trigger.as_str(), rule.priority)) {
            return Err(DomainError::new(
                format!("rules[{i}].priority"),
                format!(
                    "duplicate priority {} for trigger {}",
                    rule.priority, rule.trigger
                ),
            ));
        }
        check_conditions(i, &rule.conditions)?;
        check_decision(&format!("rules[{i}].decision"), &rule.decision)?;
    }
    let mut rules = rules;
    rules.sort_by(|a, b| (&a.trigger, a.priority).cmp(&(&b.trigger, b.priority)));
    Ok(rules)
}

fn check_rule_id(field: &str, id: &str) -> Result<(), DomainError> {
    if id.is_empty() || id.len() > MAX_RULE_ID_CHARS {
        return Err(DomainError::new(
            field,
            format!("must be 1 to {MAX_RULE_ID_CHARS} characters long"),
        ));
    }
    let allowed = |b: u8| b.is_ascii_alphanumeric() || b"_.:-".contains(&b);
    if !id.bytes().all(allowed) {
        return Err(DomainError::new(
            field,
            "may only contain letters, digits, underscores, dots, colons and hyphens",
        ));
    }
    Ok(())
}

fn check_conditions(rule: usize, conditions: &[Condition]) -> Result<(), DomainError> {
    if conditions.len() > MAX_CONDITIONS {
        return Err(DomainError::new(
            format!("rules[{rule}].conditions"),
            format!("must contain at most {MAX_CONDITIONS} conditions"),
        ));
    }
    for (j, c) in conditions.iter().enumerate() {
        match c {
            Condition::HasType(_) | Condition::LacksType(_) => {}
            Condition::AtLeast(TypeCount { count, .. }) => {
                if !(1..=MAX_AT_LEAST_COUNT).contains(count) {
                    return Err(DomainError::new(
                        format!("rules[{rule}].conditions[{j}].atLeast.count"),
                        format!("must be 1 to {MAX_AT_LEAST_COUNT}"),
                    ));
                }
            }
            Condition::WithinSeconds(TypeWindow { seconds, .. }) => {
                if !(1..=MAX_WINDOW_SECONDS).contains(seconds) {
                    return Err(DomainError::new(
                        format!("rules[{rule}].conditions[{j}].withinSeconds.seconds"),
                        format!("must be 1 to {MAX_WINDOW_SECONDS} (365 days)"),
                    ));
                }
            }
        }
    }
    Ok(())
}

fn check_decision(field: &str, d: &Decision) -> Result<(), DomainError> {
    match d.action {
        Action::SendMessage => {
            if d.channel.is_none() {
                return Err(DomainError::new(
                    format!("{field}.channel"),
                    "is required for send_message (email, sms, push, in_app or webhook)",
                ));
            }
            let Some(template) = &d.template else {
                return Err(DomainError::new(
                    format!("{field}.template"),
                    "is required for send_message",
                ));
            };
            let len = template.chars().count();
            if len == 0 || len > MAX_TEMPLATE_CHARS {
                return Err(DomainError::new(
                    format!("{field}.template"),
                    format!("must be 1 to {MAX_TEMPLATE_CHARS} characters long"),
                ));
            }
            if template.chars().any(char::is_control) {
                return Err(DomainError::new(
                    format!("{field}.template"),
                    "must not contain control characters",
                ));
            }
            if d.delay_seconds.is_some_and(|s| s > MAX_DELAY_SECONDS) {
                return Err(DomainError::new(
                    format!("{field}.delaySeconds"),
                    format!("must be 0 to {MAX_DELAY_SECONDS} (30 days)"),
                ));
            }
        }
        Action::Suppress | Action::None => {
            // A template on a suppress decision would be silently meaningless; say so.
            if d.template.is_some() || d.channel.is_some() || d.delay_seconds.is_some() {
                return Err(DomainError::new(
                    field,
                    "only send_message takes a template, channel or delaySeconds",
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn send(template: &str) -> Value {
        json!({"action": "send_message", "channel": "email", "template": template})
    }

    fn rule(id: &str, trigger: &str, priority: i64, conditions: Value, decision: Value) -> Value {
        json!({"ruleId": id, "trigger": trigger, "priority": priority,
               "conditions": conditions, "decision": decision})
    }

    /// Deserializes then validates, returning the error text as the API would show it.
    fn check(rules: Value) -> Result<Vec<Rule>, String> {
        let rules: Vec<Rule> =
            serde_path_to_error::deserialize(rules).map_err(|e| e.to_string())?;
        validate_rules(rules).map_err(|e| e.to_string())
    }

    #[test]
    fn valid_sets_are_normalized_and_sorted() {
        let rules = check(json!([
            rule("b", "Checkout", 20, json!([{"hasType": "View"}]), send("t")),
            rule("a", "browse", 5, json!([]), json!({"action": "none"})),
            rule(
                "c",
                "checkout",
                10,
                json!([{"atLeast": {"type": "view", "count": 2}},
                                             {"withinSeconds": {"type": "view", "seconds": 60}},
                                             {"lacksType": "purchase"}]),
                json!({"action": "suppress"})
            ),
        ]))
        .unwrap();
        let order: Vec<&str> = rules.iter().map(|r| r.rule_id.as_str()).collect();
        assert_eq!(order, ["a", "c", "b"]);
        assert_eq!(rules[2].trigger.as_str(), "checkout");
        assert_eq!(
            rules[2].conditions,
            [Condition::HasType(SignalType::parse("view").unwrap())]
        );
        // Round trip: what is stored reads back identically.
        let stored = serde_json::to_value(&rules).unwrap();
        assert_eq!(check(stored).unwrap(), rules);
    }

    #[test]
    fn invalid_sets_name_the_field() {
        let ok = || rule("r", "checkout", 1, json!([]), send("t"));
        let too_many: Vec<Value> = (0..101)
            .map(|i| rule(&format!("r{i}"), "checkout", i, json!([]), send("t")))
            .collect();
        let cases: Vec<(Value, &str)> = vec![
            (
                Value::Array(too_many),
                "rules: must contain at most 100 rules (got 101)",
            ),
            (json!([ok(), ok()]), "rules[1].ruleId: duplicate ruleId r"),
            (
                json!([ok(), rule("s", "CHECKOUT", 1, json!([]), send("t"))]),
                "rules[1].priority: duplicate priority 1 for trigger checkout",
            ),
            (
                json!([rule("", "checkout", 1, json!([]), send("t"))]),
                "rules[0].ruleId: must be 1 to 64 characters long",
            ),
            (
                json!([rule("a b", "checkout", 1, json!([]), send("t"))]),
                "rules[0].ruleId: may only contain letters, digits, underscores, dots, colons and hyphens",
            ),
            (
                json!([rule("r", "check out", 1, json!([]), send("t"))]),
                "[0].trigger: may only contain letters, digits, underscores, dots, colons and hyphens",
            ),
            (
                json!([rule(
                    "r",
                    "checkout",
                    1,
                    json!([]),
                    json!({"action": "shout"})
                )]),
                "[0].decision.action: unknown variant `shout`, expected one of `send_message`, `suppress`, `none`",
            ),
            (
                json!([rule(
                    "r",
                    "checkout",
                    1,
                    json!([]),
                    json!({"action": "send_message", "channel": "fax", "template": "t"})
                )]),
                "[0].decision.channel: unknown variant `fax`, expected one of `email`, `sms`, `push`, `in_app`, `webhook`",
            ),
            (
                json!([rule(
                    "r",
                    "checkout",
                    1,
                    json!([]),
                    json!({"action": "send_message", "template": "t"})
                )]),
                "rules[0].decision.channel: is required for send_message (email, sms, push, in_app or webhook)",
            ),
            (
                json!([rule(
                    "r",
                    "checkout",
                    1,
                    json!([]),
                    json!({"action": "send_message", "channel": "sms"})
                )]),
                "rules[0].decision.template: is required for send_message",
            ),
            (
                json!([rule("r", "checkout", 1, json!([]), send(&"x".repeat(201)))]),
                "rules[0].decision.template: must be 1 to 200 characters long",
            ),
            (
                json!([rule("r", "checkout", 1, json!([]), send("a\nb"))]),
                "rules[0].decision.template: must not contain control characters",
            ),
            (
                json!([rule(
                    "r",
                    "checkout",
                    1,
                    json!([]),
                    json!({"action": "send_message", "channel": "sms", "template": "t", "delaySeconds": 2_592_001})
                )]),
                "rules[0].decision.delaySeconds: must be 0 to 2592000 (30 days)",
            ),
            (
                json!([rule(
                    "r",
                    "checkout",
                    1,
                    json!([]),
                    json!({"action": "suppress", "channel": "sms"})
                )]),
                "rules[0].decision: only send_message takes a template, channel or delaySeconds",
            ),
            (
                json!([rule(
                    "r",
                    "checkout",
                    1,
                    json!([{"atLeast": {"type": "view", "count": 0}}]),
                    send("t")
                )]),
                "rules[0].conditions[0].atLeast.count: must be 1 to 100000",
            ),
            (
                json!([rule(
                    "r",
                    "checkout",
                    1,
                    json!([{"withinSeconds": {"type": "view", "seconds": 0}}]),
                    send("t")
                )]),
                "rules[0].conditions[0].withinSeconds.seconds: must be 1 to 31536000 (365 days)",
            ),
            (
                json!([rule(
                    "r",
                    "checkout",
                    1,
                    json!([{"seenType": "view"}]),
                    send("t")
                )]),
                "[0].conditions[0]: unknown variant `seenType`, expected one of `hasType`, `lacksType`, `atLeast`, `withinSeconds`",
            ),
            (
                json!([rule(
                    "r",
                    "checkout",
                    1,
                    Value::Array((0..21).map(|_| json!({"hasType": "v"})).collect()),
                    send("t")
                )]),
                "rules[0].conditions: must contain at most 20 conditions",
            ),
        ];
        for (rules, want) in cases {
            let got = check(rules).expect_err(want);
            assert!(got.starts_with(want), "got {got:?}, want {want:?}");
        }
    }
}
