//! Issue 57, defects 5 to 7: a SEPA file pays only IBANs of SEPA countries, of their registry's
//! structure and with check digits 02 to 98, and writes names in SEPA's character set by the
//! EPC's conversion table (never dots); a name in another script is refused when it is set.
//! Methods (and a debtor) stored before these rules are left out of batches with
//! `payout_method_invalid` (the file refused), and say why until they are set again.

use serde_json::{Value, json};
use tenx_shared::domain::{Handle, PartnerId};
use tenx_shared::http::auth::Role;
use tenx_shared::payout_methods::Details;
use tenx_shared::payout_methods::settings::Debtor;

use crate::helpers::*;
use crate::payout_batches::{
    DE_IBAN, error_message, ids, op, run, second_manager, sepa, validate_against_xsd,
};
use crate::scenario::{partners, seed_amounts};

const SA_IBAN: &str = "SA03 8000 0000 6080 1016 7519";
const BR_IBAN: &str = "BR18 0036 0305 0000 1000 9795 493C 1";
/// Passes mod-97 (99 where 02 belongs), but 99 is never issued.
const DE_99: &str = "DE99 3704 0044 0000 0000 24";
/// The right length and mod-97, letters where the registry has a German account's digits.
const DE_LETTERS: &str = "DE39 3704 0044 0532 01AB CD";

fn handle() -> Handle {
    Handle::parse("acme").unwrap()
}

fn admin(app: &TestApp) -> crate::endpoints::As<'_> {
    app.as_role("acme", Role::Admin)
}

async fn debtor_settings(app: &TestApp) {
    let settings = json!({"debtorName": "ACME Zoë & Co", "debtorIban": DE_IBAN});
    json_of(admin(app).put_payout_settings(&settings).await, 200).await;
}

#[tokio::test]
async fn a_sepa_method_and_the_debtor_take_only_sepa_ibans_of_their_registrys_structure() {
    let app = spawn_app().await;
    partners(&app, &["pub-one"]).await;
    let op = op(&app);
    for (body, start) in [
        (
            sepa("Ann", SA_IBAN),
            "iban: `SA` is not a country of the SEPA scheme",
        ),
        (
            sepa("Ann", BR_IBAN),
            "iban: `BR` is not a country of the SEPA scheme",
        ),
        (sepa("Ann", DE_99), "iban: the check digits `99`"),
        (
            sepa("Ann", DE_LETTERS),
            "iban: the account number does not have the structure of a DE IBAN",
        ),
        (
            sepa("王小明", DE_IBAN),
            "accountName: `王` cannot be written",
        ),
        (sepa("สมชาย ใจดี", DE_IBAN), "accountName: `ส`"),
    ] {
        let resp = op.put_payout_method("pub-one", &body).await;
        let got = json_of(resp, 400).await;
        assert_eq!(got["error"]["code"], "invalid_request", "{got}");
        let message = got["error"]["message"].as_str().unwrap();
        assert!(message.starts_with(start), "{body}: {message}");
    }
    let message = error_message(
        op.put_payout_method("pub-one", &sepa("王小明", DE_IBAN))
            .await,
        400,
    )
    .await;
    assert!(message.contains("Latin script"), "{message}");
    assert_eq!(
        op.payout_method("pub-one").await.status(),
        404,
        "nothing stored"
    );

    // Set right, then a refused change: nothing stored is lost or changed.
    let set = json_of(
        op.put_payout_method("pub-one", &sepa("Ștefan Țurcanu", DE_IBAN))
            .await,
        201,
    )
    .await;
    assert_eq!(
        set["accountName"], "Ștefan Țurcanu",
        "stored as given, converted in the file"
    );
    for body in [sepa("Ann", SA_IBAN), sepa("王小明", DE_IBAN)] {
        assert_eq!(op.put_payout_method("pub-one", &body).await.status(), 400);
    }
    let still = json_of(op.payout_method("pub-one").await, 200).await;
    assert_eq!(
        (
            still["iban"].as_str(),
            still["accountName"].as_str(),
            &still["pendingConfirmation"]
        ),
        (
            Some("DE89 **** **** 3000"),
            Some("Ștefan Țurcanu"),
            &json!(false)
        )
    );
    assert!(still.get("problem").is_none(), "{still}");

    // The debtor: the same rules, named by its fields.
    let admin = admin(&app);
    for (body, start) in [
        (
            json!({"debtorName": "ACME", "debtorIban": BR_IBAN}),
            "debtorIban: `BR` is not",
        ),
        (
            json!({"debtorName": "ACME", "debtorIban": SA_IBAN}),
            "debtorIban: `SA` is not",
        ),
        (
            json!({"debtorName": "ACME", "debtorIban": DE_99}),
            "debtorIban: the check digits `99`",
        ),
        (
            json!({"debtorName": "ACME", "debtorIban": DE_LETTERS}),
            "debtorIban: the account number",
        ),
        (
            json!({"debtorName": "王氏有限公司", "debtorIban": DE_IBAN}),
            "debtorName: `王`",
        ),
    ] {
        let message = error_message(admin.put_payout_settings(&body).await, 400).await;
        assert!(message.starts_with(start), "{body}: {message}");
    }
    assert_eq!(
        admin.get("/payout-settings").await.status(),
        404,
        "nothing stored"
    );
    debtor_settings(&app).await;
    let refused = json!({"debtorName": "ACME", "debtorIban": BR_IBAN});
    assert_eq!(admin.put_payout_settings(&refused).await.status(), 400);
    let kept = json_of(admin.get("/payout-settings").await, 200).await;
    assert_eq!(
        (kept["debtorName"].as_str(), kept["debtorIban"].as_str()),
        (Some("ACME Zoë & Co"), Some("DE89 **** **** 3000"))
    );
}

