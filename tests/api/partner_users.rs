//! Partner users (issue 61, item 1), through the API on either backend: the approval's mail
//! signs the partner's contact in as its owner once; the merchant or the owner invites the
//! partner's members; a partner user's session reaches what the partner's token reaches (its
//! own data only, `partner_user` in the audit log); a person who is both a member of the handle
//! and one of its partners acts as one or the other, named by `x-tenx-act-as`, and never
//! approves, reviews or pays its own commissions.

use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use tenx_shared::http::auth::Role;
use tenx_shared::ledger::model::Kind::{Adjustment, Conversion};
use tenx_shared::ledger::model::Status::Pending;

use crate::helpers::*;
use crate::people::{cookie_of, mails_to, member, next_link, spend, token_of};
use crate::scenario::{Line, seed_ledger};

/// A signed-in person's browser: its cookie, its CSRF token, and the side it acts on.
pub(crate) struct Browser<'a> {
    pub(crate) app: &'a TestApp,
    pub(crate) cookie: String,
    pub(crate) csrf: String,
    pub(crate) act_as: Option<&'static str>,
}

impl<'a> Browser<'a> {
    /// Spends a mailed link's token and keeps the session it starts.
    pub(crate) async fn from_link(app: &'a TestApp, link: &str) -> (Browser<'a>, String) {
        let r = spend(app, &token_of(link)).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let location = header_str(r.headers(), "location").to_owned();
        let cookie = cookie_of(&r);
        let mut b = Browser {
            app,
            cookie,
            csrf: String::new(),
            act_as: None,
        };
        b.csrf = b.me().await["csrfToken"].as_str().unwrap().to_owned();
        (b, location)
    }

    pub(crate) fn acting_as(mut self, side: &'static str) -> Self {
        self.act_as = Some(side);
        self
    }

    pub(crate) async fn me(&self) -> Value {
        let r = self.send(Method::GET, "/v2/me", None).await;
        json_of(r, 200).await
    }

    pub(crate) async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<&Value>,
    ) -> reqwest::Response {
        let mut r = self
            .app
            .client
            .request(method, self.app.url(path))
            .header("cookie", &self.cookie)
            .header("x-csrf-token", &self.csrf);
        if let Some(side) = self.act_as {
            r = r.header("x-tenx-act-as", side);
        }
        if let Some(body) = body {
            r = r.json(body);
        }
        r.send().await.unwrap()
    }

    pub(crate) async fn get(&self, path: &str) -> reqwest::Response {
        self.send(Method::GET, path, None).await
    }

    pub(crate) async fn post(&self, path: &str, body: &Value) -> reqwest::Response {
        self.send(Method::POST, path, Some(body)).await
    }
}

/// Invites `email` to act for `partner` (as `by`, a bearer credential) and returns the link.
pub(crate) async fn invite_by_operator(app: &TestApp, partner: &str, email: &str) -> String {
    let before = mails_to(app, email).len();
    let op = app.as_role("acme", Role::Operator);
    let path = format!("/partners/{partner}/members/invitations");
    let made = json_of(
        op.send_json(Method::POST, &path, &json!({"email": email}))
            .await,
        201,
    )
    .await;
    // The first user of a partner without one is its owner (`a_partner_made_before_…`).
    assert!(
        made["role"] == "member" || made["role"] == "owner",
        "{made}"
    );
    assert_eq!(made["partnerId"], partner);
    next_link(app, email, before, "invitation").await
}

