//! A program (or a tool's links) pulled from the tool it lives in by the manager's API key,
//! instead of a file: the tool's list answers fetched page by page, as its API documents them,
//! and joined into the JSON its importer reads (`programs::*`, `links_sources`), then imported
//! as that file would be (`super::start`). The key is used for these requests only, in this
//! process's memory: never stored, logged or put in the report, so nothing of it outlives the
//! request.
//!
//! Each tool is a [`Tool`]: where its API is, how it takes the key, how its lists are paged and
//! where an answer holds its items. What each documents (read 2026-11-27, docs/imports.md):
//! - Rewardful (developers.rewardful.com, API v1): `GET {base}/v1/{list}?page=N&limit=100`,
//!   HTTP Basic with the API secret as the user name; `{pagination: {next_page}, data}`; its
//!   payouts with their commissions (`expand[]=commissions`).
//! - FirstPromoter (docs.firstpromoter.com, API v2): `GET {base}/api/v2/company/{list}?page=N&
//!   per_page=100`, `Authorization: Bearer {key}` with `Account-ID: {accountId}`; `{data}` (or
//!   the list itself): no next page is named, so the list is read until a page comes empty. Its
//!   limit is 400 requests a minute per account, a `429` without `Retry-After`.
//! - Tolt (docs.tolt.com, API v1): `GET {base}/v1/{list}?program_id={programId}&limit=100&
//!   starting_after={last id}`, `Authorization: Bearer {key}`; `{success, has_more, data}`; 25
//!   requests a second per key, a `429` whose wait is in its words.
//! - PartnerStack (docs.partnerstack.com, vendor API v2): `GET {base}/api/v2/{list}?limit=100&
//!   starting_after={the last item's key}`, HTTP Basic with the public key as the user name and
//!   the secret key as the password; `{data: {has_more, items}}`; no limit published.
//! - Rebrandly (developers.rebrandly.com, API v1): `GET {base}/v1/links?limit=25&last={last id}`,
//!   its `apikey` header; the answer is the list itself, read until a page comes empty.
//! - Dub (dub.co/docs/api-reference; its OpenAPI in dubinc/dub, `apps/web/lib/openapi`):
//!   `GET {base}/{partners|customers|commissions|payouts}?page=N&pageSize=100`, `Authorization:
//!   Bearer {key}`; the answer is the list itself, read until a page comes empty. 60 requests a
//!   minute per key, a `429` whose `Retry-After` is the time the window resets, in Unix
//!   milliseconds (Upstash's `reset`, `apps/web/lib/auth/session.ts`).
//!
//! A `429` is waited out by its `Retry-After` when it has one (seconds to wait, or the time to
//! wait until, in Unix seconds or milliseconds), else by a doubling wait (the backoff
//! FirstPromoter's and Tolt's docs ask for: from 2 s for FirstPromoter's minute window, from
//! 250 ms for Tolt's second), up to [`RETRIES`] times.

use std::time::Duration;

use serde_json::Value;

use super::ImportError;
use super::model::Source;

/// Why a pull could not read the tool's lists, in words.
#[derive(Debug, thiserror::Error)]
pub enum PullError {
    #[error("{0}")]
    Key(String),
    #[error("{0}")]
    Limited(String),
    #[error("{0}")]
    Tool(String),
    /// More pages than one pull reads: the lists are exported and uploaded instead.
    #[error("{0}")]
    TooLarge(String),
}

impl From<PullError> for ImportError {
    fn from(e: PullError) -> Self {
        ImportError::Pull(e)
    }
}

