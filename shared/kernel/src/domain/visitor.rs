//! Visitor classification, run on every redirect: the device class from the User-Agent (bot
//! detection is [`super::bots`]), the click's source, and the analytics segment. Substring checks
//! on a lower-cased copy, with no heap allocation for ordinary User-Agents.

use std::fmt;

use memchr::memmem;
use serde::{Deserialize, Serialize};

pub use super::bots::BotReason;
use super::bots::bot_reason;

/// Longest source kept (sources land in keys, ctx tokens and CSV exports), in the bytes the ctx
/// payload takes, as for sub-ids ([`super::subids::MAX_SUB_ID_BYTES`]): bytes, so the token
/// always fits its bound. A referrer host is capped at the same length.
pub const MAX_SOURCE_BYTES: usize = 100;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Device {
    Mobile,
    Tablet,
    Desktop,
    Other,
}

impl Device {
    pub fn as_str(self) -> &'static str {
        match self {
            Device::Mobile => "mobile",
            Device::Tablet => "tablet",
            Device::Desktop => "desktop",
            Device::Other => "other",
        }
    }

    /// The device named `name` (case-insensitive, surrounding spaces ignored), if any.
    pub fn parse(name: &str) -> Option<Device> {
        let name = name.trim();
        [
            Device::Mobile,
            Device::Tablet,
            Device::Desktop,
            Device::Other,
        ]
        .into_iter()
        .find(|d| d.as_str().eq_ignore_ascii_case(name))
    }
}

impl fmt::Display for Device {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What the redirect learns from a User-Agent: the device class, and why it is a bot if it is one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UaClass {
    pub device: Device,
    pub bot: Option<BotReason>,
}

impl UaClass {
    pub fn is_bot(&self) -> bool {
        self.bot.is_some()
    }
}

/// Lower-casing happens into a stack buffer of this size; longer User-Agents (rare) use the heap.
const UA_STACK_BYTES: usize = 512;

/// Classify a User-Agent. A missing or blank one is a bot (real browsers always send one).
pub fn classify_user_agent(ua: Option<&str>) -> UaClass {
    classify_user_agent_bytes(ua.map(str::as_bytes))
}

/// [`classify_user_agent`] on the header's raw bytes: a localized browser's UA carries UTF-8
/// (`как Gecko`), which `HeaderValue::to_str` refuses, and it is a browser like any other. The
/// patterns match bytes, so nothing is decoded or copied beyond the lower-casing.
pub fn classify_user_agent_bytes(ua: Option<&[u8]>) -> UaClass {
    let ua = ua.map(<[u8]>::trim_ascii).unwrap_or_default();
    if ua.is_empty() {
        return UaClass {
            device: Device::Other,
            bot: Some(BotReason::MissingUserAgent),
        };
    }
    let mut stack = [0u8; UA_STACK_BYTES];
    let heap: Vec<u8>;
    let lower: &[u8] = if ua.len() <= UA_STACK_BYTES {
        let buf = &mut stack[..ua.len()];
        buf.copy_from_slice(ua);
        buf.make_ascii_lowercase();
        buf
    } else {
        heap = ua.to_ascii_lowercase();
        &heap
    };
    UaClass {
        device: device_of(lower),
        bot: bot_reason(ua, lower),
    }
}

/// A visitor's operating system, for `osIn` routing rules (issue 64).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Os {
    Ios,
    Android,
    Windows,
    Macos,
    Linux,
    Other,
}

impl Os {
    pub const ALL: [Os; 6] = [
        Os::Ios,
        Os::Android,
        Os::Windows,
        Os::Macos,
        Os::Linux,
        Os::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Os::Ios => "ios",
            Os::Android => "android",
            Os::Windows => "windows",
            Os::Macos => "macos",
            Os::Linux => "linux",
            Os::Other => "other",
        }
    }

    /// The system named `name` (case-insensitive, surrounding spaces ignored), if any.
    pub fn parse(name: &str) -> Option<Os> {
        let name = name.trim();
        Os::ALL
            .into_iter()
            .find(|o| o.as_str().eq_ignore_ascii_case(name))
    }
}

