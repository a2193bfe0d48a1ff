// Commissions: partners, a campaign's commission plan (with a preview the server computes with
// the ledger's own arithmetic, a renewal's included), exchange rates; the ledger, review and
// balances (ledger.js), payouts with their statements (payouts.js), payout methods and batches
// (payout_batches.js) and customers (customers.js).

import * as api from './api.js';
import * as session from './session.js';
import { NEEDS } from './session.js';
import * as ledger from './ledger.js';
import * as planEditor from './plan_editor.js';
import * as payouts from './payouts.js';
import * as batches from './payout_batches.js';
import * as customers from './customers.js';
import {
  clear, empty, errorBox, field, fmtTime, form, gate, h, input, loading, notice, section, table,
} from './ui.js';

export async function render(main) {
  const bodies = {
    partners: h('div', {}, loading('Loading partners…')),
    plan: h('div', {}),
    customers: h('div', {}),
    rates: h('div', {}),
    ledger: h('div', {}),
    balances: h('div', {}),
    payouts: h('div', {}),
    batches: h('div', { id: 'payout-batches-section' }),
  };
  main.append(
    h('h1', { tabindex: '-1' }, 'Commissions'),
    section('Partners', bodies.partners),
    section('Commission plan', bodies.plan),
    section('Exchange rates', bodies.rates),
    section('Ledger and review', bodies.ledger),
    section('Balances', bodies.balances),
    section('Payouts', bodies.payouts),
    section('Payout methods and batches', bodies.batches),
    section('Customers', bodies.customers));
  if (!session.allows(NEEDS.commissionsRead)) {
    clear(bodies.partners, notice('info', session.reason(NEEDS.commissionsRead)));
    return;
  }
  const refreshMoney = async () => {
    await ledger.renderBalances(bodies.balances);
    await payouts.render(bodies.payouts, refreshMoney);
  };
  await renderPartners(bodies.partners);
  await renderPlan(bodies.plan);
  await renderRates(bodies.rates);
  await customers.render(bodies.customers);
  await ledger.render(bodies.ledger, refreshMoney);
  await refreshMoney();
  const partners = await api.request('GET', api.handlePath('/partners') + api.query({ limit: 100 }));
  const ids = partners.ok ? partners.data.items.map((p) => p.partnerId) : [];
  await batches.render(bodies.batches, ids, refreshMoney);
}

// A form the caller may not submit: its button disabled, with the reason under it.
export function gateForm(f, need) {
  if (session.allows(need)) return f;
  f.button.disabled = true;
  f.append(h('small', { class: 'hint why' }, session.reason(need)));
  return f;
}

// ---------------------------------------------------------------------------------- partners

async function renderPartners(body) {
  const r = await api.request('GET', api.handlePath('/partners') + api.query({ limit: 100 }));
  const list = r.ok ? r.data.items : [];
  const risks = new Map();
  const rows = list.length
    ? table([
      { label: 'Partner', value: (p) => h('code', {}, p.partnerId) },
      { label: 'Name', value: (p) => p.name },
      { label: 'Status', value: (p) => p.status },
      { label: 'Postback', value: (p) => p.postbackUrl || '–' },
      { label: 'Risk', value: (p) => ledger.riskCell(p.partnerId, risks) },
      { label: 'Action', value: (p) => statusButton(p, body) },
    ], list, 'Partners')
    : empty('No partners yet. Create one, then give a campaign its partnerId.');
  clear(body, r.ok ? rows : errorBox(r.error), partnerForm(body));
}

function statusButton(p, body) {
  const next = p.status === 'active' ? 'suspended' : 'active';
  const b = h('button', { type: 'button', class: 'secondary', 'data-partner': p.partnerId },
    next === 'suspended' ? 'Suspend' : 'Reactivate');
  b.addEventListener('click', async () => {
    b.disabled = true;
    const r = await api.request('PATCH', api.handlePath(`/partners/${encodeURIComponent(p.partnerId)}`), { body: { status: next } });
    if (!r.ok) b.replaceWith(errorBox(r.error));
    else await renderPartners(body);
  });
  return gate(b, session.allows(NEEDS.commissionsWrite), session.reason(NEEDS.commissionsWrite));
}

function partnerForm(body) {
  const f = form({ id: 'partner-form', 'aria-label': 'New partner' },
    h('div', { class: 'grid' },
      field('Partner id', input('partnerId', { placeholder: 'pub-one' }), 'Lowercase letters, digits, hyphens and underscores.'),
      field('Name', input('name', { placeholder: 'Publisher One' })),
      field('Email (optional)', input('email', { type: 'email' }))),
    'Create partner',
    async (el) => {
      const v = (n) => el.querySelector(`[name=${n}]`).value.trim();
      const partner = { partnerId: v('partnerId'), name: v('name') };
      if (v('email')) partner.email = v('email');
      const created = await api.post(api.handlePath('/partners'), partner);
      await renderPartners(body);
      clear(body.querySelector('#partner-form .form-out'), notice('ok', `Created ${created.partnerId}.`));
    });
  return gateForm(f, NEEDS.commissionsWrite);
}

// ------------------------------------------------------------------------------------- plan

// The plan editor is a module of its own (issue 62: rules, conditions, tiers and bonuses as
// form rows, no JSON).
const renderPlan = (body) => planEditor.render(body);

// ------------------------------------------------------------------------------------ rates

async function renderRates(body) {
  const r = await api.request('GET', api.handlePath('/fx-rates'));
  const shown = r.ok
    ? table([
      { label: 'As of', value: (s) => fmtTime(s.asOf) },
      { label: 'Base', value: (s) => s.base },
      { label: 'Rates', value: (s) => Object.entries(s.rates).map(([c, x]) => `${c} ${x}`).join(', ') },
      { label: 'Posted by', value: (s) => s.createdBy },
    ], [r.data], 'The snapshot in force now')
    : empty('No rates yet: a percentage of a value in another currency waits (fx_rate_missing) until one arrives.');
  const f = form({ id: 'fx-form', 'aria-label': 'Post exchange rates' },
    h('div', { class: 'grid' },
      field('Base', input('base', { value: 'EUR' })),
      field('Rates', input('rates', { placeholder: 'USD=1.10, GBP=0.85' }), 'One base unit is worth this much of each.'),
      field('As of', input('asOf', { value: new Date().toISOString().replace(/\.\d+Z$/, 'Z') }))),
    'Post the snapshot',
    async (el) => {
      const v = (n) => el.querySelector(`[name=${n}]`).value.trim();
      const rates = Object.fromEntries(v('rates').split(',').map((x) => x.split('=').map((y) => y.trim())).filter((x) => x[0]));
      await api.post(api.handlePath('/fx-rates'), { base: v('base').toUpperCase(), rates, asOf: v('asOf') });
      await renderRates(body);
    });
  clear(body, r.ok || r.status === 404 ? shown : errorBox(r.error), gateForm(f, NEEDS.commissionsWrite));
}
