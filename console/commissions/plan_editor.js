// A campaign's commission plan without JSON (issue 62): each rule's conditions, tiers and
// milestone bonus as form rows, the rule in words beside it (updated as it is typed), a
// preview in the plan's own currency, a backtest on real conversions, and the server's 400
// put beside the field it names (`rules[1].tiers[0].from` → that tier's "From"), in words.

import { byWhom } from '../widgets/people.js';
import * as api from '../api.js';
import * as session from '../session.js';
import { NEEDS } from '../session.js';
import { ruleInWords } from './rules.js';
import {
  checkbox, clear, empty, errorBox, field, fmtMoney, fmtTime, form, h, input, loading, notice,
  select, table, uid,
} from '../ui.js';
import { words } from '../words.js';

// A form the caller may not submit: its button disabled, with the reason under it.
function gated(f, need) {
  if (session.allows(need)) return f;
  f.button.disabled = true;
  f.append(h('small', { class: 'hint why' }, session.reason(need)));
  return f;
}

// Renders the plan editor into `el`: a campaign picked, its plan loaded into the form.
export async function render(el) {
  const r = await api.request('GET', api.handlePath('/campaigns') + api.query({ limit: 100 }));
  if (!r.ok) {
    clear(el, errorBox(r.error));
    return;
  }
  const ids = r.data.items.map((c) => c.campaignId);
  if (!ids.length) {
    clear(el, empty('No campaigns yet: create one on the Partners screen first.'));
    return;
  }
  const pick = select('campaignId', ids, ids[0]);
  pick.id = 'plan-campaign';
  const editor = h('div', { id: 'plan-editor' });
  pick.addEventListener('change', () => loadPlan(editor, pick.value));
  clear(el, field('Campaign', pick), editor);
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

// --------------------------------------------------------------------------------- rule rows

const RULE_KINDS = [['event', 'Each conversion of an event type'], ['click', 'Each qualified click'], ['bonus', 'A bonus once a month']];
const APPLIES_TO = [['all', 'Every sale'], ['first', "A customer's first sale"], ['recurring', 'Renewals only']];
const CUSTOMER = [['', 'Any customer'], ['new', 'A new customer'], ['returning', 'A returning customer']];
const BASIS = [['conversions', 'Conversions in the month'], ['revenue', 'Revenue in the month']];

const splitList = (s) => s.split(',').map((x) => x.trim()).filter(Boolean);

// A control with the API path it stands for (set when the plan is read from the form).
function ctl(name, attrs = {}) {
  return input(name, { ...attrs, 'data-key': name });
}

function tierRow(tier) {
  const row = h('div', { class: 'tier grid' },
    field('From', ctl('tierFrom', { value: tier ? String(tier.from) : '', inputmode: 'decimal', placeholder: '0' }), 'The month\'s count (or revenue) where this rate starts: 0 for the first tier.'),
    field('Flat amount', ctl('tierFlat', { value: (tier && tier.flat) || '', inputmode: 'decimal' })),
    field('Percent of value', ctl('tierPercent', { value: (tier && tier.percent) || '', inputmode: 'decimal' })));
  const remove = h('button', { type: 'button', class: 'secondary' }, 'Remove tier');
  remove.addEventListener('click', () => {
    const rule = row.closest('.rule');
    row.remove();
    if (rule) rule.dispatchEvent(new Event('input'));
  });
  row.append(h('div', { class: 'inline row-actions' }, remove));
  return row;
}

function ruleRow(rule, currencyOf) {
  const r = rule || { eventType: 'purchase' };
  const kind = select('ruleKind', RULE_KINDS, r.bonus ? 'bonus' : r.qualifiedClick ? 'click' : 'event');
  const c = r.conditions || {};
  const metadata = Object.entries(c.metadataEquals || {}).map(([k, v]) => `${k}=${v}`).join(', ');
  const tiers = h('div', { class: 'tiers' }, (r.tiers || []).map(tierRow));
  const addTier = h('button', { type: 'button', class: 'secondary' }, 'Add a tier');
  addTier.addEventListener('click', () => {
    tiers.append(tierRow(null));
    row.dispatchEvent(new Event('input'));
  });
  const bonusPart = h('div', { class: 'grid', 'data-for': 'bonus' },
    field('Conversions in the month', ctl('conversionsInMonth', { value: r.bonus ? String(r.bonus.conversionsInMonth) : '', inputmode: 'numeric', placeholder: '50' }), 'The bonus (its flat amount) is paid once a month when the partner reaches this many.'));
  const ratePart = h('fieldset', { class: 'grid', 'data-for': 'event click' },
    h('legend', {}, 'Only when (optional)'),
    field('Country in', ctl('countryIn', { value: (c.countryIn || []).join(', '), placeholder: 'DE, AT' }), 'Two-letter codes, comma-separated.'),
    field('Device in', ctl('deviceIn', { value: (c.deviceIn || []).join(', '), placeholder: 'mobile, desktop' })),
    field('Source in', ctl('sourceIn', { value: (c.sourceIn || []).join(', '), placeholder: 'newsletter' })),
    field('Metadata equals', ctl('metadataEquals', { value: metadata, placeholder: 'plan=pro' }), 'key=value, comma-separated.'),
    field('Value at least', ctl('valueAtLeast', { value: c.valueAtLeast || '', inputmode: 'decimal' })),
    field('Customer', select('customer', CUSTOMER, c.customer || '')));
  const tierPart = h('fieldset', { class: 'tier-ladder', 'data-for': 'event click' },
    h('legend', {}, 'Tiers: a better rate as the partner\'s month grows (optional)'),
    field('Tiers count', select('tierBasis', BASIS, r.tierBasis || 'conversions')),
    tiers, h('div', { class: 'inline row-actions' }, addTier));
  const said = h('p', { class: 'rule-words', 'aria-live': 'polite' });
  const remove = h('button', { type: 'button', class: 'secondary' }, 'Remove rule');
  const row = h('fieldset', { class: 'rule' },
    h('legend', {}, 'Rule'),
    said,
    h('div', { class: 'grid' },
      field('Pays', kind),
      field('Event type', ctl('eventType', { value: r.eventType || '' }), 'purchase, lead, … (a bonus: empty counts every type).'),
      field('Flat amount', ctl('flat', { value: r.flat || '', inputmode: 'decimal', placeholder: '2.00' })),
      h('div', { 'data-for': 'event click' }, field('Percent of value', ctl('percent', { value: r.percent || '', inputmode: 'decimal', placeholder: '10' }))),
      h('div', { 'data-for': 'event' }, field('Applies to', select('appliesTo', APPLIES_TO, r.appliesTo || 'all'), 'For bound customers: their first sale, or the later ones.')),
      h('div', { 'data-for': 'event click' }, field('Priority', ctl('priority', { value: r.priority ? String(r.priority) : '', inputmode: 'numeric', placeholder: '0' }), 'When several rules match, the highest pays.'))),
    bonusPart, ratePart, tierPart,
    h('div', { class: 'inline row-actions' }, remove));
  // Shows the parts of the kind chosen, and the rule in words as it stands.
  const update = () => {
    for (const part of row.querySelectorAll('[data-for]')) part.hidden = !part.dataset.for.split(' ').includes(kind.value);
    const index = [...row.parentElement?.querySelectorAll('.rule') || [row]].indexOf(row);
    try {
      said.textContent = `In words: ${ruleInWords(ruleFromRow(row), Math.max(0, index), undefined, currencyOf())}.`;
    } catch {
      said.textContent = 'In words: not complete yet.';
    }
  };
  row.addEventListener('input', update);
  row.addEventListener('change', update);
  remove.addEventListener('click', () => {
    const list = row.parentElement;
    row.remove();
    if (list) for (const other of list.querySelectorAll('.rule')) other.dispatchEvent(new Event('input'));
  });
  queueMicrotask(update);
  return row;
}

// One row as the API's rule; each control's `data-path` set to the path the API would name.
function ruleFromRow(row, i = 0) {
  const get = (n) => {
    const el = row.querySelector(`[name=${n}]`);
    return el ? el.value.trim() : '';
  };
  const at = (n, path) => {
    const el = row.querySelector(`[name=${n}]`);
    if (el) el.dataset.path = `rules[${i}].${path}`;
  };
  const kind = get('ruleKind');
  const rule = {};
  if (kind === 'click') rule.qualifiedClick = true;
  else if (get('eventType')) rule.eventType = get('eventType');
  at('eventType', 'eventType');
  if (get('flat')) rule.flat = get('flat');
  at('flat', 'flat');
  if (kind === 'bonus') {
    const n = get('conversionsInMonth');
    rule.bonus = { conversionsInMonth: /^\d+$/.test(n) ? Number(n) : n };
    at('conversionsInMonth', 'bonus.conversionsInMonth');
    return rule;
  }
  if (get('percent')) rule.percent = get('percent');
  at('percent', 'percent');
  if (kind === 'event' && get('appliesTo') !== 'all') rule.appliesTo = get('appliesTo');
  if (get('priority')) rule.priority = /^\d+$/.test(get('priority')) ? Number(get('priority')) : get('priority');
  at('priority', 'priority');
  const conditions = {};
  for (const k of ['countryIn', 'deviceIn', 'sourceIn']) {
    if (get(k)) conditions[k] = splitList(get(k)).map((x) => (k === 'countryIn' ? x.toUpperCase() : x));
    at(k, `conditions.${k}`);
  }
  if (get('metadataEquals')) {
    conditions.metadataEquals = Object.fromEntries(splitList(get('metadataEquals')).map((kv) => {
      const [k, ...v] = kv.split('=');
      return [k.trim(), v.join('=').trim()];
    }));
  }
  at('metadataEquals', 'conditions.metadataEquals');
  if (get('valueAtLeast')) conditions.valueAtLeast = get('valueAtLeast');
  at('valueAtLeast', 'conditions.valueAtLeast');
  if (get('customer')) conditions.customer = get('customer');
  at('customer', 'conditions.customer');
  if (Object.keys(conditions).length) rule.conditions = conditions;
  const basis = get('tierBasis');
  const tiers = [...row.querySelectorAll('.tier')].map((t, k) => {
    const v = (n) => t.querySelector(`[name=${n}]`).value.trim();
    const mark = (n, p) => { t.querySelector(`[name=${n}]`).dataset.path = `rules[${i}].tiers[${k}]${p}`; };
    mark('tierFrom', '.from');
    mark('tierFlat', '.flat');
    mark('tierPercent', '.percent');
    const tier = { from: basis === 'revenue' || !/^\d+$/.test(v('tierFrom')) ? v('tierFrom') : Number(v('tierFrom')) };
    if (v('tierFlat')) tier.flat = v('tierFlat');
    if (v('tierPercent')) tier.percent = v('tierPercent');
    return tier;
  });
  if (tiers.length) {
    rule.tiers = tiers;
    if (basis !== 'conversions') rule.tierBasis = basis;
  }
  return rule;
}

// --------------------------------------------------------------------------------- the plan

// The plan the form says, in the API's shape (the server validates and explains).
function planFromForm(el) {
  const v = (n) => el.querySelector(`[name=${n}]`).value.trim();
  const rules = [...el.querySelectorAll('.rule')].map((row, i) => ruleFromRow(row, i));
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

// The API's 400 `rules[1].tiers[0].from: …` beside the control it names (or, for a whole rule
// or tier, at the top of that rule), in words; the rest as the form's own error handling does.
function placeRuleError(el, err) {
  const m = err && err.status === 400 ? /^(rules\[\d+\][\w.[\]]*): (.+)$/s.exec(err.message || '') : null;
  if (!m) return false;
  const [, path, message] = m;
  const rule = el.querySelectorAll('.rule')[Number(/^rules\[(\d+)\]/.exec(path)[1])];
  if (!rule) return false;
  let control = el.querySelector(`[data-path="${path}"]`);
  if (!control) {
    const tier = /tiers\[(\d+)\]$/.exec(path);
    control = tier ? rule.querySelectorAll('.tier [name=tierFrom]')[Number(tier[1])] : rule.querySelector('[name=ruleKind]');
  }
  if (!control) return false;
  if (control.closest('[hidden]')) control = rule.querySelector('[name=ruleKind]');
  const label = el.querySelector(`label[for="${control.id}"]`);
  const n = Number(/^rules\[(\d+)\]/.exec(path)[1]) + 1;
  const id = `${control.id || uid('c')}-error`;
  const msg = h('small', { class: 'field-error', id }, `Rule ${n}, ${label ? label.textContent : 'rule'}: ${message}`);
  control.setAttribute('aria-invalid', 'true');
  control.setAttribute('aria-describedby', [control.getAttribute('aria-describedby'), id].filter(Boolean).join(' '));
  control.insertAdjacentElement('afterend', msg);
  control.focus();
  return true;
}

// Sends `call`, putting a rule's 400 on its field (a throw the form shows otherwise).
async function withRuleErrors(el, call) {
  for (const e of el.querySelectorAll('.rule .field-error')) e.remove();
  for (const c of el.querySelectorAll('.rule [aria-invalid]')) c.removeAttribute('aria-invalid');
  try {
    return await call();
  } catch (err) {
    if (placeRuleError(el, err)) {
      const e = new Error('Fix the field marked above, then save again.');
      e.shown = true;
      throw e;
    }
    throw err;
  }
}

function planForm(editor, campaignId, plan) {
  const p = plan || { currency: 'EUR', holdDays: 30, rules: [{ eventType: 'purchase', percent: '10' }], caps: {}, attributionWindow: {} };
  const currency = input('currency', { value: p.currency, readonly: plan ? true : null });
  const currencyOf = () => currency.value.trim().toUpperCase();
  const rules = h('div', { class: 'rules' }, p.rules.map((r) => ruleRow(r, currencyOf)));
  const add = h('button', { type: 'button', class: 'secondary', id: 'add-rule' }, 'Add a rule');
  add.addEventListener('click', () => rules.append(ruleRow(null, currencyOf)));
  const f = form({ id: 'plan-form', 'aria-label': 'Commission plan' },
    h('div', {},
      h('div', { class: 'grid' },
        field('Currency', currency, plan ? 'Fixed once the plan exists.' : 'ISO 4217, e.g. EUR.'),
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
      rules, h('div', { class: 'inline row-actions' }, add)),
    plan ? 'Save a new version' : 'Create the plan',
    async (el) => {
      const headers = plan ? { 'if-match': `"${plan.version}"` } : {};
      const path = api.handlePath(`/campaigns/${encodeURIComponent(campaignId)}/commission-plan`);
      const saved = await withRuleErrors(el, () => api.put(path, planFromForm(el), { headers }));
      await loadPlan(editor, campaignId);
      clear(editor.querySelector('#plan-form .form-out'), notice('ok', `Saved version ${saved.version}.`));
    });
  // The words follow the currency typed (a new plan's).
  currency.addEventListener('input', () => { for (const r of f.querySelectorAll('.rule')) r.dispatchEvent(new Event('input')); });
  return gated(f, NEEDS.commissionsWrite);
}

function durationMonths(p) {
  const d = p.customerDuration;
  return d && typeof d === 'object' && d.months ? String(d.months) : '';
}

const SAMPLE_AS = [['none', 'A sale without a customer'], ['first', "A customer's first sale"], ['renewal', 'A renewal']];

// What a sample conversion would earn under the plan in the form (saved or not), computed by the
// server with the ledger's arithmetic. The sample's currency follows the plan's (typed or
// saved) until changed by hand, so a EUR plan previews a EUR sale.
function previewForm(editor, campaignId, plan) {
  const out = h('div', { id: 'plan-preview', 'aria-live': 'polite' });
  const planCurrency = () => {
    const c = editor.querySelector('#plan-form [name=currency]');
    return (c ? c.value.trim().toUpperCase() : '') || (plan ? plan.currency : 'EUR');
  };
  const sale = input('currency', { value: planCurrency() });
  let followed = true;
  sale.addEventListener('input', () => { followed = false; });
  queueMicrotask(() => {
    const c = editor.querySelector('#plan-form [name=currency]');
    if (c) c.addEventListener('input', () => { if (followed) sale.value = planCurrency(); });
  });
  const f = form({ id: 'preview-form', 'aria-label': 'Preview a conversion' },
    h('div', { class: 'grid' },
      field('Event type', input('eventType', { value: 'purchase' })),
      field('Value', input('value', { value: '24.99', inputmode: 'decimal' })),
      field('Currency', sale, 'The sale\'s currency: the plan\'s by default (another needs an exchange rate).'),
      field('As', select('sampleAs', SAMPLE_AS, 'none')),
      field('Days after the binding', input('boundDaysAgo', { value: '30', inputmode: 'numeric' }), 'For a renewal: e.g. 400 is past a 12-month duration.')),
    'Preview what it earns',
    async (el) => {
      const v = (n) => el.querySelector(`[name=${n}]`).value.trim();
      const planEl = editor.querySelector('#plan-form');
      const sample = { plan: planFromForm(planEl), eventType: v('eventType') };
      if (v('value')) sample.value = v('value');
      if (v('currency')) sample.currency = v('currency').toUpperCase();
      if (v('sampleAs') !== 'none') {
        sample.customer = { first: v('sampleAs') === 'first' };
        if (v('sampleAs') === 'renewal') sample.customer.boundDaysAgo = Number(v('boundDaysAgo') || 0);
      }
      const path = api.handlePath(`/campaigns/${encodeURIComponent(campaignId)}/commission-plan/preview`);
      const got = await withRuleErrors(planEl, () => api.post(path, sample));
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
      const planEl = editor.querySelector('#plan-form');
      const body = { plan: planFromForm(planEl), from: `${v('from')}T00:00:00Z`, to: to.toISOString() };
      const path = api.handlePath(`/campaigns/${encodeURIComponent(campaignId)}/commission-plan/backtest`);
      const got = await withRuleErrors(planEl, () => api.post(path, body));
      clear(out, backtestView(got));
    });
  f.append(out);
  return gated(f, NEEDS.commissionsWrite);
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
      // A sale by its partner and event (its id stays in `data-conversion-id`).
      { label: 'Partner', value: (c) => h('span', { 'data-conversion-id': c.conversionId }, c.partnerId) },
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
