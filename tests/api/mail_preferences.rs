//! A person's mail preferences (`GET`/`PUT /v2/me/notifications`, issue 59): every kind one may
//! turn off, per handle, written with the session's CSRF token; the same choices the mails'
//! one-click unsubscribe turns off and the worker reads.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tenx_shared::auth::Role;
use tenx_shared::mail::MailKind;

use crate::helpers::{acme, spawn_app};
use crate::people::{error_code, get, member, sign_in};

#[tokio::test]
async fn a_person_reads_and_turns_off_kinds_of_mail_with_their_handle() {
    let app = spawn_app().await;
    member(&app, "ann@example.com", Role::Operator).await;
    let (cookie, csrf) = sign_in(&app, "ann@example.com").await;
    let url = app.url("/v2/me/notifications");

    let r = get(&app, &cookie, "/v2/me/notifications").await;
    assert_eq!(r.status(), StatusCode::OK);
    let got: Value = r.json().await.unwrap();
    assert_eq!(
        (got["handle"].as_str(), got["email"].as_str()),
        (Some("acme"), Some("ann@example.com"))
    );
    let kinds = got["kinds"].as_object().unwrap();
    let turnable = MailKind::ALL.iter().filter(|k| k.unsubscribable()).count();
    assert_eq!(kinds.len(), turnable, "{got}");
    assert!(
        kinds.values().all(|on| on == true),
        "all on by default: {got}"
    );
    assert!(!kinds.contains_key("sign_in") && !kinds.contains_key("invitation"));

    let put = |body: Value, csrf: Option<&str>, query: &str| {
        let mut req = app
            .client
            .put(format!("{url}{query}"))
            .header("cookie", &cookie)
            .json(&body);
        if let Some(c) = csrf {
            req = req.header("x-csrf-token", c);
        }
        req.send()
    };
    let off = json!({"kinds": {"payout_sent": false, "coupon_leak": false}});
    let r = put(off.clone(), None, "").await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(error_code(r).await, "csrf");
    let r = put(off, Some(&csrf), "").await.unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let got: Value = r.json().await.unwrap();
    assert_eq!(got["kinds"]["payout_sent"], false);
    assert_eq!(got["kinds"]["coupon_leak"], false);
    assert_eq!(
        got["kinds"]["message"], true,
        "a kind not named keeps its choice"
    );
    // What the worker reads before it sends.
    let (prefs, _) =
        tenx_shared::mail::preferences::get(app.store.as_ref(), Some(&acme()), "ann@example.com")
            .await
            .unwrap();
    assert!(!prefs.allows(MailKind::PayoutSent) && prefs.allows(MailKind::Message));

    for (body, field) in [
        (json!({"kinds": {"sign_in": false}}), "kinds.sign_in"),
        (
            json!({"kinds": {"nope": true, "message": false}}),
            "kinds.nope",
        ),
    ] {
        let r = put(body.clone(), Some(&csrf), "").await.unwrap();
        let message = crate::helpers::assert_error(r, 400, "invalid_request").await;
        assert!(message.contains(field), "{body}: {message}");
    }
    let r = get(&app, &cookie, "/v2/me/notifications").await;
    let got: Value = r.json().await.unwrap();
    assert_eq!(
        got["kinds"]["message"], true,
        "a refused change changed nothing"
    );

    let r = put(
        json!({"kinds": {"payout_sent": true}}),
        Some(&csrf),
        "?handle=acme",
    )
    .await
    .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let got: Value = r.json().await.unwrap();
    assert_eq!(got["kinds"]["payout_sent"], true, "turned on again");
    let r = get(&app, &cookie, "/v2/me/notifications?handle=beta").await;
    crate::helpers::assert_error(r, 404, "not_found").await;
    let r = app.client.get(&url).send().await.unwrap();
    assert_eq!(
        r.status(),
        StatusCode::UNAUTHORIZED,
        "the session's cookie is the credential"
    );
}
