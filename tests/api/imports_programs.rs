//! Program imports (issue 64): each partner tool's export (`tests/fixtures/imports/`, in the
//! shape of the tool's own API list answers) comes in as partners, their referral links (served
//! by the redirect under the old tokens, case and characters kept) and coupon codes, the
//! customers the tool had bound to them (`boundBy: import`), and past commissions as `imported`
//! lines with their status: a payout run afterwards pays what the old tool owed and never what
//! it paid; a dry run writes nothing; a re-run changes nothing; each bad row is reported with
//! its row and field while the rest goes in; no mail is sent.

use reqwest::StatusCode;
use serde_json::Value;
use tenx_shared::http::auth::Role;

use crate::helpers::{TestApp, assert_error, json_of, spawn_app};
use crate::imports::{counts, finished, fixture, post_import, target};

struct Case {
    source: &'static str,
    file: &'static str,
    /// The first import's counts (and the dry run's): created, updated, skipped, failed.
    counts: [u64; 4],
    /// Every reported (row, field), in row order.
    errors: &'static [(u64, &'static str)],
    /// (partner id, name)
    partners: &'static [(&'static str, &'static str)],
    /// (old token, where the redirect sends it)
    links: &'static [(&'static str, &'static str)],
    /// (partner id, coupon code)
    coupons: &'static [(&'static str, &'static str)],
    /// (customer id, partner id)
    customers: &'static [(&'static str, &'static str)],
    /// (partner id, its imported lines' statuses, sorted)
    lines: &'static [(&'static str, &'static [&'static str])],
    /// The payout run after the import: (partner id, amount, lines paid).
    payout: (&'static str, &'static str, u64),
}

async fn run(app: &TestApp, case: &Case, dry: bool) -> Value {
    let query = format!(
        "source={}{}",
        case.source,
        if dry { "&dryRun=true" } else { "" }
    );
    let body = fixture(case.file);
    let r = post_import(app, "acme", &query, "application/json", body, Role::Admin).await;
    assert_eq!(
        r.status(),
        StatusCode::ACCEPTED,
        "{}",
        r.text().await.unwrap()
    );
    let id = r.json::<Value>().await.unwrap()["importId"]
        .as_str()
        .unwrap()
        .to_owned();
    let v = finished(app, &id).await;
    assert_eq!(v["status"], "done", "{v}");
    v
}