/// How a tool takes its key.
#[derive(Clone, Copy)]
enum Auth {
    /// HTTP Basic, the key as the user name and no password.
    BasicUser,
    /// HTTP Basic, the scope (a public key) as the user name and the key as the password.
    BasicPassword,
    /// `Authorization: Bearer {key}`.
    Bearer,
    /// The key as this header's value.
    Header(&'static str),
}

/// How a tool's lists are paged.
#[derive(Clone, Copy)]
enum Paging {
    /// `?page=N&{size}=…` from 1; the next page's number at `next` (a JSON pointer) or, when
    /// the tool names none, the page after one with items.
    Numbered {
        size: &'static str,
        next: Option<&'static str>,
    },
    /// `?{size}=…&{after}={the last item's id}`: more while `more` (a JSON pointer) is true or,
    /// when the tool says nothing, while a page has items.
    After {
        size: &'static str,
        after: &'static str,
        id: &'static str,
        more: Option<&'static str>,
    },
}

/// A second value a tool needs beside its key, from the request's body.
#[derive(Clone, Copy)]
enum Scope {
    /// FirstPromoter's `accountId`, sent as this header.
    Header(&'static str),
    /// Tolt's `programId`, sent as this query parameter.
    Query(&'static str),
    /// PartnerStack's `publicKey`, sent as HTTP Basic's user name ([`Auth::BasicPassword`]).
    Auth,
}

/// One tool's API, as its docs describe it.
struct Tool {
    name: &'static str,
    /// Where the manager finds the key in the tool.
    key_hint: &'static str,
    /// The path before a list's name.
    prefix: &'static str,
    lists: &'static [&'static str],
    /// Where an answer holds its items (a JSON pointer; `""`: the answer is the list).
    items: &'static str,
    page_size: u32,
    auth: Auth,
    paging: Paging,
    /// The first wait of a `429` without `Retry-After`, doubled at each next one: a second
    /// where the tool's docs say nothing, else as its limit's window asks.
    backoff: Duration,
    /// The body's field for the scope, what it is, and how it is sent.
    scope: Option<(&'static str, &'static str, Scope)>,
    /// The importer reads one list (links), not an object of lists (a program).
    one_list: bool,
}

const REWARDFUL: Tool = Tool {
    name: "Rewardful",
    key_hint: "the API secret, from Rewardful's Company settings → API",
    prefix: "/v1/",
    lists: &[
        "affiliates",
        "affiliate_coupons",
        "referrals",
        "commissions",
        "payouts?expand[]=commissions",
    ],
    items: "/data",
    page_size: 100,
    auth: Auth::BasicUser,
    paging: Paging::Numbered {
        size: "limit",
        next: Some("/pagination/next_page"),
    },
    backoff: Duration::from_millis(1000),
    scope: None,
    one_list: false,
};

const FIRSTPROMOTER: Tool = Tool {
    name: "FirstPromoter",
    key_hint: "an API key, from FirstPromoter's Settings → Integrations → Manage API Keys",
    prefix: "/api/v2/company/",
    lists: &["promoters", "promo_codes", "referrals", "commissions"],
    items: "/data",
    page_size: 100,
    auth: Auth::Bearer,
    paging: Paging::Numbered {
        size: "per_page",
        next: None,
    },
    backoff: Duration::from_millis(2000),
    scope: Some((
        "accountId",
        "FirstPromoter's Account ID, shown beside its API keys (Settings → Integrations)",
        Scope::Header("account-id"),
    )),
    one_list: false,
};

const TOLT: Tool = Tool {
    name: "Tolt",
    key_hint: "the API key, from Tolt's Settings → Integrations",
    prefix: "/v1/",
    lists: &[
        "partners",
        "links",
        "promotion_codes",
        "customers",
        "commissions",
    ],
    items: "/data",
    page_size: 100,
    auth: Auth::Bearer,
    paging: Paging::After {
        size: "limit",
        after: "starting_after",
        id: "/id",
        more: Some("/has_more"),
    },
    backoff: Duration::from_millis(250),
    scope: Some((
        "programId",
        "Tolt's program id (prg_…), in its Settings → Integrations",
        Scope::Query("program_id"),
    )),
    one_list: false,
};

const PARTNERSTACK: Tool = Tool {
    name: "PartnerStack",
    key_hint: "the secret key, from PartnerStack's Settings → Integrations → PartnerStack API Keys",
    prefix: "/api/v2/",
    lists: &["partnerships", "customers", "rewards"],
    items: "/data/items",
    page_size: 100,
    auth: Auth::BasicPassword,
    paging: Paging::After {
        size: "limit",
        after: "starting_after",
        id: "/key",
        more: Some("/data/has_more"),
    },
    backoff: Duration::from_millis(1000),
    scope: Some((
        "publicKey",
        "PartnerStack's public key, shown beside its secret key (Settings → Integrations → PartnerStack API Keys)",
        Scope::Auth,
    )),
    one_list: false,
};

const REBRANDLY: Tool = Tool {
    name: "Rebrandly",
    key_hint: "an API key, from Rebrandly's Account settings → API keys",
    prefix: "/v1/",
    lists: &["links"],
    items: "",
    page_size: 25,
    auth: Auth::Header("apikey"),
    paging: Paging::After {
        size: "limit",
        after: "last",
        id: "/id",
        more: None,
    },
    backoff: Duration::from_millis(1000),
    scope: None,
    one_list: true,
};

const DUB: Tool = Tool {
    name: "Dub",
    key_hint: "an API key (dub_…), from Dub's Settings → API Keys, with read access to the program",
    prefix: "/",
    // Payouts first: what they say of `processed` commissions is read before them.
    lists: &["payouts", "partners", "customers", "commissions"],
    items: "",
    page_size: 100,
    auth: Auth::Bearer,
    paging: Paging::Numbered {
        size: "pageSize",
        next: None,
    },
    backoff: Duration::from_millis(1000),
    scope: None,
    one_list: false,
};

/// The tools a pull reads, by their source (`dub`: its program, as `dub-partners`).
fn tool(source: Source) -> Option<&'static Tool> {
    match source {
        Source::Rewardful => Some(&REWARDFUL),
        Source::FirstPromoter => Some(&FIRSTPROMOTER),
        Source::Tolt => Some(&TOLT),
        Source::Rebrandly => Some(&REBRANDLY),
        Source::PartnerStack => Some(&PARTNERSTACK),
        Source::Dub | Source::DubPartners => Some(&DUB),
        _ => None,
    }
}

/// The sources a pull reads, for the words of a request naming another.
pub const SOURCES: &str = "rewardful, firstpromoter, tolt, partnerstack, dub or rebrandly";

/// What a pull of `source` is imported as: Dub's program for `dub` (its links come in from
/// their CSV export), the source itself otherwise.
pub fn imported_as(source: Source) -> Source {
    match source {
        Source::Dub => Source::DubPartners,
        other => other,
    }
}

/// Whether `source` is pulled by key.
pub fn pulls(source: Source) -> bool {
    tool(source).is_some()
}

/// The most requests one pull makes: a larger program is exported and uploaded instead. It
/// bounds the pull's time and memory (every page is held until the import starts).
pub const MAX_REQUESTS: u32 = 1_000;
/// How often a `429` is waited out, and the longest wait taken.
const RETRIES: u32 = 3;
const MAX_WAIT: Duration = Duration::from_secs(10);

/// What the manager gave: the key, and the tool's second value when it needs one.
pub struct Credentials<'a> {
    pub api_key: &'a str,
    pub account_id: Option<&'a str>,
    pub program_id: Option<&'a str>,
    pub public_key: Option<&'a str>,
}

