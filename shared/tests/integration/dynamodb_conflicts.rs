//! The test emulator's model of DynamoDB transaction conflicts (`scripts/moto_server.py`), seen
//! through the plain SDK client, as DynamoDB documents them: a `TransactWriteItems` that names an
//! item another in-flight transaction holds is cancelled with `TransactionConflict` at that
//! item's position (`None` elsewhere) and writes nothing; a single write of such an item is
//! rejected with `TransactionConflictException`. Whether two requests overlap is up to the
//! scheduler, so each test sends concurrent pairs until one overlaps (the emulator holds a
//! transaction's items for a few milliseconds, so nearly every pair does) and checks what the
//! overlap did. Runs against `AWS_ENDPOINT_URL` (scripts/test.sh starts the emulator); the
//! store's retries of both answers are checked by the conformance suite
//! (`store_contended_writes_all_land`).

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{AttributeValue, TransactWriteItem, Update};
use tenx_shared::{
    runtime::aws,
    runtime::aws::{AwsClients, AwsSettings},
};

/// Concurrent pairs to send before concluding that conflicts are not modelled.
const ROUNDS: usize = 200;

/// A client and a fresh table.
async fn table() -> (Client, String) {
    assert!(
        std::env::var("AWS_ENDPOINT_URL").is_ok_and(|v| !v.is_empty()),
        "AWS_ENDPOINT_URL is not set: these tests need the DynamoDB emulator. Run \
         scripts/test.sh, which starts it (or `eval \"$(scripts/moto.sh)\"` first)."
    );
    let clients = AwsClients::from_env().await.expect("AWS clients");
    let id = uuid::Uuid::new_v4().simple().to_string();
    let settings = AwsSettings::named(
        format!("conflicts-{}", &id[..16]),
        format!("c-{}-", &id[..16]),
    );
    aws::provision(&clients, &settings)
        .await
        .expect("provisioning a fresh table");
    (clients.dynamodb, settings.table)
}

fn key(pk: &str) -> std::collections::HashMap<String, AttributeValue> {
    [
        ("pk".to_owned(), AttributeValue::S(pk.to_owned())),
        ("sk".to_owned(), AttributeValue::S("T".to_owned())),
    ]
    .into()
}

/// `ADD c_n :d` on one item, as a transaction action.
fn add(table: &str, pk: &str, delta: i64) -> TransactWriteItem {
    let update = Update::builder()
        .table_name(table)
        .set_key(Some(key(pk)))
        .update_expression("ADD c_n :d")
        .expression_attribute_values(":d", AttributeValue::N(delta.to_string()))
        .build()
        .expect("an update");
    TransactWriteItem::builder().update(update).build()
}

/// The cancellation reason codes of a cancelled transaction; `None` when it committed.
async fn transact(client: &Client, items: Vec<TransactWriteItem>) -> Option<Vec<String>> {
    match client
        .transact_write_items()
        .set_transact_items(Some(items))
        .send()
        .await
    {
        Ok(_) => None,
        Err(SdkError::ServiceError(ctx)) => match ctx.err() {
            TransactWriteItemsError::TransactionCanceledException(e) => Some(
                e.cancellation_reasons()
                    .iter()
                    .map(|r| r.code().unwrap_or("(none)").to_owned())
                    .collect(),
            ),
            other => panic!("TransactWriteItems failed: {other:?}"),
        },
        Err(other) => panic!("TransactWriteItems failed: {other:?}"),
    }
}

async fn counter(client: &Client, table: &str, pk: &str) -> i64 {
    let item = client
        .get_item()
        .table_name(table)
        .set_key(Some(key(pk)))
        .consistent_read(true)
        .send()
        .await
        .expect("GetItem")
        .item
        .unwrap_or_default();
    match item.get("c_n") {
        Some(AttributeValue::N(n)) => n.parse().expect("a number"),
        _ => 0,
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_transaction_meeting_another_in_flight_is_cancelled_with_transaction_conflict() {
    let (client, table) = table().await;
    let mut committed: i64 = 0;
    let mut conflict = None;
    for round in 0..ROUNDS {
        // Each names an item of its own first, then the shared one.
        let (a, b) = tokio::join!(
            transact(
                &client,
                vec![add(&table, &format!("a{round}"), 1), add(&table, "hot", 1)]
            ),
            transact(
                &client,
                vec![add(&table, &format!("b{round}"), 1), add(&table, "hot", 1)]
            ),
        );
        committed += i64::from(a.is_none()) + i64::from(b.is_none());
        match (a, b) {
            (None, None) => continue,
            (Some(reasons), None) | (None, Some(reasons)) => {
                conflict = Some((round, reasons));
                break;
            }
            (Some(a), Some(b)) => panic!("both of a pair cancelled: {a:?} {b:?}"),
        }
    }
    let (round, reasons) = conflict.unwrap_or_else(|| {
        panic!("{ROUNDS} concurrent pairs on one item and no TransactionConflict")
    });
    assert_eq!(
        reasons,
        ["None", "TransactionConflict"],
        "the reason names the held item's position, None the others"
    );
    // Cancelled transactions wrote nothing, not even to their own items.
    assert_eq!(counter(&client, &table, "hot").await, committed);
    let own = [format!("a{round}"), format!("b{round}")];
    let mut written = 0;
    for pk in &own {
        written += counter(&client, &table, pk).await;
    }
    assert_eq!(
        written, 1,
        "only the committed one of the conflicting pair wrote"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_single_write_to_an_item_a_transaction_holds_is_rejected() {
    let (client, table) = table().await;
    let single = |delta: i64| {
        let client = client.clone();
        let table = table.clone();
        async move {
            client
                .update_item()
                .table_name(&table)
                .set_key(Some(key("hot")))
                .update_expression("ADD c_n :d")
                .expression_attribute_values(":d", AttributeValue::N(delta.to_string()))
                .send()
                .await
        }
    };
    let (mut transactions, mut singles) = (0, 0);
    let mut rejected = false;
    for _ in 0..ROUNDS {
        let (tx, write) = tokio::join!(transact(&client, vec![add(&table, "hot", 1)]), single(100));
        match tx {
            None => transactions += 1,
            // A transaction never waits for, or conflicts with, a single write.
            Some(reasons) => panic!("the transaction was cancelled: {reasons:?}"),
        }
        match write {
            Ok(_) => singles += 1,
            Err(SdkError::ServiceError(ctx))
                if matches!(ctx.err(), UpdateItemError::TransactionConflictException(_)) =>
            {
                rejected = true;
                break;
            }
            Err(other) => panic!("UpdateItem failed: {other:?}"),
        }
    }
    assert!(
        rejected,
        "{ROUNDS} single writes during a transaction on their item, none rejected"
    );
    assert_eq!(
        counter(&client, &table, "hot").await,
        transactions + 100 * singles,
        "the rejected write wrote nothing"
    );
}
