//! A program (or a tool's links) pulled from the tool it lives in by the manager's API key,
//! instead of a file: the tool's list answers fetched page by page, as its API documents them,
//! and joined into the JSON its importer reads (`programs::*`, `links_sources`), then imported
//! as that file would be. The request checks the key with one request ([`check`]); the
//! imports worker reads the lists a page at a time ([`page`], `super::pulled`), the key sealed
//! on the job meanwhile: never logged or put in the report, and forgotten once the lists are
//! read (or the import failed).
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
use super::model::{PullCursor, Source};

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

/// What the manager gave: the key, and the tool's second value when it needs one. Sealed
/// whole on the job while the worker reads ([`Credentials::to_sealed`]); its `Debug` shows
/// nothing of it.
#[derive(Clone, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Credentials {
    pub api_key: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub program_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Credentials(…)")
    }
}

impl Credentials {
    /// The body's field `field`, trimmed, when given.
    fn second(&self, field: &str) -> Option<&str> {
        match field {
            "accountId" => self.account_id.as_deref(),
            "programId" => self.program_id.as_deref(),
            "publicKey" => self.public_key.as_deref(),
            _ => None,
        }
        .map(str::trim)
        .filter(|v| !v.is_empty())
    }

    /// Sealed for `place` (the import's own: another job's place does not open it).
    pub fn to_sealed(&self, keyring: &crate::domain::sealed::Keyring, place: &str) -> String {
        // A struct of strings always serializes.
        let plain = serde_json::to_vec(self).unwrap_or_default();
        keyring.seal(place, &plain)
    }

    /// What [`Self::to_sealed`] sealed for `place`; `None` when it does not open there.
    pub fn open(
        keyring: &crate::domain::sealed::Keyring,
        place: &str,
        sealed: &str,
    ) -> Option<Self> {
        let plain = keyring.open(place, sealed).ok()?;
        serde_json::from_slice(&plain).ok()
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

impl<'a> Bases<'a> {
    /// The bases `config` names (`TENX_*_API_BASE`; the tools' own by default).
    pub fn of(config: &'a crate::platform::config::Config) -> Self {
        Self {
            rewardful: &config.rewardful_api_base,
            firstpromoter: &config.firstpromoter_api_base,
            tolt: &config.tolt_api_base,
            rebrandly: &config.rebrandly_api_base,
            partnerstack: &config.partnerstack_api_base,
            dub: &config.dub_api_base,
        }
    }

    fn of_source(&self, source: Source) -> &'a str {
        match source {
            Source::FirstPromoter => self.firstpromoter,
            Source::Tolt => self.tolt,
            Source::Rebrandly => self.rebrandly,
            Source::PartnerStack => self.partnerstack,
            Source::Dub | Source::DubPartners => self.dub,
            _ => self.rewardful,
        }
    }
}

fn tool_of(source: Source) -> Result<&'static Tool, PullError> {
    tool(source).ok_or_else(|| {
        PullError::Key(format!(
            "source: pulling from {} by API key is not available yet; export its lists and import the file instead.",
            source.as_str()
        ))
    })
}

/// The key (and scope) checked by the tool with ONE request, its first list's first page (a
/// `429` waited out as a page's is): a refused key, a missing scope or a limited key said in
/// words before anything is written.
#[tracing::instrument(skip_all, fields(source = source.as_str()))]
pub async fn check(
    source: Source,
    bases: &Bases<'_>,
    credentials: &Credentials,
) -> Result<(), PullError> {
    let tool = tool_of(source)?;
    let request = Pull::new(tool, bases.of_source(source), credentials)?;
    request.page(&PullCursor::start()).await.map(|_| ())
}

/// One page of the tool's lists, read.
pub struct Page {
    /// The list it is of (its name, without the parameters it is asked with).
    pub list: &'static str,
    pub items: Vec<Value>,
    /// Where the pull stands after it (its list past the last: every list read).
    pub next: PullCursor,
}

