//! A visitor's OS, browser and kind of device from its User-Agent, with versions grouped as
//! people read them ("Chrome 131", "iOS 18", "Android 14", "Windows 10/11", "macOS").
//!
//! The parsing is woothee's (README.md says why this crate); this module only names what it
//! finds the way an analytics page shows it.

use woothee::parser::{Parser, WootheeResult};

/// Longer User-Agents are cut here before parsing: real ones are a few hundred bytes, and a
/// header of kilobytes should not cost the redirect more than a real one.
const MAX_UA_BYTES: usize = 1024;
/// What woothee answers for a field it could not read.
const UNKNOWN: &str = "UNKNOWN";

/// What kind of device sent a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeviceKind {
    Mobile,
    Desktop,
    Tablet,
    /// A crawler, link-preview fetcher or HTTP library: not a person's browser.
    Bot,
    Unknown,
}

/// A visitor's device as analytics show it; `None` where the User-Agent does not say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// `"iOS 18"`, `"Android 14"`, `"Windows 10/11"`, `"macOS"`, `"Linux"`, `"ChromeOS"`.
    pub os: Option<String>,
    /// `"Chrome 131"`, `"Safari 18"`, `"Edge 131"`, `"Firefox 133"`; a bot's own name
    /// (`"Googlebot"`), `"curl"` for curl.
    pub browser: Option<String>,
    pub kind: DeviceKind,
}

impl Device {
    /// The browser without its version, as a chart groups browsers (`"Chrome"`, `"Safari"`,
    /// `"Samsung Internet"`, `"Googlebot"`): browsers update themselves every few weeks, so a
    /// version would split one browser into a new row a month.
    pub fn browser_family(&self) -> Option<&str> {
        let browser = self.browser.as_deref()?;
        Some(match browser.rsplit_once(' ') {
            Some((name, version)) if major(version) == Some(version) => name,
            _ => browser,
        })
    }
}

/// The device of a User-Agent header's value (empty or unreadable: all unknown). Allocation-light
/// and without start-up cost: about two microseconds (README.md, "Measured").
pub fn device(ua: &str) -> Device {
    let ua = cut(ua.trim(), MAX_UA_BYTES);
    match Parser::new().parse(ua) {
        Some(found) => Device {
            os: os_of(&found),
            browser: browser_of(&found),
            kind: kind_of(&found, ua),
        },
        None => Device {
            os: None,
            browser: None,
            kind: DeviceKind::Unknown,
        },
    }
}