impl<'a> Credentials<'a> {
    /// The body's field `field`, trimmed, when given.
    fn second(&self, field: &str) -> Option<&'a str> {
        match field {
            "accountId" => self.account_id,
            "programId" => self.program_id,
            "publicKey" => self.public_key,
            _ => None,
        }
        .map(str::trim)
        .filter(|v| !v.is_empty())
    }
}

/// The base of each tool's API (the tools' own, or a test's local servers).
pub struct Bases<'a> {
    pub rewardful: &'a str,
    pub firstpromoter: &'a str,
    pub tolt: &'a str,
    pub rebrandly: &'a str,
    pub partnerstack: &'a str,
    pub dub: &'a str,
}

/// The tool's lists as its importer's JSON: an object of every page of each list, or the one
/// list of a links tool.
#[tracing::instrument(skip_all, fields(source = source.as_str()))]
pub async fn fetch(
    source: Source,
    bases: &Bases<'_>,
    credentials: &Credentials<'_>,
) -> Result<Vec<u8>, PullError> {
    let tool = tool(source).ok_or_else(|| {
        PullError::Key(format!(
            "source: pulling from {} by API key is not available yet; export its lists and import the file instead.",
            source.as_str()
        ))
    })?;
    let base = match source {
        Source::FirstPromoter => bases.firstpromoter,
        Source::Tolt => bases.tolt,
        Source::Rebrandly => bases.rebrandly,
        Source::PartnerStack => bases.partnerstack,
        Source::Dub | Source::DubPartners => bases.dub,
        _ => bases.rewardful,
    };
    let request = Pull::new(tool, base, credentials)?;
    let mut program = serde_json::Map::new();
    let mut budget = MAX_REQUESTS;
    for list in tool.lists {
        let items = request.every_page(list, &mut budget).await?;
        if tool.one_list {
            return keep(tool, &Value::Array(items));
        }
        // A list asked with its own parameters (`payouts?expand[]=commissions`) keeps its name.
        program.insert(list_name(list).to_owned(), Value::Array(items));
    }
    keep(tool, &Value::Object(program))
}