/// Whether a pull at `at` has read every list of `source`'s tool.
pub fn ended(source: Source, at: &PullCursor) -> bool {
    tool(source).is_none_or(|t| at.list >= t.lists.len())
}

/// The page of `source`'s lists at `at` (ONE request, its `429`s waited out): past
/// [`MAX_REQUESTS`] pages, said in words.
#[tracing::instrument(skip_all, fields(source = source.as_str(), pages = at.pages))]
pub async fn page(
    source: Source,
    bases: &Bases<'_>,
    credentials: &Credentials,
    at: &PullCursor,
) -> Result<Page, PullError> {
    let tool = tool_of(source)?;
    if at.pages >= u64::from(MAX_REQUESTS) {
        return Err(PullError::TooLarge(format!(
            "{}'s program takes more than {MAX_REQUESTS} pages to read: export its lists and upload the file instead.",
            tool.name
        )));
    }
    Pull::new(tool, bases.of_source(source), credentials)?
        .page(at)
        .await
}

/// The lists read, in the order read (each page's list and items), as the importer's JSON:
/// an object of each list's items (every list of the tool named, empty or not), or the one
/// list of a links tool.
pub fn joined(
    source: Source,
    pages: impl IntoIterator<Item = (String, Vec<Value>)>,
) -> Result<Vec<u8>, PullError> {
    let tool = tool_of(source)?;
    let mut program = serde_json::Map::new();
    for list in tool.lists {
        program.insert(list_name(list).to_owned(), Value::Array(Vec::new()));
    }
    for (list, items) in pages {
        if let Some(Value::Array(all)) = program.get_mut(&list) {
            all.extend(items);
        }
    }
    if tool.one_list {
        let only = program.into_iter().next().map(|(_, v)| v);
        return keep(tool, &only.unwrap_or(Value::Array(Vec::new())));
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
        credentials: &'a Credentials,
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

    /// The page at `at` (ONE request, its `429`s waited out), and where the pull stands after.
    async fn page(&self, at: &PullCursor) -> Result<Page, PullError> {
        let tool = self.tool;
        let raw = tool.lists.get(at.list).copied().unwrap_or_default();
        let list = list_name(raw);
        let url = self.url(raw, at.page, at.after.as_deref())?;
        let mut answer = self.get(&url).await?;
        // The list itself is taken too where an envelope is documented: FirstPromoter's
        // reference shows both.
        let got = answer
            .pointer(tool.items)
            .and_then(Value::as_array)
            .or_else(|| answer.as_array())
            .map(|items| !items.is_empty())
            .ok_or_else(|| {
                PullError::Tool(format!("{}'s list of {list} had no items.", tool.name))
            })?;
        let more = self.next(&answer, at.page, got);
        let items = match answer.pointer_mut(tool.items) {
            Some(Value::Array(items)) => std::mem::take(items),
            _ => match answer {
                Value::Array(items) => items,
                _ => Vec::new(),
            },
        };
        let mut next = PullCursor {
            pages: at.pages + 1,
            items: at.items + items.len() as u64,
            stalls: 0,
            ..at.clone()
        };
        match more {
            Some(page) => {
                next.page = page;
                if let Paging::After { id, .. } = tool.paging {
                    next.after = items
                        .last()
                        .map(|item| self.cursor(list, id, item))
                        .transpose()?;
                }
            }
            None => {
                next.list = at.list + 1;
                next.page = 1;
                next.after = None;
            }
        }
        Ok(Page { list, items, next })
    }

    /// The id of the last item read, which the next page is asked after: an item without it
    /// would ask for the first page again, and again.
    fn cursor(&self, list: &str, id: &str, item: &Value) -> Result<String, PullError> {
        match item.pointer(id) {
            Some(Value::String(s)) => Ok(s.clone()),
            Some(Value::Number(n)) => Ok(n.to_string()),
            _ => Err(PullError::Tool(format!(
                "{}'s list of {list} has an item without its {}: export the lists and import the file instead.",
                self.tool.name,
                id.trim_start_matches('/')
            ))),
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
    fn url(&self, list: &str, page: u64, after: Option<&str>) -> Result<url::Url, PullError> {
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
                    after: param,
                    ..
                } => {
                    query.append_pair(name, &size);
                    if let Some(cursor) = after {
                        query.append_pair(param, cursor);
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
            api_key: "k".into(),
            program_id: Some("prg 1".into()),
            ..Credentials::default()
        };
        let tolt = Pull::new(&TOLT, "http://t/", &credentials).unwrap();
        assert_eq!(
            tolt.url("partners", 1, None).unwrap().as_str(),
            "http://t/v1/partners?program_id=prg+1&limit=100"
        );
        assert_eq!(
            tolt.url("partners", 2, Some("part_9")).unwrap().as_str(),
            "http://t/v1/partners?program_id=prg+1&limit=100&starting_after=part_9"
        );
        let no_id = serde_json::json!({"name": "no id"});
        assert!(matches!(
            tolt.cursor("partners", "/id", &no_id),
            Err(PullError::Tool(m)) if m.contains("without its id")
        ));
        let fp_credentials = Credentials {
            account_id: Some("42".into()),
            ..credentials
        };
        let fp = Pull::new(&FIRSTPROMOTER, "http://f", &fp_credentials).unwrap();
        assert_eq!(
            fp.url("promoters", 3, None).unwrap().as_str(),
            "http://f/api/v2/company/promoters?page=3&per_page=100"
        );
    }

    #[test]
    fn sealed_credentials_open_in_their_place_only_and_never_show() {
        let keyring =
            crate::domain::sealed::Keyring::parse(&crate::domain::sealed::Keyring::generate_spec())
                .unwrap();
        let credentials = Credentials {
            api_key: "sk_live_secret".into(),
            public_key: Some("pk".into()),
            ..Credentials::default()
        };
        let sealed = credentials.to_sealed(&keyring, "import pull:acme:imp_1");
        assert!(!sealed.contains("sk_live_secret"));
        let opened = Credentials::open(&keyring, "import pull:acme:imp_1", &sealed).unwrap();
        assert_eq!(opened.api_key, "sk_live_secret");
        assert_eq!(opened.public_key.as_deref(), Some("pk"));
        assert!(Credentials::open(&keyring, "import pull:acme:imp_2", &sealed).is_none());
        assert_eq!(format!("{credentials:?}"), "Credentials(…)");
    }

    #[test]
    fn the_pages_read_join_as_the_importers_file_every_list_named() {
        let pages = vec![
            ("partners".to_owned(), vec![serde_json::json!({"id": 1})]),
            ("commissions".to_owned(), vec![serde_json::json!({"id": 2})]),
            ("partners".to_owned(), vec![serde_json::json!({"id": 3})]),
        ];
        let program: Value = serde_json::from_slice(&joined(Source::Dub, pages).unwrap()).unwrap();
        assert_eq!(
            program,
            serde_json::json!({"payouts": [], "partners": [{"id": 1}, {"id": 3}],
                               "customers": [], "commissions": [{"id": 2}]})
        );
        let links = vec![("links".to_owned(), vec![serde_json::json!({"id": "l"})])];
        let list: Value =
            serde_json::from_slice(&joined(Source::Rebrandly, links).unwrap()).unwrap();
        assert_eq!(list, serde_json::json!([{"id": "l"}]));
        assert!(ended(
            Source::Rebrandly,
            &PullCursor {
                list: 1,
                ..PullCursor::start()
            }
        ));
        assert!(!ended(Source::Rebrandly, &PullCursor::start()));
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
            api_key: "k".into(),
            ..Credentials::default()
        };
        let Err(PullError::Key(message)) = Pull::new(&FIRSTPROMOTER, "http://f", &credentials)
        else {
            panic!("a missing account id was taken");
        };
        assert!(message.starts_with("accountId: "), "{message}");
    }
}