/// `text` cut to at most `max` bytes, on a character boundary.
fn cut(text: &str, max: usize) -> &str {
    let mut end = text.len().min(max);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

fn known(field: &str) -> Option<&str> {
    Some(field.trim()).filter(|f| !f.is_empty() && *f != UNKNOWN)
}

/// The leading number of a version ("131.0.6778.81" → "131"), if it starts with one.
fn major(version: &str) -> Option<&str> {
    let digits = version.split(['.', '_', ' ']).next()?;
    (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

fn os_of(found: &WootheeResult<'_>) -> Option<String> {
    let os = known(found.os)?;
    let version = known(&found.os_version).and_then(major);
    let named = match (os, version) {
        ("iPhone" | "iPod", Some(v)) => format!("iOS {v}"),
        ("iPhone" | "iPod", None) => "iOS".to_owned(),
        // Apple has called the iPad's system iPadOS since version 13.
        ("iPad", Some(v)) if v.parse::<u32>().is_ok_and(|n| n >= 13) => format!("iPadOS {v}"),
        ("iPad", Some(v)) => format!("iOS {v}"),
        ("iPad", None) => "iPadOS".to_owned(),
        ("Android", Some(v)) => format!("Android {v}"),
        // Windows 11 still sends "Windows NT 10.0": the two cannot be told apart.
        ("Windows 10", _) => "Windows 10/11".to_owned(),
        ("Windows UNKNOWN Ver", _) => "Windows".to_owned(),
        // macOS has frozen the version it sends at 10.15 since macOS 11.
        ("Mac OSX", _) => "macOS".to_owned(),
        (other, _) => other.to_owned(),
    };
    Some(named)
}

fn browser_of(found: &WootheeResult<'_>) -> Option<String> {
    let name = known(found.name)?;
    let named = match (name, known(found.version)) {
        // An HTTP library's version field holds its name.
        ("HTTP Library", Some(library)) => library.to_owned(),
        // An app's own web view (Facebook, Instagram, …): the app is not named.
        ("Webview", _) => "In-app browser".to_owned(),
        ("SamsungBrowser", version) => match version.and_then(major) {
            Some(v) => format!("Samsung Internet {v}"),
            None => "Samsung Internet".to_owned(),
        },
        (name, Some(version)) if found.category != "crawler" => match major(version) {
            Some(v) => format!("{name} {v}"),
            None => name.to_owned(),
        },
        (name, _) => name.to_owned(),
    };
    Some(named)
}

fn kind_of(found: &WootheeResult<'_>, ua: &str) -> DeviceKind {
    match found.category {
        "crawler" => DeviceKind::Bot,
        "misc" if found.name == "HTTP Library" => DeviceKind::Bot,
        "pc" => DeviceKind::Desktop,
        "mobilephone" => DeviceKind::Mobile,
        // Android tablets send no "Mobile" token: Google's guidance to their makers.
        "smartphone" if found.os == "iPad" => DeviceKind::Tablet,
        "smartphone" if found.os == "Android" && !ua.contains("Mobile") => DeviceKind::Tablet,
        "smartphone" => DeviceKind::Mobile,
        _ => DeviceKind::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(ua: &str, os: Option<&str>, browser: Option<&str>, kind: DeviceKind) {
        let expected = Device {
            os: os.map(str::to_owned),
            browser: browser.map(str::to_owned),
            kind,
        };
        assert_eq!(device(ua), expected, "{ua}");
    }

    #[test]
    fn phones_are_named_with_their_systems_major_version() {
        check(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
            Some("iOS 18"),
            Some("Safari 18"),
            DeviceKind::Mobile,
        );
        check(
            "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.81 Mobile Safari/537.36",
            Some("Android 14"),
            Some("Chrome 131"),
            DeviceKind::Mobile,
        );
        check(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_6_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/131.0.6778.73 Mobile/15E148 Safari/604.1",
            Some("iOS 17"),
            Some("Chrome 131"),
            DeviceKind::Mobile,
        );
    }

    #[test]
    fn samsung_internet_and_in_app_browsers_are_named_as_people_know_them() {
        check(
            "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36",
            Some("Android 14"),
            Some("Samsung Internet 26"),
            DeviceKind::Mobile,
        );
        check(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/22B83 [FBAN/FBIOS;FBAV/489.0.0.41.109;FBBV/664226452;FBDV/iPhone15,2;FBMD/iPhone;FBSN/iOS;FBSV/18.1;FBSS/3;FBCR/;FBID/phone;FBLC/en_US;FBOP/80]",
            Some("iOS 18"),
            Some("In-app browser"),
            DeviceKind::Mobile,
        );
        check(
            "Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/AP2A.240805.005; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/128.0.6613.127 Mobile Safari/537.36 Instagram 350.0.0.0.0 Android",
            Some("Android 14"),
            Some("In-app browser"),
            DeviceKind::Mobile,
        );
    }

    #[test]
    fn tablets_are_told_from_phones() {
        check(
            "Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
            Some("iPadOS 17"),
            Some("Safari 17"),
            DeviceKind::Tablet,
        );
        check(
            "Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
            Some("Android 13"),
            Some("Chrome 130"),
            DeviceKind::Tablet,
        );
    }

    #[test]
    fn desktops_group_windows_10_and_11_and_drop_the_frozen_macos_version() {
        check(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.70",
            Some("Windows 10/11"),
            Some("Edge 131"),
            DeviceKind::Desktop,
        );
        check(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
            Some("Windows 10/11"),
            Some("Chrome 131"),
            DeviceKind::Desktop,
        );
        check(
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:133.0) Gecko/20100101 Firefox/133.0",
            Some("macOS"),
            Some("Firefox 133"),
            DeviceKind::Desktop,
        );
        check(
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
            Some("macOS"),
            Some("Safari 18"),
            DeviceKind::Desktop,
        );
        check(
            "Mozilla/5.0 (Windows NT 6.1; Trident/7.0; rv:11.0) like Gecko",
            Some("Windows 7"),
            Some("Internet Explorer 11"),
            DeviceKind::Desktop,
        );
        check(
            "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
            Some("ChromeOS"),
            Some("Chrome 131"),
            DeviceKind::Desktop,
        );
        check(
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 OPR/115.0.0.0",
            Some("Windows 10/11"),
            Some("Opera 115"),
            DeviceKind::Desktop,
        );
        check(
            "Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
            Some("Linux"),
            Some("Firefox 132"),
            DeviceKind::Desktop,
        );
    }

    #[test]
    fn crawlers_and_http_libraries_are_bots_named_as_themselves() {
        check(
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            None,
            Some("Googlebot"),
            DeviceKind::Bot,
        );
        check("curl/8.5.0", None, Some("curl"), DeviceKind::Bot);
        check(
            "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
            None,
            Some("facebook"),
            DeviceKind::Bot,
        );
        // Libraries woothee does not know are unknown, not bots: the product's own bot check
        // (isbot's patterns) is the one that decides what a click counts as.
        check("python-requests/2.32.3", None, None, DeviceKind::Unknown);
    }

    #[test]
    fn browser_families_drop_the_version_and_nothing_else() {
        let family = |ua: &str| device(ua).browser_family().map(str::to_owned);
        let chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";
        assert_eq!(family(chrome).as_deref(), Some("Chrome"));
        let samsung = "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/26.0 Chrome/122.0.0.0 Mobile Safari/537.36";
        assert_eq!(family(samsung).as_deref(), Some("Samsung Internet"));
        let ie = "Mozilla/5.0 (Windows NT 6.1; Trident/7.0; rv:11.0) like Gecko";
        assert_eq!(family(ie).as_deref(), Some("Internet Explorer"));
        let googlebot = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
        assert_eq!(family(googlebot).as_deref(), Some("Googlebot"));
        assert_eq!(family("").as_deref(), None);
        let named = Device {
            os: None,
            browser: Some("In-app browser".to_owned()),
            kind: DeviceKind::Mobile,
        };
        assert_eq!(named.browser_family(), Some("In-app browser"));
    }

    #[test]
    fn empty_and_unreadable_user_agents_are_unknown() {
        for ua in ["", "   ", "-", "\u{1f600}"] {
            assert_eq!(device(ua).kind, DeviceKind::Unknown, "{ua:?}");
            assert_eq!(device(ua).os, None, "{ua:?}");
        }
    }

    #[test]
    fn an_overlong_user_agent_is_cut_on_a_character_boundary() {
        let long = format!("Mozilla/5.0 (Windows NT 10.0) {}", "é".repeat(4000));
        assert_eq!(device(&long).os.as_deref(), Some("Windows 10/11"));
        assert_eq!(cut("aé", 2), "a");
        assert_eq!(cut("abc", 10), "abc");
    }
}