#[tokio::test]
async fn a_partner_made_before_partner_users_gets_its_owner_by_an_invitation_to_its_address() {
    let app = spawn_app().await;
    let op = app.as_role("acme", Role::Operator);
    let body = json!({"partnerId": "pub-old", "name": "Old Publisher", "email": "old@pub.example"});
    json_of(op.create_partner(&body).await, 201).await;
    let token = crate::scenario::partner_token(&app, "acme", "pub-old").await;
    // No address given: the partner's own, and it becomes the partner's owner.
    let path = "/partners/pub-old/members/invitations";
    let made = json_of(op.send_json(Method::POST, path, &json!({})).await, 201).await;
    assert_eq!(made["role"], "owner", "{made}");
    assert_eq!(made["email"], "old@pub.example");
    let link = next_link(&app, "old@pub.example", 0, "invitation").await;
    let (old, landed) = Browser::from_link(&app, &link).await;
    assert_eq!(landed, "/portal/acme");
    assert_eq!(
        old.me().await["partnerships"],
        json!([{"handle": "acme", "partnerId": "pub-old", "role": "owner"}])
    );
    // The owner invites its own people now; they are members.
    let full = "/v2/handles/acme/partners/pub-old/members/invitations";
    let made = json_of(
        old.post(full, &json!({"email": "ann@pub.example"})).await,
        201,
    )
    .await;
    assert_eq!(made["role"], "member");
    // The program's next invitation is a member too: the partner has its owner.
    let made = json_of(
        op.send_json(Method::POST, path, &json!({"email": "cy@pub.example"}))
            .await,
        201,
    )
    .await;
    assert_eq!(made["role"], "member");
    // The machine's token keeps working.
    let by_token = app.with_token("acme", &token);
    assert_eq!(by_token.get_partner("pub-old").await.status(), 200);

    // A partner without an address: the invitation names who to invite.
    let body = json!({"partnerId": "pub-bare", "name": "No address"});
    json_of(op.create_partner(&body).await, 201).await;
    let r = op
        .send_json(
            Method::POST,
            "/partners/pub-bare/members/invitations",
            &json!({}),
        )
        .await;
    assert_error(r, 400, "invalid_request").await;
}

#[tokio::test]
async fn an_approval_mails_a_link_that_signs_the_contact_in_as_owner_once() {
    let app = spawn_with(crate::programs::config(), None).await;
    crate::programs::program(&app, "acme", json!({})).await;
    let id = crate::programs::apply_ok(&app, "acme", "jane@shoes.example", "203.0.113.1").await;
    let op = app.as_role("acme", Role::Operator);
    let approved = json_of(op.approve_application(&id).await, 200).await;
    let partner = approved["partnerId"].as_str().unwrap().to_owned();
    let token = approved["partnerToken"]["token"]
        .as_str()
        .unwrap()
        .to_owned();

    let link = next_link(&app, "jane@shoes.example", 0, "partner_approved").await;
    let mail = mails_to(&app, "jane@shoes.example").pop().unwrap();
    assert!(!mail.raw.contains(&token), "never the token");
    assert!(
        link.contains("/v2/auth/email-link/verify?token=tenx_l_"),
        "{link}"
    );
    let (jane, landed) = Browser::from_link(&app, &link).await;
    assert_eq!(landed, "/portal/acme");
    let me = jane.me().await;
    assert_eq!(me["memberships"], json!([]));
    assert_eq!(
        me["partnerships"],
        json!([{"handle": "acme", "partnerId": partner, "role": "owner"}])
    );
    // Once: the same link again signs nobody in.
    assert_eq!(spend(&app, &token_of(&link)).await.status(), 401);

    // The session reaches the partner's own record, as its token does.
    let own = json_of(
        jane.get(&format!("/v2/handles/acme/partners/{partner}"))
            .await,
        200,
    )
    .await;
    assert_eq!(own["partnerId"], partner.as_str());
    let by_token = app.with_token("acme", &token);
    assert_eq!(
        by_token.get_partner(&partner).await.status(),
        200,
        "tokens keep working"
    );

    // The owner invites a colleague, in its own name; the colleague becomes a member.
    let path = format!("/v2/handles/acme/partners/{partner}/members/invitations");
    let made = jane
        .post(&path, &json!({"email": "bob@shoes.example"}))
        .await;
    json_of(made, 201).await;
    let link = next_link(&app, "bob@shoes.example", 0, "invitation").await;
    let (bob, _) = Browser::from_link(&app, &link).await;
    assert_eq!(bob.me().await["partnerships"][0]["role"], "member");
    // A member (and a token) does not invite.
    let refused = bob
        .post(&path, &json!({"email": "eve@shoes.example"}))
        .await;
    assert_error(refused, 403, "forbidden").await;
    let refused = by_token
        .send_json(
            Method::POST,
            &format!("/partners/{partner}/members/invitations"),
            &json!({"email": "eve@shoes.example"}),
        )
        .await;
    assert_error(refused, 403, "forbidden").await;

    // The invitation is the partner user's write: audited as `partner_user`.
    let admin = app.as_role("acme", Role::Admin);
    let audit = json_of(admin.get("/audit?actorType=partner_user").await, 200).await;
    let actions: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert!(actions.contains(&"partner_invitation.created"), "{audit}");
    assert!(actions.contains(&"partner_user.joined"), "{audit}");
    let jane_id = me["user"]["userId"].as_str().unwrap();
    assert!(
        audit["items"].as_array().unwrap().iter().any(|e| e["actor"]
            == json!({"type": "partner_user", "id": jane_id})
            && e["action"] == "partner_invitation.created"),
        "{audit}"
    );
}