/// A list's name, without the parameters it is asked with (`payouts?expand[]=commissions`).
fn list_name(list: &str) -> &str {
    list.split_once('?').map_or(list, |(name, _)| name)
}

fn keep(tool: &Tool, v: &Value) -> Result<Vec<u8>, PullError> {
    serde_json::to_vec(v)
        .map_err(|e| PullError::Tool(format!("{}'s answer could not be kept: {e}.", tool.name)))
}

/// One pull's requests: the tool, its base, the key and the scope, and a client.
struct Pull<'a> {
    tool: &'static Tool,
    base: &'a str,
    key: &'a str,
    scope: Option<(&'a str, Scope)>,
    client: reqwest::Client,
}

impl<'a> Pull<'a> {
    /// The key (and scope) checked present before any request.
    fn new(
        tool: &'static Tool,
        base: &'a str,
        credentials: &Credentials<'a>,
    ) -> Result<Self, PullError> {
        let key = credentials.api_key.trim();
        if key.is_empty() {
            return Err(PullError::Key(format!("apiKey: {}.", tool.key_hint)));
        }
        let scope = match tool.scope {
            None => None,
            Some((field, what, how)) => {
                let value = credentials.second(field).ok_or_else(|| {
                    PullError::Key(format!("{field}: {what}, is needed beside the API key."))
                })?;
                Some((value, how))
            }
        };
        let client = crate::platform::http_client::builder()
            .timeout(Duration::from_secs(30))
            .build()
            .map_err(|e| PullError::Tool(format!("{} could not be reached: {e}.", tool.name)))?;
        Ok(Pull {
            tool,
            base: base.trim_end_matches('/'),
            key,
            scope,
            client,
        })
    }

    /// Every item of one list, page after page until the tool says it is the last.
    async fn every_page(&self, list: &str, budget: &mut u32) -> Result<Vec<Value>, PullError> {
        let tool = self.tool;
        let mut items: Vec<Value> = Vec::new();
        let mut page: u64 = 1;
        loop {
            if *budget == 0 {
                return Err(PullError::TooLarge(format!(
                    "{}'s program takes more than {MAX_REQUESTS} pages to read: export its lists and upload the file instead.",
                    tool.name
                )));
            }
            *budget -= 1;
            let url = self.url(list, page, items.last())?;
            let answer = self.get(&url).await?;
            // The list itself is taken too where an envelope is documented: FirstPromoter's
            // reference shows both.
            let data = answer
                .pointer(tool.items)
                .and_then(Value::as_array)
                .or_else(|| answer.as_array())
                .ok_or_else(|| {
                    PullError::Tool(format!(
                        "{}'s list of {} had no items.",
                        tool.name,
                        list_name(list)
                    ))
                })?;
            let got = !data.is_empty();
            items.extend(data.iter().cloned());
            match self.next(&answer, page, got) {
                Some(next) => page = next,
                None => return Ok(items),
            }
        }
    }

