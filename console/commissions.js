// Commissions: the review queue and the ledger (ledger.js); a campaign's commission plan (with
// a preview the server computes with the ledger's own arithmetic, a renewal's included) and the
// exchange rates, shown on the Plans and rates page (plans.js).

import { byWhom } from './people.js';
import * as api from './api.js';
import * as session from './session.js';
import { NEEDS } from './session.js';
import * as ledger from './ledger.js';
import { ruleInWords } from './rules.js';
import {
  checkbox, clear, empty, errorBox, field, fmtMoney, fmtTime, form, h, input, loading,
  notice, section, select, table,
} from './ui.js';
import { words } from './words.js';

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
}

// A form the caller may not submit: its button disabled, with the reason under it.
export function gateForm(f, need) {
  if (session.allows(need)) return f;
  f.button.disabled = true;
  f.append(h('small', { class: 'hint why' }, session.reason(need)));
  return f;
}

// ------------------------------------------------------------------------------------- plan

export async function renderPlan(body) {
  const r = await api.request('GET', api.handlePath('/campaigns') + api.query({ limit: 100 }));
  if (!r.ok) {
    clear(body, errorBox(r.error));
    return;
  }
  const ids = r.data.items.map((c) => c.campaignId);
  if (!ids.length) {
    clear(body, empty('No campaigns yet: create one on the Partners screen first.'));
    return;
  }
  const pick = select('campaignId', ids, ids[0]);
  pick.id = 'plan-campaign';
  const editor = h('div', { id: 'plan-editor' });
  pick.addEventListener('change', () => loadPlan(editor, pick.value));
  clear(body, field('Campaign', pick), editor);
  await loadPlan(editor, ids[0]);
}

async function loadPlan(editor, campaignId) {
  clear(editor, loading('Loading the plan…'));
  const r = await api.request('GET', api.handlePath(`/campaigns/${encodeURIComponent(campaignId)}/commission-plan`));
  if (!r.ok && r.status !== 404) {
    clear(editor, errorBox(r.error));
    return;
  }
  const plan = r.ok ? r.data : null;
  const about = plan
    ? h('p', { id: 'plan-version' }, `Version ${plan.version}, `, byWhom(plan.updatedBy), ', ', fmtTime(plan.updatedAt), `. Paid in ${plan.currency}.`)
    : notice('info', 'No plan yet: conversions of this campaign earn nothing until one is saved.');
  clear(editor, about, planForm(editor, campaignId, plan), previewForm(editor, campaignId, plan), backtestForm(editor, campaignId));
}

const RULE_KINDS = [['event', 'Per conversion of an event type'], ['click', 'Per qualified click']];
const APPLIES_TO = [['all', 'Every sale'], ['first', "A customer's first sale"], ['recurring', 'Renewals only']];

function ruleRow(rule, index = 0) {
  const kind = select('ruleKind', RULE_KINDS, rule && rule.qualifiedClick ? 'click' : 'event');
  const row = h('fieldset', { class: 'rule grid' },
    h('legend', {}, 'Rule'),
    field('Pays', kind),
    field('Event type', input('eventType', { value: rule && rule.bonus ? (rule.eventType || '') : ((rule && rule.eventType) || 'purchase') })),
    field('Flat amount', input('flat', { value: (rule && rule.flat) || '', inputmode: 'decimal', placeholder: '2.00' })),
    field('Percent of value', input('percent', { value: (rule && rule.percent) || '', inputmode: 'decimal', placeholder: '10' })),
    field('Applies to', select('appliesTo', APPLIES_TO, (rule && rule.appliesTo) || 'all'), 'For bound customers: their first sale, or the later ones.'));
  // Priority, conditions, tiers and bonus (issue 47) as JSON, kept through a save.
  const refined = {};
  for (const k of REFINEMENTS) if (rule && rule[k] !== undefined) refined[k] = rule[k];
  row.append(field('Priority, conditions, tiers, bonus (JSON)',
    textarea('refine', Object.keys(refined).length ? JSON.stringify(refined) : '', { rows: 2, placeholder: '{"conditions": {"countryIn": ["DE"]}, "tiers": [{"from": 50, "percent": "15"}]}' }),
    'Optional: priority, conditions {countryIn, deviceIn, sourceIn, metadataEquals, valueAtLeast, customer}, tiers [{from, flat | percent}], tierBasis, bonus {conversionsInMonth}.'));
  if (rule) row.append(h('p', { class: 'rule-words' }, h('small', {}, ruleInWords(rule, index))));
  const remove = h('button', { type: 'button', class: 'secondary' }, 'Remove rule');
  remove.addEventListener('click', () => row.remove());
  row.append(remove);
  return row;
}

const REFINEMENTS = ['priority', 'conditions', 'tiers', 'tierBasis', 'bonus'];

function textarea(name, value, attrs = {}) {
  const el = h('textarea', { name, ...attrs });
  el.value = value;
  return el;
}

