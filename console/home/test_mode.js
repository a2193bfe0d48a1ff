// Test mode on Home: an admin switches it on to walk the whole program in test money before
// launch (a test sale, its commission under the plan, its review, a test payout, the partner's
// view), and clears it after. Test money stays out of every real figure; its lines and payouts
// carry a "Test" badge wherever they are shown.

import * as api from '../api.js';
import * as session from '../session.js';
import { NEEDS } from '../session.js';
import { picker } from '../widgets/picker.js';
import { day } from '../widgets/people.js';
import { clear, field, form, h, input, notice } from '../ui.js';

// Whether test mode is on (off when it cannot be read).
export async function state() {
  const r = await api.request('GET', api.handlePath('/test-mode'));
  return r.ok ? r.data : { enabled: false, since: null };
}

// The badge a line or payout of test money carries.
export function badge() {
  return h('span', { class: 'badge warn test-badge', title: 'Test money: never in a real figure, never paid out' }, 'Test');
}

export async function panel() {
  const body = h('div', { id: 'test-mode' });
  await fill(body);
  return body;
}

async function fill(body) {
  const mode = await state();
  const admin = session.allows(NEEDS.programWrite);
  const out = h('div', { class: 'form-out', 'aria-live': 'polite' });
  const switchButton = h('button', { type: 'button', class: mode.enabled ? 'secondary' : 'primary', id: 'test-mode-switch' },
    mode.enabled ? 'Switch test mode off' : 'Switch test mode on');
  switchButton.disabled = !admin;
  switchButton.addEventListener('click', async () => {
    const r = await api.request('PUT', api.handlePath('/test-mode'), { body: { enabled: !mode.enabled } });
    if (!r.ok) {
      clear(out, notice('warning', r.error.message));
      return;
    }
    await fill(body);
  });
  const about = mode.enabled
    ? h('p', {}, h('strong', {}, 'Test mode is on'), mode.since ? ` since ${day(mode.since)}` : '',
      '. Test sales earn test money: a commission under your plan that you can review and pay in a test payout run, and that your partner sees marked as a test. It is never in a real figure and never leaves as money.')
    : h('p', {}, 'Walk your whole program before launch: switch test mode on, make a test sale for a partner, review its commission, pay it in a test payout run and see what the partner sees. Test money is never in a real figure and never leaves as money; clear it when you are done.');
  const parts = [about, h('div', { class: 'actions' }, switchButton)];
  if (!admin) parts.push(h('small', { class: 'hint why' }, session.reason(NEEDS.programWrite)));
  if (mode.enabled) parts.push(saleForm(), clearButton(body, admin));
  parts.push(out);
  clear(body, ...parts);
}

// "Make a test sale for this partner": the server follows the partner's link as a test visitor
// and records a sale on it, as the event the partner's plan pays unless another is named.
function saleForm() {
  const f = form({ id: 'test-sale-form', 'aria-label': 'Make a test sale' },
    h('div', { class: 'grid' },
      field('Partner', picker('partnerId', 'partners')),
      field('Sale amount', input('amount', { value: '49.90', inputmode: 'decimal' })),
      field('Currency', input('currency', { value: 'EUR', maxlength: '3' })),
      field('Event (optional)', input('eventType', {}), 'Leave empty for the one your partner\'s plan pays.')),
    'Make a test sale',
    async (el, out) => {
      const v = (n) => el.querySelector(`[name=${n}]`).value.trim();
      await api.post(api.handlePath('/test-sales'), { partnerId: v('partnerId'), amount: v('amount'), currency: v('currency').toUpperCase(), eventType: v('eventType') || undefined });
      clear(out, notice('ok', 'Test sale made. Its test commission appears on Commissions, with Money set to Test money, in a moment.'));
    });
  if (!session.allows(NEEDS.payoutsWrite)) f.button.disabled = true;
  return f;
}

function clearButton(body, admin) {
  const out = h('div', { 'aria-live': 'polite' });
  const b = h('button', { type: 'button', class: 'secondary', id: 'test-data-clear' }, 'Clear test data');
  b.disabled = !admin;
  b.addEventListener('click', async () => {
    const r = await api.request('DELETE', api.handlePath('/test-data'));
    if (!r.ok) {
      clear(out, notice('warning', r.error.message));
      return;
    }
    const { lines, payouts } = r.data;
    clear(out, notice('ok', `Cleared ${lines} test commission${lines === 1 ? '' : 's'} and ${payouts} test payout${payouts === 1 ? '' : 's'}.`));
  });
  return h('div', {}, h('div', { class: 'actions' }, b), out);
}