    /// The page after `page`, if the answer says there is one (`got`: this page had items).
    /// A tool that names no next page is read until a page comes empty: a page shorter than
    /// asked is not taken for the last, should the tool cap its pages below the size asked.
    fn next(&self, answer: &Value, page: u64, got: bool) -> Option<u64> {
        let more = match self.tool.paging {
            Paging::Numbered { next: Some(at), .. } => {
                return answer
                    .pointer(at)
                    .and_then(Value::as_u64)
                    .filter(|n| *n > page);
            }
            Paging::After { more: Some(at), .. } => {
                got && answer.pointer(at).and_then(Value::as_bool) == Some(true)
            }
            Paging::Numbered { next: None, .. } | Paging::After { more: None, .. } => got,
        };
        more.then_some(page + 1)
    }

    /// The URL of one page of `list`: the page's number, or the id of the last item read.
    fn url(&self, list: &str, page: u64, last: Option<&Value>) -> Result<url::Url, PullError> {
        let tool = self.tool;
        let mut url =
            url::Url::parse(&format!("{}{}{list}", self.base, tool.prefix)).map_err(|e| {
                PullError::Tool(format!("{}'s API address is not one: {e}.", tool.name))
            })?;
        {
            let mut query = url.query_pairs_mut();
            if let Some((value, Scope::Query(name))) = self.scope {
                query.append_pair(name, value);
            }
            let size = tool.page_size.to_string();
            match tool.paging {
                Paging::Numbered { size: name, .. } => {
                    query.append_pair("page", &page.to_string());
                    query.append_pair(name, &size);
                }
                Paging::After {
                    size: name,
                    after,
                    id,
                    ..
                } => {
                    query.append_pair(name, &size);
                    // An item without its id would ask for the first page again, and again.
                    if let Some(item) = last {
                        let cursor = match item.pointer(id) {
                            Some(Value::String(s)) => s.clone(),
                            Some(Value::Number(n)) => n.to_string(),
                            _ => {
                                return Err(PullError::Tool(format!(
                                    "{}'s list of {} has an item without its {}: export the lists and import the file instead.",
                                    tool.name,
                                    list_name(list),
                                    id.trim_start_matches('/')
                                )));
                            }
                        };
                        query.append_pair(after, &cursor);
                    }
                }
            }
        }
        Ok(url)
    }

    fn request(&self, url: &url::Url) -> reqwest::RequestBuilder {
        let request = self
            .client
            .get(url.clone())
            .header("accept", "application/json");
        let request = match self.tool.auth {
            Auth::BasicUser => request.basic_auth(self.key, Some("")),
            Auth::BasicPassword => {
                let user = self.scope.map_or("", |(user, _)| user);
                request.basic_auth(user, Some(self.key))
            }
            Auth::Bearer => request.bearer_auth(self.key),
            Auth::Header(name) => request.header(name, self.key),
        };
        match self.scope {
            Some((value, Scope::Header(name))) => request.header(name, value),
            _ => request,
        }
    }

    /// One page, a `429` waited out up to [`RETRIES`] times.
    async fn get(&self, url: &url::Url) -> Result<Value, PullError> {
        let name = self.tool.name;
        let limited = || {
            PullError::Limited(format!(
                "{name} is limiting the requests of this API key: try again in a few minutes."
            ))
        };
        for attempt in 0..=RETRIES {
            let response = self
                .request(url)
                .send()
                .await
                .map_err(|e| PullError::Tool(format!("{name} could not be reached: {e}.")))?;
            match response.status().as_u16() {
                200 => {
                    return response.json().await.map_err(|e| {
                        PullError::Tool(format!("{name}'s answer was not its JSON: {e}."))
                    });
                }
                401 | 403 => return Err(self.refused()),
                429 if attempt < RETRIES => {
                    tokio::time::sleep(wait(&response, self.tool.backoff, attempt)).await;
                }
                429 => return Err(limited()),
                other => {
                    return Err(PullError::Tool(format!(
                        "{name} answered {other}: try again later, or export the lists instead."
                    )));
                }
            }
        }
        Err(limited())
    }

