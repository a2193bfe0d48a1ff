//! Messages, partner groups, broadcasts and the embedded referral dashboard (issue 61), on
//! either backend: a thread written from both sides and mailed to the other, unread counts, a
//! partner kept to its own thread, bad input refused with nothing written, a broadcast to a
//! group of 200 partners mailed 200 times once (also when carried on again after a crash), and
//! the embed token's scope, expiry and suspension.

use reqwest::Method;
use serde_json::{Value, json};
use tenx_shared::domain::PartnerId;
use tenx_shared::http::auth::Role;
use tenx_shared::partners::PartnerFields;

use crate::helpers::{TestApp, acme, assert_error, eventually_or, json_of, spawn_app};
use crate::scenario::{as_partner, partner_token};

/// Partner `id` of acme with an address, straight through the service (fast for hundreds).
async fn partner_with_mail(app: &TestApp, id: &str) {
    let fields = PartnerFields {
        email: Some(Some(format!("{id}@partners.example"))),
        ..PartnerFields::default()
    };
    let pid = PartnerId::parse(id).unwrap();
    tenx_shared::partners::create(
        app.store.as_ref(),
        &acme(),
        pid,
        format!("Partner {id}"),
        fields,
    )
    .await
    .unwrap();
}

async fn brand(app: &TestApp) {
    let admin = app.as_role("acme", Role::Admin);
    let body = json!({"name": "Acme Shoes", "replyTo": "team@acme.example"});
    let resp = admin.send_json(Method::PUT, "/branding", &body).await;
    assert!(resp.status().is_success(), "{}", resp.status());
}

fn mails_of(app: &TestApp, kind: &str) -> Vec<tenx_shared::testing::mail::SentMail> {
    app.sent_mail()
        .into_iter()
        .filter(|m| m.kind == kind)
        .collect()
}

async fn wait_for_kind(
    app: &TestApp,
    kind: &str,
    n: usize,
) -> Vec<tenx_shared::testing::mail::SentMail> {
    let sent = eventually_or(&format!("{n} {kind} mails"), || async {
        let sent = mails_of(app, kind);
        match sent.len() >= n {
            true => Ok(sent),
            false => Err(format!("{} of them", sent.len())),
        }
    })
    .await;
    assert_eq!(sent.len(), n, "{kind} mails");
    sent
}

async fn thread(who: &crate::endpoints::As<'_>, partner: &str) -> Value {
    json_of(who.get(&format!("/partners/{partner}/messages")).await, 200).await
}

async fn inbox_unread(app: &TestApp, partner: &str) -> u64 {
    let op = app.as_role("acme", Role::Viewer);
    let inbox = json_of(op.get("/message-threads").await, 200).await;
    inbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["partnerId"] == partner)
        .map_or(0, |t| t["unread"].as_u64().unwrap())
}

