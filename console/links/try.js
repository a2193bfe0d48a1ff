// A link's testers: AT-02 route preview, AT-03 "try the redirect" as a chosen device from a
// chosen country (the decoded ctx, AT-04), and AT-05/AT-06 the conversion tester (202 → 200
// deduped → 409). Each takes the link's API path (`/v2/handles/{handle}/links/{slug}`).

import * as api from '../api.js';
import * as session from '../session.js';
import { NEEDS } from '../session.js';
import {
  badge, checkbox, clear, errorBox, field, form, gate, h, input, json, loading, randomId, section, select,
} from '../ui.js';

// The try form's devices, each sent as a real User-Agent (the redirect classifies it as it would
// a visitor's: iPhone and Android are mobile, Googlebot a bot without a ctx); "this browser"
// sends none, so the server takes this browser's own.
export const VISITORS = [
  ['iphone', 'iPhone (mobile)', 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1'],
  ['android', 'Android phone (mobile)', 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36'],
  ['desktop', 'Desktop Chrome', 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36'],
  ['googlebot', 'Googlebot (a bot: no ctx)', 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)'],
  ['self', 'This browser', null],
];

// ---------------------------------------------------------------------------- route preview

export function previewPanel(path) {
  const out = h('div', { class: 'result', 'aria-live': 'polite' });
  const f = form({ id: 'preview-form', 'aria-label': 'Route preview' },
    h('div', { class: 'grid' },
      field('Country', input('country', { placeholder: 'US' })),
      field('Device', select('device', [['', '(any)'], 'mobile', 'tablet', 'desktop', 'other'], '')),
      field('Source', input('source', { placeholder: 'newsletter' })),
      field('Campaign', input('campaign')),
      field('Short URL query', input('query', { placeholder: 'gclid=abc&coupon=X' })),
      field('Visitor (A/B test)', input('visitor', { placeholder: 'the visitor cookie of an earlier try' }), 'Empty: a new visitor at random.')),
    'Preview the route',
    async (el) => {
      checkCountry(el);
      const body = {};
      for (const n of ['country', 'device', 'source', 'campaign', 'query', 'visitor']) {
        const v = el.querySelector(`[name=${n}]`).value.trim();
        if (v) body[n] = v;
      }
      const r = await api.post(`${path}/route-preview`, body);
      session.markDone('AT-02');
      clear(out,
        h('dl', { class: 'facts', id: 'preview-result' },
          h('dt', {}, 'Decision'), h('dd', { class: 'decision' }, decisionInWords(r)),
          h('dt', {}, 'Destination'), h('dd', {}, h('code', { class: 'url' }, r.destinationUrl)),
          h('dt', {}, 'As the redirect sends it'), h('dd', {}, h('code', { class: 'url' }, r.trackedUrl)),
          h('dt', {}, 'Normalized input'), h('dd', {}, Object.entries(r.input).map(([k, v]) => `${k}: ${v ?? '–'}`).join(' · '))),
        h('details', {}, h('summary', {}, 'The decision envelope'), json(r)));
    });
  return section('Route preview', h('p', {}, 'The same engine as the redirect: the same input gives the same answer.'), f, out);
}

function decisionInWords(r) {
  if (r.decision === 'rule') return `rule (priority ${r.matchedRule.priority})`;
  if (r.decision === 'variant') return `A/B test: variant ${r.variant + 1}`;
  return 'default destination';
}

// A country is two letters ("US", not "USA"): said on the field before the request, rather than
// routed as unknown without a word.
function checkCountry(el) {
  const v = el.querySelector('[name=country]').value.trim();
  // Shaped like the API's 400, so the form shows it on the field.
  if (v && !/^[A-Za-z]{2}$/.test(v)) throw Object.assign(new Error('country: a two-letter ISO 3166-1 code, such as US or DE.'), { status: 400 });
}

// ------------------------------------------------------------------------- try the redirect

export function tryPanel(path, convert) {
  const out = h('div', { class: 'result', 'aria-live': 'polite' });
  const f = form({ id: 'try-form', 'aria-label': 'Try the redirect' },
    h('div', { class: 'grid' },
      field('Device', select('visitor', VISITORS.map(([v, label]) => [v, label]), 'iphone'), 'Sent as its real User-Agent: device rules (mobile, tablet, desktop, other) see it as a visitor\'s.'),
      field('Country', input('country', { placeholder: 'US' }), 'As the edge would report it; empty: unknown.'),
      field('Short URL query', input('query', { placeholder: 'utm_source=ad&sub1=partner-7' }))),
    'Follow the short URL',
    async (el) => {
      checkCountry(el);
      const visitor = VISITORS.find(([v]) => v === el.querySelector('[name=visitor]').value);
      const body = { query: el.querySelector('[name=query]').value.trim() || null };
      const country = el.querySelector('[name=country]').value.trim();
      if (country) body.country = country;
      if (visitor[2]) body.userAgent = visitor[2];
      const r = await api.post(`${path}/try`, body);
      session.markDone('AT-03');
      const decoded = h('div', { class: 'decoded' });
      clear(out,
        h('dl', { class: 'facts', id: 'try-result' },
          h('dt', {}, 'Visited'), h('dd', {}, h('code', { class: 'url' }, r.shortUrl)),
          h('dt', {}, 'As'), h('dd', { id: 'try-visitor' }, visitor[1], country ? `, from ${country.toUpperCase()}` : ', from an unknown country'),
          h('dt', {}, 'Status'), h('dd', { class: 'try-status' }, badge(r.status)),
          h('dt', {}, 'Location'), h('dd', {}, r.location ? h('code', { class: 'url', id: 'try-location' }, r.location) : '–'),
          h('dt', {}, 'ctx'), h('dd', {}, r.ctx ? h('code', { class: 'url', id: 'try-ctx' }, r.ctx) : 'none (a bot, or no redirect)')),
        decoded);
      if (r.ctx) {
        convert.setCtx(r.ctx);
        await decodeCtx(r.ctx, decoded);
      }
    });
  // A try writes a (test) click: links.write, like saving the link.
  if (!session.allows(NEEDS.linksWrite)) {
    f.querySelector('.actions').replaceChildren(gate(f.button, false, session.reason(NEEDS.linksWrite)));
  }
  return section('Try the redirect',
    h('p', {}, 'The server follows the short URL once, as this visitor: a test click, counted apart as a test (never in clicks or qualified clicks) and sent to link.clicked webhooks with test: true. Its ctx converts only as a test conversion: never counted or paid, or, while test mode is on (Home), as test money, apart from every real figure.'),
    f, out);
}

// AT-04: the ctx as /v2/public/context resolves it (no token: it is a public route).
async function decodeCtx(ctx, out) {
  clear(out, loading('Decoding the ctx…'));
  const r = await api.request('GET', `/v2/public/context${api.query({ ctx })}`, { auth: false });
  if (!r.ok) {
    clear(out, errorBox(r.error));
    return;
  }
  session.markDone('AT-04');
  const c = r.data;
  const subIds = Object.entries(c.subIds || {}).map(([k, v]) => `${k}=${v}`).join(', ') || '–';
  const fields = [
    ['clickId', c.clickId], ['handle', c.handle], ['slug', c.slug], ['campaignId', c.campaignId],
    ['country', c.country], ['device', c.device], ['source', c.source], ['referrer', c.referrer],
    ['segment', c.segment], ['subIds', subIds], ['issuedAt', c.issuedAt], ['expiresAt', c.expiresAt],
  ];
  clear(out, h('h3', {}, 'What the click carries (its decoded ctx)'),
    h('dl', { class: 'facts pairs', id: 'ctx-table' },
      fields.map(([k, v]) => [h('dt', {}, k), h('dd', {}, h('code', {}, v ?? '–'))])));
}

// ------------------------------------------------------------------------ conversion tester

const MEANING = {
  202: 'accepted: a new conversion',
  200: 'a replay of the same key and payload: deduped, the original conversion',
  409: 'the same key with a different payload: refused',
};

export function conversionTester() {
  const log = h('ol', { class: 'attempts', id: 'conversion-log', 'aria-live': 'polite' });
  const ctxField = h('textarea', { name: 'ctx', rows: 2, placeholder: 'Follow the short URL above to get one' });
  const key = input('idempotencyKey', { value: randomId('order') });
  const f = form({ id: 'conversion-form', 'aria-label': 'Conversion tester' },
    h('div', {},
      field('ctx', ctxField),
      h('div', { class: 'grid' },
        field('Idempotency key', key, 'One per real-world conversion, e.g. the order id.'),
        field('Event type', input('eventType', { value: 'purchase' })),
        field('Value', input('value', { value: '24.99', inputmode: 'decimal' })),
        field('Currency', input('currency', { value: 'USD' })),
        field('Test conversion (kept out of revenue)', checkbox('test', false))),
      h('button', { type: 'button', class: 'link-button', onclick: () => { key.value = randomId('order'); } }, 'New idempotency key')),
    'Submit the conversion',
    async (el) => {
      const v = (n) => el.querySelector(`[name=${n}]`).value.trim();
      const body = { ctx: v('ctx'), idempotencyKey: v('idempotencyKey'), eventType: v('eventType') };
      if (v('value')) body.value = v('value');
      if (v('currency')) body.currency = v('currency');
      if (el.querySelector('[name=test]').checked) body.test = true;
      const r = await api.request('POST', '/v2/public/conversions', { body, auth: false });
      if (r.status === 202) session.markDone('AT-05');
      if (r.status === 200 && r.data && r.data.deduped) session.markDone('AT-06');
      log.append(attempt(r));
    });
  const panel = section('Conversion tester',
    h('p', {}, 'Submit once (202), submit again unchanged (200, deduped: true, the same conversion), then change the value and submit again (409).'),
    f, log);
  return { panel, setCtx: (ctx) => { ctxField.value = ctx; } };
}

function attempt(r) {
  const d = r.data || {};
  const meaning = MEANING[r.status] || (r.error ? r.error.code : '');
  return h('li', { class: 'attempt', dataset: { status: String(r.status) } },
    badge(r.status), ' ', h('span', { class: 'meaning' }, meaning),
    r.ok
      ? h('span', {}, ` · ${d.conversionId} · deduped: ${d.deduped}`)
      : h('span', { class: 'error-message' }, ` · ${r.error.code}: ${r.error.message}`),
    r.requestId ? h('small', { class: 'request-id' }, ` · request ${r.requestId}`) : null);
}