// The plan the form says, in the API's shape (the server validates and explains).
function planFromForm(el) {
  const v = (n) => el.querySelector(`[name=${n}]`).value.trim();
  const rules = [...el.querySelectorAll('.rule')].map((row, i) => {
    const get = (n) => row.querySelector(`[name=${n}]`).value.trim();
    let refine = {};
    try {
      refine = get('refine') ? JSON.parse(get('refine')) : {};
    } catch {
      throw new Error(`Rule ${i + 1}: priority, conditions, tiers, bonus must be a JSON object.`);
    }
    const rule = get('ruleKind') === 'click' ? { qualifiedClick: true } : { eventType: get('eventType') };
    if (refine.bonus && !get('eventType')) delete rule.eventType;
    if (get('flat')) rule.flat = get('flat');
    if (get('percent')) rule.percent = get('percent');
    if (!rule.qualifiedClick && !refine.bonus && get('appliesTo') !== 'all') rule.appliesTo = get('appliesTo');
    return { ...rule, ...refine };
  });
  const plan = { currency: v('currency').toUpperCase(), holdDays: Number(v('holdDays') || 0), rules,
    requireVerified: el.querySelector('[name=requireVerified]').checked };
  const caps = {};
  if (v('conversionsPerDay')) caps.conversionsPerDay = Number(v('conversionsPerDay'));
  if (v('amountPerMonth')) caps.amountPerMonth = v('amountPerMonth');
  if (Object.keys(caps).length) plan.caps = caps;
  if (v('maxDays')) plan.attributionWindow = { maxDays: Number(v('maxDays')) };
  if (el.querySelector('[name=lifetime]').checked) plan.customerDuration = 'lifetime';
  else if (v('durationMonths')) plan.customerDuration = { months: Number(v('durationMonths')) };
  if (v('holdAboveRisk')) plan.holdAboveRisk = Number(v('holdAboveRisk'));
  if (v('effectiveAt')) plan.effectiveAt = new Date(v('effectiveAt')).toISOString();
  return plan;
}

function planForm(editor, campaignId, plan) {
  const p = plan || { currency: 'EUR', holdDays: 30, rules: [{ eventType: 'purchase', percent: '10' }], caps: {}, attributionWindow: {} };
  const rules = h('div', { class: 'rules' }, p.rules.map(ruleRow));
  const add = h('button', { type: 'button', class: 'secondary', id: 'add-rule' }, 'Add a rule');
  add.addEventListener('click', () => rules.append(ruleRow(null)));
  const f = form({ id: 'plan-form', 'aria-label': 'Commission plan' },
    h('div', {},
      h('div', { class: 'grid' },
        field('Currency', input('currency', { value: p.currency, readonly: plan ? true : null }), plan ? 'Fixed once the plan exists.' : 'ISO 4217, e.g. EUR.'),
        field('Hold (days)', input('holdDays', { value: String(p.holdDays), inputmode: 'numeric' })),
        field('Conversions per UTC day (cap)', input('conversionsPerDay', { value: (p.caps && p.caps.conversionsPerDay) || '', inputmode: 'numeric' })),
        field('Amount per UTC month (cap)', input('amountPerMonth', { value: (p.caps && p.caps.amountPerMonth) || '', inputmode: 'decimal' })),
        field('Attribution window (days)', input('maxDays', { value: (p.attributionWindow && p.attributionWindow.maxDays) || '', inputmode: 'numeric' })),
        field('Customer duration (months)', input('durationMonths', { value: durationMonths(p), inputmode: 'numeric', placeholder: '12' }), 'How long after its binding a customer earns its partner commissions (default 12).')),
      h('div', { class: 'grid' },
        field('Hold above partner risk score', input('holdAboveRisk', { value: p.holdAboveRisk ?? '', inputmode: 'numeric', placeholder: '60' }), "0–99: hold a partner's new commissions while its risk score is above it."),
        field('Takes effect at (optional)', input('effectiveAt', { type: 'datetime-local' }), 'Later than now; empty: when saved. The partner gets a signed notice either way.')),
      field('Customers earn for their lifetime', checkbox('lifetime', p.customerDuration === 'lifetime')),
      field('Hold unverified conversions for review', checkbox('requireVerified', p.requireVerified)),
      rules, add),
    plan ? 'Save a new version' : 'Create the plan',
    async (el) => {
      const headers = plan ? { 'if-match': `"${plan.version}"` } : {};
      const saved = await api.put(api.handlePath(`/campaigns/${encodeURIComponent(campaignId)}/commission-plan`), planFromForm(el), { headers });
      await loadPlan(editor, campaignId);
      clear(editor.querySelector('#plan-form .form-out'), notice('ok', `Saved version ${saved.version}.`));
    });
  return gateForm(f, NEEDS.commissionsWrite);
}

function durationMonths(p) {
  const d = p.customerDuration;
  return d && typeof d === 'object' && d.months ? String(d.months) : '';
}

const SAMPLE_AS = [['none', 'A sale without a customer'], ['first', "A customer's first sale"], ['renewal', 'A renewal']];

