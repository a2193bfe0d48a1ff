//! Scenario builders shared by the end-to-end tests: a program set up through the API (a
//! policy, partners, campaigns with their links, plans) and a visitor whose click yields a ctx.
//! Each step asserts its own answer, so a test reads as the story it sets up:
//!
//! ```ignore
//! Program::on(&app, "acme").instant().await
//!     .partner("pub-one").await
//!     .campaign("alpha", Some("pub-one"), "deal").await
//!     .plan("alpha", plan).await;
//! let ctx = human_ctx(&app, "acme", "/deal").await;
//! ```

use reqwest::Method;
use serde_json::{Value, json};
use tenx_shared::http::auth::Role;
use tenx_shared::ledger::model::{Kind, Status};

use crate::endpoints::As;
use crate::helpers::*;

/// A phone's browser: a human visitor for the bot classifier.
pub(crate) const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";

/// A handle's program, built step by step as its operator.
pub(crate) struct Program<'a> {
    op: As<'a>,
}

impl<'a> Program<'a> {
    pub(crate) fn on(app: &'a TestApp, handle: &str) -> Self {
        Self {
            op: app.as_role(handle, Role::Operator),
        }
    }

    /// Conversions right after their click are no risk signal (a held line is tested apart).
    pub(crate) async fn instant(self) -> Self {
        let policy = json!({"minSecondsAfterClick": 0});
        json_of(self.op.put_conversion_policy(&policy).await, 200).await;
        self
    }

    /// A partner named as its id.
    pub(crate) async fn partner(self, id: &str) -> Self {
        self.named_partner(id, id).await
    }

    pub(crate) async fn named_partner(self, id: &str, name: &str) -> Self {
        let body = json!({"partnerId": id, "name": name});
        json_of(self.op.create_partner(&body).await, 201).await;
        self
    }

    /// A partner named `name` whose mail goes to `email`.
    pub(crate) async fn mailed_partner(self, id: &str, name: &str, email: &str) -> Self {
        let body = json!({"partnerId": id, "name": name, "email": email});
        json_of(self.op.create_partner(&body).await, 201).await;
        self
    }

    /// How `partner` is paid (`{"type": "sepa", …}`), set from the start.
    pub(crate) async fn payout_method(self, partner: &str, method: &Value) -> Self {
        json_of(self.op.put_payout_method(partner, method).await, 201).await;
        self
    }

    /// A purchase campaign (of `partner`, if any) whose primary link is `slug`.
    pub(crate) async fn campaign(self, id: &str, partner: Option<&str>, slug: &str) -> Self {
        let mut body = json!({"campaignId": id, "goalType": "PURCHASE",
            "primaryLink": {"slug": slug, "destinationUrl": "https://shop.example.com/deal"}});
        if let Some(p) = partner {
            body["partnerId"] = json!(p);
        }
        let created = json_of(self.op.create_campaign(&body).await, 201).await;
        assert_eq!(created["partnerId"].as_str(), partner);
        self
    }

    /// A new version of `campaign`'s plan: its answer.
    pub(crate) async fn plan(self, campaign: &str, plan: &Value) -> Self {
        json_of(self.op.put_plan(campaign, plan).await, 200).await;
        self
    }
}

/// `pub-one` on `/deal` (campaign `alpha`) under `plan`: the smallest program that earns.
pub(crate) async fn one_partner(app: &TestApp, plan: &Value) {
    Program::on(app, "acme")
        .instant()
        .await
        .partner("pub-one")
        .await
        .campaign("alpha", Some("pub-one"), "deal")
        .await
        .plan("alpha", plan)
        .await;
}

/// `pub-one` on `/deal` (campaign `alpha`, under `plan`) and `pub-two` on `/offer` (`beta`,
/// under `beta_plan` if any): two partners whose data must never meet.
pub(crate) async fn two_partners(app: &TestApp, plan: &Value, beta_plan: Option<&Value>) {
    let program = Program::on(app, "acme")
        .instant()
        .await
        .partner("pub-one")
        .await
        .campaign("alpha", Some("pub-one"), "deal")
        .await
        .partner("pub-two")
        .await
        .campaign("beta", Some("pub-two"), "offer")
        .await
        .plan("alpha", plan)
        .await;
    if let Some(beta) = beta_plan {
        program.plan("beta", beta).await;
    }
}

/// A partner token of `partner` (`tenx_ptk_…`), minted by the handle's operator.
pub(crate) async fn partner_token(app: &TestApp, handle: &str, partner: &str) -> String {
    let path = format!("/partners/{partner}/tokens");
    let op = app.as_role(handle, Role::Operator);
    let minted = op
        .send_json(Method::POST, &path, &json!({"name": "portal"}))
        .await;
    let token = json_of(minted, 201).await["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(token.starts_with("tenx_ptk_"), "{token}");
    token
}

/// The API as `partner` itself, through a fresh partner token.
pub(crate) async fn as_partner<'a>(app: &'a TestApp, handle: &str, partner: &str) -> As<'a> {
    let token = partner_token(app, handle, partner).await;
    app.with_token(handle, &token)
}

