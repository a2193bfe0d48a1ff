//! The redirect's use case: one visit of a short link, start to end. The visit as the edge read
//! it ([`Visitor`], borrowed from the request) goes in; what to answer ([`Outcome`]) comes out,
//! the click recorded. The public redirect (`http::redirect`) and the console's "try the
//! redirect" (`http::console`) are its two callers; HTTP (status, headers, pages) stays there.
//!
//! Round-trip budget, by construction: at most ONE store read (none when the link is in the
//! in-process cache) and ONE click append (`clicks::record`). Nothing else is awaited: the ctx
//! is signed locally, routing is pure, analytics and webhooks happen downstream. An orphan
//! visit (no link) costs ONE atomic add and, on a settings-cache miss, ONE read.

use std::borrow::Cow;

use tracing::instrument;

use crate::domain::fallback::OrphanKind;
use crate::domain::{
    Attribution, BotReason, CampaignId, ClickId, CtxClaims, Device, Expiry, Handle, Link,
    RouteInput, Slug, SubIds, build_destination_with, classify_user_agent_bytes, click_source,
    referrer_host, route, segment,
};
use crate::kernel::events::ClickData;
use crate::kernel::events::MAX_USER_AGENT_BYTES;
use crate::kernel::io::Io;
use crate::kernel::state::{LinkCache, RedirectSettingsCache, Unconfigured};
use crate::platform::store::StoreError;
use crate::platform::stream::ClickStream;

/// What a visit uses of the process (issue 48): the store and queue, the click stream, the ctx
/// keys, the link and redirect-settings caches and the attribution window. A few references,
/// `Copy`: the router builds one per visit (`http::redirect::redirector`).
#[derive(Clone, Copy)]
pub struct Redirector<'a> {
    pub io: Io<'a>,
    /// Where the click is appended (`None`: sent as an events-queue message instead).
    pub stream: Option<&'a dyn ClickStream>,
    pub ctx_keys: Result<&'a crate::domain::CtxKeyring, Unconfigured>,
    pub links: &'a LinkCache,
    pub settings: &'a RedirectSettingsCache,
    pub attribution_window: std::time::Duration,
}

/// One visit as the edge read it. Nothing here is trusted for more than routing and reporting:
/// the country is the edge's (or the console's tried one), the rest the visitor's own.
#[derive(Clone, Copy, Debug, Default)]
pub struct Visitor<'r> {
    /// A `HEAD` request: a bot's, whatever its User-Agent says.
    pub head: bool,
    pub user_agent: Option<&'r [u8]>,
    pub referer: Option<&'r str>,
    /// The short URL's query string (sub-ids, `utm_*`, forwarded when the link says so).
    pub query: Option<&'r str>,
    pub country: Option<&'r str>,
    /// The first-party visitor cookie's id, when well formed; `None` for a new visitor.
    pub returning: Option<&'r str>,
    /// The console's try, not a visitor: a test click, counted apart and never paid.
    pub test: bool,
    /// The visitor's address as the edge knows it (never a header the visitor sets), kept only
    /// as a keyed digest in the ctx (partner risk); `None` when unknown.
    pub address: Option<&'r str>,
    /// The region and city a trusted edge named (never the visitor's own word); `None` else.
    pub region: Option<&'r str>,
    pub city: Option<&'r str>,
}

/// What the visit comes to.
#[derive(Debug)]
pub enum Outcome {
    /// A redirect to `location`, which carries `ctx` (none for a bot). `new_visitor`: the id of
    /// the visitor cookie to mint (a human seen for the first time), else `None`.
    Found {
        location: String,
        ctx: Option<String>,
        new_visitor: Option<String>,
    },
    /// An expired link: its click recorded as expired, no ctx.
    Expired { expiry: Expiry, new_visitor: bool },
    /// No link: the orphan visit counted; the handle's fallback URL for it, if any.
    Orphan { fallback: Option<String> },
}

#[derive(Debug, thiserror::Error)]
pub enum VisitError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Unconfigured(#[from] Unconfigured),
    /// The click reached neither the stream nor the store: the visitor is not redirected on a
    /// click that would not count (answered 503, to retry).
    #[error("the click could not be recorded: stream and store both failed")]
    ClickLost,
}

