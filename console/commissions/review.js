// Commissions: the review queue and the ledger (ledger.js); a campaign's commission plan (with
// a preview the server computes with the ledger's own arithmetic, a renewal's included) and the
// exchange rates, shown on the Plans and rates page (plans.js).

import { byWhom } from '../widgets/people.js';
import { localNow } from '../payouts/runs.js';
import * as api from '../api.js';
import * as session from '../session.js';
import { NEEDS } from '../session.js';
import * as ledger from './ledger.js';
import * as couponLeaks from './coupon_leaks.js';
import * as planEditor from './plan_editor.js';
import { ruleInWords } from './rules.js';
import {
  checkbox, clear, empty, errorBox, field, fmtMoney, fmtTime, form, h, input, loading,
  notice, section, select, table,
} from '../ui.js';
import { words } from '../words.js';

// The Commissions page (issue 62): the review queue and the ledger. Plans and rates are on
// their own page (./plans.js), balances and payouts on Payouts (./payouts_page.js).
export async function render(main) {
  const ledgerBody = h('div', {});
  main.append(
    h('h1', { tabindex: '-1' }, 'Commissions'),
    h('p', {}, 'What each partner earned, line by line. Held lines wait for your review: approve or reject them here.'),
    section('Review queue and ledger', ledgerBody));
  if (!session.allows(NEEDS.commissionsRead)) {
    clear(ledgerBody, notice('info', session.reason(NEEDS.commissionsRead)));
    return;
  }
  await ledger.render(ledgerBody, async () => {});
  // Coupon codes by leak score (issue 63), under the ledger.
  const leaksBody = h('div', { id: 'coupon-leaks' });
  main.append(section('Coupon codes that leak', leaksBody));
  await couponLeaks.render(leaksBody);
}

// A form the caller may not submit: its button disabled, with the reason under it.
export function gateForm(f, need) {
  if (session.allows(need)) return f;
  f.button.disabled = true;
  f.append(h('small', { class: 'hint why' }, session.reason(need)));
  return f;
}

// ------------------------------------------------------------------------------------- plan

// A campaign's plan: form rows with the rule in words, the preview in the plan's currency and
// the backtest (./plan_editor.js).
export async function renderPlan(body) {
  await planEditor.render(body);
}

export async function renderRates(body) {
  const r = await api.request('GET', api.handlePath('/fx-rates'));
  const shown = r.ok
    ? table([
      { label: 'As of', value: (s) => fmtTime(s.asOf) },
      { label: 'Base', value: (s) => s.base },
      { label: 'Rates', value: (s) => Object.entries(s.rates).map(([c, x]) => `${c} ${x}`).join(', ') },
      { label: 'Posted by', value: (s) => s.createdBy },
    ], [r.data], 'The snapshot in force now')
    : empty('No rates yet: a percentage of a sale in another currency waits until a rate for that currency arrives.');
  const f = form({ id: 'fx-form', 'aria-label': 'Post exchange rates' },
    h('div', { class: 'grid' },
      field('Base', input('base', { value: 'EUR' })),
      field('Rates', input('rates', { placeholder: 'USD=1.10, GBP=0.85' }), 'One base unit is worth this much of each.'),
      field('As of', input('asOf', { type: 'datetime-local', step: '1', value: localNow() }), `In your time zone (${Intl.DateTimeFormat().resolvedOptions().timeZone}).`)),
    'Post the snapshot',
    async (el) => {
      const v = (n) => el.querySelector(`[name=${n}]`).value.trim();
      const rates = Object.fromEntries(v('rates').split(',').map((x) => x.split('=').map((y) => y.trim())).filter((x) => x[0]));
      // The picker's local time as the instant it names, to the second (the API's precision).
      const asOf = new Date(v('asOf')).toISOString().replace(/\.\d+Z$/, 'Z');
      await api.post(api.handlePath('/fx-rates'), { base: v('base').toUpperCase(), rates, asOf });
      await renderRates(body);
    });
  clear(body, r.ok || r.status === 404 ? shown : errorBox(r.error), gateForm(f, NEEDS.commissionsWrite));
}
