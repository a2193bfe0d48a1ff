/* 10x attribution t.js (docs/connectors-script.md): keeps the landing page's ctx and the site the
   visit came from in first-party cookies, fills client_reference_id on Stripe links, buttons and
   pricing tables. */
(() => {
  'use strict';
  const w = window, d = document, loc = location;
  if (w.tenx && w.tenx.ref) return;
  const s = d.currentScript || d.querySelector('script[src*="/t.js"]');
  const api = ((s && s.getAttribute('data-api')) || new URL(s ? s.src : '/', loc.href).origin).replace(/\/+$/, '');
  const SEL = 'a[href^="https://buy.stripe.com/"],stripe-pricing-table,stripe-buy-button';
  const CAP = 2592000; // 30 days, when the ctx's expiry is unknown
  const RK = 'tenx_ref';
  const valid = (v) => (v && v.length < 2049 && /^[\w-]+\.[\w-]+\.[\w-]+$/.test(v) ? v : null);
  const write = (v, age, name = 'tenx_ctx') => {
    d.cookie = name + '=' + v + '; Max-Age=' + age + '; Path=/; SameSite=Lax' + (loc.protocol == 'https:' ? '; Secure' : '');
  };
  // Our API, without cookies either way; a POST without content-type needs no CORS preflight.
  const call = (path, body) => fetch(api + path, body
    ? { method: 'POST', body: new Blob([JSON.stringify(body)]), credentials: 'omit' }
    : { credentials: 'omit' });

  // The site the visit landed from (another site's referrer, its origin only): a sale's
  // landingReferrer, where a coupon code used without a partner's click came from (issue 63).
  // Kept 30 days; only another site's referrer replaces it (the shop's own pages never do).
  const lm = d.cookie.match(/(?:^|;\s*)tenx_landing=([^;]*)/);
  let landing = lm ? decodeURIComponent(lm[1]) : null;
  try {
    const r = d.referrer ? new URL(d.referrer) : null;
    if (r && /^https?:$/.test(r.protocol) && r.host != loc.host) {
      landing = r.origin;
      write(encodeURIComponent(landing), CAP, 'tenx_landing');
    }
  } catch (e) { /* not a URL */ }

  const stored = d.cookie.match(/(?:^|;\s*)tenx_ctx=([^;]*)/);
  const old = valid(stored && stored[1]);
  const fresh = valid(new URLSearchParams(loc.search).get('ctx'));
  let ctx = old;
  let ready = Promise.resolve();
  if (fresh && s && s.hasAttribute('data-clean-url')) {
    const q = loc.search.slice(1).split('&').filter((p) => p.split('=')[0] != 'ctx').join('&');
    history.replaceState(history.state, '', loc.pathname + (q ? '?' + q : '') + loc.hash);
  }
  if (fresh && fresh != old) {
    // The URL's ctx replaces the stored one once it is known to be live (at once if none is).
    ctx = fresh;
    if (!old) write(fresh, CAP);
    const drop = () => {
      ctx = old;
      if (!old) write('', 0);
    };
    ready = call('/v2/public/context?ctx=' + encodeURIComponent(fresh)).then((r) => r.status == 400 ? drop()
      : r.ok ? r.json().then((c) => {
        const age = Math.floor((Date.parse(c.expiresAt) - Date.now()) / 1000);
        age > 0 ? write(fresh, age) : age <= 0 ? drop() : write(fresh, CAP);
      }) : write(fresh, CAP)).catch(() => write(fresh, CAP));
  }

  // The ref for the current ctx (null without one): once per ctx and browser session.
  let pending = null, pendingFor = null;
  const ref = () => ready.then(() => {
    const c = ctx;
    if (!c) return null;
    try {
      const [k, v] = (sessionStorage.getItem(RK) || '').split(' ');
      if (k == c && v) return v;
    } catch (e) { /* storage off */ }
    if (pendingFor != c) {
      pendingFor = c;
      // A refused ctx (400) is not asked for again; a failed call, again after 5 s at the soonest.
      pending = call('/v2/public/refs', { ctx: c }).then((r) => (r.status == 400 ? {} : r.ok ? r.json() : Promise.reject()))
        .then((b) => {
          const v = /^[\w-]{22}$/.test(b.ref) ? b.ref : null;
          try { if (v) sessionStorage.setItem(RK, c + ' ' + v); } catch (e) { /* storage off */ }
          return v;
        }).catch(() => {
          setTimeout(() => { if (pendingFor == c) pendingFor = null; }, 5000);
          return null;
        });
    }
    return pending;
  });

  const stamp = (r) => {
    for (const e of d.querySelectorAll(SEL)) {
      if (e.tagName == 'A') {
        try {
          const u = new URL(e.href);
          if (u.searchParams.get('client_reference_id') != r) {
            u.searchParams.set('client_reference_id', r);
            e.href = u.href;
          }
        } catch (x) { /* not a URL */ }
      } else if (e.getAttribute('client-reference-id') != r) e.setAttribute('client-reference-id', r);
    }
  };
  // A ref is asked for only when the page has something to fill (or tenx.ref() is called).
  let queued = false;
  const scan = () => {
    if (queued) return;
    queued = true;
    setTimeout(() => {
      queued = false;
      if (ctx && d.querySelector(SEL)) ref().then((r) => r && stamp(r));
    });
  };
  new MutationObserver(scan).observe(d.documentElement, { childList: true, subtree: true, attributes: true, attributeFilter: ['href'] });
  scan();

  w.tenx = { ctx: () => ctx, ref, landingReferrer: () => landing };
  w.dispatchEvent(new Event('tenx:ready'));
})();