/// The visit of `slug` (as the visitor typed it) on `handle`.
#[instrument(level = "debug", skip_all, fields(handle = %handle))]
pub async fn visit(
    r: Redirector<'_>,
    handle: &Handle,
    slug: &str,
    visitor: &Visitor<'_>,
) -> Result<Outcome, VisitError> {
    let ctx_keys = r.ctx_keys?;
    let slug = match Slug::parse(slug) {
        Ok(slug) => slug,
        // An imported slug the native rule refuses (`Spring_Sale`, issue 64) is an alias of a
        // link: ONE read, only for paths that are not native slugs.
        Err(_) => match crate::links::resolve_alias(r.io.store.as_ref(), handle, slug).await? {
            Some(slug) => slug,
            None => return orphan(r, handle, OrphanKind::NotFound, visitor).await,
        },
    };
    // Round trip 1 (skipped on a cache hit): the link.
    let Some(link) = crate::links::load_cached(r.io.store.as_ref(), r.links, handle, &slug).await?
    else {
        return orphan(r, handle, OrphanKind::NotFound, visitor).await;
    };
    let mut visit = Visit::read(visitor, &link);
    let now = crate::platform::store::now_unix();
    if let Some(expiry) = link.expiry.as_ref().filter(|e| now >= e.expires_at_unix) {
        return expired(r, handle, &link, &mut visit, expiry, now).await;
    }
    let decision = route(&link, &visit.input);
    // The visitor as the A/B split and the cookie know it: the cookie's id, else a keyed digest
    // of address and User-Agent, which also becomes the cookie of a new visitor (~1 µs of
    // HMAC, no I/O), so the first visit and the next ones fall on the same variant.
    let visitor_id: Cow<'_, str> = match visitor.returning {
        Some(id) => Cow::Borrowed(id),
        None => Cow::Owned(ctx_keys.visitor_digest(
            visitor.address.unwrap_or_default(),
            visitor.user_agent.unwrap_or_default(),
        )),
    };
    let (destination, variant) = match decision.matched_rule {
        Some(_) => (decision.destination_url, None),
        None => {
            split(ctx_keys, &link, &visit, &visitor_id).unwrap_or((decision.destination_url, None))
        }
    };
    let mut claims = visit.claims(ClickId::new(), handle, &link, now, r.attribution_window);
    claims.attribution.variant = variant;
    // Keyed digests of the address and of the visitor id, humans only (~1 µs of HMAC each, no
    // I/O): partner risk matches a sale with where and from which browser its people sign in.
    if visit.bot.is_none() {
        claims.address_hash = visitor.address.map(|a| ctx_keys.address_digest(a));
        claims.visitor_hash = Some(ctx_keys.fingerprint(&visitor_id));
    }
    // Bots get no ctx: they cannot convert, and a token in a crawler's cache would be replayable.
    let ctx = visit.bot.is_none().then(|| ctx_keys.sign(&claims));
    let forwarded = visitor.query.filter(|_| link.forward_query);
    let location = build_destination_with(
        destination,
        link.tracking.as_ref(),
        forwarded,
        ctx.as_deref(),
    );
    let click = visit.click_data(claims, destination, now);
    // Round trip 2: the click, durable before the visitor leaves (crate::clicks::record).
    if !crate::clicks::record(r.io, r.stream, handle, &click)
        .await
        .kept()
    {
        return Err(VisitError::ClickLost);
    }
    let new_visitor = visit.new_visitor().then(|| visitor_id.into_owned());
    Ok(Outcome::Found {
        location,
        ctx,
        new_visitor,
    })
}

/// The A/B test's share of a visit no rule took: the destination and the variant's tag
/// (`None` for a bot, which goes to the first variant and counts in none). `None` without a
/// test.
fn split<'l>(
    keys: &crate::domain::CtxKeyring,
    link: &'l Link,
    visit: &Visit,
    visitor_id: &str,
) -> Option<(&'l str, Option<String>)> {
    use crate::domain::variants;
    let period = link.variant_period.as_ref()?;
    let first = link.variants.first()?;
    if visit.bot.is_some() {
        // Crawlers and link previews see one stable page, and never tilt a variant's numbers.
        return Some((&first.destination_url, None));
    }
    let bucket = keys.variant_bucket(visitor_id, link.handle.as_str(), link.slug.as_str());
    let index = variants::choose(&link.variants, bucket)?;
    let chosen = &link.variants[index];
    Some((
        &chosen.destination_url,
        Some(variants::tag(index, period.variants_since_millis)),
    ))
}

