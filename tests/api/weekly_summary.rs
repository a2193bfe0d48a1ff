//! Issue 59's `weekly_summary`: the handles with events in a week are summed up to their admins
//! the week after, by the scheduled sweep (called here with a day of next week): once per admin
//! and week however often the sweep runs, an admin who turned the kind off left out, and a
//! handle whose week has nothing to say mailed nothing. Either backend.

use serde_json::{Value, json};
use tenx_shared::auth::Role;
use tenx_shared::domain::Handle;
use tenx_shared::mail::MailKind;
use tenx_shared::platform::store::{Cond, Item, WriteOp, keys};

use crate::helpers::*;
use crate::people::{mails_to, member};
use crate::scenario::*;

/// Waits until `to` has `n` mails of `kind`; returns them.
async fn wait_kind(
    app: &TestApp,
    to: &str,
    kind: &str,
    n: usize,
) -> Vec<tenx_shared::testing::mail::SentMail> {
    eventually_or(&format!("{n} {kind} mails to {to}"), || async {
        let got: Vec<_> = mails_to(app, to)
            .into_iter()
            .filter(|m| m.kind == kind)
            .collect();
        match got.len() >= n {
            true => Ok(got),
            false => Err(format!("{} of them", got.len())),
        }
    })
    .await
}

#[tokio::test]
async fn last_weeks_figures_reach_each_admin_once_preferences_respected_nothing_when_quiet() {
    let app = spawn_app().await;
    let plan = json!({"currency": "EUR", "holdDays": 0,
        "rules": [{"eventType": "purchase", "percent": "10"}]});
    one_partner(&app, &plan).await;
    member(&app, "ada@acme.example", Role::Admin).await;
    member(&app, "ben@acme.example", Role::Admin).await;
    member(&app, "oli@acme.example", Role::Operator).await;
    let state = app.state();
    let store = state.store.as_ref();
    tenx_shared::mail::preferences::set(
        store,
        Some(&acme()),
        "ben@acme.example",
        MailKind::WeeklySummary,
        false,
    )
    .await
    .unwrap();

    // A sale this week: a click, a conversion, a commission of 8.00 EUR.
    let ctx = human_ctx(&app, "acme", "/deal").await;
    let body = json!({"ctx": ctx, "idempotencyKey": "w-1", "eventType": "purchase",
        "value": "80.00", "currency": "EUR"});
    let creator = app.as_role("acme", Role::Creator);
    json_of(creator.convert_verified(&body).await, 202).await;
    let today = tenx_shared::platform::time::now().date();
    let monday = tenx_shared::weekly::monday_of(today);
    let pk = keys::weekly_pk(&monday.to_string());
    let viewer = app.as_role("acme", Role::Viewer);
    eventually_or("the week's mark and the commission", || async {
        let lines = json_of(viewer.list_commissions("limit=10").await, 200).await;
        let marked = store.get(&pk, "acme").await.unwrap().is_some();
        let lined = lines["items"].as_array().is_some_and(|l| !l.is_empty());
        if marked && lined {
            Ok(())
        } else {
            Err(format!("marked {marked}, a line {lined}"))
        }
    })
    .await;
    // The counts settle (the analytics' counters trail the events consumer a little).
    let now_secs = tenx_shared::platform::time::now_millis() / 1000;
    eventually_or("the week's click and conversion counted", || async {
        let f = tenx_shared::weekly::figures(store, &acme(), monday, now_secs)
            .await
            .unwrap();
        if f.clicks >= 1 && f.conversions >= 1 {
            Ok(())
        } else {
            Err(format!("{f:?}"))
        }
    })
    .await;
    // A handle with events but nothing to say (its admin exists): marked, never mailed.
    let quiet = Handle::parse("quiet").unwrap();
    let mark = Item::new(pk.clone(), "quiet", json!({}));
    store
        .write(WriteOp::Put {
            item: mark,
            cond: Cond::None,
        })
        .await
        .unwrap();
    let user = tenx_shared::people::users::find_or_create(
        store,
        &tenx_shared::domain::email::Email::parse("email", "qa@quiet.example").unwrap(),
    )
    .await
    .unwrap();
    tenx_shared::people::memberships::add(store, &quiet, &user, Role::Admin)
        .await
        .unwrap();
    let f = tenx_shared::weekly::figures(store, &quiet, monday, now_secs)
        .await
        .unwrap();
    assert!(f.is_empty(), "{f:?}");

    // Next week's sweep, twice (as overlapping runs may): one mail, to ada only.
    let next_week = today + time::Duration::days(7);
    let base = "http://localhost:8080";
    let queued = tenx_shared::weekly::sweep(state.io(), next_week, base)
        .await
        .unwrap();
    assert_eq!(
        queued, 1,
        "ada; ben turned it off; quiet has nothing to say"
    );
    let again = tenx_shared::weekly::sweep(state.io(), next_week, base)
        .await
        .unwrap();
    assert_eq!(again, 0, "once per week");
    let ada = wait_kind(&app, "ada@acme.example", "weekly_summary", 1).await;
    assert_eq!(ada.len(), 1);
    let text = &ada[0].text;
    assert!(text.contains(" clicks, 1 conversions."), "{text}");
    assert!(text.contains("Commissions: €8.00"), "{text}");
    assert!(ada[0].list_unsubscribe.is_some(), "one-click unsubscribe");
    // The marks are done; a mail was never queued for ben, oli or quiet's admin.
    let admin = app.token(&["acme"], Role::Admin);
    let listed: Value = app
        .client
        .get(app.url("/v2/handles/acme/mail"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let weekly: Vec<&Value> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["kind"] == "weekly_summary")
        .collect();
    assert_eq!(weekly.len(), 1, "{listed}");
    assert_eq!(weekly[0]["to"], "ada@acme.example");
    assert!(mails_to(&app, "qa@quiet.example").is_empty());
    for handle in ["acme", "quiet"] {
        let item = store.get(&pk, handle).await.unwrap().unwrap();
        assert_eq!(item.doc["done"], true, "{handle}");
    }
}
