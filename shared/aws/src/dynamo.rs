//! The DynamoDB store: [`Store`] on one table (layout in docs/storage.md).
//!
//! Conditional writes ask for `ReturnValuesOnConditionCheckFailure=ALL_OLD`, so a failed
//! condition carries the current item without a second read (a consistent `GetItem` stands in
//! only when the backend returned nothing). Reads are strongly consistent and drop expired items
//! (DynamoDB's TTL deletes them late), both with a filter and in code. Throttling, 5xx and
//! timeouts are retried by the SDK (standard retry mode, see tenx-shared's `runtime::aws`); writes
//! cancelled by a transaction in flight on their items are retried here ([`retry`]); what is left
//! after that is [`StoreError::Unavailable`], which the API answers with 503 + `retry-after`.

mod codec;
mod retry;

pub use codec::{PK, SK, TTL};

use async_trait::async_trait;
use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::delete_item::DeleteItemError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::operation::update_item::UpdateItemError;
use aws_sdk_dynamodb::types::{
    AttributeValue, ConditionCheck, Delete, Put, ReturnValue, ReturnValuesOnConditionCheckFailure,
    TransactWriteItem, Update,
};

use self::codec::{Attrs, Expr};
use self::retry::{Attempt, contended, is_conflict};
use crate::errors::{Failure, classify, describe};
use tenx_kernel::platform::store::validate::{
    MAX_ITEM_BYTES, validate_key, validate_op, validate_query, validate_transact,
};
use tenx_kernel::platform::store::{
    Cond, Item, Page, Query, SkRange, Store, StoreError, WriteOp, now_unix,
};

/// [`Store`] on a DynamoDB table with `pk` (S, hash) and `sk` (S, range) keys.
#[derive(Clone)]
pub struct DynamoStore {
    client: Client,
    table: String,
}

impl DynamoStore {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    pub fn table(&self) -> &str {
        &self.table
    }