/// The report's (row, field)s, in row order (those found reading the file come first in it).
fn errors_of(v: &Value) -> Vec<(u64, String)> {
    let mut errors: Vec<(u64, String)> = v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            assert!(!e["message"].as_str().unwrap().is_empty(), "{e}");
            (
                e["row"].as_u64().unwrap(),
                e["field"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    errors.sort();
    errors
}

async fn check(case: Case) {
    let app = spawn_app().await;
    let op = app.as_role("acme", Role::Operator);
    // Program imports are an admin's.
    let r = post_import(
        &app,
        "acme",
        &format!("source={}", case.source),
        "application/json",
        fixture(case.file),
        Role::Operator,
    )
    .await;
    assert_error(r, 403, "insufficient_role").await;

    let dry = run(&app, &case, true).await;
    assert_eq!(counts(&dry), case.counts, "dry run: {dry}");
    let want: Vec<(u64, String)> = case
        .errors
        .iter()
        .map(|(r, f)| (*r, f.to_string()))
        .collect();
    assert_eq!(errors_of(&dry), want, "dry run: {dry}");
    for (id, _) in case.partners {
        let r = op.get(&format!("/partners/{id}")).await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND, "the dry run wrote {id}");
    }
    for (token, _) in case.links {
        assert_eq!(target(&app, "acme", &format!("/{token}")).await, None);
    }

    let v = run(&app, &case, false).await;
    assert_eq!(counts(&v), case.counts, "{v}");
    assert_eq!(errors_of(&v), want, "{v}");
    for (id, name) in case.partners {
        let p = json_of(op.get(&format!("/partners/{id}")).await, 200).await;
        assert_eq!(p["name"], *name, "{p}");
    }
    for (token, destination) in case.links {
        let got = target(&app, "acme", &format!("/{token}")).await;
        assert_eq!(got.as_deref(), Some(*destination), "/{token}");
    }
    for (partner, code) in case.coupons {
        let list = json_of(
            op.get(&format!("/partners/{partner}/coupon-codes")).await,
            200,
        )
        .await;
        let codes: Vec<&str> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["code"].as_str().unwrap())
            .collect();
        assert!(codes.contains(code), "{partner}: {list}");
    }
    for (customer, partner) in case.customers {
        let c = json_of(op.get(&format!("/customers/{customer}")).await, 200).await;
        assert_eq!(c["boundBy"], "import", "{c}");
        assert_eq!(c["partnerId"], *partner, "{c}");
    }
    for (partner, statuses) in case.lines {
        let lines = json_of(
            op.get(&format!("/commissions?partnerId={partner}")).await,
            200,
        )
        .await;
        let mut got: Vec<&str> = lines["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                assert_eq!(l["kind"], "imported", "{l}");
                l["status"].as_str().unwrap()
            })
            .collect();
        got.sort();
        assert_eq!(got, *statuses, "{partner}: {lines}");
    }
    crate::commissions::no_drift(&app).await;

    // A re-run changes nothing: every row that came in is skipped, the bad ones reported again.
    let again = run(&app, &case, false).await;
    let [created, _, _, failed] = case.counts;
    assert_eq!(counts(&again), [0, 0, created, failed], "{again}");
    for (partner, statuses) in case.lines {
        let lines = json_of(
            op.get(&format!("/commissions?partnerId={partner}")).await,
            200,
        )
        .await;
        assert_eq!(lines["items"].as_array().unwrap().len(), statuses.len());
    }

    // The payout run pays what the old tool owed, never what it paid.
    let (partner, amount, count) = case.payout;
    let period = serde_json::json!({
        "partnerId": partner,
        "periodEnd": tenx_shared::platform::time::now_rfc3339(),
    });
    let run = json_of(op.run_payouts("after-import", &period).await, 201).await;
    let payout = &run["payouts"][0];
    assert_eq!(payout["amount"], amount, "{run}");
    assert_eq!(payout["commissionCount"], count, "{run}");
    crate::commissions::no_drift(&app).await;
    // Imports send no mail.
    assert!(app.sent_mail().is_empty());
}

#[tokio::test]
async fn a_rewardful_program_comes_in_with_links_coupons_customers_and_paid_lines_never_paid_again()
{
    check(Case {
        source: "rewardful",
        file: "rewardful.json",
        // 2 affiliates, 1 customer (the lead is left out), 3 commissions; Omar's referral has
        // no link here to bind to (his token is not a slug), and a commission's affiliate is
        // not in the file.
        counts: [6, 0, 0, 2],
        errors: &[
            (2, "links[0].token"),
            (5, "affiliate.id"),
            (9, "affiliate.id"),
        ],
        partners: &[
            ("jane", "Jane Doe"),
            ("5a8c3e21-7b4d-4c6e-9f1a-3b2c4d5e6f70", "Omar Haddad"),
        ],
        links: &[("jane", "https://shop.example/?via=jane")],
        coupons: &[("jane", "JANE15")],
        customers: &[("cus_RwJane1", "jane")],
        lines: &[("jane", &["approved", "paid"])],
        payout: ("jane", "20.00", 1),
    })
    .await;
}