    fn refused(&self) -> PullError {
        let tool = self.tool;
        let scope = match tool.scope {
            Some((field, what, _)) => format!(" (and {field}: {what})"),
            None => String::new(),
        };
        PullError::Key(format!(
            "apiKey: {} refused this API key{scope}. Copy {}, and try again.",
            tool.name, tool.key_hint
        ))
    }
}

/// A `429`'s wait: its `Retry-After`, else the tool's backoff doubled at each attempt.
fn wait(response: &reqwest::Response, backoff: Duration, attempt: u32) -> Duration {
    response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(backoff * (1 << attempt.min(4)), |v| {
            retry_after(v, now_millis())
        })
        .min(MAX_WAIT)
}

/// A `Retry-After` of digits: seconds to wait as HTTP says, or (a number no wait is, past
/// 10⁹) the time to wait until, in Unix seconds, or in milliseconds past 10¹² as Dub sends it.
fn retry_after(value: u64, now_ms: u64) -> Duration {
    const EPOCH_SECONDS: u64 = 1_000_000_000;
    const EPOCH_MILLIS: u64 = 1_000_000_000_000;
    if value >= EPOCH_MILLIS {
        Duration::from_millis(value.saturating_sub(now_ms))
    } else if value >= EPOCH_SECONDS {
        Duration::from_millis((value * 1000).saturating_sub(now_ms))
    } else {
        Duration::from_secs(value)
    }
}

fn now_millis() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_pulled_source_has_its_tool_and_the_others_none() {
        for source in Source::ALL {
            let expected = matches!(
                source,
                Source::Rewardful
                    | Source::FirstPromoter
                    | Source::Tolt
                    | Source::PartnerStack
                    | Source::Rebrandly
                    | Source::Dub
                    | Source::DubPartners
            );
            assert_eq!(pulls(source), expected, "{}", source.as_str());
        }
    }

    #[test]
    fn a_cursor_page_asks_after_the_last_item_and_a_numbered_one_by_its_number() {
        let credentials = Credentials {
            api_key: "k",
            account_id: None,
            program_id: Some("prg 1"),
            public_key: None,
        };
        let tolt = Pull::new(&TOLT, "http://t/", &credentials).unwrap();
        assert_eq!(
            tolt.url("partners", 1, None).unwrap().as_str(),
            "http://t/v1/partners?program_id=prg+1&limit=100"
        );
        let last = serde_json::json!({"id": "part_9"});
        assert_eq!(
            tolt.url("partners", 2, Some(&last)).unwrap().as_str(),
            "http://t/v1/partners?program_id=prg+1&limit=100&starting_after=part_9"
        );
        let no_id = serde_json::json!({"name": "no id"});
        assert!(matches!(
            tolt.url("partners", 2, Some(&no_id)),
            Err(PullError::Tool(m)) if m.contains("without its id")
        ));
        let fp = Pull::new(
            &FIRSTPROMOTER,
            "http://f",
            &Credentials {
                account_id: Some("42"),
                ..credentials
            },
        )
        .unwrap();
        assert_eq!(
            fp.url("promoters", 3, None).unwrap().as_str(),
            "http://f/api/v2/company/promoters?page=3&per_page=100"
        );
    }

    #[test]
    fn a_retry_after_is_seconds_or_the_time_to_wait_until() {
        let now = 1_800_000_000_000;
        assert_eq!(retry_after(2, now), Duration::from_secs(2));
        assert_eq!(retry_after(now + 1_500, now), Duration::from_millis(1_500));
        assert_eq!(retry_after(now / 1000 + 3, now), Duration::from_secs(3));
        assert_eq!(retry_after(now - 5, now), Duration::ZERO);
    }

    #[test]
    fn a_missing_scope_is_named_before_any_request() {
        let credentials = Credentials {
            api_key: "k",
            account_id: None,
            program_id: None,
            public_key: None,
        };
        let Err(PullError::Key(message)) = Pull::new(&FIRSTPROMOTER, "http://f", &credentials)
        else {
            panic!("a missing account id was taken");
        };
        assert!(message.starts_with("accountId: "), "{message}");
    }
}