// What a sample conversion would earn under the plan in the form (saved or not), computed by the
// server with the ledger's arithmetic and today's exchange rate.
function previewForm(editor, campaignId, plan) {
  const out = h('div', { id: 'plan-preview', 'aria-live': 'polite' });
  const f = form({ id: 'preview-form', 'aria-label': 'Preview a conversion' },
    h('div', { class: 'grid' },
      field('Event type', input('eventType', { value: 'purchase' })),
      field('Value', input('value', { value: '24.99', inputmode: 'decimal' })),
      field('Currency', input('currency', { value: plan ? plan.currency : 'EUR' }), 'The sale\'s currency: the plan\'s by default (another needs an exchange rate).'),
      field('As', select('sampleAs', SAMPLE_AS, 'none')),
      field('Days after the binding', input('boundDaysAgo', { value: '30', inputmode: 'numeric' }), 'For a renewal: e.g. 400 is past a 12-month duration.')),
    'Preview what it earns',
    async (el) => {
      const v = (n) => el.querySelector(`[name=${n}]`).value.trim();
      const sample = { plan: planFromForm(editor.querySelector('#plan-form')), eventType: v('eventType') };
      if (v('value')) sample.value = v('value');
      if (v('currency')) sample.currency = v('currency').toUpperCase();
      if (v('sampleAs') !== 'none') {
        sample.customer = { first: v('sampleAs') === 'first' };
        if (v('sampleAs') === 'renewal') sample.customer.boundDaysAgo = Number(v('boundDaysAgo') || 0);
      }
      const got = await api.post(api.handlePath(`/campaigns/${encodeURIComponent(campaignId)}/commission-plan/preview`), sample);
      clear(out, previewText(got));
    });
  f.append(out);
  return f;
}

// The plan in the form replayed on the campaign's real conversions of a period, before it is
// saved: what each partner was paid beside what the draft would have paid.
function backtestForm(editor, campaignId) {
  const out = h('div', { id: 'plan-backtest', 'aria-live': 'polite' });
  const day = (offset) => new Date(Date.now() + offset * 86400000).toISOString().slice(0, 10);
  const f = form({ id: 'backtest-form', 'aria-label': 'Backtest the plan' },
    h('div', { class: 'grid' },
      field('From (UTC day)', input('from', { type: 'date', value: day(-30) })),
      field('To (UTC day, included)', input('to', { type: 'date', value: day(0) }))),
    'Backtest on real conversions',
    async (el) => {
      const v = (n) => el.querySelector(`[name=${n}]`).value;
      const to = new Date(`${v('to')}T00:00:00Z`);
      to.setUTCDate(to.getUTCDate() + 1);
      const body = { plan: planFromForm(editor.querySelector('#plan-form')), from: `${v('from')}T00:00:00Z`, to: to.toISOString() };
      const got = await api.post(api.handlePath(`/campaigns/${encodeURIComponent(campaignId)}/commission-plan/backtest`), body);
      clear(out, backtestView(got));
    });
  f.append(out);
  return gateForm(f, NEEDS.commissionsWrite);
}

function backtestView(got) {
  if (!got.partners.length) return empty(`No conversion of this campaign in the period (${got.conversions} replayed).`);
  const skipped = got.skipped.capped ? notice('info', `${got.skipped.capped} capped line(s) left out: caps are not replayed.`) : '';
  return h('div', {},
    table([
      { label: 'Partner', value: (p) => h('code', {}, p.partnerId) },
      { label: 'Conversions', value: (p) => String(p.conversions), class: 'num' },
      { label: 'Paid', value: (p) => fmtMoney(p.actual, p.currency), class: 'num' },
      { label: 'Draft would pay', value: (p) => fmtMoney(p.draft, p.currency), class: 'num' },
      { label: 'Difference', value: (p) => fmtMoney(p.difference, p.currency), class: 'num' },
    ], got.partners, 'Backtest per partner'),
    got.largest.length ? table([
      { label: 'Conversion', value: (c) => h('code', {}, c.conversionId) },
      { label: 'Partner', value: (c) => c.partnerId },
      { label: 'Event', value: (c) => c.eventType },
      { label: 'Paid', value: (c) => fmtMoney(c.actual, c.currency), class: 'num' },
      { label: 'Draft', value: (c) => fmtMoney(c.draft, c.currency), class: 'num' },
      { label: 'Difference', value: (c) => fmtMoney(c.difference, c.currency), class: 'num' },
    ], got.largest, 'The largest differences') : notice('ok', 'No conversion would be paid differently.'),
    skipped);
}

function previewText(got) {
  if (got.reasons.includes('outside_customer_duration')) return notice('warning', 'Earns nothing: the renewal is past the customer duration.');
  if (got.amount === null) return notice('warning', `No amount yet: ${got.reasons.map(words).join('; ')}.`);
  const why = got.reasons.length ? ` (${got.reasons.map(words).join('; ')})` : '';
  const rate = got.fxRate ? ` at ${got.fxRate} ${got.currency} per unit` : '';
  return notice('ok', `Earns ${fmtMoney(got.amount, got.currency)}${rate}${why}.`);
}

// ------------------------------------------------------------------------------------ rates

export async function renderRates(body) {
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