/// Names of five SEPA countries, each in its own alphabet, come out in SEPA's basic Latin
/// (never a dot), the remittance keeps the payout id readable, and the file is valid
/// pain.001.001.03.
#[tokio::test]
async fn names_of_sepa_countries_come_out_transliterated_and_the_remittance_readable() {
    let app = spawn_app().await;
    let people = [
        (
            "pub-ro",
            "Ștefan Țurcanu",
            "RO49 AAAA 1B31 0075 9384 0000",
            "Stefan Turcanu",
        ),
        (
            "pub-lv",
            "Jānis Bērziņš",
            "LV80 BANK 0000 4351 9500 1",
            "Janis Berzins",
        ),
        (
            "pub-is",
            "Þórður Guðmundsson",
            "IS14 0159 2600 7654 5510 7303 39",
            "Thordur Gudmundsson",
        ),
        (
            "pub-gr",
            "Γιώργος Θεοδωρίδης",
            "GR16 0110 1250 0000 0001 2300 695",
            "Giorgos Theodoridis",
        ),
        (
            "pub-bg",
            "Жельо Щерев",
            "BG80 BNBG 9661 1020 3456 78",
            "Zhelyo Shterev",
        ),
    ];
    let ids_of: Vec<&str> = people.iter().map(|p| p.0).collect();
    partners(&app, &ids_of).await;
    debtor_settings(&app).await;
    let op = op(&app);
    for (p, name, iban, _) in people {
        json_of(op.put_payout_method(p, &sepa(name, iban)).await, 201).await;
        seed_amounts(&app, p, "EUR", &[1000]).await;
    }
    let payouts = run(&app, "run-1").await;
    let body = json!({"method": "sepa", "executionDate": "2099-01-02"});
    let batch = json_of(op.create_batch("names", &body).await, 201).await;
    assert_eq!(ids(&batch).len(), 5, "{batch}");
    assert_eq!(batch["excluded"], json!([]));
    let xml = file(&app, batch["batchId"].as_str().unwrap()).await;
    for (p, _, _, want) in people {
        assert!(xml.contains(&format!("<Nm>{want}</Nm>")), "{p}: {xml}");
        let id = &payouts[&(p.to_owned(), "EUR".to_owned())];
        let readable = id.replace('_', "-");
        assert!(
            xml.contains(&format!("<Ustrd>Payout {readable} statement 1</Ustrd>")),
            "{id}: {xml}"
        );
    }
    assert!(xml.contains("<Nm>ACME Zoe + Co</Nm>"), "{xml}");
    for (i, _) in xml.match_indices("<Nm>") {
        let name = &xml[i + 4..i + 4 + xml[i + 4..].find('<').unwrap()];
        assert!(!name.contains('.'), "no dots in a name: {name}");
    }
    assert!(!xml.contains("pay."), "{xml}");
    validate_against_xsd(&xml);
}

