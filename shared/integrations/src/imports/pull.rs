//! A program pulled from the tool it lives in by the manager's API key, instead of a file: the
//! tool's list answers fetched page by page, as its API documents them, and joined into the one
//! JSON object its importer reads (`programs::rewardful`), then imported as that file would be
//! (`super::start`). The key is used for these requests only, in this process's memory: never
//! stored, logged or put in the report, so nothing of it outlives the request.
//!
//! Rewardful (developers.rewardful.com, API v1): `GET {base}/v1/{list}?page=N&limit=100`, HTTP
//! Basic with the API secret as the user name; each answer `{pagination: {next_page, …}, data:
//! [...]}`; `401` a wrong key; `429` too many requests (its `Retry-After` waited, a few times).

use std::time::Duration;

use serde_json::Value;

use super::ImportError;

/// Why a pull could not read the tool's lists, in words.
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    #[error("{0}")]
    Key(String),
    #[error("{0}")]
    Limited(String),
    #[error("{0}")]
    Tool(String),
}

impl From<PullError> for ImportError {
    fn from(e: PullError) -> Self {
        ImportError::Pull(e)
    }
}

/// Rewardful's lists, in the order its importer joins them.
const REWARDFUL_LISTS: [&str; 4] = [
    "affiliates",
    "affiliate_coupons",
    "referrals",
    "commissions",
];
const PAGE_LIMIT: u32 = 100;
/// A program larger than this many pages of a list is not pulled whole: export it instead.
const MAX_PAGES: u32 = 2_000;
/// How often a `429` is waited out, and the longest wait taken.
const RETRIES: u32 = 3;
const MAX_WAIT: Duration = Duration::from_secs(10);

/// Rewardful's program as its importer's JSON object: its four lists, every page of each.
#[tracing::instrument(skip_all)]
pub async fn rewardful(base: &str, api_key: &str) -> Result<Vec<u8>, PullError> {
    let key = api_key.trim();
    if key.is_empty() {
        return Err(PullError::Key(
            "apiKey: Rewardful's API secret, from its Company settings → API.".into(),
        ));
    }
    let client = crate::platform::http_client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .map_err(|e| PullError::Tool(format!("Rewardful could not be reached: {e}.")))?;
    let mut program = serde_json::Map::new();
    for list in REWARDFUL_LISTS {
        let items = every_page(&client, base, key, list).await?;
        program.insert(list.to_owned(), Value::Array(items));
    }
    serde_json::to_vec(&Value::Object(program))
        .map_err(|e| PullError::Tool(format!("Rewardful's answer could not be kept: {e}.")))
}

/// Every item of one list, page after page until the answer names no next page.
async fn every_page(
    client: &reqwest::Client,
    base: &str,
    key: &str,
    list: &str,
) -> Result<Vec<Value>, PullError> {
    let mut items = Vec::new();
    let mut page = 1;
    loop {
        let url = format!(
            "{}/v1/{list}?page={page}&limit={PAGE_LIMIT}",
            base.trim_end_matches('/')
        );
        let answer = get(client, &url, key).await?;
        let data = answer
            .get("data")
            .and_then(Value::as_array)
            .ok_or_else(|| PullError::Tool(format!("Rewardful's list of {list} had no data.")))?;
        items.extend(data.iter().cloned());
        match answer
            .pointer("/pagination/next_page")
            .and_then(Value::as_u64)
        {
            Some(next) if next > u64::from(page) && page < MAX_PAGES => {
                page = u32::try_from(next).unwrap_or(MAX_PAGES);
            }
            Some(_) if page >= MAX_PAGES => {
                return Err(PullError::Tool(format!(
                    "Rewardful's list of {list} has more than {MAX_PAGES} pages: export the program instead."
                )));
            }
            _ => return Ok(items),
        }
    }
}

/// One page, a `429` waited out up to [`RETRIES`] times.
async fn get(client: &reqwest::Client, url: &str, key: &str) -> Result<Value, PullError> {
    for attempt in 0..=RETRIES {
        let response = client
            .get(url)
            .basic_auth(key, Some(""))
            .header("accept", "application/json")
            .send()
            .await
            .map_err(|e| PullError::Tool(format!("Rewardful could not be reached: {e}.")))?;
        match response.status().as_u16() {
            200 => {
                return response.json().await.map_err(|e| {
                    PullError::Tool(format!("Rewardful's answer was not its JSON: {e}."))
                });
            }
            401 | 403 => {
                return Err(PullError::Key(
                    "apiKey: Rewardful refused this API key. Copy the API secret from Rewardful's Company settings → API, and try again.".into(),
                ));
            }
            429 if attempt < RETRIES => {
                let wait = response
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map_or(Duration::from_secs(1), Duration::from_secs)
                    .min(MAX_WAIT);
                tokio::time::sleep(wait).await;
            }
            429 => {
                return Err(PullError::Limited(
                    "Rewardful is limiting the requests of this API key: try again in a few minutes.".into(),
                ));
            }
            other => {
                return Err(PullError::Tool(format!(
                    "Rewardful answered {other}: try again later, or export the program instead."
                )));
            }
        }
    }
    Err(PullError::Limited(
        "Rewardful is limiting the requests of this API key: try again in a few minutes.".into(),
    ))
}
