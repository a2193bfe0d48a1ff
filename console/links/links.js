// Attribution: the links list (search, cursor paging, each link's last 30 days), and a link's
// page: its last 30 days (live), sharing, the editor (destination, a slug checked against the
// server's rule and its availability as it is typed, UTM tracking, routing rules; if-match
// conflicts shown and resolvable; an A/B test's variants, variants.js), and the testers of
// try.js.

import * as api from '../api.js';
import * as session from '../session.js';
import { NEEDS } from '../session.js';
import { walkthrough } from './playbook.js';
import { qrSvg } from '../widgets/qr.js';
import {
  busy, checkbox, clear, copyButton, empty, errorBox, field, fmtTime, form, gate, h, input, json, list,
  live, loading, notice, section, splitList, table,
} from '../ui.js';
import { LINK_STATS, linkStats, statText } from './stats.js';
import { conversionTester, previewPanel, tryPanel } from './try.js';
import { readVariants, variantsFieldset, variantsPanel } from './variants.js';
import { picker } from '../widgets/picker.js';

const PAGE = 20;
// The server's rule (domain::ids::Slug): 1 to 64 lowercase letters, digits and hyphens, starting
// with a letter or digit and not ending with a hyphen (`\-`: valid as an HTML pattern too).
const SLUG = /^[a-z0-9](?:[a-z0-9\-]{0,62}[a-z0-9])?$/u;

const linkPath = (slug) => api.handlePath(`/links/${encodeURIComponent(slug)}`);

// ------------------------------------------------------------------------------------ list

export async function renderList(main) {
  const canWrite = session.allows(NEEDS.linksWrite);
  const search = input('search', { type: 'search', placeholder: 'slug, title or destination' });
  const body = h('div', { class: 'list-body' }, loading('Loading links…'));
  const state = { items: [], cursor: null, loaded: false, stats: null };
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
  // Each link's last 30 days; '–' when they cannot be read (no analytics for this token).
  const stats = linkStats().then((x) => { state.stats = x; }, () => {});
  await Promise.all([loadPage(null), stats]);
  draw();
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
        ...LINK_STATS.map(([key, label]) => ({ label, value: (l) => statText(state.stats, l.slug, key), class: 'num' })),
        { label: 'Updated', value: (l) => fmtTime(l.updatedAt) },
      ], shown, 'Links')
      : empty('No loaded link matches.'),
    open,
    more);
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
    Object.assign(variantsFieldset(), { id: 'variants-fieldset' }),
    h('details', {}, h('summary', {}, 'More: campaign, query forwarding, expiry'),
      field('Campaign', picker('campaignId', 'campaigns'), 'An existing campaign of this handle, or empty.'),
      field('Forward the short URL\'s query to the destination', checkbox('forwardQuery', true)),
      field('Expires at', input('expiresAt', { type: 'datetime-local' }), `In your time zone (${Intl.DateTimeFormat().resolvedOptions().timeZone}); empty: never.`),
      field('Expired URL', input('expiredUrl', { type: 'url' }), 'Where an expired link sends visitors; empty: 410.')));
  fields.rules = rules;
  return fields;
}

// Whether a slug is free: `…/availability` answers 200 either way, so a free slug costs no 404
// (which a browser logs as an error). null when it cannot be asked (no links.read) or failed.
async function slugAvailable(slug) {
  if (!session.allows(NEEDS.linksRead)) return null;
  const r = await api.request('GET', `${linkPath(slug)}/availability`);
  return r.ok ? r.data.available : null;
}

// The slug's note: an error (the rule, or taken) marks the field invalid; "free" describes it.
function slugNote(slug, note, kind, ...words) {
  note.className = kind === 'ok' ? 'slug-free' : 'rule-error';
  if (kind === 'error') slug.setAttribute('aria-invalid', 'true');
  else slug.removeAttribute('aria-invalid');
  clear(note, ...words);
  slug.setAttribute('aria-describedby', [`${slug.id}-hint`, kind ? note.id : null].filter(Boolean).join(' '));
}

const AVAILABILITY_DELAY_MS = 300;