#[tokio::test]
async fn a_partner_user_reaches_its_own_partner_only_and_every_other_id_answers_404() {
    let app = spawn_app().await;
    let plan = json!({"currency": "EUR", "rules": [{"eventType": "purchase", "percent": "10"}]});
    crate::scenario::two_partners(&app, &plan, None).await;
    crate::scenario::seed_lines(&app, "pub-two", 1, 500).await;
    let link = invite_by_operator(&app, "pub-one", "ann@one.example").await;
    let (ann, _) = Browser::from_link(&app, &link).await;

    // Every partner route with the other partner's id: 404, as an unknown one.
    for (method, path) in tenx_shared::http::auth::access::PARTNER_ROUTES {
        if !path.contains("{partnerId}") {
            continue;
        }
        let url = path
            .replace("{handle}", "acme")
            .replace("{partnerId}", "pub-two");
        // A body each write would take from its own partner.
        let body = if url.ends_with("/payout-method") {
            crate::payout_batches::sepa("Ann", crate::payout_batches::DE_IBAN)
        } else {
            json!({"email": "x@y.example"})
        };
        let r = ann.send(method.clone(), &url, Some(&body)).await;
        assert_eq!(r.status(), 404, "{method} {url}");
    }
    // Lists narrowed to its own partner.
    let partners = json_of(ann.get("/v2/handles/acme/partners").await, 200).await;
    let ids: Vec<&str> = partners["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["partnerId"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["pub-one"]);
    let lines = json_of(ann.get("/v2/handles/acme/commissions").await, 200).await;
    assert_eq!(lines["items"], json!([]), "pub-two's line is not hers");
    // The other partner's line by id, and the handle's own routes: refused.
    let other = json_of(
        app.as_role("acme", Role::Operator)
            .list_commissions("")
            .await,
        200,
    )
    .await;
    let line = other["items"][0]["commissionId"].as_str().unwrap();
    assert_error(
        ann.get(&format!("/v2/handles/acme/commissions/{line}"))
            .await,
        404,
        "not_found",
    )
    .await;
    assert_error(
        ann.get("/v2/handles/acme/webhooks").await,
        403,
        "insufficient_scope",
    )
    .await;
    let link_body = json!({"destinationUrl": "https://evil.example/"});
    let r = ann
        .send(Method::PUT, "/v2/handles/acme/links/mine", Some(&link_body))
        .await;
    assert_error(r, 403, "insufficient_scope").await;
    // Another handle: not hers at all.
    assert_error(
        ann.get("/v2/handles/other/partners").await,
        403,
        "forbidden",
    )
    .await;
    // A write without the CSRF token is refused.
    let mut no_csrf = Browser {
        csrf: String::new(),
        ..ann
    };
    no_csrf.act_as = None;
    let r = no_csrf
        .post(
            "/v2/handles/acme/partners/pub-one/members/invitations",
            &json!({"email": "z@one.example"}),
        )
        .await;
    assert_error(r, 403, "csrf").await;
}

#[tokio::test]
async fn a_member_who_is_also_a_partner_acts_as_one_or_the_other_and_never_pays_herself() {
    let app = spawn_app().await;
    let plan = json!({"currency": "EUR", "rules": [{"eventType": "purchase", "percent": "10"}]});
    crate::scenario::two_partners(&app, &plan, None).await;
    member(&app, "mia@acme.example", Role::Operator).await;
    let link = invite_by_operator(&app, "pub-one", "mia@acme.example").await;
    let (mia, _) = Browser::from_link(&app, &link).await;
    let me = mia.me().await;
    assert_eq!(
        me["memberships"],
        json!([{"handle": "acme", "role": "operator"}])
    );
    assert_eq!(me["partnerships"][0]["partnerId"], "pub-one");

    // Without the header she is the member she is (the console never sends it).
    let all = json_of(mia.get("/v2/handles/acme/partners").await, 200).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 2);
    // As the partner: its own data and routes only.
    let as_partner = Browser {
        act_as: Some("partner"),
        ..mia
    };
    let own = json_of(as_partner.get("/v2/handles/acme/partners").await, 200).await;
    assert_eq!(own["items"].as_array().unwrap().len(), 1);
    assert_error(
        as_partner.get("/v2/handles/acme/webhooks").await,
        403,
        "insufficient_scope",
    )
    .await;
    let mia = as_partner.acting_as("member");
    assert_eq!(mia.get("/v2/handles/acme/webhooks").await.status(), 200);
    let odd = Browser {
        act_as: Some("both"),
        ..mia
    };
    assert_error(
        odd.get("/v2/handles/acme/partners").await,
        400,
        "invalid_request",
    )
    .await;
    let mia = odd.acting_as("member");

    // As a member she never approves, reviews or pays her own partner's commissions.
    let manual =
        |p: &str| json!({"partnerId": p, "amount": "5.00", "currency": "EUR", "reason": "bonus"});
    assert_error(
        mia.post("/v2/handles/acme/commissions", &manual("pub-one"))
            .await,
        403,
        "forbidden",
    )
    .await;
    assert_eq!(
        mia.post("/v2/handles/acme/commissions", &manual("pub-two"))
            .await
            .status(),
        201
    );
    let own_line = crate::scenario::seed_lines(&app, "pub-one", 1, 500).await[0].to_string();
    let other_line = crate::scenario::seed_lines(&app, "pub-two", 1, 500).await[0].to_string();
    for decision in ["approve", "reject"] {
        let path = format!("/v2/handles/acme/commissions/{own_line}/{decision}");
        assert_error(
            mia.post(&path, &json!({"reason": "no"})).await,
            403,
            "forbidden",
        )
        .await;
    }
    let bulk = json!({"commissionIds": [own_line, other_line], "reason": "checked"});
    let results = json_of(
        mia.post("/v2/handles/acme/commissions/reject", &bulk).await,
        200,
    )
    .await;
    assert_eq!(
        results["results"][0]["error"]["code"], "forbidden",
        "{results}"
    );
    assert!(results["results"][1]["error"].is_null(), "{results}");

    let run = |partner: Option<&str>| {
        let mut body = json!({"periodEnd": "2020-01-01T00:00:00Z"});
        if let Some(p) = partner {
            body["partnerId"] = json!(p);
        }
        body
    };
    let pay =
        |body: Value, key: &'static str| post_keyed(&mia, "/v2/handles/acme/payouts", body, key);
    assert_error(pay(run(None), "run-all").await, 403, "forbidden").await;
    assert_error(pay(run(Some("pub-one")), "run-own").await, 403, "forbidden").await;
    let other = pay(run(Some("pub-two")), "run-other").await;
    assert!(other.status().is_success(), "{}", other.status());
    let batch = json!({"method": "sepa"});
    let refused = post_keyed(&mia, "/v2/handles/acme/payout-batches", batch, "batch").await;
    assert_error(refused, 403, "forbidden").await;
    // Another operator (no partner of her own) runs them all.
    let op = app.as_role("acme", Role::Operator);
    assert!(
        op.run_payouts("run-all", &run(None))
            .await
            .status()
            .is_success()
    );
}

