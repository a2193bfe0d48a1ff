// Home (issue 62): the set-up checklist of a program, each step ticked from the server's state
// (not from this tab's clicks): Stripe or Shopify connected, the program open, a first partner,
// a first payout paid; then the money picture (./dashboard.js when it is there, else the balances)
// and whether everything is counted.

import * as api from './api.js';
import * as backlog from './backlog.js';
import * as ledger from './ledger.js';
import * as places from './places.js';
import * as session from './session.js';
import { h, section } from './ui.js';

// [id, what, where to do it, link words, done(state)]
const STEPS = [
  ['connect', 'Connect Stripe or Shopify, so your sales arrive by themselves', '#/integrations', 'Connect a shop',
    (s) => s.stripe || s.shopify],
  ['program', 'Open your partner program: its public page takes applications', '#/program', 'Set up the program',
    (s) => s.program],
  ['partner', 'Welcome your first partner: approve an application or invite one', '#/partners', 'Go to partners',
    (s) => s.partners > 0],
  ['payout', 'Pay your first partner: run a payout and pay it', '#/payouts', 'Go to payouts',
    (s) => s.paid],
];

// Each check is one read; a read the caller may not make counts as "not yet".
async function state() {
  const ok = async (path) => (await api.request('GET', api.handlePath(path))).ok;
  const count = async (path) => {
    const r = await api.request('GET', api.handlePath(path) + api.query({ limit: 1 }));
    return r.ok ? r.data.items.length : 0;
  };
  // A payout run only makes payouts to pay: the step is done once one of them is paid.
  const paid = async () => {
    const r = await api.request('GET', api.handlePath('/payouts') + api.query({ limit: 100 }));
    return r.ok && r.data.items.some((p) => p.status === 'paid');
  };
  const [stripe, shopify, program, partners, payoutPaid] = await Promise.all([
    ok('/integrations/stripe'), ok('/integrations/shopify'), ok('/program'),
    count('/partners'), paid()]);
  return { stripe, shopify, program, partners, paid: payoutPaid };
}

function checklist(s) {
  const done = STEPS.filter((step) => step[4](s)).length;
  return h('div', { id: 'setup' },
    h('p', {}, done === STEPS.length
      ? 'Your program is set up: everything below is ticked.'
      : `${done} of ${STEPS.length} done. Each step ticks itself when it is done, wherever it was done.`),
    h('ol', { class: 'checklist' }, STEPS.map(([id, what, href, linkWords, isDone]) => {
      const yes = isDone(s);
      return h('li', { class: yes ? 'done' : 'todo', dataset: { step: id } },
        h('span', { class: 'mark', 'aria-hidden': 'true' }, yes ? '✓' : '○'),
        h('span', {}, what, ' ', yes ? h('strong', {}, '(done)') : h('a', { href }, `${linkWords}.`)));
    })));
}

export async function render(main) {
  const s = session.get();
  const money = h('div', { id: 'money-picture' });
  main.append(
    h('h1', { tabindex: '-1' }, `Welcome, ${s.handle}`),
    section('Set up your program', checklist(await state())),
    section('Money', money),
    backlog.panel());
  if (!(await places.fill('dashboard', money))) await ledger.renderBalances(money);
}