// The slug: suggested from the destination, checked against the server's rule as it is typed,
// and, a moment after the last key, whether a link already has it.
function slugField(slug, destination) {
  const wrap = field('Slug', slug, 'Lowercase letters, digits and hyphens (1–64), not ending with a hyphen; the short URL is {handle}.{domain}/{slug}.');
  const note = h('small', { class: 'rule-error', id: `${slug.id}-rule`, 'aria-live': 'polite' });
  wrap.append(note);
  let touched = false;
  let timer = null;
  let asked = 0;
  const check = () => {
    clearTimeout(timer);
    const seq = ++asked;
    const v = slug.value.trim();
    if (v !== '' && !SLUG.test(v)) slugNote(slug, note, 'error', `"${v}" is not a slug: ${slugProblem(v)}`);
    else slugNote(slug, note, null);
    if (!SLUG.test(v)) return;
    timer = setTimeout(async () => {
      const free = await slugAvailable(v);
      if (seq !== asked || free === null) return; // typed on meanwhile, or not known
      if (free) slugNote(slug, note, 'ok', `${v} is free.`);
      else slugNote(slug, note, 'error', `${v} is taken: `, h('a', { href: `#/links/edit/${encodeURIComponent(v)}` }, 'open it'), ' or choose another.');
    }, AVAILABILITY_DELAY_MS);
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

// An instant as a datetime-local picker's value: the same moment on this computer's clock.
function toLocalInput(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

function fill(formEl, link) {
  const set = (n, v) => { const el = formEl.querySelector(`[name=${n}]`); if (el) el.value = v ?? ''; };
  set('destinationUrl', link.destinationUrl);
  set('title', link.title);
  for (const [name] of TRACKING) set(name, link.tracking && link.tracking[name]);
  set('campaignId', link.campaignId);
  set('expiresAt', toLocalInput(link.expiresAt));
  // The picker shows minutes: an expiry left as it was is sent back as stored, to the second.
  Object.assign(formEl.querySelector('[name=expiresAt]').dataset, { stored: link.expiresAt || '', shown: toLocalInput(link.expiresAt) });
  set('expiredUrl', link.expiredUrl);
  formEl.querySelector('[name=forwardQuery]').checked = link.forwardQuery !== false;
  const rules = formEl.querySelector('.rules');
  clear(rules, (link.routingRules || []).map(ruleRow));
  formEl.querySelector('#variants-fieldset').fill(link.variants);
}

function readSpec(formEl) {
  const v = (n) => formEl.querySelector(`[name=${n}]`).value.trim();
  const spec = { destinationUrl: v('destinationUrl'), forwardQuery: formEl.querySelector('[name=forwardQuery]').checked };
  if (v('title')) spec.title = v('title');
  const tracking = {};
  for (const [name] of TRACKING) if (v(name)) tracking[name] = v(name);
  if (Object.keys(tracking).length) spec.tracking = tracking;
  spec.routingRules = [...formEl.querySelectorAll('.rule')].map(readRule);
  // null ends a test the link had; the server refuses a bad split in words.
  spec.variants = readVariants(formEl);
  if (v('campaignId')) spec.campaignId = v('campaignId');
  // The picker's local time, sent as the instant it names.
  const expiry = formEl.querySelector('[name=expiresAt]');
  if (v('expiresAt')) spec.expiresAt = v('expiresAt') === expiry.dataset.shown ? expiry.dataset.stored : new Date(v('expiresAt')).toISOString();
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
    main.append(previewPanel(linkPath(slug)), tryPanel(linkPath(slug), convert), convert.panel);
  }
}

function summary(link) {
  return h('div', {},
    h('dl', { class: 'facts' },
      h('dt', {}, 'Short URL'), h('dd', { class: 'share' }, h('code', { id: 'short-url' }, link.shortUrl), copyButton(() => link.shortUrl, 'Copy', 'Copy the short URL')),
      h('dt', {}, 'Version'), h('dd', { id: 'link-version' }, String(link.version)),
      h('dt', {}, 'Updated'), h('dd', {}, fmtTime(link.updatedAt))),
    statsPanel(link.slug),
    link.variants && link.variants.length ? variantsPanel(linkPath(link.slug)) : null,
    sharePanel(link));
}

// The link's last 30 days, the same numbers as its row in the list, live (tries are test
// clicks: never counted here).
function statsPanel(slug) {
  const out = h('div', { id: 'link-stats' });
  live(out, linkStats, (stats) => (stats
    ? h('dl', { class: 'figures' }, LINK_STATS.map(([key, , label]) => h('div', {},
      h('dt', {}, label), h('dd', { dataset: { stat: key } }, statText(stats, slug, key)))))
    : notice('info', session.reason(NEEDS.analytics))));
  return section('Last 30 days', out);
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
    // PUT would replace a link that has the slug: never from the create form.
    if (await slugAvailable(slug) === false) {
      clear(out, notice('warning', `The slug ${slug} is taken. `, h('a', { href: `#/links/edit/${encodeURIComponent(slug)}` }, 'Open it'), ' or choose another.'));
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
  clear(out, notice('ok', `Saved: version ${r.data.version} (${r.status === 201 ? 'created' : 'updated'}).`),
    r.data.variantsNotice ? notice('info', r.data.variantsNotice) : null);
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
      json({ title: latest.title, tracking: latest.tracking, routingRules: latest.routingRules, variants: latest.variants })),
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