#[tokio::test]
async fn a_firstpromoter_program_comes_in_and_its_paid_commissions_are_never_paid_again() {
    check(Case {
        source: "firstpromoter",
        file: "firstpromoter.json",
        // 2 promoters (the third's email is refused), 2 customers (the lead left out), 3
        // commissions (one has more decimals than the dollar).
        counts: [7, 0, 0, 2],
        errors: &[(3, "email"), (10, "amount")],
        partners: &[("lena", "Lena Vogel"), ("98766", "Raj Patel")],
        links: &[
            ("lena", "https://shop.example/?fpr=lena"),
            ("Raj_P", "https://shop.example/?fpr=Raj_P"),
        ],
        coupons: &[("lena", "LENA10")],
        customers: &[
            ("user_1001", "lena"),
            ("import:firstpromoter:55003", "98766"),
        ],
        lines: &[("lena", &["approved", "paid"]), ("98766", &["rejected"])],
        payout: ("lena", "25.00", 1),
    })
    .await;
}

#[tokio::test]
async fn a_partnerstack_program_comes_in_and_its_paid_rewards_are_never_paid_again() {
    check(Case {
        source: "partnerstack",
        file: "partnerstack.json",
        counts: [6, 0, 0, 2],
        errors: &[(4, "partnership_key"), (8, "payment_status")],
        partners: &[("maria", "Maria Costa"), ("theo", "Theo Martin")],
        links: &[
            ("maria", "https://shop.example/?ps_partner_key=maria"),
            ("theo", "https://shop.example/?ps_partner_key=theo"),
        ],
        coupons: &[],
        customers: &[("cus_PsA100", "maria")],
        lines: &[("maria", &["approved", "paid"]), ("theo", &["paid"])],
        payout: ("maria", "15.00", 1),
    })
    .await;
}

#[tokio::test]
async fn a_tolt_program_comes_in_and_its_paid_commissions_are_never_paid_again() {
    check(Case {
        source: "tolt",
        file: "tolt.json",
        // Ana's code is not a code 10x takes: noted on her row, which came in.
        counts: [7, 0, 0, 1],
        errors: &[(2, "coupons"), (8, "amount")],
        partners: &[("sam", "Sam Rivera"), ("ana", "Ana Lima")],
        links: &[
            ("sam", "https://shop.example/?ref=sam"),
            ("ana", "https://shop.example/?ref=ana"),
        ],
        coupons: &[("sam", "SAM20")],
        customers: &[("cus_Stripe900", "sam"), ("import:tolt:cus_T2", "ana")],
        lines: &[("sam", &["approved", "paid"]), ("ana", &["rejected"])],
        payout: ("sam", "20.00", 1),
    })
    .await;
}

#[tokio::test]
async fn a_dub_partners_program_comes_in_and_its_paid_commissions_are_never_paid_again() {
    check(Case {
        source: "dub-partners",
        file: "dub-partners.json",
        counts: [7, 0, 0, 1],
        errors: &[(4, "partner.id")],
        partners: &[
            ("pn_1jvr7xrcsr0edbaf39fz4pmye", "Kim Lee"),
            ("noor", "Noor Aziz"),
        ],
        links: &[
            ("Kim-Lee", "https://shop.example/"),
            ("noor", "https://shop.example/pricing"),
        ],
        coupons: &[],
        customers: &[("user_42", "pn_1jvr7xrcsr0edbaf39fz4pmye")],
        lines: &[
            ("pn_1jvr7xrcsr0edbaf39fz4pmye", &["approved", "paid"]),
            ("noor", &["pending", "rejected"]),
        ],
        payout: ("pn_1jvr7xrcsr0edbaf39fz4pmye", "15.00", 1),
    })
    .await;
}