    /// The live item at a key (strongly consistent).
    async fn get_live(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(codec::key(pk, sk)))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| sdk_error("GetItem", &e))?;
        codec::live(out.item(), now_unix())
    }

    /// The current item of a failed condition: the one the backend returned (if live), else a
    /// consistent read.
    async fn current(
        &self,
        returned: Option<&Attrs>,
        pk: &str,
        sk: &str,
    ) -> Result<Option<Box<Item>>, StoreError> {
        let item = match returned {
            Some(attrs) if !attrs.is_empty() => codec::live(Some(attrs), now_unix())?,
            _ => self.get_live(pk, sk).await?,
        };
        Ok(item.map(Box::new))
    }

    /// A single write's error other than contention: its failed condition, with the item it
    /// found (returned by the write, else one consistent read), or the SDK's own error.
    async fn write_failed<E>(
        &self,
        what: &str,
        err: &SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>,
        pk: &str,
        sk: &str,
    ) -> StoreError
    where
        E: ConditionFailure + aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error,
        E: 'static,
    {
        let returned = match err {
            SdkError::ServiceError(ctx) => ctx.err().condition_failed(),
            _ => None,
        };
        let Some(returned) = returned else {
            return sdk_error(what, err);
        };
        match self.current(returned, pk, sk).await {
            Ok(current) => StoreError::ConditionFailed { current },
            Err(e) => e,
        }
    }

    async fn put(&self, item: Item, cond: &Cond) -> Result<Attempt<Option<Item>>, StoreError> {
        let attrs = item_attrs(&item)?;
        let mut expr = Expr::default();
        let condition = expr.condition(cond, now_unix());
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(attrs))
            .set_condition_expression(condition)
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(Attempt::Done(Some(item))),
            Err(e) if is_conflict(&e) => Ok(Attempt::Contended(describe("PutItem", &e))),
            Err(e) => Err(self.write_failed("PutItem", &e, &item.pk, &item.sk).await),
        }
    }

    async fn delete(&self, pk: &str, sk: &str, cond: &Cond) -> Result<Attempt<()>, StoreError> {
        let mut expr = Expr::default();
        let condition = expr.condition(cond, now_unix());
        let result = self
            .client
            .delete_item()
            .table_name(&self.table)
            .set_key(Some(codec::key(pk, sk)))
            .set_condition_expression(condition)
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        match result {
            Ok(_) => Ok(Attempt::Done(())),
            Err(e) if is_conflict(&e) => Ok(Attempt::Contended(describe("DeleteItem", &e))),
            Err(e) => Err(self.write_failed("DeleteItem", &e, pk, sk).await),
        }
    }

    async fn add(&self, op: &WriteOp) -> Result<Attempt<Option<Item>>, StoreError> {
        let WriteOp::Add {
            pk,
            sk,
            deltas,
            cap,
            expires_at,
        } = op
        else {
            return Err(StoreError::Invalid("not an Add".into()));
        };
        let mut expr = Expr::default();
        let (update, condition) = expr.add(deltas, cap.as_ref(), *expires_at);
        let result = self
            .client
            .update_item()
            .table_name(&self.table)
            .set_key(Some(codec::key(pk, sk)))
            .update_expression(update)
            .set_condition_expression(condition)
            .set_expression_attribute_names(expr.names())
            .set_expression_attribute_values(expr.values())
            .return_values(ReturnValue::AllNew)
            .return_values_on_condition_check_failure(ReturnValuesOnConditionCheckFailure::AllOld)
            .send()
            .await;
        let written = match result {
            Ok(out) => match out.attributes() {
                Some(attrs) => codec::from_attrs(attrs).map(Some),
                // A backend that ignores ReturnValues: read the item back.
                None => self.get_live(pk, sk).await,
            },
            Err(e) if is_conflict(&e) => return Ok(Attempt::Contended(describe("UpdateItem", &e))),
            Err(e) => Err(self.write_failed("UpdateItem", &e, pk, sk).await),
        };
        written.map(Attempt::Done)
    }

    /// One `TransactWriteItems` attempt; `Contended` is a cancellation worth retrying.
    async fn transact_once(
        &self,
        items: &[TransactWriteItem],
        keys: &[(String, String)],
        token: &str,
    ) -> Result<Attempt<()>, StoreError> {
        let result = self
            .client
            .transact_write_items()
            .set_transact_items(Some(items.to_vec()))
            .client_request_token(token)
            .send()
            .await;
        let Err(err) = result else {
            return Ok(Attempt::Done(()));
        };
        let cancelled = match &err {
            SdkError::ServiceError(ctx) => match ctx.err() {
                TransactWriteItemsError::TransactionCanceledException(e) => {
                    Some(e.cancellation_reasons().to_vec())
                }
                _ => None,
            },
            _ => None,
        };
        let Some(reasons) = cancelled else {
            if in_progress(&err) {
                // An earlier try with this token is still being applied: ask again shortly.
                return Ok(Attempt::Contended(describe("TransactWriteItems", &err)));
            }
            return Err(sdk_error("TransactWriteItems", &err));
        };
        let code = |i: usize| reasons.get(i).and_then(|r| r.code()).unwrap_or("None");
        if let Some(index) = (0..reasons.len()).find(|&i| code(i) == "ConditionalCheckFailed") {
            let (pk, sk) = keys.get(index).ok_or_else(|| {
                StoreError::Other(format!("cancellation reason {index} has no operation"))
            })?;
            let current = self.current(reasons[index].item(), pk, sk).await?;
            return Err(StoreError::TxConflict { index, current });
        }
        let codes: Vec<&str> = (0..reasons.len()).map(code).collect();
        let retryable = !codes.is_empty()
            && codes.iter().all(|c| {
                matches!(
                    *c,
                    "None"
                        | "TransactionConflict"
                        | "ThrottlingError"
                        | "ProvisionedThroughputExceeded"
                        | "RequestLimitExceeded"
                )
            });
        if retryable {
            Ok(Attempt::Contended(format!(
                "transaction cancelled: {codes:?}"
            )))
        } else if codes.contains(&"ValidationError") {
            Err(StoreError::Invalid(format!(
                "transaction rejected: {codes:?}"
            )))
        } else {
            Err(StoreError::Other(format!(
                "transaction cancelled: {codes:?}"
            )))
        }
    }
}

#[async_trait]
impl Store for DynamoStore {
    async fn get(&self, pk: &str, sk: &str) -> Result<Option<Item>, StoreError> {
        validate_key(pk, sk)?;
        self.get_live(pk, sk).await
    }

