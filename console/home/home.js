// Home: the set-up of a program in its order, each step ticked from the server's state (not
// from this tab's clicks) and each saying what it waits for: Stripe or Shopify connected, the
// program open, its template campaign with a plan, its public page shared, a first partner, a
// first payout paid; then the money picture (./dashboard.js when it is there, else the balances)
// and whether everything is counted.

import * as api from '../api.js';
import * as backlog from './backlog.js';
import * as ledger from '../commissions/ledger.js';
import * as places from '../places.js';
import * as session from '../session.js';
import * as testMode from './test_mode.js';
import { h, section } from '../ui.js';

// The set-up in its order: [id, what, where to do it, link words, done(state), needs]. A step
// whose `needs` is not done yet says why instead of offering its link (connecting a shop
// stands apart: sales may arrive before or after the program opens).
const STEPS = [
  ['connect', 'Connect Stripe or Shopify, so your sales arrive by themselves', '#/integrations', 'Connect a shop',
    (s) => s.stripe || s.shopify, null],
  ['program', 'Open your partner program: its name, and whether anyone may apply', '#/program', 'Set up the program',
    (s) => s.program, null],
  ['template', 'Give the program its template: the campaign and commission plan every new partner starts from',
    '#/program', 'Choose the template campaign', (s) => s.template,
    ['program', 'Open the program first: the template belongs to it.']],
  ['page', 'Share the program\'s public page, where people apply', null, 'Open the public page',
    (s) => s.applied || s.partners > 0,
    ['template', 'Give the program its template first: an application approved without one cannot become a partner.']],
  ['partner', 'Welcome your first partner: approve an application or invite one', '#/partners', 'Go to partners',
    (s) => s.partners > 0,
    ['template', 'Give the program its template first: each new partner gets its campaign, plan and link from it.']],
  ['payout', 'Pay your first partner: run a payout and pay it', '#/payouts', 'Go to payouts',
    (s) => s.paid, ['partner', 'Welcome a partner first: a payout pays a partner what it earned.']],
];

// Each check is one read; a read the caller may not make counts as "not yet".
async function state(handle) {
  const read = (path) => api.request('GET', api.handlePath(path));
  const ok = async (path) => (await read(path)).ok;
  const count = async (path) => {
    const r = await api.request('GET', api.handlePath(path) + api.query({ limit: 1 }));
    return r.ok ? r.data.items.length : 0;
  };
  // A payout run only makes payouts to pay: the step is done once one of them is paid.
  const paid = async () => {
    const r = await api.request('GET', api.handlePath('/payouts') + api.query({ limit: 100 }));
    return r.ok && r.data.items.some((p) => p.status === 'paid' && !p.test);
  };
  // The template counts once its campaign has a plan to copy (approval refuses one without).
  const template = async (program) => {
    const id = program.ok && program.data.template && program.data.template.campaignId;
    return Boolean(id) && ok(`/campaigns/${encodeURIComponent(id)}/commission-plan`);
  };
  const [stripe, shopify, program, partners, applied, payoutPaid] = await Promise.all([
    ok('/integrations/stripe'), ok('/integrations/shopify'), read('/program'),
    count('/partners'), count('/partner-applications'), paid()]);
  return {
    stripe, shopify, program: program.ok, template: await template(program), partners,
    applied: applied > 0, paid: payoutPaid, page: `/programs/${encodeURIComponent(handle)}`,
  };
}

function checklist(s) {
  const isDone = (id) => STEPS.find((step) => step[0] === id)[4](s);
  const done = STEPS.filter((step) => step[4](s)).length;
  return h('div', { id: 'setup' },
    h('p', {}, done === STEPS.length
      ? 'Your program is set up: everything below is ticked.'
      : `${done} of ${STEPS.length} done. Each step ticks itself when it is done, wherever it was done.`),
    h('ol', { class: 'checklist' }, STEPS.map(([id, what, href, linkWords, stepDone, needs]) => {
      const yes = stepDone(s);
      const blocked = !yes && needs && !isDone(needs[0]);
      const next = blocked
        ? h('span', { class: 'why' }, needs[1])
        : h('a', { href: href || s.page, ...(href ? {} : { target: '_blank', rel: 'noopener' }) }, `${linkWords}.`);
      return h('li', { class: yes ? 'done' : (blocked ? 'todo locked' : 'todo'), dataset: { step: id } },
        h('span', { class: 'mark', 'aria-hidden': 'true' }, yes ? '✓' : '○'),
        h('span', {}, what, ' ', yes ? h('strong', {}, '(done)') : next));
    })));
}

export async function render(main) {
  const s = session.get();
  const money = h('div', { id: 'money-picture' });
  main.append(
    h('h1', { tabindex: '-1' }, `Welcome, ${s.handle}`),
    section('Set up your program', checklist(await state(s.handle))),
    section('Test mode', await testMode.panel()),
    section('Money', money),
    backlog.panel());
  if (!(await places.fill('dashboard', money))) await ledger.renderBalances(money);
}