/// A write that carries an `idempotency-key`, from a browser.
async fn post_keyed(b: &Browser<'_>, path: &str, body: Value, key: &str) -> reqwest::Response {
    let mut r = b
        .app
        .client
        .post(b.app.url(path))
        .header("cookie", &b.cookie)
        .header("x-csrf-token", &b.csrf)
        .header("idempotency-key", key)
        .json(&body);
    if let Some(side) = b.act_as {
        r = r.header("x-tenx-act-as", side);
    }
    r.send().await.unwrap()
}

/// The case through the API: the balance's €44.80 approved with €5.00 owed back (the
/// funnel's €39.80 net), and a next payout of €24.90, each reason in words; the operator and
/// the partner read the same figures, which match `GET …/balances`; another partner reads 404.
#[tokio::test]
async fn the_summary_reconciles_the_balance_and_the_next_payout_in_words() {
    let app = spawn_app().await;
    let plan = json!({"currency": "EUR", "rules": [{"eventType": "purchase", "percent": "10"}]});
    crate::scenario::two_partners(&app, &plan, None).await;
    let now = tenx_shared::platform::time::now_millis();
    let (cut, day) = tenx_shared::portal::summary::cutoff(now);
    seed_ledger(
        &app,
        [
            Line::of("pub-one", Conversion, 1990).available_at(cut - 5 * 86_400_000),
            Line::of("pub-one", Conversion, 1000).available_at(cut - 86_400_000),
            Line::of("pub-one", Conversion, 1490).available_at(cut + 1),
            Line::of("pub-one", Adjustment, -500).available_at(cut - 86_400_000),
            Line::of("pub-one", Conversion, 700)
                .status(Pending)
                .available_at(now + 86_400_000),
        ],
    )
    .await;
    let op = app.as_role("acme", Role::Operator);
    let got = json_of(op.get("/partners/pub-one/summary").await, 200).await;
    assert_eq!(got["currency"], "EUR");
    assert_eq!(
        got["balance"],
        json!({"pending": "7.00", "approved": "44.80", "owedBack": "5.00"})
    );
    assert_eq!(got["nextPayout"]["amount"], "24.90");
    assert_eq!(
        got["nextPayout"]["reasons"],
        json!([
            format!("€29.90 approved by {day}"),
            "€5.00 owed back from a refund",
            format!("€14.90 approved after {day} comes in the payout after"),
            "€7.00 still pending, approved when its hold ends",
        ])
    );
    assert_eq!(got["unreadMessages"], 0);
    // The same figures as the balances (approved, and the open negative owed back).
    let balances = json_of(op.balances("partnerId=pub-one").await, 200).await;
    assert_eq!(balances["items"][0]["approved"], "44.80");
    assert_eq!(balances["items"][0]["openNegative"], "-5.00");
    // The series: 30 days, today's lines by status (approved net of the refund: €39.80).
    let days = got["earnings"].as_array().unwrap();
    assert_eq!(days.len(), 30);
    let today = days.last().unwrap();
    assert_eq!(
        (&today["pending"], &today["approved"], &today["paid"]),
        (&json!("7.00"), &json!("39.80"), &json!("0.00"))
    );
    // The partner reads the same; another partner's summary is 404; bad windows are 400.
    let partner = crate::scenario::as_partner(&app, "acme", "pub-one").await;
    let own = json_of(partner.get("/partners/pub-one/summary").await, 200).await;
    assert_eq!(own["nextPayout"], got["nextPayout"]);
    assert_error(
        partner.get("/partners/pub-two/summary").await,
        404,
        "not_found",
    )
    .await;
    assert_error(op.get("/partners/nobody/summary").await, 404, "not_found").await;
    for bad in [
        "from=yesterday",
        "from=2026-01-01&to=2025-01-01",
        "from=2020-01-01&to=2026-01-01",
    ] {
        let r = op.get(&format!("/partners/pub-one/summary?{bad}")).await;
        assert_error(r, 400, "invalid_request").await;
    }
    let window = json_of(
        op.get("/partners/pub-one/summary?from=2026-01-01&to=2026-01-07")
            .await,
        200,
    )
    .await;
    assert_eq!(window["earnings"].as_array().unwrap().len(), 7);
    assert_eq!(window["earnings"][0]["day"], "2026-01-01");
}

