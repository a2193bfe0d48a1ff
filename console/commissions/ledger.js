// The commission ledger with its filters, the review queue (held lines, approved or rejected in
// bulk, ≤ 100 at a time, each outcome shown), and the balances per partner and currency.

import { byWhom, day } from '../widgets/people.js';
import * as api from '../api.js';
import * as session from '../session.js';
import { ruleInWords } from './rules.js';
import { NEEDS } from '../session.js';
import {
  checkbox, clear, empty, errorBox, field, fmtMoney, fmtTime, form, h, input, loading, notice,
  select, table,
} from '../ui.js';
import { term, terms, words } from '../words.js';
import { picker } from '../widgets/picker.js';
import { partnerLink } from '../widgets/partner_link.js';
import * as testMode from '../home/test_mode.js';

const STATUSES = ['', 'pending', 'held', 'approved', 'rejected', 'capped', 'paid'];
const KINDS = ['', 'conversion', 'click_day', 'adjustment', 'clawback', 'manual', 'bonus', 'imported'];
// Each filter's choices in words (the dictionary's), the code as the value.
const label = (v) => [v, v ? words(v) : 'any'];

export async function render(body, onChange) {
  const results = h('div', { id: 'ledger-results' });
  // The last review's outcome: outside the results, which reload after a review.
  const outcome = h('div', { id: 'review-outcome', 'aria-live': 'polite' });
  const filters = form({ id: 'ledger-filters', 'aria-label': 'Filter the ledger' },
    h('div', { class: 'grid' },
      field('Status', select('status', STATUSES.map(label), '')),
      field('Kind', select('kind', KINDS.map(label), '')),
      field('Partner', picker('partnerId', 'partners')),
      field('Campaign', picker('campaignId', 'campaigns')),
      field('Money', select('test', [['', 'Real money'], ['true', 'Test money (test mode)']], ''))),
    'Show',
    async (el) => {
      const v = (n) => el.querySelector(`[name=${n}]`).value.trim();
      const params = { status: v('status'), kind: v('kind'), partnerId: v('partnerId'), campaignId: v('campaignId'), test: v('test'), limit: 50 };
      await page(results, params, { onChange, filters, outcome });
    });
  const queue = h('button', { type: 'button', class: 'secondary', id: 'review-queue' }, 'Review queue (held)');
  queue.addEventListener('click', () => {
    filters.querySelector('[name=status]').value = 'held';
    filters.requestSubmit();
  });
  clear(body, filters, h('div', { class: 'actions' }, queue), outcome, results);
  await page(results, { limit: 50 }, { onChange, filters, outcome });
}

// One page of lines; "Next page" follows the cursor with the same filters.
async function page(results, params, ctx) {
  clear(results, loading('Loading the ledger…'));
  const r = await api.request('GET', api.handlePath('/commissions') + api.query(params));
  if (!r.ok) {
    clear(results, errorBox(r.error));
    return;
  }
  const lines = r.data.items;
  if (!lines.length) {
    clear(results, empty('No commission lines match.'));
    return;
  }
  const next = r.data.nextCursor
    ? h('button', { type: 'button', class: 'secondary', id: 'ledger-next' }, 'Next page')
    : null;
  if (next) next.addEventListener('click', () => page(results, { ...params, cursor: r.data.nextCursor }, ctx));
  clear(results, lineTable(lines), reviewForm(results, ctx), next);
}

const reviewable = (c) => c.status === 'held' || c.status === 'pending';

// A partner's risk score (GET …/partners/{id}/risk), fetched once per partner per render: a
// badge (amber from 30, red from 60) with the fired signals in words beside it.
export function riskCell(partnerId, cache = new Map()) {
  const cell = h('span', { class: 'risk', 'data-risk-partner': partnerId }, '…');
  if (!cache.has(partnerId)) {
    cache.set(partnerId, api.request('GET', api.handlePath(`/partners/${encodeURIComponent(partnerId)}/risk`)));
  }
  cache.get(partnerId).then((r) => {
    if (!r.ok) {
      clear(cell, '–');
      return;
    }
    const fired = r.data.signals.filter((s) => s.fired);
    const level = r.data.score >= 60 ? 'bad' : r.data.score >= 30 ? 'warn' : 'ok';
    clear(cell, h('span', { class: `badge ${level}`, title: `Risk score ${r.data.score} of 100` }, String(r.data.score)),
      fired.length ? h('small', {}, ' ', fired.map((s) => s.detail).join('; ')) : '');
  });
  return cell;
}

// The rule that paid a line, in words: the campaign's plan is read once per render; a line of an
// older version than the one in force is named by its index and version only.
export function ruleCell(c, plans = new Map()) {
  if (c.ruleIndex === undefined || c.ruleIndex === null || !c.campaignId) return '–';
  const short = `rule ${c.ruleIndex + 1}${c.tierIndex != null ? `, tier ${c.tierIndex + 1}` : ''}`;
  const cell = h('span', { class: 'rule-paid', 'data-rule-index': String(c.ruleIndex) }, short);
  if (!plans.has(c.campaignId)) {
    plans.set(c.campaignId, api.request('GET', api.handlePath(`/campaigns/${encodeURIComponent(c.campaignId)}/commission-plan`)));
  }
  plans.get(c.campaignId).then((r) => {
    if (!r.ok) return;
    if (r.data.version !== c.planVersion) {
      clear(cell, `${short} (plan v${c.planVersion})`);
      return;
    }
    clear(cell, ruleInWords(r.data.rules[c.ruleIndex], c.ruleIndex, c.tierIndex ?? null, r.data.currency));
  });
  return cell;
}