/// A program import whose worker dies inside each chunk (partners with their links and codes,
/// customers, commissions) resumes with exact counts: no partner, link, binding or line is
/// written twice, none counted skipped for having been written before the crash.
#[tokio::test]
async fn a_program_import_killed_inside_each_chunk_resumes_with_exact_counts() {
    use tenx_shared::domain::ImportId;
    use tenx_shared::imports::run::{Progress, run, write_chunk_then_crash};
    let app = crate::helpers::spawn_app_without_workers().await;
    let r = post_import(
        &app,
        "acme",
        "source=tolt",
        "application/json",
        fixture("tolt.json"),
        Role::Admin,
    )
    .await;
    assert_eq!(r.status(), StatusCode::ACCEPTED);
    let raw = r.json::<Value>().await.unwrap()["importId"]
        .as_str()
        .unwrap()
        .to_owned();
    let (state, handle) = (app.state(), crate::helpers::acme());
    let id = ImportId::parse(&raw).unwrap();
    // Three chunks: partners, customers, commissions; each written, then the worker dies
    // before its cursor moves, and the message comes back.
    for (size, then) in [
        (2, Progress::Paused),
        (2, Progress::Paused),
        (3, Progress::Finished),
    ] {
        let written = write_chunk_then_crash(state.io(), &state.link_cache, &handle, &id)
            .await
            .unwrap();
        assert_eq!(written, size);
        let p = run(state.io(), &state.link_cache, &handle, &id, 1)
            .await
            .unwrap();
        assert_eq!(p, then);
    }
    let v = finished(&app, &raw).await;
    assert_eq!(counts(&v), [7, 0, 0, 1], "{v}");
    let op = app.as_role("acme", Role::Operator);
    let lines = json_of(op.get("/commissions?partnerId=sam").await, 200).await;
    assert_eq!(lines["items"].as_array().unwrap().len(), 2, "{lines}");
    let c = json_of(op.get("/customers/cus_Stripe900").await, 200).await;
    assert_eq!(c["boundBy"], "import");
    assert_eq!(
        target(&app, "acme", "/sam").await.as_deref(),
        Some("https://shop.example/?ref=sam")
    );
    crate::commissions::no_drift(&app).await;
}

/// Writes a Rewardful export of `partners` affiliates (each with a referral link and a coupon
/// code), a converted referral per customer and `commissions` commissions (each with a 64 KiB
/// field the importer ignores, as exports carry), its lists in the order that needs every pass:
/// the commissions and customers before the affiliates they name, the coupon codes after them.
/// Written as it is generated, never held whole. Its size.
pub(crate) fn write_large_rewardful(
    path: &std::path::Path,
    partners: usize,
    customers: usize,
    commissions: usize,
) -> u64 {
    use std::io::Write;
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let pad = "n".repeat(64 * 1024);
    let list = |f: &mut std::io::BufWriter<std::fs::File>,
                key: &str,
                n: usize,
                item: &dyn Fn(usize) -> Value| {
        write!(f, "\"{key}\": {{\"data\": [").unwrap();
        for i in 0..n {
            if i > 0 {
                f.write_all(b",").unwrap();
            }
            serde_json::to_writer(&mut *f, &item(i)).unwrap();
        }
        f.write_all(b"]}").unwrap();
    };
    f.write_all(b"{").unwrap();
    list(&mut f, "commissions", commissions, &|i| {
        serde_json::json!({
            "id": format!("com_{i}"), "amount": 1000, "currency": "USD",
            "state": if i % 2 == 0 { "paid" } else { "due" },
            "sale": {"affiliate": {"id": format!("aff_{}", i % partners)}}, "notes": pad,
        })
    });
    f.write_all(b",").unwrap();
    list(&mut f, "referrals", customers, &|i| {
        serde_json::json!({
            "id": format!("ref_{i}"), "conversion_state": "conversion",
            "stripe_customer_id": format!("cus_Big{i}"),
            "affiliate": {"id": format!("aff_{}", i % partners)},
        })
    });
    f.write_all(b",").unwrap();
    list(&mut f, "affiliates", partners, &|i| {
        serde_json::json!({
            "id": format!("aff_{i}"), "first_name": "Big", "last_name": format!("Partner {i}"),
            "email": format!("big{i}@example.com"),
            "links": [{"token": format!("big{i}"), "url": format!("https://shop.example/?via=big{i}")}],
        })
    });
    f.write_all(b",").unwrap();
    list(
        &mut f,
        "affiliate_coupons",
        partners,
        &|i| serde_json::json!({"token": format!("BIG{i}"), "affiliate_id": format!("aff_{i}"), "archived": false}),
    );
    f.write_all(b"}").unwrap();
    f.flush().unwrap();
    drop(f);
    std::fs::metadata(path).unwrap().len()
}