/// Details written as they were before issue 57 (the service's own write, without today's
/// validation), as a store holds them from then.
async fn stored_before_the_rules(app: &TestApp, partner: &str, name: &str, iban: &str) {
    let state = app.state();
    let details = Details::Sepa {
        account_name: name.into(),
        iban: iban.chars().filter(|c| !c.is_whitespace()).collect(),
        bic: None,
    };
    let partner = PartnerId::parse(partner).unwrap();
    tenx_shared::payout_methods::set::set(
        state.io(),
        state.payout_key(),
        &handle(),
        &partner,
        details,
        "before",
    )
    .await
    .unwrap_or_else(|e| panic!("{partner}: {e}"));
}

/// The masked form the old code wrote for an IBAN it took (`DE39 **** **** ABCD`, country DE),
/// where today's code masks nothing.
async fn masked_as_before(app: &TestApp, partner: &str, iban: &str) {
    let (pk, sk) = tenx_shared::platform::store::keys::payout_method(
        &handle(),
        &PartnerId::parse(partner).unwrap(),
    );
    let iban: String = iban.chars().filter(|c| !c.is_whitespace()).collect();
    let mut item = app.store.get(&pk, &sk).await.unwrap().expect("stored");
    item.doc["masked"]["iban"] = json!(format!(
        "{} **** **** {}",
        &iban[..4],
        &iban[iban.len() - 4..]
    ));
    item.doc["masked"]["country"] = json!(&iban[..2]);
    tenx_shared::platform::store::put(app.store.as_ref(), item)
        .await
        .unwrap();
}

#[tokio::test]
async fn methods_stored_before_the_rules_are_left_out_as_payout_method_invalid_until_set_again() {
    let app = spawn_app().await;
    let all = ["pub-ok", "pub-sa", "pub-br", "pub-zh", "pub-99"];
    partners(&app, &all).await;
    debtor_settings(&app).await;
    let op = op(&app);
    json_of(
        op.put_payout_method("pub-ok", &sepa("Ann", DE_IBAN)).await,
        201,
    )
    .await;
    stored_before_the_rules(&app, "pub-sa", "Ann", SA_IBAN).await;
    stored_before_the_rules(&app, "pub-br", "Bia", BR_IBAN).await;
    stored_before_the_rules(&app, "pub-zh", "王小明", DE_IBAN).await;
    stored_before_the_rules(&app, "pub-99", "Nina", DE_99).await;
    for p in all {
        seed_amounts(&app, p, "EUR", &[500]).await;
    }
    let payouts = run(&app, "run-1").await;
    let pay = |p: &str| payouts[&(p.to_owned(), "EUR".to_owned())].clone();

    // The batch takes pub-ok; the others are listed, with the reason.
    let batch = json_of(
        op.create_batch("b-1", &json!({"method": "sepa"})).await,
        201,
    )
    .await;
    assert_eq!(ids(&batch), [pay("pub-ok")]);
    let mut excluded: Vec<(String, String)> = batch["excluded"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["partnerId"].as_str().unwrap().into(),
                e["reason"].as_str().unwrap().into(),
            )
        })
        .collect();
    excluded.sort();
    let invalid = |p: &str| (p.to_owned(), "payout_method_invalid".to_owned());
    assert_eq!(
        excluded,
        [
            invalid("pub-99"),
            invalid("pub-br"),
            invalid("pub-sa"),
            invalid("pub-zh")
        ]
    );
    let xml = file(&app, batch["batchId"].as_str().unwrap()).await;
    assert!(
        !xml.contains("SA0380000000608010167519") && !xml.contains("王"),
        "{xml}"
    );
    assert!(xml.contains("<NbOfTxs>1</NbOfTxs>"), "{xml}");

    // Named, the payout is left out too: nothing else to batch, a 400 saying why.
    let named = json!({"method": "sepa", "payoutIds": [pay("pub-sa")]});
    let message = error_message(op.create_batch("b-2", &named).await, 400).await;
    assert!(
        message.starts_with("payoutIds:") && message.contains("payout_method_invalid"),
        "{message}"
    );

    // The method says what to fix, in words.
    for (p, start) in [
        ("pub-sa", "iban: `SA` is not a country of the SEPA scheme"),
        ("pub-zh", "accountName: `王`"),
        ("pub-99", "iban: "),
    ] {
        let view = json_of(op.payout_method(p).await, 200).await;
        let problem = view["problem"]
            .as_str()
            .unwrap_or_else(|| panic!("{p}: {view}"));
        assert!(problem.starts_with(start), "{p}: {problem}");
        assert!(problem.contains("Set the payout method again"), "{problem}");
    }

    // Set again (a change: confirmed by a manager), the payout goes into a batch.
    json_of(
        op.put_payout_method("pub-sa", &sepa("Ann", "FR14 2004 1010 0505 0001 3M02 606"))
            .await,
        200,
    )
    .await;
    let fixed = json_of(
        second_manager(&app).confirm_payout_method("pub-sa").await,
        200,
    )
    .await;
    assert!(fixed.get("problem").is_none(), "{fixed}");
    let batch = json_of(op.create_batch("b-3", &named).await, 201).await;
    assert_eq!(ids(&batch), [pay("pub-sa")]);
}