    async fn write(&self, op: WriteOp) -> Result<Option<Item>, StoreError> {
        validate_op(&op)?;
        // Conditions are built per attempt (`now` moves on).
        contended(|| async {
            match &op {
                WriteOp::Put { item, cond } => self.put(item.clone(), cond).await,
                WriteOp::Delete { pk, sk, cond } => Ok(match self.delete(pk, sk, cond).await? {
                    Attempt::Done(()) => Attempt::Done(None),
                    Attempt::Contended(reason) => Attempt::Contended(reason),
                }),
                add @ WriteOp::Add { .. } => self.add(add).await,
                // validate_op refuses a Check outside a transaction.
                WriteOp::Check { .. } | WriteOp::SetDoc { .. } => Err(StoreError::Invalid(
                    "a Check or a SetDoc is only written in a transaction".into(),
                )),
            }
        })
        .await
    }

    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        validate_transact(&ops)?;
        if ops.is_empty() {
            return Ok(());
        }
        let keys: Vec<(String, String)> = ops
            .iter()
            .map(|op| (op.key().0.to_owned(), op.key().1.to_owned()))
            .collect();
        // One token and one request for every try (issue 28): DynamoDB makes a retry with the
        // same `ClientRequestToken` idempotent for 10 minutes, so if an earlier try committed
        // (its answer lost, or a later try cancelled by its own in-flight commit) the retry
        // succeeds instead of failing its own conditions. The token must come with the very same
        // request (else `IdempotentParameterMismatch`), so the conditions are built once, at the
        // first try's `now`: an item expiring during the retries still counts as live.
        // Round trips: one TransactWriteItems per try, at most `retry::ATTEMPTS` tries.
        let now = now_unix();
        let items = ops
            .iter()
            .map(|op| self.transact_item(op, now))
            .collect::<Result<Vec<_>, _>>()?;
        let token = uuid::Uuid::new_v4().to_string();
        contended(|| self.transact_once(&items, &keys, &token)).await
    }

    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        validate_query(&query)?;
        let mut items: Vec<Item> = Vec::new();
        let mut start = query
            .after
            .as_deref()
            .map(|after| codec::key(&query.pk, after));
        let more = loop {
            let now = now_unix();
            let mut expr = Expr::default();
            let key_condition = key_condition(&mut expr, &query);
            let ttl = expr.name(TTL);
            let now_value = expr.value("now", AttributeValue::N(now.to_string()));
            let remaining = query.limit - items.len();
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .key_condition_expression(key_condition)
                .filter_expression(format!(
                    "attribute_not_exists({ttl}) OR {ttl} > {now_value}"
                ))
                .set_expression_attribute_names(expr.names())
                .set_expression_attribute_values(expr.values())
                .consistent_read(true)
                .scan_index_forward(!query.descending)
                .limit(i32::try_from(remaining).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(|e| sdk_error("Query", &e))?;
            for attrs in out.items() {
                // Double-check: the filter ran at the backend's clock.
                if let Some(item) = codec::live(Some(attrs), now)?
                    && item.pk == query.pk
                {
                    items.push(item);
                }
            }
            match out.last_evaluated_key() {
                // The filter can leave short pages: keep reading until the page is full.
                Some(last) if items.len() < query.limit => start = Some(last.clone()),
                Some(_) => break true,
                None => break false,
            }
        };
        items.truncate(query.limit);
        let next = if more || items.len() == query.limit {
            items.last().map(|item| item.sk.clone())
        } else {
            None
        };
        Ok(Page { items, next })
    }
}