/// The portal's page, `/portal/{handle}`: served as the program page is (the console's policy,
/// but for the program's https logo; no inline script, every module by its hashed name and
/// served), the partner's modules in it.
#[tokio::test]
async fn the_portal_page_is_served_under_the_consoles_policy() {
    let app = spawn_app().await;
    let resp = app
        .client
        .get(app.url("/portal/acme"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let h = resp.headers();
    let policy = tenx_shared::http::console::PORTAL_CONTENT_SECURITY_POLICY;
    assert_eq!(header_str(h, "content-security-policy"), policy);
    // Only images are widened (the program's logo): scripts, styles and fetches stay its own.
    assert_eq!(
        policy.replace("img-src 'self' data: https:", "img-src 'self' data:"),
        tenx_shared::http::console::CONTENT_SECURITY_POLICY
    );
    assert_eq!(header_str(h, "x-content-type-options"), "nosniff");
    assert_eq!(header_str(h, "referrer-policy"), "no-referrer");
    let html = resp.text().await.unwrap();
    assert!(!html.contains("<script>"), "no inline script");
    let refs = crate::console::references(&html);
    assert!(
        refs.iter()
            .any(|r| r.starts_with("portal-main.") && r.ends_with(".js")),
        "{refs:?}"
    );
    for r in &refs {
        assert_eq!(app.console_asset(r).await.status(), 200, "{r}");
    }
    // The modules it imports are served under their hashed names too.
    let portal = refs.iter().find(|r| r.starts_with("portal-main.")).unwrap();
    let js = app.console_asset(portal).await.text().await.unwrap();
    for module in [
        "portal-api.",
        "portal-overview.",
        "portal-words.",
        "portal-messages.",
        "portal-claims.",
        "portal-verify.",
        "portal-people.",
        "portal-tax.",
        "portal-statement.",
        "portal-subids.",
        "portal-plan.",
        "portal-method.",
        "portal-notifications.",
        "ui.",
    ] {
        assert!(js.contains(&format!("./{module}")), "{module} in {js}");
    }
    // The QR codes (on demand) come with the links' tagging.
    let subids = crate::console::references(&js)
        .into_iter()
        .find(|r| r.starts_with("portal-subids."))
        .expect("portal/subids.js");
    let tagging = app.console_asset(&subids).await.text().await.unwrap();
    assert!(tagging.contains("./widgets-qr."), "{tagging}");
    let r = app
        .client
        .get(app.url("/portal/Not_A_Handle"))
        .send()
        .await
        .unwrap();
    assert_error(r, 400, "invalid_request").await;
}

/// The user ids of a partner's users list, with their roles.
fn users_of(list: &Value) -> Vec<(String, String)> {
    list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| {
            (
                u["email"].as_str().unwrap().to_owned(),
                u["role"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// Partner users listed and removed (issue 61): the owner lists its people and removes a
/// member (not itself), a member and a token remove nobody, the program's operator removes
/// anyone; a removed person's next request as the partner is refused, and the removal is
/// audited. Another partner's id is 404 on both routes.
#[tokio::test]
async fn a_partners_owner_and_the_program_list_and_remove_its_users() {
    let app = spawn_with(crate::programs::config(), None).await;
    crate::programs::program(&app, "acme", json!({})).await;
    let id = crate::programs::apply_ok(&app, "acme", "jane@shoes.example", "203.0.113.1").await;
    let op = app.as_role("acme", Role::Operator);
    let approved = json_of(op.approve_application(&id).await, 200).await;
    let partner = approved["partnerId"].as_str().unwrap().to_owned();
    let token = approved["partnerToken"]["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let link = next_link(&app, "jane@shoes.example", 0, "partner_approved").await;
    let (jane, _) = Browser::from_link(&app, &link).await;
    let jane = jane.acting_as("partner");
    let bob_link = invite_by_operator(&app, &partner, "bob@shoes.example").await;
    let (bob, _) = Browser::from_link(&app, &bob_link).await;
    let bob = bob.acting_as("partner");
    let bob_id = bob.me().await["user"]["userId"]
        .as_str()
        .unwrap()
        .to_owned();
    let jane_id = jane.me().await["user"]["userId"]
        .as_str()
        .unwrap()
        .to_owned();

    // Listed, the owner first, to the owner, the member, the token and the program alike.
    let members = format!("/v2/handles/acme/partners/{partner}/members");
    let expected = vec![
        ("jane@shoes.example".to_owned(), "owner".to_owned()),
        ("bob@shoes.example".to_owned(), "member".to_owned()),
    ];
    assert_eq!(
        users_of(&json_of(jane.get(&members).await, 200).await),
        expected
    );
    assert_eq!(
        users_of(&json_of(bob.get(&members).await, 200).await),
        expected
    );
    let by_token = app.with_token("acme", &token);
    let rest = format!("/partners/{partner}/members");
    assert_eq!(
        users_of(&json_of(by_token.get(&rest).await, 200).await),
        expected
    );
    assert_eq!(users_of(&json_of(op.get(&rest).await, 200).await), expected);
    assert_error(op.get("/partners/nobody/members").await, 404, "not_found").await;

    // A member and a token remove nobody; the owner does not remove itself.
    let remove = |who: &str| format!("/v2/handles/acme/partners/{partner}/members/{who}");
    let r = bob.send(Method::DELETE, &remove(&jane_id), None).await;
    assert_error(r, 403, "forbidden").await;
    let r = by_token
        .send_empty(Method::DELETE, &format!("{rest}/{bob_id}"))
        .await;
    assert_error(r, 403, "forbidden").await;
    let r = jane.send(Method::DELETE, &remove(&jane_id), None).await;
    assert_error(r, 409, "invalid_state").await;

    // The owner removes its member: bob's very next request as the partner is refused.
    assert_eq!(bob.get(&members).await.status(), 200);
    let r = jane.send(Method::DELETE, &remove(&bob_id), None).await;
    assert_eq!(r.status(), 204);
    assert_error(bob.get(&members).await, 403, "forbidden").await;
    assert_eq!(bob.me().await["partnerships"], json!([]));
    let r = jane.send(Method::DELETE, &remove(&bob_id), None).await;
    assert_error(r, 404, "not_found").await;
    let left = json_of(jane.get(&members).await, 200).await;
    assert_eq!(users_of(&left), expected[..1]);

    // The program removes the owner too.
    let r = op
        .send_empty(Method::DELETE, &format!("{rest}/{jane_id}"))
        .await;
    assert_eq!(r.status(), 204);
    let r = jane
        .get(&format!("/v2/handles/acme/partners/{partner}"))
        .await;
    assert_error(r, 403, "forbidden").await;
    assert_eq!(
        by_token.get_partner(&partner).await.status(),
        200,
        "tokens stay"
    );
    let r = op
        .send_empty(
            Method::DELETE,
            &format!("/partners/nobody/members/{jane_id}"),
        )
        .await;
    assert_error(r, 404, "not_found").await;

    let admin = app.as_role("acme", Role::Admin);
    let audit = json_of(admin.get("/audit?action=partner_user.removed").await, 200).await;
    let actors: Vec<&str> = audit["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["actor"]["type"].as_str().unwrap())
        .collect();
    assert_eq!(actors.len(), 2, "{audit}");
    assert!(
        actors.contains(&"partner_user") && actors.contains(&"jwt"),
        "{audit}"
    );
}

/// A person who is a partner of two programs (issue 61): `GET /v2/me` lists both, and on each
/// handle the session acts for that handle's partner only; the other program's partner and
/// thread are not there.
#[tokio::test]
async fn a_person_partner_of_two_programs_sees_each_apart() {
    let app = spawn_app().await;
    crate::scenario::partner(&app, "pub-one").await;
    let shoes = app.as_role("shoes", Role::Operator);
    let body = json!({"partnerId": "pub-shoes", "name": "Shoes partner"});
    json_of(shoes.create_partner(&body).await, 201).await;
    let email = "sam@both.example";
    let first = invite_by_operator(&app, "pub-one", email).await;
    let before = mails_to(&app, email).len();
    let path = "/partners/pub-shoes/members/invitations";
    let made = shoes
        .send_json(Method::POST, path, &json!({"email": email}))
        .await;
    json_of(made, 201).await;
    let (sam, _) = Browser::from_link(&app, &first).await;
    let second = next_link(&app, email, before, "invitation").await;
    let (sam_again, _) = Browser::from_link(&app, &second).await;
    let sam = sam.acting_as("partner");
    let mut both: Vec<(String, String)> = sam_again.me().await["partnerships"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let s = |k: &str| p[k].as_str().unwrap().to_owned();
            (s("handle"), s("partnerId"))
        })
        .collect();
    both.sort();
    assert_eq!(
        both,
        [
            ("acme".to_owned(), "pub-one".to_owned()),
            ("shoes".to_owned(), "pub-shoes".to_owned())
        ]
    );

    // Each handle: its own partner only, the other program's id unknown there.
    for (handle, own, other) in [
        ("acme", "pub-one", "pub-shoes"),
        ("shoes", "pub-shoes", "pub-one"),
    ] {
        let listed = json_of(
            sam.get(&format!("/v2/handles/{handle}/partners")).await,
            200,
        )
        .await;
        assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{handle}");
        assert_eq!(listed["items"][0]["partnerId"], own, "{handle}");
        let r = sam
            .get(&format!("/v2/handles/{handle}/partners/{other}"))
            .await;
        assert_error(r, 404, "not_found").await;
    }
    // A message from one program is in that program's thread only.
    let acme = app.as_role("acme", Role::Operator);
    let note = json!({"body": "Hello from acme"});
    json_of(
        acme.send_json(Method::POST, "/partners/pub-one/messages", &note)
            .await,
        201,
    )
    .await;
    let here = json_of(
        sam.get("/v2/handles/acme/partners/pub-one/messages").await,
        200,
    )
    .await;
    assert_eq!(here["items"][0]["body"], "Hello from acme");
    let there = json_of(
        sam.get("/v2/handles/shoes/partners/pub-shoes/messages")
            .await,
        200,
    )
    .await;
    assert_eq!(there["items"], json!([]));
}
