//! The decision engine: pure and deterministic. The session's signals are summarized once
//! ([`SessionFacts`]) and every trigger is evaluated against that summary at an explicit instant,
//! so prefetch (many triggers, one instant) equals resolve for each trigger.

use std::collections::BTreeMap;

use super::rules::{Condition, Decision, Rule, TypeCount, TypeWindow};
use super::signal::{Signal, SignalType, Trigger};

/// The reason given when no rule of the trigger matched.
pub const NO_RULE_MATCHED: &str = "no rule matched";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct TypeFacts {
    count: u64,
    latest_at_ms: i64,
}

/// What the conditions can ask about a session: per type, how many signals and the latest time.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionFacts {
    by_type: BTreeMap<String, TypeFacts>,
    total: usize,
}

impl SessionFacts {
    pub fn from_signals<'a>(signals: impl IntoIterator<Item = &'a Signal>) -> Self {
        let mut facts = SessionFacts::default();
        for s in signals {
            facts.total += 1;
            facts
                .by_type
                .entry(s.signal_type.as_str().to_owned())
                .and_modify(|f| {
                    f.count += 1;
                    f.latest_at_ms = f.latest_at_ms.max(s.at_ms);
                })
                .or_insert(TypeFacts {
                    count: 1,
                    latest_at_ms: s.at_ms,
                });
        }
        facts
    }

    /// How many signals the session holds (`signalsConsidered`).
    pub fn total(&self) -> usize {
        self.total
    }

    fn count(&self, t: &SignalType) -> u64 {
        self.by_type.get(t.as_str()).map_or(0, |f| f.count)
    }

    fn latest(&self, t: &SignalType) -> Option<i64> {
        self.by_type.get(t.as_str()).map(|f| f.latest_at_ms)
    }
}

/// The outcome for one trigger: the decision, the rule that made it (`None`: the default) and a
/// human-readable reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Evaluation {
    pub decision: Decision,
    pub rule_id: Option<String>,
    pub reason: String,
}

/// Tries the trigger's rules in ascending priority at `now_ms`; the first whose conditions all
/// hold decides, else `{action: none}` with [`NO_RULE_MATCHED`].
pub fn evaluate(
    rules: &[Rule],
    trigger: &Trigger,
    facts: &SessionFacts,
    now_ms: i64,
) -> Evaluation {
    let mut candidates: Vec<&Rule> = rules.iter().filter(|r| &r.trigger == trigger).collect();
    // Stored sets are already sorted; sorting again keeps the engine correct for any input.
    candidates.sort_by_key(|r| r.priority);
    for rule in candidates {
        if rule.conditions.iter().all(|c| holds(c, facts, now_ms)) {
            return Evaluation {
                decision: rule.decision.clone(),
                rule_id: Some(rule.rule_id.clone()),
                reason: reason(rule, facts),
            };
        }
    }
    Evaluation {
        decision: Decision::none(),
        rule_id: None,
        reason: NO_RULE_MATCHED.to_owned(),
    }
}

fn holds(c: &Condition, facts: &SessionFacts, now_ms: i64) -> bool {
    match c {
        Condition::HasType(t) => facts.count(t) > 0,
        Condition::LacksType(t) => facts.count(t) == 0,
        Condition::AtLeast(TypeCount { signal_type, count }) => {
            facts.count(signal_type) >= u64::from(*count)
        }
        Condition::WithinSeconds(TypeWindow {
            signal_type,
            seconds,
        }) => {
            // Signals slightly in the future (client clock skew, ≤ 5 min) count as recent.
            let window_ms = i64::try_from(seconds.saturating_mul(1000)).unwrap_or(i64::MAX);
            facts
                .latest(signal_type)
                .is_some_and(|at| at >= now_ms.saturating_sub(window_ms))
        }
    }
}