/// A visit that reaches no link (an unknown slug, the bare domain): counted (ONE atomic add; a
/// failure is logged, the visitor is still answered), and the handle's fallback URL for it
/// (its settings: cached, else ONE read).
pub async fn orphan(
    r: Redirector<'_>,
    handle: &Handle,
    kind: OrphanKind,
    visitor: &Visitor<'_>,
) -> Result<Outcome, VisitError> {
    let ua = classify_user_agent_bytes(visitor.user_agent);
    let bot = ua.is_bot() || visitor.head;
    if let Err(e) = super::orphans::record(r.io.store.as_ref(), handle, kind, bot).await {
        tracing::warn!(error = %e, kind = kind.as_str(), "orphan visit not counted");
    }
    let settings = super::orphans::settings_cached(r.io.store.as_ref(), r.settings, handle).await?;
    let fallback = match kind {
        OrphanKind::NotFound => settings.not_found_url.clone(),
        OrphanKind::Base => settings.base_url.clone(),
    };
    Ok(Outcome::Orphan { fallback })
}

/// An expired link: no ctx (nothing can convert on it), the click recorded as expired (counted,
/// never qualified). The expiry is part of the cached link: no store read is added.
async fn expired(
    r: Redirector<'_>,
    handle: &Handle,
    link: &Link,
    visit: &mut Visit,
    expiry: &Expiry,
    now: i64,
) -> Result<Outcome, VisitError> {
    let claims = visit.claims(ClickId::new(), handle, link, now, r.attribution_window);
    let target = expiry.expired_url.as_deref().unwrap_or("");
    let click = ClickData {
        expired: true,
        ..visit.click_data(claims, target, now)
    };
    if !crate::clicks::record(r.io, r.stream, handle, &click)
        .await
        .kept()
    {
        return Err(VisitError::ClickLost);
    }
    Ok(Outcome::Expired {
        expiry: expiry.clone(),
        new_visitor: visit.new_visitor(),
    })
}

/// The short URL's own parameters that feed routing, and the partner's sub-ids, read in one
/// pass. Parsed leniently (first value wins): a visitor's odd query string must never break a
/// redirect.
#[derive(Default)]
struct ShortUrlParams<'q> {
    utm_source: Option<Cow<'q, str>>,
    src: Option<Cow<'q, str>>,
    utm_campaign: Option<Cow<'q, str>>,
    sub_ids: SubIds,
    /// The first ad network's click-id parameter among them (`gclid`, …).
    ad_click: Option<&'static str>,
}

impl<'q> ShortUrlParams<'q> {
    fn parse(query: Option<&'q str>) -> Self {
        let mut p = Self::default();
        for (k, v) in crate::domain::destination::query_pairs(query.unwrap_or("")) {
            let slot = match k.as_ref() {
                "utm_source" => &mut p.utm_source,
                "src" => &mut p.src,
                "utm_campaign" => &mut p.utm_campaign,
                name => {
                    if p.ad_click.is_none() {
                        p.ad_click = crate::domain::ad_clicks::click_id(name);
                    }
                    p.sub_ids.capture(name, &v);
                    continue;
                }
            };
            if slot.is_none() {
                *slot = Some(v);
            }
        }
        p
    }
}

/// What the redirect learns about one visit from the visitor alone.
struct Visit {
    /// Why this visit is a bot's; `None` for a human.
    bot: Option<BotReason>,
    device: Device,
    input: RouteInput,
    referrer: String,
    segment: String,
    sub_ids: SubIds,
    returning: bool,
    test: bool,
    /// The ad it came from: a click id in its query, else an ad server's referrer.
    ad_click: Option<&'static str>,
    /// What the click record carries for its consumer to read: the User-Agent (its OS and
    /// browser are parsed there, off this path: ~2 µs a parse) and the edge's region and city.
    user_agent: Option<String>,
    region: Option<String>,
    city: Option<String>,
}

