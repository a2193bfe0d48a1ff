//! [`ClickStream`] on a Kinesis Data Stream.
//!
//! Appends are ONE `PutRecord` each (the redirect's round trip). Reads are what a Lambda event
//! source mapping does for the deployed consumer, done by hand for a process that polls (the
//! local server on the AWS backend, the tests): `GetShardIterator` after the checkpoint, then
//! `GetRecords`.

use async_trait::async_trait;
use aws_sdk_kinesis::Client;
use aws_sdk_kinesis::primitives::Blob;
use aws_sdk_kinesis::types::ShardIteratorType;

use crate::client::LazyClient;
use crate::errors::{Failure, classify, describe};
use tenx_kernel::platform::stream::{
    ClickStream, MAX_READ, StreamError, StreamRecord, validate_record,
};

/// `GetRecords` may answer empty while records lie further on (an iterator starts before a
/// gap); a few hops along `NextShardIterator` find them or show the shard is caught up.
const EMPTY_HOPS: usize = 3;

pub struct KinesisStream {
    client: LazyClient<Client>,
    stream: String,
}

impl KinesisStream {
    pub fn new(client: impl Into<LazyClient<Client>>, stream: impl Into<String>) -> Self {
        Self {
            client: client.into(),
            stream: stream.into(),
        }
    }

    pub fn stream_name(&self) -> &str {
        &self.stream
    }

    async fn iterator(&self, shard: &str, after: Option<&str>) -> Result<String, StreamError> {
        let request = self
            .client
            .get_shard_iterator()
            .stream_name(&self.stream)
            .shard_id(shard);
        let request = match after {
            Some(sequence) => request
                .shard_iterator_type(ShardIteratorType::AfterSequenceNumber)
                .starting_sequence_number(sequence),
            None => request.shard_iterator_type(ShardIteratorType::TrimHorizon),
        };
        let out = request
            .send()
            .await
            .map_err(|e| sdk_error("GetShardIterator", &e))?;
        out.shard_iterator
            .ok_or_else(|| StreamError::Other("GetShardIterator returned no iterator".into()))
    }
}

#[async_trait]
impl ClickStream for KinesisStream {
    async fn append(&self, partition_key: &str, data: &str) -> Result<(), StreamError> {
        validate_record(partition_key, data)?;
        self.client
            .put_record()
            .stream_name(&self.stream)
            .partition_key(partition_key)
            .data(Blob::new(data.as_bytes()))
            .send()
            .await
            .map_err(|e| sdk_error("PutRecord", &e))?;
        Ok(())
    }

    /// Under Kinesis's 5 `GetShardIterator` and 5 `GetRecords` per second per shard.
    fn idle_poll(&self) -> std::time::Duration {
        std::time::Duration::from_millis(250)
    }

    async fn shards(&self) -> Result<Vec<String>, StreamError> {
        let mut shards = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let request = match next.take() {
                Some(token) => self.client.list_shards().next_token(token),
                None => self.client.list_shards().stream_name(&self.stream),
            };
            let out = request
                .send()
                .await
                .map_err(|e| sdk_error("ListShards", &e))?;
            shards.extend(out.shards().iter().map(|s| s.shard_id().to_owned()));
            match out.next_token {
                Some(token) => next = Some(token),
                None => return Ok(shards),
            }
        }
    }

    async fn read(
        &self,
        shard: &str,
        after: Option<&str>,
        max: usize,
    ) -> Result<Vec<StreamRecord>, StreamError> {
        let limit = i32::try_from(max.clamp(1, MAX_READ)).unwrap_or(1);
        let mut iterator = self.iterator(shard, after).await?;
        for _ in 0..EMPTY_HOPS {
            let out = self
                .client
                .get_records()
                .shard_iterator(&iterator)
                .limit(limit)
                .send()
                .await
                .map_err(|e| sdk_error("GetRecords", &e))?;
            if !out.records.is_empty() {
                return out.records.into_iter().map(record).collect();
            }
            match (out.next_shard_iterator, out.millis_behind_latest) {
                (Some(next), Some(behind)) if behind > 0 => iterator = next,
                _ => break,
            }
        }
        Ok(Vec::new())
    }
}

/// A record that is not UTF-8 (never written by us) is read lossily: the consumer then finds it
/// unreadable and skips it, rather than the shard stalling on it.
fn record(r: aws_sdk_kinesis::types::Record) -> Result<StreamRecord, StreamError> {
    let data = String::from_utf8_lossy(r.data.as_ref()).into_owned();
    Ok(StreamRecord {
        sequence: r.sequence_number,
        data,
    })
}

fn sdk_error<E>(
    what: &str,
    err: &aws_sdk_kinesis::error::SdkError<E, aws_sdk_kinesis::config::http::HttpResponse>,
) -> StreamError
where
    E: aws_sdk_kinesis::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    let message = describe(what, err);
    match classify(err) {
        Failure::Transient => StreamError::Unavailable(message),
        Failure::Invalid | Failure::Permanent => StreamError::Other(message),
    }
}
