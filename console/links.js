// Attribution: the links list (search, cursor paging), the editor (destination, UTM tracking,
// routing rules; if-match conflicts shown and resolvable), route preview, "try the redirect"
// with the decoded ctx, and the conversion tester (202 → 200 deduped → 409).

import * as api from './api.js';
import * as session from './session.js';
import { NEEDS } from './session.js';
import { walkthrough } from './start.js';
import { qrSvg } from './qr.js';
import {
  badge, busy, checkbox, clear, copyButton, empty, errorBox, field, fmtAmounts, fmtCount, fmtTime,
  form, gate, h, input, json, list, loading, notice, randomId, section, select, splitList, table,
} from './ui.js';

const PAGE = 20;
// The server's rule (domain::ids::Slug): 1 to 64 lowercase letters, digits and hyphens, starting
// with a letter or digit and not ending with a hyphen (`\-`: valid as an HTML pattern too).
const SLUG = /^[a-z0-9](?:[a-z0-9\-]{0,62}[a-z0-9])?$/u;

export const VISITORS = [
  ['iphone', 'iPhone (mobile)', 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1'],
  ['android', 'Android phone (mobile)', 'Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Mobile Safari/537.36'],
  ['desktop', 'Desktop Chrome', 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0 Safari/537.36'],
  ['googlebot', 'Googlebot (a bot: no ctx)', 'Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)'],
  ['self', 'This browser', null],
];

const linkPath = (slug) => api.handlePath(`/links/${encodeURIComponent(slug)}`);

// ------------------------------------------------------------------------------------ list

export async function renderList(main) {
  const canWrite = session.allows(NEEDS.linksWrite);
  const search = input('search', { type: 'search', placeholder: 'slug, title or destination' });
  const body = h('div', { class: 'list-body' }, loading('Loading links…'));
  const state = { items: [], cursor: null, loaded: false, stats: {} };
  main.append(
    h('div', { class: 'title-row' },
      h('h1', { tabindex: '-1' }, 'Links'),
      gate(h('a', { class: 'button primary', href: '#/links/new', id: 'new-link' }, 'New link'),
        canWrite, session.reason(NEEDS.linksWrite))),
    field('Search the loaded links, or type a slug to open it', search),
    body);
  // A disabled link is still followable: take it out of the tab order and the click.
  if (!canWrite) {
    const a = main.querySelector('#new-link');
    a.removeAttribute('href');
    a.setAttribute('aria-disabled', 'true');
    a.classList.add('disabled');
  }
  const draw = () => drawList(body, state, search.value.trim(), loadPage);
  async function loadPage(button) {
    await busy(button, button ? null : body, async () => {
      const data = await api.get(api.handlePath('/links') + api.query({ limit: PAGE, cursor: state.cursor }));
      state.items.push(...data.items);
      state.cursor = data.nextCursor;
      state.loaded = true;
      draw();
    }).catch((err) => body.append(errorBox(err)));
  }
  search.addEventListener('input', draw);
  await Promise.all([loadPage(null), loadStats(state)]);
  draw();
}

// Each link's last 30 days (one analytics request, grouped by link); the list shows '–' when
// the caller may not read analytics.
async function loadStats(state) {
  if (!session.allows(NEEDS.analytics)) return;
  const r = await api.request('GET', api.handlePath('/analytics') + api.query({ groupBy: 'link' }));
  if (r.ok) state.stats = Object.fromEntries(r.data.rows.map((row) => [row.key, row]));
}

function drawList(body, state, term, loadPage) {
  if (!state.loaded) return;
  if (state.items.length === 0 && !state.cursor) {
    clear(body, empty('No links yet. Walk through the attribution playbook, starting with your first link:', walkthrough(true)));
    return;
  }
  const t = term.toLowerCase();
  const shown = t
    ? state.items.filter((l) => [l.slug, l.title || '', l.destinationUrl].some((v) => v.toLowerCase().includes(t)))
    : state.items;
  const more = state.cursor
    ? h('button', { type: 'button', class: 'secondary', id: 'load-more', onclick: (e) => loadPage(e.target) }, 'Load more')
    : null;
  const open = t && SLUG.test(term) && !shown.some((l) => l.slug === term)
    ? h('p', {}, h('a', { href: `#/links/edit/${encodeURIComponent(term)}` }, `Open the link ${term}`))
    : null;
  clear(body,
    h('p', { class: 'count', role: 'status' },
      `${shown.length} of ${state.items.length} loaded link${state.items.length === 1 ? '' : 's'}${state.cursor ? ' (more on the server)' : ''}`),
    shown.length
      ? table([
        { label: 'Slug', value: (l) => h('a', { href: `#/links/edit/${encodeURIComponent(l.slug)}` }, l.slug) },
        { label: 'Short URL', value: (l) => h('span', { class: 'share' }, h('code', { class: 'url' }, l.shortUrl), copyButton(() => l.shortUrl, 'Copy', `Copy the short URL of ${l.slug}`)) },
        { label: 'Destination', value: (l) => h('span', { class: 'url' }, l.title ? `${l.title}: ` : '', l.destinationUrl), class: 'wide' },
        { label: 'Clicks (30 d)', value: (l) => stat(state, l, 'clicks'), class: 'num' },
        { label: 'Qualified', value: (l) => stat(state, l, 'qualifiedClicks'), class: 'num' },
        { label: 'Conversions', value: (l) => stat(state, l, 'conversions'), class: 'num' },
        { label: 'Revenue', value: (l) => (state.stats[l.slug] ? fmtAmounts(state.stats[l.slug].revenue) : '–'), class: 'num' },
        { label: 'Updated', value: (l) => fmtTime(l.updatedAt) },
      ], shown, 'Links')
      : empty('No loaded link matches.'),
    open,
    more);
}

function stat(state, link, key) {
  const row = state.stats[link.slug];
  if (row) return fmtCount(row[key]);
  return session.allows(NEEDS.analytics) ? '0' : '–';
}

// ---------------------------------------------------------------------------------- editor

function ruleRow(rule = {}) {
  const c = rule.conditions || {};
  const row = h('fieldset', { class: 'rule' },
    h('legend', {}, 'Rule'),
    h('div', { class: 'grid' },
      field('Priority', input('priority', { type: 'number', value: rule.priority ?? '', inputmode: 'numeric' }), 'Lower runs first; unique.'),
      field('Destination URL', input('ruleDestination', { type: 'url', value: rule.destinationUrl || '' })),
      field('Countries', input('countryIn', { value: list(c.countryIn) }), 'Comma-separated: US, CA'),
      field('Devices', input('deviceIn', { value: list(c.deviceIn) }), 'mobile, tablet, desktop, other'),
      field('Sources', input('sourceIn', { value: list(c.sourceIn) }), 'utm_source, src or referrer host'),
      field('Campaigns', input('campaignIn', { value: list(c.campaignIn) }))),
    h('button', { type: 'button', class: 'link-button', onclick: () => row.remove() }, 'Remove this rule'));
  return row;
}

function readRule(row) {
  const v = (n) => row.querySelector(`[name=${n}]`).value.trim();
  const conditions = {};
  for (const k of ['countryIn', 'deviceIn', 'sourceIn', 'campaignIn']) {
    const values = splitList(v(k));
    if (values.length) conditions[k] = values;
  }
  // An empty priority is sent as missing (the server names it), never as 0.
  return { priority: v('priority') === '' ? null : Number(v('priority')), destinationUrl: v('ruleDestination'), conditions };
}

const TRACKING = [['utmSource', 'utm_source'], ['utmMedium', 'utm_medium'], ['utmCampaign', 'utm_campaign'], ['utmTerm', 'utm_term'], ['utmContent', 'utm_content']];

function editorFields(isNew) {
  const rules = h('div', { class: 'rules' });
  const destination = input('destinationUrl', { type: 'url', required: true, placeholder: 'https://example.com/product' });
  const slug = isNew ? input('slug', { required: true, pattern: SLUG.source }) : null;
  const fields = h('div', {},
    field('Destination URL', destination, 'Where the short link sends visitors; https:// is added when left out.'),
    isNew ? slugField(slug, destination) : null,
    field('Title', input('title')),
    h('fieldset', {}, h('legend', {}, 'UTM tracking (added to the destination)'),
      h('div', { class: 'grid' }, TRACKING.map(([name, label]) => field(label, input(name))))),
    h('fieldset', {}, h('legend', {}, 'Routing rules (tried by ascending priority; first match wins)'),
      rules,
      h('button', { type: 'button', class: 'secondary', id: 'add-rule', onclick: () => rules.append(ruleRow()) }, 'Add a rule')),
    h('details', {}, h('summary', {}, 'More: campaign, query forwarding, expiry'),
      field('Campaign id', input('campaignId'), 'An existing campaign of this handle, or empty.'),
      field('Forward the short URL\'s query to the destination', checkbox('forwardQuery', true)),
      field('Expires at', input('expiresAt', { placeholder: '2026-12-31T23:59:59Z' }), 'RFC 3339; empty: never.'),
      field('Expired URL', input('expiredUrl', { type: 'url' }), 'Where an expired link sends visitors; empty: 410.')));
  fields.rules = rules;
  return fields;
}

// The slug: suggested from the destination, checked against the server's rule as it is typed.
function slugField(slug, destination) {
  const wrap = field('Slug', slug, 'Lowercase letters, digits and hyphens (1–64), not ending with a hyphen; the short URL is {handle}.{domain}/{slug}.');
  const note = h('small', { class: 'rule-error', id: `${slug.id}-rule`, 'aria-live': 'polite' });
  wrap.append(note);
  let touched = false;
  const check = () => {
    const v = slug.value.trim();
    const bad = v !== '' && !SLUG.test(v);
    if (bad) slug.setAttribute('aria-invalid', 'true');
    else slug.removeAttribute('aria-invalid');
    clear(note, bad ? `"${v}" is not a slug: ${slugProblem(v)}` : '');
    const ids = [`${slug.id}-hint`, bad ? note.id : null].filter(Boolean);
    slug.setAttribute('aria-describedby', ids.join(' '));
  };
  slug.addEventListener('input', () => { touched = true; check(); });
  destination.addEventListener('blur', () => {
    const v = destination.value.trim();
    if (v && !/^[a-z][a-z0-9+.-]*:/i.test(v)) destination.value = `https://${v}`;
    if (!touched && !slug.value) {
      slug.value = suggestSlug(destination.value);
      check();
    }
  });
  return wrap;
}

function slugProblem(v) {
  if (v.length > 64) return 'at most 64 characters.';
  if (/[A-Z]/.test(v)) return 'lowercase letters only.';
  if (/[^a-z0-9-]/.test(v)) return 'only lowercase letters, digits and hyphens (no _ or spaces).';
  if (v.startsWith('-')) return 'it must start with a letter or digit.';
  return 'it must not end with a hyphen.';
}

// "https://shop.example.com/summer-sale?x=1" → "summer-sale"; the host's first label otherwise.
export function suggestSlug(url) {
  let u;
  try { u = new URL(url); } catch { return ''; }
  const last = u.pathname.split('/').filter(Boolean).pop() || u.hostname.split('.').find((p) => p !== 'www') || '';
  return last.toLowerCase().replace(/\.[a-z0-9]+$/, '').replace(/[^a-z0-9]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40).replace(/-+$/, '');
}

function fill(formEl, link) {
  const set = (n, v) => { const el = formEl.querySelector(`[name=${n}]`); if (el) el.value = v ?? ''; };
  set('destinationUrl', link.destinationUrl);
  set('title', link.title);
  for (const [name] of TRACKING) set(name, link.tracking && link.tracking[name]);
  set('campaignId', link.campaignId);
  set('expiresAt', link.expiresAt);
  set('expiredUrl', link.expiredUrl);
  formEl.querySelector('[name=forwardQuery]').checked = link.forwardQuery !== false;
  const rules = formEl.querySelector('.rules');
  clear(rules, (link.routingRules || []).map(ruleRow));
}

function readSpec(formEl) {
  const v = (n) => formEl.querySelector(`[name=${n}]`).value.trim();
  const spec = { destinationUrl: v('destinationUrl'), forwardQuery: formEl.querySelector('[name=forwardQuery]').checked };
  if (v('title')) spec.title = v('title');
  const tracking = {};
  for (const [name] of TRACKING) if (v(name)) tracking[name] = v(name);
  if (Object.keys(tracking).length) spec.tracking = tracking;
  spec.routingRules = [...formEl.querySelectorAll('.rule')].map(readRule);
  if (v('campaignId')) spec.campaignId = v('campaignId');
  if (v('expiresAt')) spec.expiresAt = v('expiresAt');
  if (v('expiredUrl')) spec.expiredUrl = v('expiredUrl');
  return spec;
}

export async function renderEditor(main, slug) {
  const isNew = !slug;
  const title = h('h1', { tabindex: '-1' }, isNew ? 'New link' : `Link ${slug}`);
  const top = h('div', {}, isNew ? null : loading('Loading the link…'));
  main.append(h('p', {}, h('a', { href: '#/links' }, '← All links')), title, top);
  const ctx = { slug, version: null, link: null };
  if (!isNew) {
    const r = await api.request('GET', linkPath(slug));
    if (!r.ok) {
      clear(top, errorBox(r.error));
      return;
    }
    ctx.link = r.data;
    ctx.version = r.data.version;
  }
  const editor = linkForm(ctx, isNew);
  clear(top, ctx.link ? summary(ctx.link) : null, section(isNew ? 'Create' : 'Edit', editor));
  if (ctx.link) fill(editor, ctx.link);
  if (!isNew) {
    const convert = conversionTester();
    main.append(previewPanel(slug), tryPanel(slug, convert), convert.panel);
  }
}

function summary(link) {
  return h('div', {},
    h('dl', { class: 'facts' },
      h('dt', {}, 'Short URL'), h('dd', { class: 'share' }, h('code', { id: 'short-url' }, link.shortUrl), copyButton(() => link.shortUrl, 'Copy', 'Copy the short URL')),
      h('dt', {}, 'Version'), h('dd', { id: 'link-version' }, String(link.version)),
      h('dt', {}, 'Updated'), h('dd', {}, fmtTime(link.updatedAt))),
    sharePanel(link));
}

// The URL to hand a partner: sub-ids added (sub1 … sub5, Everflow's names), a copy button and a
// QR code drawn in the page (qr.js; no third-party service sees the link).
function sharePanel(link) {
  const subs = ['sub1', 'sub2', 'sub3'].map((n) => input(n, { placeholder: n === 'sub1' ? 'partner-7' : '' }));
  const url = h('code', { id: 'share-url', class: 'url' });
  const qr = h('div', { class: 'qr', id: 'share-qr' });
  const current = () => {
    const u = new URL(link.shortUrl);
    for (const s of subs) if (s.value.trim()) u.searchParams.set(s.name, s.value.trim());
    return u.toString();
  };
  const draw = () => {
    const text = current();
    clear(url, text);
    try {
      clear(qr, qrSvg(text, { label: `QR code for ${text}` }));
    } catch (err) {
      clear(qr, notice('info', err.message));
    }
  };
  for (const s of subs) s.addEventListener('input', draw);
  draw();
  return h('details', { class: 'share-panel', open: true }, h('summary', {}, 'Share: copy or scan, with sub-ids'),
    h('div', { class: 'grid' }, subs.map((s) => field(s.name, s))),
    h('p', { class: 'share' }, url, copyButton(current, 'Copy', 'Copy the URL with its sub-ids')),
    qr);
}

function linkForm(ctx, isNew) {
  const canWrite = session.allows(NEEDS.linksWrite);
  const fields = editorFields(isNew);
  const el = form({ class: 'link-form', 'aria-label': 'Link' }, fields, isNew ? 'Create link' : 'Save changes',
    (f, out) => save(ctx, f, out, isNew));
  if (!canWrite) {
    el.querySelector('.actions').replaceChildren(gate(el.button, false, session.reason(NEEDS.linksWrite)));
  } else if (!isNew) {
    el.querySelector('.actions').append(deleteButton(ctx));
  }
  return el;
}

async function save(ctx, f, out, isNew, overwriteVersion) {
  const spec = readSpec(f);
  const slug = isNew ? f.querySelector('[name=slug]').value.trim() : ctx.slug;
  if (isNew) {
    if (!SLUG.test(slug)) throw new Error('Slug: 1–64 lowercase letters, digits and hyphens, starting with a letter or digit and not ending with a hyphen.');
    const existing = await api.request('GET', linkPath(slug));
    if (existing.ok) {
      clear(out, notice('warning', `The slug ${slug} is taken. `, h('a', { href: `#/links/edit/${slug}` }, 'Open it'), ' or choose another.'));
      return;
    }
  }
  const version = overwriteVersion ?? ctx.version;
  const headers = version ? { 'if-match': `"${version}"` } : {};
  const r = await api.request('PUT', linkPath(slug), { body: spec, headers });
  if (r.status === 412) {
    await showConflict(ctx, f, out, isNew, r.error);
    return;
  }
  if (!r.ok) throw r.error;
  session.markDone('AT-01');
  ctx.link = r.data;
  ctx.version = r.data.version;
  if (isNew) {
    location.hash = `#/links/edit/${encodeURIComponent(slug)}`;
    return;
  }
  const v = document.getElementById('link-version');
  if (v) v.textContent = String(r.data.version);
  clear(out, notice('ok', `Saved: version ${r.data.version} (${r.status === 201 ? 'created' : 'updated'}).`));
}

// A 412: the link changed since it was loaded. Show the server's version; let the user take it,
// or overwrite it with the form's contents (a new if-match on the server's version).
async function showConflict(ctx, f, out, isNew, error) {
  const latest = await api.call('GET', linkPath(ctx.slug));
  const useTheirs = h('button', { type: 'button', class: 'secondary', id: 'conflict-load' }, 'Load the server\'s version');
  const useMine = h('button', { type: 'button', class: 'primary', id: 'conflict-overwrite' }, 'Overwrite it with mine');
  useTheirs.addEventListener('click', () => {
    ctx.link = latest;
    ctx.version = latest.version;
    fill(f, latest);
    const v = document.getElementById('link-version');
    if (v) v.textContent = String(latest.version);
    clear(out, notice('ok', `Loaded version ${latest.version}; edit and save again.`));
  });
  useMine.addEventListener('click', () => busy(useMine, out, () => save(ctx, f, out, isNew, latest.version)));
  clear(out, h('div', { class: 'conflict', role: 'alert' },
    h('strong', {}, 'Conflict: '),
    `this link changed since you opened it (you edited version ${ctx.version}; the server has version ${latest.version}). `,
    error.requestId ? h('span', { class: 'request-id' }, `Request id: ${error.requestId}. `) : null,
    h('p', {}, error.message),
    h('details', { open: true }, h('summary', {}, `The server's version ${latest.version}`),
      h('p', {}, 'Destination: ', h('code', {}, latest.destinationUrl)),
      json({ title: latest.title, tracking: latest.tracking, routingRules: latest.routingRules })),
    h('div', { class: 'actions' }, useTheirs, useMine)));
}

function deleteButton(ctx) {
  const b = h('button', { type: 'button', class: 'danger', id: 'delete-link' }, 'Delete link');
  let armed = false;
  b.addEventListener('click', async () => {
    if (!armed) {
      armed = true;
      b.textContent = 'Click again to delete for good';
      return;
    }
    const out = b.closest('form').output;
    await busy(b, out, async () => {
      await api.call('DELETE', linkPath(ctx.slug), { headers: { 'if-match': `"${ctx.version}"` } });
      location.hash = '#/links';
    });
  });
  return b;
}

// ---------------------------------------------------------------------------- route preview

function previewPanel(slug) {
  const out = h('div', { class: 'result', 'aria-live': 'polite' });
  const f = form({ id: 'preview-form', 'aria-label': 'Route preview' },
    h('div', { class: 'grid' },
      field('Country', input('country', { placeholder: 'US' })),
      field('Device', select('device', [['', '(any)'], 'mobile', 'tablet', 'desktop', 'other'], '')),
      field('Source', input('source', { placeholder: 'newsletter' })),
      field('Campaign', input('campaign')),
      field('Short URL query', input('query', { placeholder: 'gclid=abc&coupon=X' }))),
    'Preview the route',
    async (el) => {
      checkCountry(el);
      const body = {};
      for (const n of ['country', 'device', 'source', 'campaign', 'query']) {
        const v = el.querySelector(`[name=${n}]`).value.trim();
        if (v) body[n] = v;
      }
      const r = await api.post(`${linkPath(slug)}/route-preview`, body);
      session.markDone('AT-02');
      clear(out,
        h('dl', { class: 'facts', id: 'preview-result' },
          h('dt', {}, 'Decision'), h('dd', { class: 'decision' }, r.decision === 'rule' ? `rule (priority ${r.matchedRule.priority})` : 'default destination'),
          h('dt', {}, 'Destination'), h('dd', {}, h('code', { class: 'url' }, r.destinationUrl)),
          h('dt', {}, 'As the redirect sends it'), h('dd', {}, h('code', { class: 'url' }, r.trackedUrl)),
          h('dt', {}, 'Normalized input'), h('dd', {}, Object.entries(r.input).map(([k, v]) => `${k}: ${v ?? '–'}`).join(' · '))),
        h('details', {}, h('summary', {}, 'The decision envelope'), json(r)));
    });
  return section('AT-02 · Route preview', h('p', {}, 'The same engine as the redirect: the same input gives the same answer.'), f, out);
}

// A country is two letters ("US", not "USA"): said on the field before the request, rather than
// routed as unknown without a word.
function checkCountry(el) {
  const v = el.querySelector('[name=country]').value.trim();
  // Shaped like the API's 400, so the form shows it on the field.
  if (v && !/^[A-Za-z]{2}$/.test(v)) throw Object.assign(new Error('country: a two-letter ISO 3166-1 code, such as US or DE.'), { status: 400 });
}

// ------------------------------------------------------------------------- try the redirect

function tryPanel(slug, convert) {
  const out = h('div', { class: 'result', 'aria-live': 'polite' });
  const f = form({ id: 'try-form', 'aria-label': 'Try the redirect' },
    h('div', { class: 'grid' },
      field('Visitor (its device)', select('visitor', VISITORS.map(([v, label]) => [v, label]), 'iphone')),
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
      const r = await api.post(`${linkPath(slug)}/try`, body);
      session.markDone('AT-03');
      const decoded = h('div', { class: 'decoded' });
      clear(out,
        h('dl', { class: 'facts', id: 'try-result' },
          h('dt', {}, 'Visited'), h('dd', {}, h('code', { class: 'url' }, r.shortUrl)),
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
  return section('AT-03 · Try the redirect',
    h('p', {}, 'The server follows the short URL once, as this visitor: a test click, counted apart (testClicks, never in clicks or qualified clicks) and sent to link.clicked webhooks with test: true. Its ctx converts only as a test conversion, never counted or paid.'),
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
  clear(out, h('h3', {}, 'AT-04 · The decoded ctx (GET /v2/public/context)'),
    h('dl', { class: 'facts pairs', id: 'ctx-table' },
      fields.map(([k, v]) => [h('dt', {}, k), h('dd', {}, h('code', {}, v ?? '–'))])));
}

// ------------------------------------------------------------------------ conversion tester

const MEANING = {
  202: 'accepted: a new conversion',
  200: 'a replay of the same key and payload: deduped, the original conversion',
  409: 'the same key with a different payload: refused',
};

function conversionTester() {
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
  const panel = section('AT-05 / AT-06 · Conversion tester',
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