/// The operating system a User-Agent names. An iPad on iPadOS 13 or later asks for desktop
/// sites by default and then sends a Mac's User-Agent (`Macintosh; Intel Mac OS X 10_15_7`):
/// no header tells the two apart, so it is `macos` here (docs/redirects.md says how to route
/// it). Order matters: iOS and Windows Phone UAs also say "like Mac OS X" or "Android"; Android
/// UAs say "Linux".
pub fn os_of_user_agent_bytes(ua: Option<&[u8]>) -> Os {
    let ua = ua.map(<[u8]>::trim_ascii).unwrap_or_default();
    let mut stack = [0u8; UA_STACK_BYTES];
    let heap: Vec<u8>;
    let lower: &[u8] = if ua.len() <= UA_STACK_BYTES {
        let buf = &mut stack[..ua.len()];
        buf.copy_from_slice(ua);
        buf.make_ascii_lowercase();
        buf
    } else {
        heap = ua.to_ascii_lowercase();
        &heap
    };
    let has = |needle: &[u8]| contains(lower, needle);
    if has(b"windows phone") {
        Os::Other
    } else if has(b"iphone") || has(b"ipad") || has(b"ipod") {
        Os::Ios
    } else if has(b"android") {
        Os::Android
    } else if has(b"windows") {
        Os::Windows
    } else if has(b"macintosh") || has(b"mac os x") {
        Os::Macos
    } else if has(b"linux") || has(b"x11") {
        Os::Linux
    } else {
        Os::Other
    }
}

/// Order matters: Windows Phone UAs also claim Android and iPhone; iPads claim "Mobile".
fn device_of(ua: &[u8]) -> Device {
    let has = |needle: &[u8]| contains(ua, needle);
    if has(b"windows phone") {
        Device::Mobile
    } else if has(b"ipad") || has(b"kindle") {
        Device::Tablet
    } else if has(b"iphone") || has(b"ipod") {
        Device::Mobile
    } else if has(b"android") {
        // Android phones say "Mobile"; Android tablets do not.
        if has(b"mobile") {
            Device::Mobile
        } else {
            Device::Tablet
        }
    } else if has(b"tablet") {
        Device::Tablet
    } else if has(b"mobile") {
        Device::Mobile
    } else if has(b"windows nt") || has(b"macintosh") || has(b"x11") || has(b"cros ") {
        // "cros " with the space, so "Microsoft" does not count as a Chromebook.
        Device::Desktop
    } else {
        Device::Other
    }
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    memmem::find(haystack, needle).is_some()
}