/// Why the rule matched, from the signal counts only (not the clock), so the same signals and
/// rules always give the same text.
fn reason(rule: &Rule, facts: &SessionFacts) -> String {
    let head = format!("rule {} (priority {}) matched", rule.rule_id, rule.priority);
    if rule.conditions.is_empty() {
        return format!("{head}: it has no conditions");
    }
    let parts: Vec<String> = rule
        .conditions
        .iter()
        .map(|c| match c {
            Condition::HasType(t) => format!("has {t} ({})", facts.count(t)),
            Condition::LacksType(t) => format!("lacks {t}"),
            Condition::AtLeast(TypeCount { signal_type, count }) => format!(
                "at least {count} {signal_type} ({})",
                facts.count(signal_type)
            ),
            Condition::WithinSeconds(TypeWindow {
                signal_type,
                seconds,
            }) => format!("{signal_type} within {seconds} s"),
        })
        .collect();
    format!("{head}: {}", parts.join(", "))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::rules::{Action, Channel};
    use super::*;

    const NOW: i64 = 1_772_971_200_000;

    /// (signal type, seconds ago) pairs.
    type Session<'a> = &'a [(&'a str, i64)];

    fn signals(list: &[(&str, i64)]) -> Vec<Signal> {
        list.iter()
            .map(|(t, ago_s)| Signal {
                signal_type: SignalType::parse(t).unwrap(),
                at_ms: NOW - ago_s * 1000,
                data: None,
            })
            .collect()
    }

    fn rules() -> Vec<Rule> {
        serde_json::from_value(json!([
            {"ruleId": "bought", "trigger": "checkout", "priority": 10,
             "conditions": [{"hasType": "purchase"}], "decision": {"action": "suppress"}},
            {"ruleId": "busy", "trigger": "checkout", "priority": 30,
             "conditions": [{"atLeast": {"type": "view", "count": 3}}],
             "decision": {"action": "send_message", "channel": "sms", "template": "hot"}},
            {"ruleId": "recent", "trigger": "checkout", "priority": 20,
             "conditions": [{"withinSeconds": {"type": "view", "seconds": 60}}, {"lacksType": "add_to_cart"}],
             "decision": {"action": "send_message", "channel": "push", "template": "nudge", "delaySeconds": 30}},
            {"ruleId": "any", "trigger": "browse", "priority": 1, "conditions": [],
             "decision": {"action": "send_message", "channel": "in_app", "template": "hello"}}
        ]))
        .unwrap()
    }

    #[test]
    fn first_matching_rule_by_priority_wins() {
        let trigger = |t: &str| Trigger::parse(t).unwrap();
        // (signals, trigger, expected ruleId)
        let cases: &[(Session<'_>, &str, Option<&str>)] = &[
            (&[], "checkout", None),
            (
                &[("purchase", 9999), ("view", 1)],
                "checkout",
                Some("bought"),
            ),
            (&[("view", 10)], "checkout", Some("recent")),
            (&[("view", 60)], "checkout", Some("recent")), // the window's edge is inside
            (&[("view", 61)], "checkout", None),
            (&[("view", -120)], "checkout", Some("recent")), // skewed future signal
            (&[("view", 10), ("add_to_cart", 5)], "checkout", None),
            (
                &[("view", 500), ("view", 400), ("view", 300)],
                "checkout",
                Some("busy"),
            ),
            (
                &[("view", 500), ("view", 400), ("view", 10)],
                "checkout",
                Some("recent"),
            ),
            (&[], "browse", Some("any")),
            (&[("view", 1)], "unknown_trigger", None),
        ];
        let rules = rules();
        for (sigs, t, want) in cases {
            let sigs = signals(sigs);
            let facts = SessionFacts::from_signals(&sigs);
            let got = evaluate(&rules, &trigger(t), &facts, NOW);
            assert_eq!(got.rule_id.as_deref(), *want, "{t} {sigs:?}");
            if want.is_none() {
                assert_eq!(got.decision, Decision::none());
                assert_eq!(got.reason, NO_RULE_MATCHED);
            }
        }
    }

    #[test]
    fn decisions_and_reasons_are_deterministic() {
        let rules = rules();
        let sigs = signals(&[("view", 10), ("view", 20)]);
        let t = Trigger::parse("checkout").unwrap();
        let a = evaluate(&rules, &t, &SessionFacts::from_signals(&sigs), NOW);
        let mut reversed = sigs.clone();
        reversed.reverse();
        let b = evaluate(&rules, &t, &SessionFacts::from_signals(&reversed), NOW + 5);
        assert_eq!(a, b);
        assert_eq!(a.decision.action, Action::SendMessage);
        assert_eq!(a.decision.channel, Some(Channel::Push));
        assert_eq!(a.decision.delay_seconds, Some(30));
        assert_eq!(
            a.reason,
            "rule recent (priority 20) matched: view within 60 s, lacks add_to_cart"
        );
        let many = signals(&[("view", 500), ("view", 400), ("view", 300), ("view", 200)]);
        let c = evaluate(&rules, &t, &SessionFacts::from_signals(&many), NOW);
        assert_eq!(
            c.reason,
            "rule busy (priority 30) matched: at least 3 view (4)"
        );
        let any = evaluate(
            &rules,
            &Trigger::parse("browse").unwrap(),
            &SessionFacts::default(),
            NOW,
        );
        assert_eq!(
            any.reason,
            "rule any (priority 1) matched: it has no conditions"
        );
    }

    #[test]
    fn facts_count_per_type() {
        let sigs = signals(&[("view", 3), ("view", 1), ("purchase", 2)]);
        let f = SessionFacts::from_signals(&sigs);
        assert_eq!(f.total(), 3);
        assert_eq!(f.count(&SignalType::parse("view").unwrap()), 2);
        assert_eq!(
            f.latest(&SignalType::parse("view").unwrap()),
            Some(NOW - 1000)
        );
        assert_eq!(f.count(&SignalType::parse("x").unwrap()), 0);
    }
}