/// Both sides write; each message is mailed to the other side (the partner's address, the
/// program's reply-to), counted unread by the side it goes to until that side opens the thread.
#[tokio::test]
async fn a_thread_is_written_from_both_sides_and_mailed_to_the_other() {
    let app = spawn_app().await;
    brand(&app).await;
    partner_with_mail(&app, "ana").await;
    let op = app.as_role("acme", Role::Operator);
    let ana = as_partner(&app, "acme", "ana").await;

    let sent = op
        .send_json(
            Method::POST,
            "/partners/ana/messages",
            &json!({"body": "Welcome <b>Ana</b>!"}),
        )
        .await;
    let sent = json_of(sent, 201).await;
    assert_eq!(sent["from"], "merchant");
    assert!(sent["messageId"].as_str().unwrap().starts_with("msg_"));
    let mail = wait_for_kind(&app, "message", 1).await;
    assert_eq!(mail[0].to, "ana@partners.example");
    assert!(
        mail[0].text.contains("Welcome <b>Ana</b>!"),
        "{}",
        mail[0].text
    );
    assert!(
        !mail[0].html.contains("<b>Ana</b>"),
        "the body is escaped in HTML"
    );
    assert!(
        mail[0].text.contains("/portal/acme#messages"),
        "{}",
        mail[0].text
    );

    // The partner has one unread message until it opens its thread (its summary says so).
    let summary = "/partners/ana/summary";
    assert_eq!(
        json_of(ana.get(summary).await, 200).await["unreadMessages"],
        1
    );
    let seen = thread(&ana, "ana").await;
    assert_eq!(
        json_of(ana.get(summary).await, 200).await["unreadMessages"],
        0
    );
    assert_eq!(seen["items"].as_array().unwrap().len(), 1);
    assert_eq!(seen["items"][0]["body"], "Welcome <b>Ana</b>!");

    let reply = ana
        .send_json(
            Method::POST,
            "/partners/ana/messages",
            &json!({"body": "Thanks!\nWhen is the next payout?"}),
        )
        .await;
    assert_eq!(json_of(reply, 201).await["from"], "partner");
    let mail = wait_for_kind(&app, "message", 2).await;
    let to_program = mail
        .iter()
        .find(|m| m.to == "team@acme.example")
        .expect("mailed to the program");
    assert!(
        to_program.text.contains("Partner ana"),
        "{}",
        to_program.text
    );
    assert_eq!(inbox_unread(&app, "ana").await, 1);
    // The merchant opens the thread: read; the partner's next message is unread again.
    let both = thread(&op, "ana").await;
    assert_eq!(both["items"].as_array().unwrap().len(), 2);
    assert_eq!(both["items"][0]["from"], "partner", "newest first");
    assert_eq!(inbox_unread(&app, "ana").await, 0);
    let again = ana
        .send_json(
            Method::POST,
            "/partners/ana/messages",
            &json!({"body": "Hello?"}),
        )
        .await;
    assert_eq!(again.status(), 201);
    assert_eq!(inbox_unread(&app, "ana").await, 1);
    let unread = tenx_shared::messages::thread::unread(
        app.store.as_ref(),
        &acme(),
        &PartnerId::parse("ana").unwrap(),
        tenx_shared::messages::Side::Partner,
    )
    .await
    .unwrap();
    assert_eq!(unread, 0, "the partner read the one message to it");
}