impl Visit {
    fn read(visitor: &Visitor<'_>, link: &Link) -> Self {
        let params = ShortUrlParams::parse(visitor.query);
        let ua = classify_user_agent_bytes(visitor.user_agent);
        // The User-Agent's reason first: it says more about where bot traffic comes from.
        let bot = ua.bot.or(visitor.head.then_some(BotReason::HeadRequest));
        let referrer = referrer_host(visitor.referer);
        let source = click_source(
            params.utm_source.as_deref(),
            params.src.as_deref(),
            referrer.as_deref(),
        );
        let tracked_campaign = link
            .tracking
            .as_ref()
            .and_then(|t| t.utm_campaign.as_deref());
        let campaign = params
            .utm_campaign
            .as_deref()
            .or(tracked_campaign)
            .or(link.campaign_id.as_ref().map(CampaignId::as_str));
        let device = Some(ua.device.as_str());
        let os = crate::domain::visitor::os_of_user_agent_bytes(visitor.user_agent);
        let input = RouteInput::normalized(
            visitor.country,
            device,
            Some(&source),
            campaign,
            Some(os.as_str()),
        );
        let returning = visitor.returning.is_some();
        let ad_click = params.ad_click.or_else(|| {
            referrer
                .as_deref()
                .and_then(crate::domain::ad_clicks::referrer)
        });
        Self {
            bot,
            device: ua.device,
            input,
            referrer: referrer.unwrap_or_else(|| "direct".into()),
            segment: segment(returning, bot.is_some(), ua.device),
            sub_ids: params.sub_ids,
            returning,
            test: visitor.test,
            ad_click,
            user_agent: visitor.user_agent.map(kept_user_agent),
            region: visitor.region.map(str::to_owned),
            city: visitor.city.map(str::to_owned),
        }
    }

    /// A human seen for the first time: the answer mints a visitor cookie.
    fn new_visitor(&self) -> bool {
        !self.returning && self.bot.is_none()
    }

    /// The click's attribution as the ctx carries it (signed only for humans). Moves the
    /// visit's strings into the claims, so it is called once, after routing.
    fn claims(
        &mut self,
        click_id: ClickId,
        handle: &Handle,
        link: &Link,
        now: i64,
        attribution_window: std::time::Duration,
    ) -> CtxClaims {
        CtxClaims {
            click_id,
            handle: handle.clone(),
            slug: link.slug.clone(),
            campaign_id: link.campaign_id.clone(),
            attribution: Attribution {
                country: std::mem::take(&mut self.input.country),
                device: self.device,
                source: std::mem::take(&mut self.input.source),
                referrer: std::mem::take(&mut self.referrer),
                segment: std::mem::take(&mut self.segment),
                variant: None,
            },
            issued_at: now,
            expires_at: now + crate::domain::time::secs(attribution_window),
            sub_ids: std::mem::take(&mut self.sub_ids),
            test: self.test,
            address_hash: None,
            visitor_hash: None,
        }
    }

    /// The click record; moves the User-Agent and place into it, so it is called once.
    fn click_data(&mut self, claims: CtxClaims, destination_url: &str, now: i64) -> ClickData {
        ClickData {
            click_id: claims.click_id,
            slug: claims.slug.to_string(),
            campaign_id: claims.campaign_id,
            attribution: claims.attribution,
            bot: self.bot.is_some(),
            bot_reason: self.bot,
            expired: false,
            sub_ids: claims.sub_ids,
            test: claims.test,
            ad_click: self.ad_click.map(str::to_owned),
            user_agent: self.user_agent.take(),
            region: self.region.take(),
            city: self.city.take(),
            destination_url: destination_url.to_owned(),
            at: crate::domain::time::unix_to_rfc3339(now),
        }
    }
}

/// A User-Agent as a click keeps it: text (an invalid byte replaced), cut on a character
/// boundary to [`MAX_USER_AGENT_BYTES`].
fn kept_user_agent(raw: &[u8]) -> String {
    let raw = &raw[..raw.len().min(MAX_USER_AGENT_BYTES)];
    let mut text = String::from_utf8_lossy(raw).into_owned();
    // A multi-byte character cut in two became one replacement character: harmless, but the
    // cut must not push the text past the bound.
    while text.len() > MAX_USER_AGENT_BYTES {
        text.pop();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_user_agent_is_bounded_text() {
        assert_eq!(kept_user_agent(b"curl/8.5.0"), "curl/8.5.0");
        let long = "\u{e9}".repeat(400);
        let kept = kept_user_agent(long.as_bytes());
        assert!(kept.len() <= MAX_USER_AGENT_BYTES, "{}", kept.len());
        assert!(kept.starts_with("\u{e9}\u{e9}"));
        assert_eq!(kept_user_agent(b"a\xffb"), "a\u{fffd}b");
    }
}