impl DynamoStore {
    fn transact_item(&self, op: &WriteOp, now: i64) -> Result<TransactWriteItem, StoreError> {
        let mut expr = Expr::default();
        let on_failure = ReturnValuesOnConditionCheckFailure::AllOld;
        let built = match op {
            WriteOp::Put { item, cond } => {
                let condition = expr.condition(cond, now);
                Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(item_attrs(item)?))
                    .set_condition_expression(condition)
                    .set_expression_attribute_names(expr.names())
                    .set_expression_attribute_values(expr.values())
                    .return_values_on_condition_check_failure(on_failure)
                    .build()
                    .map(|put| TransactWriteItem::builder().put(put).build())
            }
            WriteOp::Delete { pk, sk, cond } => {
                let condition = expr.condition(cond, now);
                Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(codec::key(pk, sk)))
                    .set_condition_expression(condition)
                    .set_expression_attribute_names(expr.names())
                    .set_expression_attribute_values(expr.values())
                    .return_values_on_condition_check_failure(on_failure)
                    .build()
                    .map(|delete| TransactWriteItem::builder().delete(delete).build())
            }
            WriteOp::Add {
                pk,
                sk,
                deltas,
                cap,
                expires_at,
            } => {
                let (update, condition) = expr.add(deltas, cap.as_ref(), *expires_at);
                Update::builder()
                    .table_name(&self.table)
                    .set_key(Some(codec::key(pk, sk)))
                    .update_expression(update)
                    .set_condition_expression(condition)
                    .set_expression_attribute_names(expr.names())
                    .set_expression_attribute_values(expr.values())
                    .return_values_on_condition_check_failure(on_failure)
                    .build()
                    .map(|update| TransactWriteItem::builder().update(update).build())
            }
            WriteOp::SetDoc { item, cond } => {
                let condition = expr.condition(cond, now);
                let update = expr.set_doc(item)?;
                Update::builder()
                    .table_name(&self.table)
                    .set_key(Some(codec::key(&item.pk, &item.sk)))
                    .update_expression(update)
                    .set_condition_expression(condition)
                    .set_expression_attribute_names(expr.names())
                    .set_expression_attribute_values(expr.values())
                    .return_values_on_condition_check_failure(on_failure)
                    .build()
                    .map(|update| TransactWriteItem::builder().update(update).build())
            }
            WriteOp::Check { pk, sk, cond } => {
                let condition = expr.condition(cond, now);
                ConditionCheck::builder()
                    .table_name(&self.table)
                    .set_key(Some(codec::key(pk, sk)))
                    .set_condition_expression(condition)
                    .set_expression_attribute_names(expr.names())
                    .set_expression_attribute_values(expr.values())
                    .return_values_on_condition_check_failure(on_failure)
                    .build()
                    .map(|check| TransactWriteItem::builder().condition_check(check).build())
            }
        };
        built.map_err(|e| StoreError::Invalid(format!("building a transaction item: {e}")))
    }
}

/// The attributes of a put item, held to DynamoDB's item size limit.
fn item_attrs(item: &Item) -> Result<Attrs, StoreError> {
    let attrs = codec::to_attrs(item)?;
    let size = codec::item_size(&attrs);
    if size > MAX_ITEM_BYTES {
        return Err(StoreError::Invalid(format!(
            "{}/{}: item of {size} bytes exceeds {MAX_ITEM_BYTES}",
            item.pk, item.sk
        )));
    }
    Ok(attrs)
}

fn key_condition(expr: &mut Expr, query: &Query) -> String {
    let pk = expr.name(PK);
    let pk_value = expr.value("pk", AttributeValue::S(query.pk.clone()));
    let partition = format!("{pk} = {pk_value}");
    let s = |v: &str| AttributeValue::S(v.to_owned());
    match &query.range {
        SkRange::All => partition,
        SkRange::Prefix(prefix) if prefix.is_empty() => partition,
        SkRange::Prefix(prefix) => {
            let sk = expr.name(SK);
            let p = expr.value("prefix", s(prefix));
            format!("{partition} AND begins_with({sk}, {p})")
        }
        SkRange::Between(from, to) => {
            let sk = expr.name(SK);
            let (a, b) = (expr.value("from", s(from)), expr.value("to", s(to)));
            format!("{partition} AND {sk} BETWEEN {a} AND {b}")
        }
    }
}

/// Maps an SDK error that is not a condition failure.
/// The single-item writes' errors, as far as a failed condition goes.
trait ConditionFailure {
    /// `Some(the item the write returned)` when this is `ConditionalCheckFailedException`.
    fn condition_failed(&self) -> Option<Option<&Attrs>>;
}

macro_rules! condition_failure {
    ($($error:ty),*) => {$(
        impl ConditionFailure for $error {
            fn condition_failed(&self) -> Option<Option<&Attrs>> {
                match self {
                    Self::ConditionalCheckFailedException(e) => Some(e.item()),
                    _ => None,
                }
            }
        }
    )*};
}

condition_failure!(PutItemError, DeleteItemError, UpdateItemError);

fn sdk_error<E>(
    what: &str,
    err: &SdkError<E, aws_sdk_dynamodb::config::http::HttpResponse>,
) -> StoreError
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    let message = describe(what, err);
    match classify(err) {
        Failure::Transient => StoreError::Unavailable(message),
        Failure::Invalid => StoreError::Invalid(message),
        Failure::Permanent => StoreError::Other(message),
    }
}

