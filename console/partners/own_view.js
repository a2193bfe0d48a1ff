// The partner view: a partner signed in with its own token (tenx_ptk_…) sees its links (the
// short URL with its sub-id, ready to copy), its funnel, its commissions by status, its balance,
// its payouts with their signed statements, its payout method (masked; it may change it, and a
// change waits for the merchant's confirmation), and its postback deliveries. The server narrows
// every answer to the token's partner; this screen only arranges them.

import * as api from '../api.js';
import * as session from '../session.js';
import * as ledger from '../commissions/ledger.js';
import { statementButtons } from '../payouts/runs.js';
import * as customers from '../commissions/customers.js';
import * as payoutMethod from '../payouts/method.js';
import {
  clear, copyButton, empty, errorBox, field, fmtMoney, fmtTime, h, input, loading, section, table,
} from '../ui.js';
import { term, terms } from '../words.js';

export async function render(main) {
  const s = session.get();
  const me = await api.get(api.handlePath(`/partners/${encodeURIComponent(s.partnerId)}`));
  const parts = {
    links: h('div', { id: 'partner-links' }, loading()),
    funnel: h('div', { id: 'partner-funnel' }, loading()),
    commissions: h('div', { id: 'partner-commissions' }, loading()),
    customers: h('div', { id: 'partner-customers' }, loading()),
    balance: h('div', { id: 'partner-balance' }, loading()),
    payouts: h('div', { id: 'partner-payouts' }, loading()),
    postbacks: h('div', { id: 'partner-postbacks' }, loading()),
    notices: h('div', { id: 'partner-notices' }, loading()),
    method: h('div', { id: 'partner-payout-method' }, loading()),
  };
  main.append(
    h('h1', { tabindex: '-1' }, `${me.name} (${me.partnerId})`),
    section('Your links', parts.links),
    section('Your funnel', parts.funnel),
    section('Your commissions', parts.commissions),
    section('Your customers', parts.customers),
    section('Your balance', parts.balance),
    section('Your payouts and statements', parts.payouts),
    section('Plan changes (signed notices)', parts.notices),
    section('How you are paid', parts.method),
    section('Your postbacks', parts.postbacks));
  await Promise.all([
    links(parts.links), funnel(parts.funnel), commissions(parts.commissions),
    customers.render(parts.customers, { filters: false }),
    ledger.renderBalances(parts.balance), payouts(parts.payouts), postbacks(parts.postbacks, me),
    notices(parts.notices, me),
    payoutMethod.render(parts.method, me.partnerId, true),
  ]);
}

// Shows `r`'s error in `body` and answers false, or answers true.
function ok(body, r) {
  if (!r.ok) clear(body, errorBox(r.error));
  return r.ok;
}

async function links(body) {
  const r = await api.request('GET', api.handlePath('/links') + api.query({ limit: 100 }));
  if (!ok(body, r)) return;
  if (!r.data.items.length) {
    clear(body, empty('No links yet: your campaigns have none.'));
    return;
  }
  clear(body, table([
    { label: 'Link', value: (l) => l.title || l.slug },
    { label: 'Short URL with your sub-id', value: (l) => shareable(l) },
  ], r.data.items, 'Your links'));
}

// The short URL with the partner's own sub1 (its click id in its tracker), composed as typed.
function shareable(link) {
  const sub = input('sub1', { placeholder: 'your click id', 'aria-label': `sub1 for ${link.slug}` });
  const url = () => (sub.value.trim() ? `${link.shortUrl}?sub1=${encodeURIComponent(sub.value.trim())}` : link.shortUrl);
  const shown = h('code', { class: 'share-url' }, url());
  sub.addEventListener('input', () => { shown.textContent = url(); });
  return h('div', { class: 'share' }, shown, field('sub1', sub), copyButton(url, 'Copy'));
}

async function funnel(body) {
  const r = await api.request('GET', api.handlePath('/analytics') + api.query({ funnel: 'true' }));
  if (!ok(body, r)) return;
  const money = (m) => Object.entries(m || {}).map(([c, v]) => fmtMoney(v, c)).join(', ') || '–';
  clear(body, r.data.campaigns.length ? table([
    { label: 'Campaign', value: (c) => c.campaignId },
    { label: 'Clicks', value: (c) => String(c.clicks), class: 'num' },
    { label: 'Qualified', value: (c) => String(c.qualifiedClicks), class: 'num' },
    { label: 'Conversions', value: (c) => String(c.conversions), class: 'num' },
    { label: 'Pending', value: (c) => money(c.commissionsPendingAmount) },
    { label: 'Approved', value: (c) => money(c.commissionsApprovedAmount) },
    { label: 'Paid', value: (c) => money(c.commissionsPaidAmount) },
  ], r.data.campaigns, 'Your funnel (last 30 days)') : empty('No campaigns yet.'));
}

