// Plans and rates (issue 62): a campaign's commission plan, with its preview and backtest, and
// the exchange-rate snapshots a plan in one currency needs for sales in another.

import { renderPlan, renderRates } from './review.js';
import * as session from '../session.js';
import { NEEDS } from '../session.js';
import { clear, h, notice, section } from '../ui.js';

export async function render(main) {
  const plan = h('div', {});
  const rates = h('div', {});
  main.append(
    h('h1', { tabindex: '-1' }, 'Plans and rates'),
    h('p', {}, 'What a partner earns on each campaign, and the exchange rates for sales in other currencies.'),
    section('Commission plan', plan),
    section('Exchange rates', rates));
  if (!session.allows(NEEDS.commissionsRead)) {
    clear(plan, notice('info', session.reason(NEEDS.commissionsRead)));
    return;
  }
  await renderPlan(plan);
  await renderRates(rates);
}
