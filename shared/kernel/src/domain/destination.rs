//! The final `location` of a redirect: the routed destination plus the link's UTM parameters and
//! the ctx token. The destination's own query and fragment are kept byte-for-byte: rewriting
//! them (re-encoding, reordering) can break the landing page's own parameters or signatures.

use std::borrow::Cow;

use url::form_urlencoded;

use super::link::Tracking;

/// Query parameter carrying the click-context token.
pub const CTX_PARAM: &str = "ctx";

/// The most bytes of visitor parameters forwarded (encoded); pairs beyond are dropped whole.
pub const MAX_FORWARDED_BYTES: usize = 2048;
/// The most visitor parameters forwarded.
pub const MAX_FORWARDED_PARAMS: usize = 50;

/// [`build_destination_with`] without a forwarded query.
pub fn build_destination(base: &str, tracking: Option<&Tracking>, ctx: Option<&str>) -> String {
    build_destination_with(base, tracking, None, ctx)
}

/// Build the redirect target from `base` (an already validated destination URL).
///
/// Precedence, highest first: the destination's own parameters, the link's UTM parameters, the
/// visitor's forwarded ones; `ctx` is always the redirect's own. The link owner decides the
/// attribution tags, so a visitor cannot rewrite a partner's `utm_*` or plant a `ctx`, while
/// `gclid`, `coupon` and the like pass through.
///
/// * UTM pairs from `tracking` are appended only for parameters `base` does not already carry:
///   an explicit parameter on the destination wins, and no key is ever duplicated.
/// * With `ctx`, `ctx=<token>` is appended and any `ctx` already on `base` is dropped (a stale
///   or forged token must not shadow the fresh one). Without `ctx`, `base` is left alone.
/// * `forwarded` (the short URL's raw query) is re-encoded pair by pair; empty names, `ctx` and
///   names already present are skipped, at most [`MAX_FORWARDED_PARAMS`] pairs and
///   [`MAX_FORWARDED_BYTES`] bytes are kept (a pair that does not fit is dropped whole).
/// * The fragment stays at the very end.
pub fn build_destination_with(
    base: &str,
    tracking: Option<&Tracking>,
    forwarded: Option<&str>,
    ctx: Option<&str>,
) -> String {
    let (before_fragment, fragment) = match base.find('#') {
        Some(i) => base.split_at(i),
        None => (base, ""),
    };
    let (path, query) = match before_fragment.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (before_fragment, None),
    };
    // The destination's keys, decoded once: every added key is checked against them.
    let base_keys: Vec<Cow<'_, str>> =
        query.map_or_else(Vec::new, |q| q.split('&').map(key_of).collect());
    let base_has = |key: &str| base_keys.iter().any(|k| k == key);

    let forwarded_len = forwarded.map_or(0, |f| f.len().min(MAX_FORWARDED_BYTES));
    let capacity = base.len() + 128 + forwarded_len + ctx.map_or(0, str::len);
    let mut out = Query::new(String::with_capacity(capacity));
    out.s.push_str(path);
    if let Some(q) = query {
        out.s.push('?');
        if ctx.is_some() && base_has(CTX_PARAM) {
            let kept = q.split('&').filter(|seg| key_of(seg) != CTX_PARAM);
            for (i, seg) in kept.enumerate() {
                if i > 0 {
                    out.s.push('&');
                }
                out.s.push_str(seg);
            }
        } else {
            out.s.push_str(q);
        }
        out.open = true;
    }

    let tracked: Vec<(&str, &str)> = tracking.map(|t| t.pairs()).unwrap_or_default();
    for (key, value) in &tracked {
        if !base_has(key) {
            out.append(key, value);
        }
    }
    let taken =
        |key: &str| key == CTX_PARAM || base_has(key) || tracked.iter().any(|(k, _)| *k == key);
    append_forwarded(&mut out, forwarded, taken);
    if let Some(token) = ctx {
        out.append(CTX_PARAM, token);
    }

    out.s.push_str(fragment);
    out.s
}

/// A URL being built, and whether its query has begun (`?` written).
struct Query {
    s: String,
    open: bool,
}

impl Query {
    fn new(s: String) -> Self {
        Self { s, open: false }
    }

    /// Appends `key=value`, both form-encoded; returns the encoded pair's length.
    fn append(&mut self, key: &str, value: &str) -> usize {
        if !self.open {
            self.s.push('?');
            self.open = true;
        } else if !(self.s.ends_with('?') || self.s.ends_with('&')) {
            self.s.push('&');
        }
        let start = self.s.len();
        self.s
            .extend(form_urlencoded::byte_serialize(key.as_bytes()));
        self.s.push('=');
        self.s
            .extend(form_urlencoded::byte_serialize(value.as_bytes()));
        self.s.len() - start
    }
}