async function commissions(body) {
  const r = await api.request('GET', api.handlePath('/commissions') + api.query({ limit: 100 }));
  if (!ok(body, r)) return;
  const lines = r.data.items;
  const byStatus = {};
  for (const c of lines) byStatus[c.status] = (byStatus[c.status] || 0) + 1;
  const summary = h('p', { id: 'partner-status-counts' },
    Object.entries(byStatus).map(([k, n]) => `${n} ${k}`).join(' · ') || 'No commissions yet.');
  clear(body, summary, lines.length ? table([
    { label: 'Commission', value: (c) => h('code', {}, c.commissionId) },
    { label: 'Kind', value: (c) => term(c.kind) },
    { label: 'Amount', value: (c) => fmtMoney(c.amount, c.currency), class: 'num' },
    { label: 'Status', value: (c) => term(c.status, `status ${c.status}`) },
    { label: 'Why', value: (c) => terms(c.reasons) },
    { label: 'Sub1', value: (c) => (c.subIds && c.subIds.sub1) || '–' },
    { label: 'Receipt', value: (c) => (c.receipt ? copyButton(() => c.receipt, 'Copy receipt') : '–') },
  ], lines, 'Your commissions') : null);
}

async function payouts(body) {
  const r = await api.request('GET', api.handlePath('/payouts') + api.query({ limit: 50 }));
  if (!ok(body, r)) return;
  clear(body, r.data.items.length ? table([
    { label: 'Payout', value: (p) => `#${p.sequence}` },
    { label: 'Amount', value: (p) => fmtMoney(p.amount, p.currency), class: 'num' },
    { label: 'Status', value: (p) => term(p.status, `status ${p.status}`) },
    { label: 'Period end', value: (p) => fmtTime(p.periodEnd) },
    { label: 'Statement', value: (p) => statementButtons(p) },
  ], r.data.items, 'Your payouts') : empty('No payouts yet.'),
  h('p', { class: 'hint' }, 'Each statement is signed: check it offline with ', h('code', {}, 'tenx verify statement.json --keys keys.json'),
    ' (the keys at ', h('a', { href: '/v2/public/keys' }, '/v2/public/keys'), ').'));
}

// Each plan change that touched what this partner earns: what changed in words, from when,
// what it would have paid over the 30 days before, and the signed notice to keep (it verifies
// offline with `tenx verify`).
async function notices(body, me) {
  const r = await api.request('GET', api.handlePath(`/partners/${encodeURIComponent(me.partnerId)}/notices`) + api.query({ limit: 20 }));
  if (!ok(body, r)) return;
  if (!r.data.items.length) {
    clear(body, empty('No plan change yet.'));
    return;
  }
  clear(body, table([
    { label: 'Campaign', value: (n) => h('code', {}, n.campaignId) },
    { label: 'Version', value: (n) => String(n.planVersion), class: 'num' },
    { label: 'From', value: (n) => fmtTime(n.effectiveAt) },
    { label: 'What changed', value: (n) => n.summary },
    { label: 'Last 30 days under it', value: (n) => `${fmtMoney(n.difference30d.difference, n.difference30d.currency)} (${n.difference30d.conversions} conversions)`, class: 'num' },
    { label: 'Signed notice', value: (n) => copyButton(() => JSON.stringify(n, null, 2), 'Copy JSON', `Copy JSON of the signed notice of version ${n.planVersion}`) },
  ], r.data.items, 'Your plan change notices'));
}

async function postbacks(body, me) {
  if (!me.postbackUrl) {
    clear(body, empty('No postback URL set: ask the network to add yours.'));
    return;
  }
  const r = await api.request('GET', api.handlePath(`/partners/${encodeURIComponent(me.partnerId)}/postbacks`) + api.query({ limit: 50 }));
  if (!ok(body, r)) return;
  clear(body, h('p', {}, 'Template: ', h('code', {}, me.postbackUrl)), r.data.items.length ? table([
    { label: 'Event', value: (a) => a.eventType },
    { label: 'Attempt', value: (a) => String(a.attempt), class: 'num' },
    { label: 'Answer', value: (a) => (a.statusCode ? String(a.statusCode) : (a.error || '–')) },
    { label: 'At', value: (a) => fmtTime(a.attemptedAt) },
    { label: 'Next attempt', value: (a) => fmtTime(a.nextAttemptAt) },
  ], r.data.items, 'Your postback deliveries') : empty('No postbacks sent yet.'));
}
