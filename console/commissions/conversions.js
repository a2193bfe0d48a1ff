// Conversions: the audit trail with its filters and the reverse action, the conversion policy,
// and the redirect's settings with the orphan visits they catch. (Stripe and Shopify are on
// Integrations since issue 62.)

import * as api from '../api.js';
import * as session from '../session.js';
import { NEEDS } from '../session.js';
import {
  busy, clear, empty, errorBox, field, fmtCount, fmtMoney, fmtTime, form, h, input, live, loading,
  notice, section, select, table,
} from '../ui.js';
import { words } from '../words.js';
import { picker } from '../widgets/picker.js';


export async function render(main) {
  main.append(h('h1', { tabindex: '-1' }, 'Conversions'));
  if (!session.allows(NEEDS.conversionsRead)) {
    main.append(notice('info', session.reason(NEEDS.conversionsRead)));
    return;
  }
  const listBody = h('div', { id: 'conversion-list' }, loading('Loading conversions…'));
  main.append(section('Every conversion, newest first', filters(listBody), listBody));
  main.append(policySection(), settingsSection(), orphansSection());
  await listBody.load();
}

// ---------------------------------------------------------------------------------- the list

function filters(listBody) {
  const yesNo = (name, label) => field(label, select(name, [['', 'Any'], ['true', 'Yes'], ['false', 'No']], ''));
  const f = form({ id: 'conversion-filters', 'aria-label': 'Filter conversions' },
    h('div', { class: 'grid' },
      field('Campaign', picker('campaignId', 'campaigns', { placeholder: 'all' })),
      yesNo('verified', 'Verified'), yesNo('flagged', 'Flagged'), yesNo('reversed', 'Reversed'),
      field('From', input('from', { type: 'date' })), field('To', input('to', { type: 'date' }))),
    'Show', async (el) => { await listBody.load(el); });
  const state = { items: [], cursor: null, query: {} };
  listBody.load = async (el = f, more = false) => {
    if (!more) {
      state.query = Object.fromEntries(['campaignId', 'verified', 'flagged', 'reversed', 'from', 'to']
        .map((n) => [n, el.querySelector(`[name=${n}]`).value.trim()]));
      state.items = [];
      state.cursor = null;
    }
    const r = await api.get(api.handlePath('/conversions') + api.query({ ...state.query, limit: 50, cursor: state.cursor }));
    state.items.push(...r.items);
    state.cursor = r.nextCursor;
    drawList(listBody, state);
  };
  return f;
}

function drawList(body, state) {
  if (state.items.length === 0) {
    clear(body, empty('No conversion matches, in the last 30 days unless a period is given.'));
    return;
  }
  const more = state.cursor ? h('button', { type: 'button', class: 'secondary', id: 'conversions-more' }, 'Load more') : null;
  if (more) more.addEventListener('click', () => busy(more, null, () => body.load(undefined, true)).catch((e) => body.append(errorBox(e))));
  clear(body, table([
    // A sale is named by when it came and its link (its id stays in `data-conversion-id`).
    { label: 'Received', value: (c) => h('span', { 'data-conversion-id': c.conversionId }, fmtTime(c.receivedAt)) },
    { label: 'Link', value: (c) => `${c.slug}${c.campaignId ? ` · ${c.campaignId}` : ''}` },
    { label: 'Event', value: (c) => c.eventType },
    { label: 'Value', value: (c) => (c.value === null ? '–' : fmtMoney(String(c.value), c.currency)), class: 'num' },
    { label: 'Trust', value: trust },
    { label: 'State', value: (c) => stateOf(c) },
  ], state.items, `${state.items.length} conversion${state.items.length === 1 ? '' : 's'}`), more);
}

function trust(c) {
  const reasons = (c.risk && c.risk.reasons) || [];
  return h('span', {}, c.verified ? 'Verified (signed by the merchant)' : 'Unverified',
    reasons.length ? h('span', { class: 'stale' }, ` · flagged: ${reasons.map((r) => words(r).toLowerCase()).join(', ')} (risk ${c.risk.score})`) : '');
}

function stateOf(c) {
  if (c.reversal) {
    const amount = c.reversal.amount === null ? 'in full' : fmtMoney(String(c.reversal.amount), c.reversal.currency);
    return h('span', { class: 'reversed' }, `Reversed ${amount}: ${c.reversal.reason}, by ${c.reversal.reversedBy}`);
  }
  if (c.supersededBy) return 'Replaced by a later report of the same sale';
  if (c.test) return 'Test (not counted)';
  return reverseControl(c);
}

// When a sale came, as people read it (for a control's name).
function whenWords(iso) {
  return new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
}

// Reverse (refund, chargeback): a reason is required, an amount optional (default: the value).
function reverseControl(c) {
  const open = h('button', { type: 'button', class: 'secondary' }, 'Reverse…');
  open.setAttribute('aria-label', `Reverse the ${c.eventType} of ${whenWords(c.receivedAt)} on ${c.slug}`);
  const wrap = h('div', { class: 'reverse' }, 'Counted ', open);
  open.addEventListener('click', () => {
    const f = form({ class: 'reverse-form', 'aria-label': `Reverse the ${c.eventType} of ${whenWords(c.receivedAt)} on ${c.slug}` },
      h('div', {}, field('Reason', input('reason', { placeholder: 'refund' })),
        c.value === null ? null : field(`Amount (${c.currency}; empty: all of it)`, input('amount', { inputmode: 'decimal' }))),
      'Reverse it',
      async (el) => {
        const body = { reason: el.querySelector('[name=reason]').value.trim() };
        const amount = el.querySelector('[name=amount]');
        if (amount && amount.value.trim()) body.amount = amount.value.trim();
        const done = await api.post(api.handlePath(`/conversions/${encodeURIComponent(c.conversionId)}/reverse`), body);
        clear(wrap, stateOf(done));
      });
    clear(wrap, f);
    f.querySelector('[name=reason]').focus();
  });
  return session.allows(NEEDS.conversionsWrite) ? wrap : 'Counted';
}