/// The visitor's pairs that may be forwarded, within the bounds, each encoded once, straight
/// into `out` (and taken back out if it does not fit).
fn append_forwarded(out: &mut Query, forwarded: Option<&str>, taken: impl Fn(&str) -> bool) {
    let mut budget = MAX_FORWARDED_BYTES;
    for (key, value) in query_pairs(forwarded.unwrap_or("")).take(MAX_FORWARDED_PARAMS) {
        if key.is_empty() || taken(&key) {
            continue;
        }
        // Encoding never shortens: a pair over the budget raw is over it encoded.
        if key.len() + value.len() + 2 > budget {
            continue;
        }
        let (mark, was_open) = (out.s.len(), out.open);
        // The pair, its `=` and its separator.
        let size = out.append(&key, &value) + 1;
        if size > budget {
            out.s.truncate(mark);
            out.open = was_open;
            continue;
        }
        budget -= size;
    }
}

/// The decoded name of one `name=value` query segment (`+` and `%XX` decoded, as servers do).
fn key_of(segment: &str) -> Cow<'_, str> {
    decode_segment(segment).map_or(Cow::Borrowed(""), |(k, _)| k)
}

/// A query's decoded pairs: exactly what [`form_urlencoded::parse`] yields, without its
/// decoding and UTF-8 check for the usual segment that has nothing to decode.
pub fn query_pairs(query: &str) -> impl Iterator<Item = (Cow<'_, str>, Cow<'_, str>)> {
    query.split('&').filter_map(decode_segment)
}

