// Payouts (issue 62): what each partner is owed (balances) and the payout runs with their
// statements; a second page for the payout methods and the batches a bank or PayPal pays.

import * as api from '../api.js';
import * as batches from './batches.js';
import * as ledger from '../commissions/ledger.js';
import * as payouts from './runs.js';
import * as session from '../session.js';
import { NEEDS } from '../session.js';
import { h, notice, section } from '../ui.js';

function refused(main) {
  if (session.allows(NEEDS.commissionsRead)) return false;
  main.append(notice('info', session.reason(NEEDS.commissionsRead)));
  return true;
}

export async function render(main) {
  main.append(h('h1', { tabindex: '-1' }, 'Payouts'),
    h('p', {}, 'Run a payout to pay what is approved, then settle it: mark it paid, or put it in a batch for your bank or PayPal.'));
  if (refused(main)) return;
  const balances = h('div', {});
  const runs = h('div', {});
  main.append(section('Balances', balances), section('Payout runs', runs));
  const refresh = async () => {
    await ledger.renderBalances(balances);
    await payouts.render(runs, refresh);
  };
  await refresh();
}

export async function renderBatches(main) {
  main.append(h('h1', { tabindex: '-1' }, 'Payout methods and batches'));
  if (refused(main)) return;
  const body = h('div', { id: 'payout-batches-section' });
  main.append(section('Payout methods and batches', body));
  const partners = await api.request('GET', api.handlePath('/partners') + api.query({ limit: 100 }));
  // Each partner by its name in the method's picker (the id is what is sent).
  const ids = partners.ok ? partners.data.items.map((p) => [p.partnerId, p.name || p.partnerId]) : [];
  await batches.render(body, ids, async () => {});
}