/// True when DynamoDB is still applying an earlier try with the same client request token.
fn in_progress(
    err: &SdkError<TransactWriteItemsError, aws_sdk_dynamodb::config::http::HttpResponse>,
) -> bool {
    matches!(err, SdkError::ServiceError(ctx)
        if matches!(ctx.err(), TransactWriteItemsError::TransactionInProgressException(_)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_conditions_per_range() {
        let mut query = Query::prefix("p", "L#", 10);
        let mut e = Expr::default();
        assert_eq!(
            key_condition(&mut e, &query),
            "#pk = :pk AND begins_with(#sk, :prefix)"
        );
        query.range = SkRange::Prefix(String::new());
        assert_eq!(key_condition(&mut Expr::default(), &query), "#pk = :pk");
        query.range = SkRange::Between("a".into(), "b".into());
        assert_eq!(
            key_condition(&mut Expr::default(), &query),
            "#pk = :pk AND #sk BETWEEN :from AND :to"
        );
    }

    /// A fake DynamoDB endpoint: answers `TransactWriteItems` from a script (cancelled by a
    /// conflict, then accepted) and keeps every request body it saw.
    #[derive(Clone, Debug, Default)]
    struct Scripted {
        bodies: std::sync::Arc<std::sync::Mutex<Vec<serde_json::Value>>>,
    }

    impl aws_smithy_runtime_api::client::http::HttpConnector for Scripted {
        fn call(
            &self,
            request: aws_smithy_runtime_api::client::orchestrator::HttpRequest,
        ) -> aws_smithy_runtime_api::client::http::HttpConnectorFuture {
            let body = request.body().bytes().unwrap_or_default();
            let mut bodies = self.bodies.lock().unwrap();
            bodies.push(serde_json::from_slice(body).unwrap_or_default());
            let (status, answer) = if bodies.len() == 1 {
                let reasons = r#"[{"Code":"TransactionConflict","Message":"held"}]"#;
                let kind = "com.amazonaws.dynamodb.v20120810#TransactionCanceledException";
                (
                    400,
                    format!(
                        r#"{{"__type":"{kind}","Message":"cancelled","CancellationReasons":{reasons}}}"#
                    ),
                )
            } else {
                (200, "{}".to_owned())
            };
            let mut response = aws_smithy_runtime_api::http::Response::new(
                aws_smithy_runtime_api::http::StatusCode::try_from(status).unwrap(),
                aws_smithy_types::body::SdkBody::from(answer),
            );
            response
                .headers_mut()
                .insert("content-type", "application/x-amz-json-1.0");
            aws_smithy_runtime_api::client::http::HttpConnectorFuture::ready(Ok(response))
        }
    }

    impl aws_smithy_runtime_api::client::http::HttpClient for Scripted {
        fn http_connector(
            &self,
            _: &aws_smithy_runtime_api::client::http::HttpConnectorSettings,
            _: &aws_smithy_runtime_api::client::runtime_components::RuntimeComponents,
        ) -> aws_smithy_runtime_api::client::http::SharedHttpConnector {
            aws_smithy_runtime_api::client::http::SharedHttpConnector::new(self.clone())
        }
    }

    /// Issue 28 (4): a transaction cancelled by contention is retried with the same client
    /// request token and the same request, so a try that had committed makes the retry succeed
    /// (DynamoDB's idempotency) rather than fail on its own write.
    #[tokio::test]
    async fn a_retried_transaction_keeps_its_client_request_token() {
        use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
        let endpoint = Scripted::default();
        let config = aws_sdk_dynamodb::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .credentials_provider(Credentials::new("k", "s", None, None, "test"))
            .endpoint_url("http://127.0.0.1:9")
            .http_client(endpoint.clone())
            .build();
        let store = DynamoStore::new(Client::from_conf(config), "t");
        let ops = vec![
            WriteOp::Put {
                item: Item::new("p", "a", serde_json::json!({"n": 1})),
                cond: Cond::Absent,
            },
            WriteOp::Delete {
                pk: "p".into(),
                sk: "b".into(),
                cond: Cond::Exists,
            },
        ];
        store.transact(ops).await.unwrap();

        let bodies = endpoint.bodies.lock().unwrap().clone();
        assert_eq!(bodies.len(), 2, "one cancelled try, one retry: {bodies:?}");
        let token = bodies[0]["ClientRequestToken"].as_str().unwrap();
        assert!(!token.is_empty());
        assert_eq!(
            bodies[1]["ClientRequestToken"], token,
            "the retry keeps the token"
        );
        assert_eq!(
            bodies[0]["TransactItems"], bodies[1]["TransactItems"],
            "and the very same request (else IdempotentParameterMismatch)"
        );
    }
}