/// One `name=value` segment, decoded; `None` for an empty one (skipped, as by the parser).
fn decode_segment(segment: &str) -> Option<(Cow<'_, str>, Cow<'_, str>)> {
    if segment.bytes().any(|b| b == b'%' || b == b'+') {
        return form_urlencoded::parse(segment.as_bytes()).next();
    }
    if segment.is_empty() {
        return None;
    }
    let (name, value) = segment.split_once('=').unwrap_or((segment, ""));
    Some((Cow::Borrowed(name), Cow::Borrowed(value)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_visitors_query_is_forwarded_below_the_destination_and_the_link() {
        let t = Tracking {
            utm_source: Some("partner".into()),
            ..Default::default()
        };
        let built = build_destination_with(
            "https://e.com/p?ref=site",
            Some(&t),
            Some(
                "gclid=abc&coupon=SAVE%2010&ref=visitor&utm_source=spam&ctx=forged&=x&utm_medium=cpc",
            ),
            Some("tok"),
        );
        assert_eq!(
            built,
            "https://e.com/p?ref=site&utm_source=partner&gclid=abc&coupon=SAVE+10&utm_medium=cpc&ctx=tok"
        );
        // Names and values are re-encoded; nothing is forwarded without a query.
        let odd = build_destination_with("https://e.com/", None, Some("a b=c&d=%26"), None);
        assert_eq!(odd, "https://e.com/?a+b=c&d=%26");
        assert_eq!(
            build_destination_with("https://e.com/", None, None, None),
            "https://e.com/"
        );
    }

    #[test]
    fn forwarded_parameters_are_bounded() {
        let many: Vec<String> = (0..80).map(|i| format!("p{i}=v")).collect();
        let built = build_destination_with("https://e.com/", None, Some(&many.join("&")), None);
        assert_eq!(built.matches('=').count(), MAX_FORWARDED_PARAMS);
        let huge = format!("big={}&small=1", "x".repeat(5000));
        let built = build_destination_with("https://e.com/", None, Some(&huge), None);
        assert_eq!(
            built, "https://e.com/?small=1",
            "an oversized pair is dropped whole"
        );
    }

    fn tracking() -> Tracking {
        Tracking {
            utm_source: Some("news letter".into()),
            utm_medium: Some("email".into()),
            utm_campaign: Some("a&b=c#d".into()),
            ..Default::default()
        }
    }

    const UTM: &str = "utm_source=news+letter&utm_medium=email&utm_campaign=a%26b%3Dc%23d";

    #[test]
    fn table() {
        let t = tracking();
        let empty = Tracking::default();
        let cases: Vec<(&str, Option<&Tracking>, Option<&str>, String)> = vec![
            (
                "https://e.com/p",
                Some(&t),
                Some("k1.abc.def"),
                format!("https://e.com/p?{UTM}&ctx=k1.abc.def"),
            ),
            (
                "https://e.com/p?x=1",
                Some(&t),
                Some("tok"),
                format!("https://e.com/p?x=1&{UTM}&ctx=tok"),
            ),
            (
                "https://e.com/p#sec",
                Some(&t),
                Some("tok"),
                format!("https://e.com/p?{UTM}&ctx=tok#sec"),
            ),
            (
                "https://e.com/p?x=1#sec?y=2&z",
                Some(&t),
                Some("tok"),
                format!("https://e.com/p?x=1&{UTM}&ctx=tok#sec?y=2&z"),
            ),
            (
                "https://e.com/p?a=1&a=2",
                None,
                Some("tok"),
                "https://e.com/p?a=1&a=2&ctx=tok".into(),
            ),
            (
                "https://e.com/p?",
                Some(&t),
                Some("tok"),
                format!("https://e.com/p?{UTM}&ctx=tok"),
            ),
            (
                "https://e.com/p#",
                Some(&t),
                Some("tok"),
                format!("https://e.com/p?{UTM}&ctx=tok#"),
            ),
            (
                "https://e.com/p?x=1&",
                None,
                Some("tok"),
                "https://e.com/p?x=1&ctx=tok".into(),
            ),
            // explicit parameters on the destination win, even when encoded differently
            (
                "https://e.com/?utm_source=own&q=%20x",
                Some(&t),
                None,
                "https://e.com/?utm_source=own&q=%20x&utm_medium=email&utm_campaign=a%26b%3Dc%23d"
                    .into(),
            ),
            (
                "https://e.com/?utm%5Fmedium=own",
                Some(&t),
                None,
                "https://e.com/?utm%5Fmedium=own&utm_source=news+letter&utm_campaign=a%26b%3Dc%23d"
                    .into(),
            ),
            // an existing ctx is replaced, wherever it sits, and only when we add our own
            (
                "https://e.com/?ctx=old&x=1&ctx=older",
                None,
                Some("new"),
                "https://e.com/?x=1&ctx=new".into(),
            ),
            (
                "https://e.com/?ctx=old",
                None,
                Some("new"),
                "https://e.com/?ctx=new".into(),
            ),
            (
                "https://e.com/?ctx=old",
                None,
                None,
                "https://e.com/?ctx=old".into(),
            ),
            (
                "https://e.com/?context=1&xctx=2",
                None,
                Some("new"),
                "https://e.com/?context=1&xctx=2&ctx=new".into(),
            ),
            // nothing to add: byte-for-byte identical
            (
                "https://e.com/p?q=%7Bodd%7D&&b#f",
                None,
                None,
                "https://e.com/p?q=%7Bodd%7D&&b#f".into(),
            ),
            ("https://e.com/p?", None, None, "https://e.com/p?".into()),
            (
                "https://e.com/p#",
                Some(&empty),
                None,
                "https://e.com/p#".into(),
            ),
        ];
        for (base, t, ctx, want) in cases {
            assert_eq!(build_destination(base, t, ctx), want, "{base}");
        }
    }

    #[test]
    fn query_pairs_are_the_parsers_pairs() {
        let queries = [
            "",
            "&&",
            "a=1&b&=c&d==e&&f=",
            "a+b=c%20d&e=%zz&%E6%97%A5=%FF&x=y+z",
            "utm_source=newsletter&gclid=Cj0KCQjw-abc123&sub1=partner-a",
            "k=caf\u{e9}&\u{65e5}=1",
        ];
        for q in queries {
            let fast: Vec<_> = query_pairs(q).collect();
            let parsed: Vec<_> = form_urlencoded::parse(q.as_bytes()).collect();
            assert_eq!(fast, parsed, "{q}");
        }
    }

    #[test]
    fn unicode_values_are_utf8_percent_encoded() {
        let t = Tracking {
            utm_source: Some("café ☕".into()),
            utm_term: Some("日本".into()),
            ..Default::default()
        };
        assert_eq!(
            build_destination("https://e.com/", Some(&t), None),
            "https://e.com/?utm_source=caf%C3%A9+%E2%98%95&utm_term=%E6%97%A5%E6%9C%AC"
        );
    }

    #[test]
    fn result_parses_back_to_the_intended_pairs() {
        let t = tracking();
        let out = build_destination("https://e.com/p?a=1&a=2#frag", Some(&t), Some("k1.x-y_z.s"));
        let url = url::Url::parse(&out).unwrap();
        let pairs: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        let want = [
            ("a", "1"),
            ("a", "2"),
            ("utm_source", "news letter"),
            ("utm_medium", "email"),
            ("utm_campaign", "a&b=c#d"),
            ("ctx", "k1.x-y_z.s"),
        ];
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(k, v)| ((*k).into(), (*v).into()))
            .collect();
        assert_eq!(pairs, want);
        assert_eq!(url.fragment(), Some("frag"));
    }
}