// -------------------------------------------------------------------------------- the policy

function policySection() {
  const body = h('div', {});
  const s = section('Conversion policy', body);
  if (!session.allows(NEEDS.conversionPolicy)) {
    clear(body, notice('info', session.reason(NEEDS.conversionPolicy)));
    return s;
  }
  clear(body, loading('Loading the policy…'));
  api.request('GET', api.handlePath('/conversion-policy')).then((r) => {
    if (!r.ok) clear(body, errorBox(r.error));
    else clear(body, policyForm(r.data));
  });
  return s;
}

function policyForm(p) {
  const maxValue = Object.entries(p.maxValue || {}).map(([cur, v]) => `${cur}=${v}`).join(', ');
  return form({ id: 'policy-form', 'aria-label': 'Conversion policy' },
    h('div', { class: 'grid' },
      field('Public conversions (no merchant signature)', select('publicConversions', [['allow', 'Allow'], ['flag', 'Flag for review'], ['deny', 'Deny']], p.publicConversions)),
      field('At most per click', input('maxConversionsPerClick', { type: 'number', value: p.maxConversionsPerClick ?? '' }), 'Empty: no cap.'),
      field('At least seconds after the click', input('minSecondsAfterClick', { type: 'number', value: p.minSecondsAfterClick ?? '' })),
      field('Largest value per currency', input('maxValue', { value: maxValue, placeholder: 'USD=500, EUR=450' }), 'Larger values are flagged.')),
    'Save the policy',
    async (el, out) => {
      const v = (n) => el.querySelector(`[name=${n}]`).value.trim();
      const body = { publicConversions: v('publicConversions') };
      if (v('maxConversionsPerClick')) body.maxConversionsPerClick = Number(v('maxConversionsPerClick'));
      if (v('minSecondsAfterClick')) body.minSecondsAfterClick = Number(v('minSecondsAfterClick'));
      const pairs = v('maxValue').split(',').map((x) => x.trim()).filter(Boolean).map((x) => x.split('=').map((y) => y.trim()));
      if (pairs.length) body.maxValue = Object.fromEntries(pairs.map(([cur, amount]) => [cur.toUpperCase(), amount]));
      const saved = await api.put(api.handlePath('/conversion-policy'), body);
      clear(out, notice('ok', `Saved: public conversions ${saved.publicConversions}, at least ${saved.minSecondsAfterClick} s after the click.`));
    });
}

// ------------------------------------------------------------------ redirect settings, orphans

function settingsSection() {
  const body = h('div', {});
  const s = section('Redirect settings', h('p', {}, 'Where visitors of an unknown slug, or of the bare short-link domain, are sent.'), body);
  if (!session.allows(NEEDS.redirectSettings)) {
    clear(body, notice('info', session.reason(NEEDS.redirectSettings)));
    return s;
  }
  api.request('GET', api.handlePath('/redirect-settings')).then((r) => {
    if (!r.ok) {
      clear(body, errorBox(r.error));
      return;
    }
    clear(body, form({ id: 'redirect-settings-form', 'aria-label': 'Redirect settings' },
      h('div', { class: 'grid' },
        field('Unknown slug → URL', input('notFoundUrl', { type: 'url', value: r.data.notFoundUrl || '' }), 'Empty: a "link not found" page.'),
        field('Bare domain → URL', input('baseUrl', { type: 'url', value: r.data.baseUrl || '' }), 'Empty: 404.')),
      'Save the settings',
      async (el, out) => {
        const v = (n) => el.querySelector(`[name=${n}]`).value.trim() || null;
        await api.put(api.handlePath('/redirect-settings'), { notFoundUrl: v('notFoundUrl'), baseUrl: v('baseUrl') });
        clear(out, notice('ok', 'Saved: the redirect applies them within a minute.'));
      }));
  });
  return s;
}

function orphansSection() {
  const out = h('div', { id: 'orphans' });
  const s = section('Orphan visits (last 30 days)', h('p', {}, 'Visits to slugs that do not exist and to the bare domain: typos, deleted links, scanners.'), out);
  if (!session.allows(NEEDS.analytics)) {
    clear(out, notice('info', session.reason(NEEDS.analytics)));
    return s;
  }
  live(out, () => api.get(api.handlePath('/analytics') + api.query({ orphans: 'true' })), (r) => (r.rows.length
    ? h('div', {}, h('p', { id: 'orphan-total' }, `${fmtCount(r.totalVisits)} visits, ${fmtCount(r.totalBotVisits)} of them by bots.`),
      table([
        { label: 'Day (UTC)', value: (x) => new Date(`${x.day}T00:00:00Z`).toLocaleDateString(undefined, { dateStyle: 'medium', timeZone: 'UTC' }) },
        { label: 'Kind', value: (x) => (x.kind === 'base' ? 'bare domain' : 'unknown slug') },
        { label: 'Visits', value: (x) => fmtCount(x.visits), class: 'num' },
        { label: 'Bot visits', value: (x) => fmtCount(x.botVisits), class: 'num' },
      ], r.rows, 'Orphan visits'))
    : empty('No orphan visit.')));
  return s;
}