/// A human's click on `path` (`/{slug}?…`) of `handle`, from the US: the ctx it carries.
pub(crate) async fn human_ctx(app: &TestApp, handle: &str, path: &str) -> String {
    let headers = [("user-agent", IPHONE), ("cloudfront-viewer-country", "US")];
    let resp = app.visit(Method::GET, handle, path, &headers).await;
    assert_eq!(resp.status(), 302, "{path}");
    query_param(header_str(resp.headers(), "location"), "ctx").expect("a human's ctx")
}

/// `n` approved lines of `minor` cents each for `partner`, available an hour ago, written as
/// the ledger writes them (with their balances and index entries).
pub(crate) async fn seed_lines(
    app: &TestApp,
    partner: &str,
    n: usize,
    minor: i64,
) -> Vec<tenx_shared::domain::CommissionId> {
    seed_lines_in(app, partner, (n, minor), "EUR").await
}

/// [`seed_lines`] in `currency`.
pub(crate) async fn seed_lines_in(
    app: &TestApp,
    partner: &str,
    (n, minor): (usize, i64),
    currency: &str,
) -> Vec<tenx_shared::domain::CommissionId> {
    seed_amounts(app, partner, currency, &vec![minor; n]).await
}

/// One approved line of `partner` per amount of `minors` (minor units of `currency`), available
/// an hour ago, written as the ledger writes them (with their balances and index entries).
pub(crate) async fn seed_amounts(
    app: &TestApp,
    partner: &str,
    currency: &str,
    minors: &[i64],
) -> Vec<tenx_shared::domain::CommissionId> {
    let lines = minors
        .iter()
        .map(|minor| Line::of(partner, Kind::Manual, *minor).currency(currency));
    seed_ledger(app, lines).await
}

/// A line of `acme`'s ledger for [`seed_ledger`]: approved, in EUR, available an hour before
/// it is seeded, until a step says otherwise.
pub(crate) struct Line {
    line: tenx_shared::ledger::model::Commission,
    available_at: Option<i64>,
}

impl Line {
    /// `minor` units of `partner`'s, of `kind`.
    pub(crate) fn of(partner: &str, kind: Kind, minor: i64) -> Self {
        use tenx_shared::domain::{CommissionId, Currency, PartnerId};
        let line = tenx_shared::ledger::model::Commission::blank(
            CommissionId::new(),
            kind,
            PartnerId::parse(partner).unwrap(),
            Some(minor),
            Currency::parse("EUR").unwrap(),
            Status::Approved,
        );
        Self {
            line,
            available_at: None,
        }
    }

    pub(crate) fn currency(mut self, code: &str) -> Self {
        self.line.currency = tenx_shared::domain::Currency::parse(code).unwrap();
        self
    }

    pub(crate) fn status(mut self, status: Status) -> Self {
        self.line.status = status;
        self
    }

    /// Available from `millis` (unix milliseconds).
    pub(crate) fn available_at(mut self, millis: i64) -> Self {
        self.available_at = Some(millis);
        self
    }

    /// The sale it was earned on: `value` in `currency`.
    pub(crate) fn sale(mut self, value: &str, currency: &str) -> Self {
        self.line.value = Some(value.parse().unwrap());
        self.line.value_currency = Some(tenx_shared::domain::Currency::parse(currency).unwrap());
        self
    }

    /// Earned on a sale of customer `id`.
    pub(crate) fn customer(mut self, id: &str) -> Self {
        self.line.customer_id = Some(tenx_shared::domain::CustomerId::parse(id).unwrap());
        self
    }
}

/// `lines` written as the ledger writes them (with their balances and index entries), many to
/// a transaction (their balance adds summed): the seeding is not under test. Their ids, in
/// order.
pub(crate) async fn seed_ledger(
    app: &TestApp,
    lines: impl IntoIterator<Item = Line>,
) -> Vec<tenx_shared::domain::CommissionId> {
    use tenx_shared::domain::{Handle, time::Timestamp};
    let handle = Handle::parse("acme").unwrap();
    let hour_ago = tenx_shared::platform::time::now_millis() - 3_600_000;
    let mut ids = Vec::new();
    let mut ops = Vec::new();
    for Line {
        mut line,
        available_at,
    } in lines
    {
        line.available_at = Timestamp::from_millis(available_at.unwrap_or(hour_ago));
        ids.push(line.commission_id.clone());
        ops = tenx_shared::ledger::running::merged([ops, line.create(&handle).unwrap()].concat());
        if ops.len() > 80 {
            app.store.transact(std::mem::take(&mut ops)).await.unwrap();
        }
    }
    if !ops.is_empty() {
        app.store.transact(ops).await.unwrap();
    }
    ids
}

/// Partner `id` of `acme` ("Partner {id}"), created through the API.
pub(crate) async fn partner(app: &TestApp, id: &str) {
    let op = app.as_role("acme", Role::Operator);
    let body = json!({"partnerId": id, "name": format!("Partner {id}")});
    json_of(op.create_partner(&body).await, 201).await;
}

/// [`partner`] for each of `ids`.
pub(crate) async fn partners(app: &TestApp, ids: &[&str]) {
    for id in ids {
        partner(app, id).await;
    }
}
