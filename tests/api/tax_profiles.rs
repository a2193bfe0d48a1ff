//! Tax profiles (issue 61), on either backend: a partner gives its tax details for its form,
//! checked by format and check digits (a field that does not hold is named), answered masked to
//! it and to the program; sealed at rest (nothing of the ids in the stored item); a program that
//! asks for them holds the payouts of partners who gave none out of batches, in words; an admin
//! exports them opened for year-end filings, each export audited.

use reqwest::Method;
use serde_json::{Value, json};
use tenx_shared::http::auth::Role;

use crate::endpoints::As;
use crate::helpers::*;
use crate::payout_batches::{DE_IBAN, run, sepa};
use crate::scenario::{partners, seed_amounts};

async fn put_tax(who: &As<'_>, partner: &str, body: &Value) -> reqwest::Response {
    who.send_json(
        Method::PUT,
        &format!("/partners/{partner}/tax-profile"),
        body,
    )
    .await
}

#[tokio::test]
async fn a_partner_gives_its_tax_details_checked_sealed_and_masked() {
    let app = spawn_app().await;
    partners(&app, &["pub-one", "pub-two"]).await;
    let one = crate::scenario::as_partner(&app, "acme", "pub-one").await;

    let w9 = json!({"form": "w9", "legalName": "Jane Doe", "country": "us",
        "taxId": "123-45-6789", "address": "1 Main St, Springfield"});
    let got = json_of(put_tax(&one, "pub-one", &w9).await, 200).await;
    assert_eq!(got["taxId"], "•••••6789");
    assert_eq!(
        (&got["country"], &got["addressGiven"]),
        (&json!("US"), &json!(true))
    );
    assert!(
        got.get("address").is_none() && got.get("sealed").is_none(),
        "{got}"
    );
    let read = json_of(one.get("/partners/pub-one/tax-profile").await, 200).await;
    assert_eq!(read, got);
    // Sealed at rest: the stored item holds neither the id nor the address.
    let handle = tenx_shared::domain::Handle::parse("acme").unwrap();
    let partner = tenx_shared::domain::PartnerId::parse("pub-one").unwrap();
    let (pk, sk) = tenx_shared::platform::store::keys::tax_profile(&handle, &partner);
    let item = app.store.get(&pk, &sk).await.unwrap().expect("stored");
    let raw = serde_json::to_string(&item.doc).unwrap();
    assert!(
        !raw.contains("123456789") && !raw.contains("Main St"),
        "{raw}"
    );

    // Each form's fields, checked where they are typed.
    for (body, field) in [
        (
            json!({"form": "w9", "legalName": "J", "country": "DE", "taxId": "123-45-6789"}),
            "country",
        ),
        (
            json!({"form": "w9", "legalName": "J", "country": "US", "taxId": "666-45-6789"}),
            "taxId",
        ),
        (
            json!({"form": "w9", "legalName": "J", "country": "US"}),
            "taxId",
        ),
        (
            json!({"form": "eu_vat", "legalName": "J GmbH", "country": "DE", "vatId": "DE136695977"}),
            "vatId",
        ),
        (
            json!({"form": "eu_vat", "legalName": "J SARL", "country": "DE", "vatId": "FR40303265045"}),
            "country",
        ),
        (
            json!({"form": "w8ben", "legalName": "J", "country": "US"}),
            "country",
        ),
        (
            json!({"form": "none", "legalName": "J", "country": "DE", "vatId": "DE136695976"}),
            "vatId",
        ),
        (
            json!({"form": "w8ben", "legalName": " ", "country": "GB"}),
            "legalName",
        ),
    ] {
        let m = assert_error(
            put_tax(&one, "pub-one", &body).await,
            400,
            "invalid_request",
        )
        .await;
        assert!(m.starts_with(field), "{body}: {m}");
    }
    let odd = json!({"form": "w10", "legalName": "J", "country": "US"});
    assert_error(put_tax(&one, "pub-one", &odd).await, 400, "invalid_request").await;
    // Another partner's: 404 both ways.
    let vat = json!({"form": "eu_vat", "legalName": "Two GmbH", "country": "DE", "vatId": "DE 136 695 976"});
    assert_error(put_tax(&one, "pub-two", &vat).await, 404, "not_found").await;
    assert_error(
        one.get("/partners/pub-two/tax-profile").await,
        404,
        "not_found",
    )
    .await;

    // The program reads them masked (a partner, only its own); the manager may set one too.
    let op = app.as_role("acme", Role::Operator);
    let two = json_of(put_tax(&op, "pub-two", &vat).await, 200).await;
    assert_eq!(two["vatId"], "DE•••••5976");
    let all = json_of(op.get("/tax-profiles").await, 200).await;
    assert_eq!(all["items"].as_array().unwrap().len(), 2);
    let mine = json_of(one.get("/tax-profiles").await, 200).await;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    assert_eq!(mine["items"][0]["partnerId"], "pub-one");

    // The export: admins only, opened, audited.
    assert_eq!(op.get("/tax-profiles/export").await.status(), 403);
    let admin = app.as_role("acme", Role::Admin);
    let csv = admin.get("/tax-profiles/export").await;
    assert_eq!(csv.status(), 200);
    assert_eq!(header_str(csv.headers(), "cache-control"), "no-store");
    let text = csv.text().await.unwrap();
    assert!(
        text.starts_with(
            "partnerId,form,legalName,country,taxId,vatId,address,updatedAt,formWords\r\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("pub-one,w9,Jane Doe,US,123456789,,\"1 Main St, Springfield\","),
        "{text}"
    );
    assert!(
        text.contains("pub-two,eu_vat,Two GmbH,DE,,DE136695976,,"),
        "{text}"
    );
    let audit = json_of(admin.get("/audit?action=tax_profiles.exported").await, 200).await;
    assert_eq!(audit["items"][0]["target"], "2 tax profiles");
    let set = json_of(admin.get("/audit?action=tax_profile.set").await, 200).await;
    assert_eq!(set["items"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn a_program_that_asks_for_tax_details_holds_payouts_until_they_are_given() {
    let app = spawn_app().await;
    partners(&app, &["pub-one", "pub-two"]).await;
    let admin = app.as_role("acme", Role::Admin);
    let settings = json!({"debtorName": "ACME GmbH", "debtorIban": DE_IBAN});
    json_of(admin.put_payout_settings(&settings).await, 200).await;
    let program = json!({"name": "Acme partners", "requireTaxProfile": true});
    let put = json_of(admin.put_program(&program).await, 201).await;
    assert_eq!(put["requireTaxProfile"], "given");
    let op = app.as_role("acme", Role::Operator);
    for p in ["pub-one", "pub-two"] {
        json_of(op.put_payout_method(p, &sepa("Holder", DE_IBAN)).await, 201).await;
    }
    let vat =
        json!({"form": "eu_vat", "legalName": "One GmbH", "country": "DE", "vatId": "DE136695976"});
    json_of(put_tax(&op, "pub-one", &vat).await, 200).await;
    seed_amounts(&app, "pub-one", "EUR", &[1000]).await;
    seed_amounts(&app, "pub-two", "EUR", &[2000]).await;
    let payouts = run(&app, "run-1").await;
    let two = payouts[&("pub-two".into(), "EUR".into())].clone();
    let batch = json_of(
        op.create_batch("b-1", &json!({"method": "sepa"})).await,
        201,
    )
    .await;
    let one = payouts[&("pub-one".into(), "EUR".into())].clone();
    assert_eq!(crate::payout_batches::ids(&batch), [one], "{batch}");
    assert_eq!(
        batch["excluded"],
        json!([{"payoutId": two, "partnerId": "pub-two", "reason": "payout_tax_profile_missing",
            "words": "The partner's tax details are missing"}])
    );
    // Given, the next batch takes it.
    json_of(put_tax(&op, "pub-two", &vat).await, 200).await;
    let next = json_of(
        op.create_batch("b-2", &json!({"method": "sepa"})).await,
        201,
    )
    .await;
    assert_eq!(crate::payout_batches::ids(&next), [two], "{next}");
}