/// A program's export over the API's limit goes through `tenx import`, read as a stream (item
/// by item, a pass per kind of row, whatever the order of its lists): every partner, customer
/// and commission in, a re-run changing nothing, the partners with their links and coupon codes
/// joined from the lists after them, and its peak memory not growing with the file (a file four
/// times as large takes less than 8 MiB more: the file held whole would take at least twice its
/// size).
#[tokio::test]
async fn tenx_import_streams_a_program_file_over_the_api_limit() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir(&data).unwrap();
    let cli = |file: &std::path::Path, extra: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_tenx"))
            .args(["import", "--source", "rewardful", "--handle", "acme"])
            .arg(file)
            .arg("--data-dir")
            .arg(&data)
            .args(["--backend", "embedded"])
            .args(extra)
            .env("TENX_LOG", "warn")
            .env("TENX_REPORT_PEAK_MEMORY", "1")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{stderr}");
        let peak_kib: u64 = stderr
            .lines()
            .find_map(|l| l.strip_prefix("peak memory: "))
            .and_then(|v| v.trim_end_matches(" kB").parse().ok())
            .unwrap_or_else(|| panic!("no peak memory in {stderr}"));
        (
            serde_json::from_slice::<Value>(&out.stdout).unwrap(),
            peak_kib,
        )
    };
    let (partners, customers, commissions) = (6, 20, 70);
    let file = dir.path().join("rewardful.json");
    let size = write_large_rewardful(&file, partners, customers, commissions);
    assert!(size > tenx_shared::imports::MAX_BODY_BYTES as u64, "{size}");
    let all = (partners + customers + commissions) as u64;
    let (dry, small_peak) = cli(&file, &["--dry-run"]);
    assert_eq!(counts(&dry), [all, 0, 0, 0], "{dry}");
    let (report, _) = cli(&file, &[]);
    assert_eq!(report["status"], "done", "{report}");
    assert_eq!(counts(&report), [all, 0, 0, 0], "{report}");
    let (again, _) = cli(&file, &[]);
    assert_eq!(counts(&again), [0, 0, all, 0], "{again}");
    let store = tenx_shared::runtime::local::DataDir::prepare(&data)
        .unwrap()
        .open_store()
        .unwrap();
    let acme = crate::helpers::acme();
    for i in [0, partners - 1] {
        let id = tenx_shared::domain::PartnerId::parse(&format!("big{i}")).unwrap();
        let p = tenx_shared::partners::get(store.as_ref(), &acme, &id)
            .await
            .unwrap()
            .expect("the partner");
        assert_eq!(p.name, format!("Big Partner {i}"));
    }
    for i in [0, customers - 1] {
        let id = tenx_shared::domain::CustomerId::parse(&format!("cus_Big{i}")).unwrap();
        let (customer, _) = tenx_shared::customers::repo::get(store.as_ref(), &acme, &id)
            .await
            .unwrap()
            .expect("the customer");
        let partner = format!("big{}", i % partners);
        assert_eq!(customer.partner_id.map(|p| p.to_string()), Some(partner));
    }
    drop(store);
    // Four times the commissions (a dry run: the same reading and staging): memory stays.
    let larger = dir.path().join("larger.json");
    let larger_size = write_large_rewardful(&larger, partners, customers, 4 * commissions);
    let (dry, large_peak) = cli(&larger, &["--dry-run"]);
    let more = (3 * commissions) as u64;
    assert_eq!(counts(&dry), [more, 0, all, 0], "{dry}");
    let grew_kib = large_peak.saturating_sub(small_peak);
    assert!(
        grew_kib < 8 * 1024,
        "{larger_size} bytes took {grew_kib} KiB more than {size} ({small_peak} → {large_peak} KiB)"
    );
}