/// What only the full details show (letters in a German account number, under a masked form
/// the old code wrote) and a debtor stored before the rules: the file is refused, never
/// written with an IBAN a bank refuses.
#[tokio::test]
async fn a_file_is_refused_for_details_or_a_debtor_the_rules_refuse() {
    let app = spawn_app().await;
    partners(&app, &["pub-letters"]).await;
    debtor_settings(&app).await;
    stored_before_the_rules(&app, "pub-letters", "Lea", DE_LETTERS).await;
    masked_as_before(&app, "pub-letters", DE_LETTERS).await;
    seed_amounts(&app, "pub-letters", "EUR", &[700]).await;
    let payout = run(&app, "run-1").await[&("pub-letters".to_owned(), "EUR".to_owned())].clone();
    let op = op(&app);
    let batch = json_of(
        op.create_batch("b-1", &json!({"method": "sepa"})).await,
        201,
    )
    .await;
    let bid = batch["batchId"].as_str().unwrap().to_owned();
    let resp = op.batch_file(&bid, "").await;
    let got: Value = json_of(resp, 409).await;
    let message = got["error"]["message"].as_str().unwrap();
    assert!(
        message.contains(&payout)
            && message.contains("pub-letters")
            && message.contains("iban: the account number"),
        "{message}"
    );
    json_of(
        op.settle_batch(&bid, "cancel", &json!({"reason": "bad iban"}))
            .await,
        200,
    )
    .await;

    // A debtor stored before the rules: the file says to set the payout settings again.
    json_of(
        op.put_payout_method("pub-letters", &sepa("Lea", DE_IBAN))
            .await,
        200,
    )
    .await;
    let bea = second_manager(&app);
    json_of(bea.confirm_payout_method("pub-letters").await, 200).await;
    let state = app.state();
    let old = Debtor {
        name: "ACME".into(),
        iban: BR_IBAN.replace(' ', ""),
        bic: None,
    };
    tenx_shared::payout_methods::settings::put(
        state.store.as_ref(),
        state.payout_key(),
        &handle(),
        &old,
        "before",
    )
    .await
    .unwrap();
    let batch = json_of(
        op.create_batch("b-2", &json!({"method": "sepa"})).await,
        201,
    )
    .await;
    let bid = batch["batchId"].as_str().unwrap().to_owned();
    let message = error_message(op.batch_file(&bid, "").await, 409).await;
    assert!(
        message.starts_with("payout-settings: debtorIban: `BR` is not"),
        "{message}"
    );
    debtor_settings(&app).await;
    let xml = file(&app, &bid).await;
    assert!(xml.contains("<IBAN>DE89370400440532013000</IBAN>"), "{xml}");
}

async fn file(app: &TestApp, batch: &str) -> String {
    let resp = op(app).batch_file(batch, "").await;
    assert_eq!(resp.status(), 200);
    resp.text().await.unwrap()
}
