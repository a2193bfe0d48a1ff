//! Paid-ad traffic (issue 83, pure): a click that carries an ad network's click id in its query
//! (`gclid`, `msclkid`, `ttclid`, …) or arrives from an ad network's own click servers (its
//! referrer) came from an ad someone paid for. `fbclid` is not one: Facebook and Instagram add
//! it to every outbound link, organic posts included. Read at the redirect in the pass that
//! already reads the query (no allocation), and named on the click so partner risk can find it
//! later (`paid_traffic`).

/// Ad networks' click-id parameters and the network each names, compared without case.
const CLICK_IDS: &[(&str, &str)] = &[
    ("gclid", "Google Ads"),
    ("gbraid", "Google Ads"),
    ("wbraid", "Google Ads"),
    ("dclid", "Google Display & Video 360"),
    ("msclkid", "Microsoft Advertising"),
    ("ttclid", "TikTok Ads"),
    ("li_fat_id", "LinkedIn Ads"),
    ("twclid", "X (Twitter) Ads"),
    ("sccid", "Snapchat Ads"),
    ("epik", "Pinterest Ads"),
    ("rdt_cid", "Reddit Ads"),
    ("qclid", "Quora Ads"),
    ("yclid", "Yandex Direct"),
    ("tblci", "Taboola"),
];

/// Ad networks' click servers, matched as the referrer's host or a domain it is under.
const REFERRERS: &[(&str, &str)] = &[
    ("googleadservices.com", "Google Ads"),
    ("doubleclick.net", "Google Ads"),
    ("googlesyndication.com", "Google Ads"),
    ("syndicatedsearch.goog", "Google Ads"),
    ("adservice.google.com", "Google Ads"),
    ("ads.linkedin.com", "LinkedIn Ads"),
    ("ads-twitter.com", "X (Twitter) Ads"),
    ("ads.tiktok.com", "TikTok Ads"),
    ("taboola.com", "Taboola"),
    ("outbrain.com", "Outbrain"),
    ("criteo.com", "Criteo"),
    ("criteo.net", "Criteo"),
    ("adnxs.com", "Xandr"),
    ("amazon-adsystem.com", "Amazon Ads"),
    ("adroll.com", "AdRoll"),
];

/// The click-id parameter `name` is, in its listed spelling (`gclid`), if it is an ad's.
pub fn click_id(name: &str) -> Option<&'static str> {
    CLICK_IDS
        .iter()
        .find(|(p, _)| p.eq_ignore_ascii_case(name))
        .map(|(p, _)| *p)
}

/// The listed ad server a referrer host is or is under (`googleads.g.doubleclick.net` →
/// `doubleclick.net`), if any.
pub fn referrer(host: &str) -> Option<&'static str> {
    let host = host.trim_end_matches('.');
    REFERRERS
        .iter()
        .find(|(d, _)| {
            host.eq_ignore_ascii_case(d)
                || (host.len() > d.len()
                    && host.as_bytes()[host.len() - d.len() - 1] == b'.'
                    && host[host.len() - d.len()..].eq_ignore_ascii_case(d))
        })
        .map(|(d, _)| *d)
}

/// A click's mark ([`click_id`] or [`referrer`]) in words: `a Google Ads click id (gclid)`,
/// `the ad server doubleclick.net (Google Ads)`.
pub fn words(mark: &str) -> String {
    if let Some((p, network)) = CLICK_IDS.iter().find(|(p, _)| *p == mark) {
        return format!("a {network} click id ({p})");
    }
    match REFERRERS.iter().find(|(d, _)| *d == mark) {
        Some((d, network)) => format!("the ad server {d} ({network})"),
        None => format!("the ad mark {mark}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ad_click_ids_and_ad_servers_are_paid_and_organic_marks_are_not() {
        for p in [
            "gclid",
            "GCLID",
            "msclkid",
            "ttclid",
            "li_fat_id",
            "twclid",
            "ScCid",
        ] {
            assert!(click_id(p).is_some(), "{p}");
        }
        assert_eq!(click_id("Gclid"), Some("gclid"));
        for organic in ["fbclid", "utm_source", "sub1", "igshid", "ref", ""] {
            assert_eq!(click_id(organic), None, "{organic}");
        }
        assert_eq!(
            referrer("googleads.g.doubleclick.net"),
            Some("doubleclick.net")
        );
        assert_eq!(
            referrer("www.googleadservices.com"),
            Some("googleadservices.com")
        );
        for organic in [
            "www.google.com",
            "t.co",
            "notdoubleclick.net",
            "direct",
            "bing.com",
        ] {
            assert_eq!(referrer(organic), None, "{organic}");
        }
        assert_eq!(words("gclid"), "a Google Ads click id (gclid)");
        assert_eq!(
            words("doubleclick.net"),
            "the ad server doubleclick.net (Google Ads)"
        );
    }
}