/// The lower-cased host of an http(s) referrer, without a leading `www.`; `None` when the
/// referrer is missing, unparsable, not http(s) or has no host.
pub fn referrer_host(referrer: Option<&str>) -> Option<String> {
    let url = url::Url::parse(referrer?.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let host = url.host_str()?.trim_end_matches('.').to_ascii_lowercase();
    let host = host.strip_prefix("www.").unwrap_or(&host);
    (!host.is_empty()).then(|| cap_host(host))
}

/// At most [`MAX_SOURCE_BYTES`], like the source: the referrer rides in the ctx, whose length
/// the verifier bounds. A long host keeps its rightmost labels (the site, not the sub-domains).
/// An http(s) host is ASCII (IDNA), but the cut stays on a character boundary regardless.
fn cap_host(host: &str) -> String {
    if host.len() <= MAX_SOURCE_BYTES {
        return host.to_owned();
    }
    let mut from = host.len() - MAX_SOURCE_BYTES;
    while !host.is_char_boundary(from) {
        from += 1;
    }
    let tail = &host[from..];
    match tail.split_once('.') {
        Some((_, whole_labels)) if !whole_labels.is_empty() => whole_labels.to_owned(),
        _ => tail.to_owned(),
    }
}

/// The click's source: the first non-empty of `utm_source`, `src`, the referrer's host, else
/// `"direct"`, cleaned by [`clean_source`].
pub fn click_source(
    utm_source: Option<&str>,
    src: Option<&str>,
    referrer_host: Option<&str>,
) -> String {
    [utm_source, src, referrer_host]
        .into_iter()
        .flatten()
        .map(clean_source)
        .find(|s| !s.is_empty())
        .unwrap_or_else(|| "direct".to_owned())
}

/// Control characters removed, trimmed, lower-cased, at most [`MAX_SOURCE_BYTES`] in the ctx
/// (`"` and `\` counted as their escapes). May return an empty string; callers decide the
/// fallback.
pub(crate) fn clean_source(raw: &str) -> String {
    let no_controls: String = raw.chars().filter(|c| !c.is_control()).collect();
    let lower = no_controls.trim().to_lowercase();
    let cut = super::subids::within_json_bytes(&lower, MAX_SOURCE_BYTES);
    if cut.len() == lower.len() {
        return lower;
    }
    cut.trim_end().to_owned()
}

/// The analytics segment fixed at click time: `bot`, or new/returning crossed with the device.
pub fn segment(returning: bool, is_bot: bool, device: Device) -> String {
    if is_bot {
        return "bot".to_owned();
    }
    let visitor = if returning { "returning" } else { "new" };
    format!("{visitor}-{}", device.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use Device::*;

    const IPHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
    const IPAD: &str = "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1";
    const ANDROID_PHONE: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36";
    const ANDROID_TABLET: &str = "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
    const WINDOWS: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36";
    const MAC: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15";

    #[test]
    fn humans_by_device() {
        let cases = [
            (IPHONE, Mobile),
            (
                "Mozilla/5.0 (iPod touch; CPU iPhone OS 12_0 like Mac OS X)",
                Mobile,
            ),
            (IPAD, Tablet),
            (ANDROID_PHONE, Mobile),
            (ANDROID_TABLET, Tablet),
            (
                "Mozilla/5.0 (Android 4.4; Tablet; rv:41.0) Gecko/41.0 Firefox/41.0",
                Tablet,
            ),
            (
                "Mozilla/5.0 (Android 4.4; Mobile; rv:41.0) Gecko/41.0 Firefox/41.0",
                Mobile,
            ),
            (
                "Mozilla/5.0 (Windows Phone 10.0; Android 6.0.1; Microsoft; Lumia 950) AppleWebKit/537.36 Mobile Safari/537.36 Edge/15.15063",
                Mobile,
            ),
            (
                "Mozilla/5.0 (Linux; Android 9; CUBOT X19) AppleWebKit/537.36 Chrome/80.0 Mobile Safari/537.36",
                Mobile,
            ),
            (WINDOWS, Desktop),
            (MAC, Desktop),
            (
                "Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
                Desktop,
            ),
            (
                "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 Chrome/120.0 Safari/537.36",
                Desktop,
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 [Pinterest/iOS]",
                Mobile,
            ),
            (
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 [FBAN/FBIOS;FBAV/440.0]",
                Mobile,
            ),
            (
                "Mozilla/5.0 (PlayStation 5 3.11) AppleWebKit/605.1.15",
                Other,
            ),
        ];
        for (ua, device) in cases {
            assert_eq!(
                classify_user_agent(Some(ua)),
                UaClass { device, bot: None },
                "{ua}"
            );
        }
    }

    #[test]
    fn bots_are_flagged_and_still_get_a_device() {
        let cases = [
            (
                "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
                Other,
            ),
            (
                "Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 Chrome/120.0 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
                Mobile,
            ),
            (
                "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
                Other,
            ),
            (
                "Mozilla/5.0 (compatible; Yahoo! Slurp; http://help.yahoo.com/help/us/ysearch/slurp)",
                Other,
            ),
            (
                "DuckDuckBot/1.1; (+http://duckduckgo.com/duckduckbot.html)",
                Other,
            ),
            (
                "Mozilla/5.0 (compatible; Baiduspider/2.0; +http://www.baidu.com/search/spider.html)",
                Other,
            ),
            (
                "Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)",
                Other,
            ),
            (
                "Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)",
                Other,
            ),
            (
                "Mozilla/5.0 (compatible; SemrushBot/7~bl; +http://www.semrush.com/bot.html)",
                Other,
            ),
            ("Some-Crawler/1.0", Other),
            (
                "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
                Other,
            ),
            ("Facebot", Other),
            (
                "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
                Other,
            ),
            ("Slack-ImgProxy (+https://api.slack.com/robots)", Other),
            ("Twitterbot/1.0", Other),
            ("WhatsApp/2.23.20.0 A", Other),
            ("TelegramBot (like TwitterBot)", Other),
            (
                "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
                Other,
            ),
            (
                "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
                Other,
            ),
            ("Pinterest/0.2 (+https://www.pinterest.com/bot.html)", Other),
            (
                "Mozilla/5.0 (compatible; Pinterestbot/1.0; +http://www.pinterest.com/bot.html)",
                Other,
            ),
            (
                "Mozilla/5.0 (compatible; redditbot/1.0; +http://www.reddit.com/feedback)",
                Other,
            ),
            (
                "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/13.1.1 Safari/605.1.15 (Applebot/0.1)",
                Desktop,
            ),
            (
                "Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5",
                Desktop,
            ),
            (
                "Mozilla/5.0 (compatible; Embedly/0.2; +http://support.embed.ly/)",
                Other,
            ),
            (
                "Mozilla/5.0 (compatible; vkShare; +http://vk.com/dev/Share)",
                Other,
            ),
            ("Iframely/1.3.1 (+https://iframely.com/docs/about)", Other),
            (
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 Safari/537.36",
                Desktop,
            ),
            (
                "Mozilla/5.0 (Unknown; Linux x86_64) AppleWebKit/538.1 (KHTML, like Gecko) PhantomJS/2.1.1 Safari/538.1",
                Other,
            ),
            ("curl/8.4.0", Other),
            ("Wget/1.21", Other),
            ("python-requests/2.31.0", Other),
            ("Python-urllib/3.11", Other),
            ("Python/3.11 aiohttp/3.9.1", Other),
            ("Go-http-client/1.1", Other),
            ("okhttp/4.12.0", Other),
            ("Java/17.0.2", Other),
            ("libwww-perl/6.72", Other),
            ("axios/1.6.2", Other),
            (
                "node-fetch/1.0 (+https://github.com/bitinn/node-fetch)",
                Other,
            ),
            ("Scrapy/2.11.0 (+https://scrapy.org)", Other),
        ];
        for (ua, device) in cases {
            let class = classify_user_agent(Some(ua));
            assert_eq!(class.device, device, "{ua}");
            assert!(class.is_bot(), "{ua}");
        }
    }

    #[test]
    fn missing_or_blank_ua_is_a_bot() {
        for ua in [None, Some(""), Some("   ")] {
            assert_eq!(
                classify_user_agent(ua),
                UaClass {
                    device: Other,
                    bot: Some(BotReason::MissingUserAgent)
                },
                "{ua:?}"
            );
        }
    }

    #[test]
    fn long_user_agents_take_the_heap_path_identically() {
        let long = format!("{IPHONE} {}", "x".repeat(UA_STACK_BYTES));
        assert_eq!(
            classify_user_agent(Some(&long)),
            UaClass {
                device: Mobile,
                bot: None
            }
        );
        let long_bot = format!("{} Googlebot", "y".repeat(UA_STACK_BYTES * 4));
        assert!(classify_user_agent(Some(&long_bot)).is_bot());
        // Multi-byte characters straddling the buffer size must not panic.
        let unicode = "é".repeat(UA_STACK_BYTES);
        assert_eq!(
            classify_user_agent(Some(&unicode)),
            UaClass {
                device: Other,
                bot: None
            }
        );
    }

    #[test]
    fn device_names() {
        for d in [Mobile, Tablet, Desktop, Other] {
            assert_eq!(Device::parse(d.as_str()), Some(d));
            assert_eq!(Device::parse(&d.as_str().to_uppercase()), Some(d));
            assert_eq!(serde_json::to_string(&d).unwrap(), format!("\"{d}\""));
        }
        assert_eq!(Device::parse("phone"), None);
        assert_eq!(
            serde_json::from_str::<Device>("\"tablet\"").unwrap(),
            Tablet
        );
        assert!(serde_json::from_str::<Device>("\"Tablet\"").is_err());
    }

    #[test]
    fn referrer_hosts() {
        let long_referrer = format!("https://{}.example.com/", "a".repeat(5000));
        let cases = [
            (None, None),
            (Some(""), None),
            (Some("not a url"), None),
            (Some("/relative"), None),
            (Some("android-app://com.google.android.gm/"), None),
            (Some("ftp://files.example.com/"), None),
            (
                Some("https://www.Google.com/search?q=x"),
                Some("google.com"),
            ),
            (Some("http://t.co/abc"), Some("t.co")),
            (Some(long_referrer.as_str()), Some("example.com")),
            (Some("https://WWW.example.co.uk./"), Some("example.co.uk")),
            (Some("https://www2.example.com"), Some("www2.example.com")),
            (Some("https://192.168.0.1:8080/x"), Some("192.168.0.1")),
            (
                Some("  https://news.ycombinator.com/  "),
                Some("news.ycombinator.com"),
            ),
        ];
        for (input, want) in cases {
            assert_eq!(referrer_host(input).as_deref(), want, "{input:?}");
        }
    }

    #[test]
    fn click_source_precedence_and_cleaning() {
        let long = "Ü".repeat(150);
        type Case<'a> = (Option<&'a str>, Option<&'a str>, Option<&'a str>, String);
        let cases: [Case<'_>; 9] = [
            (
                Some("Newsletter"),
                Some("ig"),
                Some("google.com"),
                "newsletter".into(),
            ),
            (None, Some(" IG "), Some("google.com"), "ig".into()),
            (
                Some("  "),
                Some(""),
                Some("google.com"),
                "google.com".into(),
            ),
            (None, None, Some("t.co"), "t.co".into()),
            (None, None, None, "direct".into()),
            (Some("\u{0}\t"), None, None, "direct".into()),
            (Some("news\r\nletter"), None, None, "newsletter".into()),
            (Some(&long), None, None, "ü".repeat(MAX_SOURCE_BYTES / 2)),
            (Some("ÉTÉ"), None, None, "été".into()),
        ];
        for (utm, src, host, want) in cases {
            assert_eq!(
                click_source(utm, src, host),
                want,
                "{utm:?} {src:?} {host:?}"
            );
        }
    }

    #[test]
    fn segments() {
        let cases = [
            (false, false, Mobile, "new-mobile"),
            (true, false, Desktop, "returning-desktop"),
            (true, false, Tablet, "returning-tablet"),
            (false, false, Other, "new-other"),
            (true, true, Mobile, "bot"),
            (false, true, Desktop, "bot"),
        ];
        for (returning, bot, device, want) in cases {
            assert_eq!(segment(returning, bot, device), want);
        }
    }

    #[test]
    fn the_operating_system_comes_from_the_user_agent() {
        let os = |ua: &str| os_of_user_agent_bytes(Some(ua.as_bytes())).as_str();
        assert_eq!(
            os("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Safari/604.1"),
            "ios"
        );
        assert_eq!(
            os("Mozilla/5.0 (iPad; CPU OS 12_0 like Mac OS X) Mobile/15E148"),
            "ios"
        );
        assert_eq!(
            os("Mozilla/5.0 (Linux; Android 14; Pixel 8) Chrome/120 Mobile"),
            "android"
        );
        assert_eq!(
            os("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/120"),
            "windows"
        );
        // An iPad asking for the desktop site: a Mac's User-Agent, so macOS.
        assert_eq!(
            os("Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) Safari/605.1.15"),
            "macos"
        );
        assert_eq!(os("Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0"), "linux");
        assert_eq!(
            os("Mozilla/5.0 (Windows Phone 10.0; Android 6.0.1) Edge/15"),
            "other"
        );
        assert_eq!(os("curl/8.0"), "other");
        assert_eq!(os_of_user_agent_bytes(None), Os::Other);
        assert_eq!(Os::parse(" iOS "), Some(Os::Ios));
        assert_eq!(Os::parse("ipados"), None);
        let names: Vec<&str> = Os::ALL.iter().map(|o| o.as_str()).collect();
        assert_eq!(names, crate::domain::link::OS_NAMES);
    }
}