/// A partner reaches its own thread only: another partner's answers 404, read or write, and
/// nothing is written there; the handle's inbox, groups and broadcasts are not a partner's.
#[tokio::test]
async fn a_partner_never_reaches_another_partners_thread() {
    let app = spawn_app().await;
    partner_with_mail(&app, "ana").await;
    partner_with_mail(&app, "bob").await;
    let ana = as_partner(&app, "acme", "ana").await;
    assert_error(ana.get("/partners/bob/messages").await, 404, "not_found").await;
    let wrote = ana
        .send_json(
            Method::POST,
            "/partners/bob/messages",
            &json!({"body": "hi"}),
        )
        .await;
    assert_error(wrote, 404, "not_found").await;
    for path in ["/message-threads", "/partner-groups", "/broadcasts"] {
        let resp = ana.get(path).await;
        assert_eq!(resp.status(), 403, "{path}");
    }
    let op = app.as_role("acme", Role::Operator);
    assert!(
        thread(&op, "bob").await["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_error(op.get("/partners/nobody/messages").await, 404, "not_found").await;
}

/// Bad bodies are refused in the envelope, naming the field, with nothing written; a side
/// writing too fast is rate-limited per thread.
#[tokio::test]
async fn bad_messages_are_refused_and_fast_writers_limited() {
    let app = spawn_app().await;
    partner_with_mail(&app, "ana").await;
    let op = app.as_role("acme", Role::Operator);
    for body in [
        json!({"body": "   "}),
        json!({"body": "a\u{0007}b"}),
        json!({"body": "x".repeat(5_001)}),
        json!({"body": "hi", "html": "<b>"}),
        json!({}),
    ] {
        let resp = op
            .send_json(Method::POST, "/partners/ana/messages", &body)
            .await;
        assert_error(resp, 400, "invalid_request").await;
    }
    assert!(
        thread(&op, "ana").await["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let ana = as_partner(&app, "acme", "ana").await;
    let mut limited = None;
    for i in 0..12 {
        let resp = ana
            .send_json(
                Method::POST,
                "/partners/ana/messages",
                &json!({"body": format!("#{i}")}),
            )
            .await;
        if resp.status() == 429 {
            limited = Some(i);
            break;
        }
        assert_eq!(resp.status(), 201);
    }
    assert_eq!(limited, Some(10), "ten messages per window, then refused");
    // The other side of the thread has its own budget.
    let resp = op
        .send_json(
            Method::POST,
            "/partners/ana/messages",
            &json!({"body": "slow down"}),
        )
        .await;
    assert_eq!(resp.status(), 201);
}

/// Groups: created then replaced (201, 200), an unknown partner named by its index, deleted.
#[tokio::test]
async fn partner_groups_are_kept_and_checked() {
    let app = spawn_app().await;
    partner_with_mail(&app, "ana").await;
    partner_with_mail(&app, "bob").await;
    let op = app.as_role("acme", Role::Operator);
    let body = json!({"name": "Top affiliates", "partnerIds": ["ana", "bob", "ana"]});
    let made = op
        .send_json(Method::PUT, "/partner-groups/top", &body)
        .await;
    assert_eq!(
        json_of(made, 201).await["partnerIds"],
        json!(["ana", "bob"])
    );
    let again = op
        .send_json(
            Method::PUT,
            "/partner-groups/top",
            &json!({"name": "Top", "partnerIds": ["bob"]}),
        )
        .await;
    assert_eq!(json_of(again, 200).await["name"], "Top");
    let bad = json!({"name": "X", "partnerIds": ["ana", "ghost"]});
    let resp = op.send_json(Method::PUT, "/partner-groups/x", &bad).await;
    let message = assert_error(resp, 400, "invalid_request").await;
    assert!(message.contains("partnerIds[1]"), "{message}");
    assert_error(op.get("/partner-groups/x").await, 404, "not_found").await;
    let list = json_of(op.get("/partner-groups").await, 200).await;
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        op.send_empty(Method::DELETE, "/partner-groups/top")
            .await
            .status(),
        204
    );
    assert_error(
        op.send_empty(Method::DELETE, "/partner-groups/top").await,
        404,
        "not_found",
    )
    .await;
}

/// The group a broadcast goes to: 200 partners on the embedded engine; 60 on the emulator, where
/// each partner made is a dozen requests through one Python process and what the second engine
/// adds is the carrying-on after a crash (the same at any size).
fn group_size() -> usize {
    match std::env::var("TENX_TEST_BACKEND").as_deref() {
        Ok("aws") => 60,
        _ => 200,
    }
}

/// A broadcast to a group of 200 partners (one of them suspended, five partners outside it) is
/// 199 messages and 199 mails; carried on again as after a crash before it was marked sent,
/// it writes and mails nothing more.
#[tokio::test]
async fn a_broadcast_to_a_group_is_mailed_once_to_each() {
    let app = spawn_app().await;
    let size = group_size();
    let recipients = size - 1;
    let ids: Vec<String> = (0..size).map(|i| format!("p{i:03}")).collect();
    for id in &ids {
        partner_with_mail(&app, id).await;
    }
    for i in 0..5 {
        partner_with_mail(&app, &format!("outside{i}")).await;
    }
    let op = app.as_role("acme", Role::Operator);
    let suspended = op
        .update_partner("p007", &json!({"status": "suspended"}))
        .await;
    assert_eq!(suspended.status(), 200);
    let group = json!({"name": "Spring", "partnerIds": ids});
    assert_eq!(
        op.send_json(Method::PUT, "/partner-groups/spring", &group)
            .await
            .status(),
        201
    );

    let body = json!({"subject": "Spring sale", "body": "Double commission this week.", "groupId": "spring"});
    let answer = json_of(op.send_json(Method::POST, "/broadcasts", &body).await, 202).await;
    assert_eq!(answer["recipients"], recipients);
    let id = answer["broadcastId"].as_str().unwrap().to_owned();
    // What the request's few seconds did not send, the sweeper does (run here by hand, as
    // the scheduled sweeper would once the request is 30 s old).
    let state = app.state();
    let links = tenx_shared::messages::post::Links {
        base: "https://x.example".into(),
    };
    let later = tenx_shared::platform::time::now_millis() + 60_000;
    tenx_shared::messages::broadcasts::sweep(state.io(), &links, later)
        .await
        .unwrap();
    let mails = wait_for_kind(&app, "message", recipients).await;
    let to: std::collections::BTreeSet<_> = mails.iter().map(|m| m.to.clone()).collect();
    assert_eq!(to.len(), recipients, "one mail per recipient");
    assert!(!to.contains("p007@partners.example") && !to.contains("outside0@partners.example"));
    assert!(mails.iter().all(|m| m.subject.contains("Spring sale")));

    // As after a crash between the last message and the mark: pending again, carried on.
    let store = app.store.as_ref();
    let bid = tenx_shared::domain::BroadcastId::parse(&id).unwrap();
    let mut b = tenx_shared::messages::broadcasts::get(store, &acme(), &bid)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        b.status,
        tenx_shared::messages::broadcasts::BroadcastStatus::Sent
    );
    b.status = tenx_shared::messages::broadcasts::BroadcastStatus::Sending;
    reopen(store, &b).await;
    let state = app.state();
    let links = tenx_shared::messages::post::Links {
        base: "https://x.example".into(),
    };
    let later = tenx_shared::platform::time::now_millis() + 60_000;
    let finished = tenx_shared::messages::broadcasts::sweep(state.io(), &links, later)
        .await
        .unwrap();
    assert_eq!(finished, 1);
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(
        mails_of(&app, "message").len(),
        recipients,
        "nothing mailed twice"
    );
    let ana_thread = thread(&op, "p001").await;
    assert_eq!(
        ana_thread["items"].as_array().unwrap().len(),
        1,
        "one message per recipient"
    );
    assert_eq!(ana_thread["items"][0]["subject"], "Spring sale");
    let listed = json_of(op.get("/broadcasts").await, 200).await;
    assert_eq!(listed["items"][0]["recipients"], recipients);
    assert_eq!(listed["items"][0]["status"], "sent");
    let unknown = json!({"subject": "x", "body": "y", "groupId": "nope"});
    let resp = op.send_json(Method::POST, "/broadcasts", &unknown).await;
    let message = assert_error(resp, 400, "invalid_request").await;
    assert!(message.contains("groupId"), "{message}");
}

/// The broadcast's record as `b` and its pending entry back: the state a crash between the last
/// message and the final mark leaves.
async fn reopen(
    store: &dyn tenx_shared::platform::store::Store,
    b: &tenx_shared::messages::broadcasts::Broadcast,
) {
    use tenx_shared::platform::store::{Item, keys, to_doc};
    let id = b.broadcast_id.to_string();
    let record = Item::new(keys::broadcasts_pk(&acme()), &id, to_doc(b).unwrap());
    tenx_shared::platform::store::put(store, record)
        .await
        .unwrap();
    let pending = Item::new(keys::BROADCASTS_PENDING_PK, format!("acme#{id}"), json!({}));
    tenx_shared::platform::store::put(store, pending)
        .await
        .unwrap();
}

async fn mint(app: &TestApp, partner: &str, ttl: Option<i64>) -> reqwest::Response {
    let op = app.as_role("acme", Role::Operator);
    let mut body = json!({"partnerId": partner});
    if let Some(ttl) = ttl {
        body["ttlSeconds"] = json!(ttl);
    }
    op.send_json(Method::POST, "/embed-tokens", &body).await
}

async fn referrals(app: &TestApp, token: &str) -> reqwest::Response {
    app.client
        .get(app.url("/v2/embed/referrals"))
        .header("x-embed-token", token)
        .header("origin", "https://app.merchant.example")
        .send()
        .await
        .unwrap()
}

/// The embed: a token for one partner shows that partner's links and earnings, read
/// cross-origin without credentials and never cached; it is refused tampered, expired, as a
/// bearer on any other route, and once its partner is suspended.
#[tokio::test]
async fn an_embed_token_shows_one_partner_and_nothing_else() {
    let app = spawn_app().await;
    crate::scenario::one_partner(&app, &json!({"currency": "USD", "holdDays": 0, "rules": [{"eventType": "purchase", "percent": "10"}]})).await;
    let minted = json_of(mint(&app, "pub-one", None).await, 201).await;
    let token = minted["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("tenx_emb_"));

    let resp = referrals(&app, &token).await;
    assert_eq!(resp.headers()["access-control-allow-origin"], "*");
    assert!(
        resp.headers()
            .get("access-control-allow-credentials")
            .is_none()
    );
    assert_eq!(resp.headers()["cache-control"], "no-store");
    let view = json_of(resp, 200).await;
    assert_eq!(view["partnerId"], "pub-one");
    let links = view["links"].as_array().unwrap();
    assert!(!links.is_empty(), "{view}");
    assert!(
        links
            .iter()
            .all(|l| l["shortUrl"].as_str().unwrap().contains("acme"))
    );

    let preflight = app
        .client
        .request(Method::OPTIONS, app.url("/v2/embed/referrals"))
        .header("origin", "https://app.merchant.example")
        .header("access-control-request-method", "GET")
        .header("access-control-request-headers", "x-embed-token")
        .send()
        .await
        .unwrap();
    assert_eq!(preflight.status(), 204);
    assert_eq!(
        preflight.headers()["access-control-allow-headers"],
        "x-embed-token"
    );

    // Not a bearer anywhere else.
    let elsewhere = app
        .with_token("acme", &token)
        .get("/partners/pub-one")
        .await;
    assert_eq!(elsewhere.status(), 401);
    // Tampered, or without the header.
    let mut tampered = token.clone();
    tampered.insert(
        12,
        if tampered.as_bytes()[12] == b'A' {
            'B'
        } else {
            'A'
        },
    );
    assert_error(referrals(&app, &tampered).await, 401, "unauthorized").await;
    let bare = app
        .client
        .get(app.url("/v2/embed/referrals"))
        .send()
        .await
        .unwrap();
    assert_error(bare, 401, "unauthorized").await;
    // Expired: signed as the service signs, an hour ago.
    let state = app.state();
    let scope = json!({"h": "acme", "p": "pub-one", "exp": tenx_shared::platform::time::now_millis() / 1000 - 1});
    let old = tenx_shared::kernel::signed::token(state.ctx_keys().unwrap(), "embed/v1", &scope);
    assert_error(
        referrals(&app, &format!("tenx_emb_{old}")).await,
        401,
        "unauthorized",
    )
    .await;
    // Bounds and unknown partners at minting.
    assert_error(
        mint(&app, "pub-one", Some(30)).await,
        400,
        "invalid_request",
    )
    .await;
    assert_error(
        mint(&app, "pub-one", Some(7_200)).await,
        400,
        "invalid_request",
    )
    .await;
    assert_error(mint(&app, "nobody", None).await, 404, "not_found").await;
    let viewer = app.as_role("acme", Role::Viewer);
    let resp = viewer
        .send_json(
            Method::POST,
            "/embed-tokens",
            &json!({"partnerId": "pub-one"}),
        )
        .await;
    assert_eq!(resp.status(), 403);
    // A partner token cannot mint one.
    let ptk = partner_token(&app, "acme", "pub-one").await;
    let resp = app
        .with_token("acme", &ptk)
        .send_json(
            Method::POST,
            "/embed-tokens",
            &json!({"partnerId": "pub-one"}),
        )
        .await;
    assert_eq!(resp.status(), 403);

    // Suspended: its live tokens stop working.
    let op = app.as_role("acme", Role::Operator);
    assert_eq!(
        op.update_partner("pub-one", &json!({"status": "suspended"}))
            .await
            .status(),
        200
    );
    assert_error(referrals(&app, &token).await, 401, "unauthorized").await;
}

/// Without a reply-to address in the branding, a partner's message is mailed to each of the
/// program's admins (its operators are not mailed), once each.
#[tokio::test]
async fn a_partners_message_reaches_the_admins_when_the_branding_names_no_reply_to() {
    let app = spawn_app().await;
    partner_with_mail(&app, "ana").await;
    crate::people::member(&app, "lena@acme.example", Role::Admin).await;
    crate::people::member(&app, "max@acme.example", Role::Admin).await;
    crate::people::member(&app, "oli@acme.example", Role::Operator).await;
    let ana = as_partner(&app, "acme", "ana").await;
    let body = json!({"body": "Is my sale of Friday counted?"});
    let sent = ana
        .send_json(Method::POST, "/partners/ana/messages", &body)
        .await;
    assert_eq!(sent.status(), 201);
    let mail = wait_for_kind(&app, "message", 2).await;
    let mut to: Vec<&str> = mail.iter().map(|m| m.to.as_str()).collect();
    to.sort_unstable();
    assert_eq!(to, ["lena@acme.example", "max@acme.example"]);
    for m in &mail {
        assert!(
            m.text.contains("Is my sale of Friday counted?"),
            "{}",
            m.text
        );
        assert!(m.text.contains("Partner ana"), "{}", m.text);
    }
}