function lineTable(lines) {
  const risks = new Map();
  const plans = new Map();
  return table([
    { label: 'Select', value: (c) => (reviewable(c) ? checkbox('pick', false, { value: c.commissionId, 'aria-label': `Select the line of ${c.partnerId}, ${fmtMoney(c.amount, c.currency)}` }) : '') },
    { label: 'Earned', value: (c) => (c.createdAt ? fmtTime(c.createdAt) : '–') },
    { label: 'Kind', value: (c) => (c.test ? [term(c.kind), ' ', testMode.badge()] : term(c.kind)) },
    { label: 'Partner', value: (c) => partnerLink(c.partnerId) },
    { label: 'Campaign', value: (c) => c.campaignId || '–' },
    { label: 'Event', value: (c) => c.eventType || (c.clickCount !== null ? `${c.clickCount} clicks` : '–') },
    { label: 'Value', value: (c) => (c.value ? fmtMoney(c.value, c.valueCurrency) : '–') },
    { label: 'Amount', value: (c) => fmtMoney(c.amount, c.currency), class: 'num' },
    { label: 'Status', value: (c) => (c.reviewedBy && c.reviewedAt
      ? [term(c.status, `status ${c.status}`), ' ', byWhom(c.reviewedBy), `, ${day(c.reviewedAt)}`]
      : term(c.status, `status ${c.status}`)) },
    { label: 'Why', value: (c) => terms(c.reasons) },
    { label: 'Rule', value: (c) => ruleCell(c, plans) },
    { label: 'Partner risk', value: (c) => (c.status === 'held' ? riskCell(c.partnerId, risks) : '–') },
    { label: 'Available', value: (c) => fmtTime(c.availableAt) },
  ], lines, 'Commission lines');
}

function reviewForm(results, { onChange, filters, outcome }) {
  const out = h('div', { 'aria-live': 'polite' });
  const reason = input('reason', { placeholder: 'self-referral' });
  const act = (decision) => async () => {
    const ids = [...results.querySelectorAll('[name=pick]:checked')].map((b) => b.value);
    if (!ids.length) {
      clear(out, notice('warning', 'Select the lines to review first.'));
      return;
    }
    const body = { commissionIds: ids };
    if (reason.value.trim()) body.reason = reason.value.trim();
    const r = await api.request('POST', api.handlePath(`/commissions/${decision}`), { body });
    if (!r.ok) {
      clear(out, errorBox(r.error));
      return;
    }
    clear(outcome, bulkOutcome(decision, r.data.results));
    filters.requestSubmit();
    await onChange();
  };
  const buttons = ['approve', 'reject'].map((d) => {
    const b = h('button', { type: 'button', class: d === 'approve' ? 'primary' : 'secondary', id: `bulk-${d}` }, d === 'approve' ? 'Approve selected' : 'Reject selected');
    b.addEventListener('click', act(d));
    return b;
  });
  const allowed = session.allows(NEEDS.commissionsWrite);
  for (const b of buttons) b.disabled = !allowed;
  return h('div', { class: 'review' },
    field('Reason (kept with the decision; required to reject)', reason),
    h('div', { class: 'actions' }, buttons),
    allowed ? null : h('small', { class: 'hint why' }, session.reason(NEEDS.commissionsWrite)),
    out);
}

function bulkOutcome(decision, items) {
  const done = items.filter((i) => i.commission).length;
  const failed = items.filter((i) => i.error);
  return notice(failed.length ? 'warning' : 'ok',
    `${decision === 'approve' ? 'Approved' : 'Rejected'} ${done} of ${items.length}.`,
    failed.map((i) => h('div', {}, i.error.message)));
}

// ---------------------------------------------------------------------------------- balances

export async function renderBalances(body) {
  clear(body, loading('Loading balances…'));
  const r = await api.request('GET', api.handlePath('/balances'));
  if (!r.ok) {
    clear(body, errorBox(r.error));
    return;
  }
  const rows = r.data.items;
  if (!rows.length) {
    clear(body, empty('Nothing earned yet.'));
    return;
  }
  const money = (key) => (b) => fmtMoney(b[key], b.currency);
  clear(body, table([
    { label: 'Partner', value: (b) => partnerLink(b.partnerId) },
    { label: 'Currency', value: (b) => b.currency },
    { label: 'Pending', value: money('pending'), class: 'num' },
    { label: 'Held', value: money('held'), class: 'num' },
    { label: 'Approved', value: money('approved'), class: 'num' },
    { label: 'Paid', value: money('paid'), class: 'num' },
    { label: 'Owed back', value: money('openNegative'), class: 'num' },
  ], rows, 'Balances'));
}
