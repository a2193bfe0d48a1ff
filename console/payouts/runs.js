// Payouts: a run (its idempotency key made once per form, so pressing the button again after a
// lost answer resumes the same run instead of paying twice), the payouts with their statements
// (CSV and signed JSON), and mark-paid, mark-failed and cancel.

import { partnerLink } from '../widgets/partner_link.js';
import * as api from '../api.js';
import * as people from '../widgets/people.js';
import * as session from '../session.js';
import { NEEDS } from '../session.js';
import {
  checkbox, clear, download, empty, errorBox, field, fmtMoney, fmtTime, form, h, input, loading, notice,
  randomId, table,
} from '../ui.js';
import { term } from '../words.js';
import { picker } from '../widgets/picker.js';
import { waitWords } from './waits.js';
import * as testMode from '../home/test_mode.js';

export async function render(body, onChange) {
  const list = h('div', { id: 'payout-list' }, loading('Loading payouts…'));
  clear(body, runForm(onChange), list);
  await renderList(list, onChange);
}

// Now on this computer's clock, as a datetime-local picker's value (to the second).
export function localNow() {
  const d = new Date();
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

function runForm(onChange) {
  let key = randomId('run');
  const f = form({ id: 'payout-run-form', 'aria-label': 'Run payouts' },
    h('div', { class: 'grid' },
      field('Pay what was approved by', input('periodEnd', { type: 'datetime-local', step: '1', value: localNow() }), `In your time zone (${Intl.DateTimeFormat().resolvedOptions().timeZone}): approved lines available by then are paid.`),
      field('Partner (optional)', picker('partnerId', 'partners')),
      field('Minimums (optional)', input('minimums', { placeholder: 'EUR=50.00, JPY=5000' }), 'A net below its minimum carries over.'),
      field('Test money only', checkbox('test', false), 'While test mode is on: pays the approved test commissions in test payouts, marked paid by hand, never sent.')),
    'Run payouts',
    async (el) => {
      const v = (n) => el.querySelector(`[name=${n}]`).value.trim();
      // The picker's local time as the instant it names, to the second (the API's precision).
      const run = { periodEnd: new Date(v('periodEnd')).toISOString().replace(/\.\d+Z$/, 'Z') };
      if (v('partnerId')) run.partnerId = v('partnerId');
      if (el.querySelector('[name=test]').checked) run.test = true;
      if (v('minimums')) run.minimums = Object.fromEntries(v('minimums').split(',').map((x) => x.split('=').map((y) => y.trim())));
      const got = await api.post(api.handlePath('/payouts'), run, { headers: { 'idempotency-key': key } });
      key = randomId('run'); // the run is done: the next press is a new run
      await onChange();
      const n = got.payouts.length;
      clear(document.querySelector('#payout-run-form .form-out'),
        notice('ok', n ? `Created ${n} payout${n > 1 ? 's' : ''}: ${got.payouts.map((p) => fmtMoney(p.amount, p.currency)).join(', ')}.` : 'Nothing to pay (or every net is below its minimum).'));
    });
  if (!session.allows(NEEDS.payoutsWrite)) {
    f.button.disabled = true;
    f.append(h('small', { class: 'hint why' }, session.reason(NEEDS.payoutsWrite)));
  }
  return f;
}

async function renderList(list, onChange) {
  const r = await api.request('GET', api.handlePath('/payouts') + api.query({ limit: 50 }));
  if (!r.ok) {
    clear(list, errorBox(r.error));
    return;
  }
  if (!r.data.items.length) {
    clear(list, empty('No payouts yet.'));
    return;
  }
  // A payout settled on its own names who did it (a batch's payouts: the batch's own entry).
  const done = people.lastDone(['payout.marked_paid', 'payout.marked_failed', 'payout.canceled', 'payout.provider_paid', 'payout.provider_failed', 'payout.provider_returned']);
  clear(list, table([
    // A payout is named as its partner's n-th (its id stays in `data-payout-id`, for scripts).
    { label: 'Payout', value: (p) => h('span', { 'data-payout-id': p.payoutId }, partnerLink(p.partnerId), ` #${p.sequence}`) },
    { label: 'Amount', value: (p) => (p.test ? [fmtMoney(p.amount, p.currency), ' ', testMode.badge()] : fmtMoney(p.amount, p.currency)), class: 'num' },
    { label: 'Lines', value: (p) => String(p.commissionCount) },
    { label: 'Status', value: (p) => term(p.status, `status ${p.status}`) },
    { label: 'Period end', value: (p) => fmtTime(p.periodEnd) },
    { label: 'Provider', value: (p) => providerCell(p) },
    { label: 'Settled', value: (p) => (['pending', 'sending'].includes(p.status) ? '–' : people.withWho(p.reference || p.reason || term(p.status, p.status), p.payoutId, done)) },
    { label: 'Statement', value: (p) => statementButtons(p) },
    { label: 'Settle', value: (p) => (p.status === 'pending' ? settleControls(p, onChange) : '–') },
  ], r.data.items, 'Payouts'));
}

// Where a payout sent through Stripe or PayPal stands there, and why it waits or what to do
// when it failed (`waits.js`); '–' for a payout paid by file or by hand.
function providerCell(p) {
  const wait = waitWords(p);
  if (!p.provider) return wait || '–';
  return wait ? h('div', {}, providerState(p), wait) : providerState(p);
}

// Where a payout sent through Stripe or PayPal stands there, in words.
export function providerState(p) {
  if (!p.provider) return '–';
  const name = p.provider.name === 'stripe' ? 'Stripe' : 'PayPal';
  const ref = p.provider.reference ? h('code', {}, p.provider.reference) : null;
  const state = p.status === 'sending' ? (p.provider.state || `Being sent through ${name}.`) : null;
  return h('div', { class: 'provider' }, h('strong', {}, name), ref ? [' ', ref] : null, state ? h('small', { class: 'hint' }, ' ', state) : null);
}

export function statementButtons(p) {
  const out = h('small', { class: 'hint' });
  const csv = h('button', { type: 'button', class: 'secondary', 'data-statement': p.payoutId }, 'CSV');
  csv.addEventListener('click', async () => {
    const r = await api.request('GET', api.handlePath(`/payouts/${p.payoutId}/statement`) + api.query({ format: 'csv' }));
    if (!r.ok) clear(out, errorBox(r.error));
    else download(`statement-${p.payoutId}.csv`, r.text, 'text/csv');
  });
  const json = h('button', { type: 'button', class: 'secondary' }, 'Signed copy');
  json.addEventListener('click', async () => {
    const r = await api.request('GET', api.handlePath(`/payouts/${p.payoutId}/statement`));
    if (!r.ok) {
      clear(out, errorBox(r.error));
      return;
    }
    download(`statement-${p.payoutId}.json`, JSON.stringify(r.data, null, 2), 'application/json');
    clear(out, `Signed by key ${jwsKid(r.data.jws)}; check it with tenx verify.`);
  });
  return h('div', { class: 'actions' }, csv, json, out);
}

// The signing key's id (its fingerprint) from the JWS's protected header.
function jwsKid(jws) {
  try {
    const b64 = jws.split('.')[0].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(atob(b64)).kid || '?';
  } catch {
    return '?';
  }
}

const SETTLE = [['mark-paid', 'Mark paid', 'reference'], ['mark-failed', 'Mark failed', 'reason'], ['cancel', 'Cancel', 'reason']];

// A payout its provider sends once the program's hold ends is never paid or failed by hand
// (the API refuses both): only cancelling it is offered, and why.
function settleControls(p, onChange) {
  const held = p.status === 'pending' && Boolean(p.waiting);
  const offered = held ? SETTLE.filter(([action]) => action === 'cancel') : SETTLE;
  const note = input('note', { placeholder: held ? 'reason' : 'transfer reference or reason', 'aria-label': `${held ? 'Reason' : 'Reference or reason'} for payout #${p.sequence} of ${p.partnerId}` });
  const out = h('div', { 'aria-live': 'polite' });
  const why = held ? h('small', { class: 'hint', 'data-settle-hint': '' }, "The payment provider sends this payout once the hold ends, so it is not marked paid or failed by hand. Cancel it to put the amount back on the partner's balance.") : null;
  const buttons = offered.map(([action, text, key]) => {
    const b = h('button', { type: 'button', class: action === 'mark-paid' ? 'primary' : 'secondary', 'data-settle': action }, text);
    b.addEventListener('click', async () => {
      if (!note.value.trim()) {
        clear(out, notice('warning', `${text} needs a ${key}.`));
        return;
      }
      const r = await api.request('POST', api.handlePath(`/payouts/${p.payoutId}/${action}`), { body: { [key]: note.value.trim() } });
      if (!r.ok) clear(out, errorBox(r.error));
      else await onChange();
    });
    b.disabled = !session.allows(NEEDS.payoutsWrite);
    return b;
  });
  return h('div', { class: 'settle' }, why, note, h('div', { class: 'actions' }, buttons), out);
}
