// Payout batches (issue 46): the debtor of SEPA files (payout settings), each partner's payout
// method (method.js), a batch made once per form (its idempotency key kept until it
// succeeds), what it left out and why, its file to download, mark paid and cancel.

import * as api from '../api.js';
import * as session from '../session.js';
import { NEEDS } from '../session.js';
import * as method from './method.js';
import * as providers from './providers.js';
import {
  clear, download, empty, errorBox, field, fmtAmounts, fmtMoney, fmtTime, form, h, input, loading, notice,
  randomId, select, table,
} from '../ui.js';
import { term, words } from '../words.js';


export async function render(body, partnerIds, onChange) {
  const parts = {
    settings: h('div', { id: 'payout-settings' }, loading()),
    providers: h('div', { id: 'payout-providers' }, loading()),
    method: h('div', { id: 'payout-method' }),
    batches: h('div', { id: 'payout-batches' }, loading('Loading batches…')),
  };
  clear(body,
    h('h3', {}, 'Payout settings (the SEPA debtor)'), parts.settings,
    h('h3', {}, 'Payout providers (Stripe, PayPal)'), parts.providers,
    h('h3', {}, 'Payout method of a partner'), methodPicker(parts.method, partnerIds),
    h('h3', {}, 'Batches'), batchForm(parts.batches, onChange), parts.batches);
  await Promise.all([
    renderSettings(parts.settings), providers.render(parts.providers), renderBatches(parts.batches, onChange),
  ]);
}

function methodPicker(out, partnerIds) {
  if (!partnerIds.length) return empty('No partners yet.');
  // [id, name] pairs (the name shown) or bare ids.
  const first = Array.isArray(partnerIds[0]) ? partnerIds[0][0] : partnerIds[0];
  const pick = select('partnerId', partnerIds, first);
  pick.id = 'payout-method-partner';
  pick.addEventListener('change', () => method.render(out, pick.value));
  method.render(out, first);
  return h('div', {}, field('Partner', pick), out);
}

async function renderSettings(body) {
  const r = await api.request('GET', api.handlePath('/payout-settings'));
  const now = r.ok
    ? h('p', {}, `Debtor: ${r.data.debtorName} · ${r.data.debtorIban}${r.data.debtorBic ? ` · ${r.data.debtorBic}` : ''}`)
    : notice('info', 'No payout settings yet: a SEPA batch needs the debtor (an admin sets it).');
  const f = form({ id: 'payout-settings-form', 'aria-label': 'Payout settings' },
    h('div', { class: 'grid' },
      field('Debtor name', input('debtorName')),
      field('Debtor IBAN', input('debtorIban')),
      field('Debtor BIC (optional)', input('debtorBic'))),
    'Save payout settings',
    async (el) => {
      const v = (n) => el.querySelector(`[name=${n}]`).value.trim();
      const settings = { debtorName: v('debtorName'), debtorIban: v('debtorIban') };
      if (v('debtorBic')) settings.debtorBic = v('debtorBic');
      await api.put(api.handlePath('/payout-settings'), settings);
      await renderSettings(body);
    });
  if (!session.allows(NEEDS.payoutSettings)) {
    f.button.disabled = true;
    f.append(h('small', { class: 'hint why' }, session.reason(NEEDS.payoutSettings)));
  }
  clear(body, r.ok || r.status === 404 ? now : errorBox(r.error), f);
}

function batchForm(list, onChange) {
  let key = randomId('batch');
  const f = form({ id: 'payout-batch-form', 'aria-label': 'New payout batch' },
    [h('div', { class: 'grid' },
      field('Method', select('method', [['sepa', 'SEPA (EUR)'], ['paypal', 'PayPal'], ['wise', 'Wise']], 'sepa')),
      field('Execution date (SEPA, optional)', input('executionDate', { type: 'date' }))), pendingPicker()],
    'Create batch',
    async (el, out) => {
      const v = (n) => el.querySelector(`[name=${n}]`).value.trim();
      const batch = { method: v('method') };
      const chosen = [...el.querySelectorAll('[name=payoutId]:checked')].map((c) => c.value);
      if (chosen.length) batch.payoutIds = chosen;
      if (v('executionDate')) batch.executionDate = v('executionDate');
      const got = await api.post(api.handlePath('/payout-batches'), batch, { headers: { 'idempotency-key': key } });
      key = randomId('batch');
      await renderBatches(list, onChange);
      clear(out, notice('ok', `Batch made: ${got.payoutCount} payout(s), ${fmtAmounts(got.totals)}.`), excluded(got.excluded));
    });
  if (!session.allows(NEEDS.payoutsWrite)) {
    f.button.disabled = true;
    f.append(h('small', { class: 'hint why' }, session.reason(NEEDS.payoutsWrite)));
  }
  return f;
}

// The pending payouts, to tick the ones a batch takes (none ticked: every pending payout of the
// method), each by its partner and amount rather than an id to type.
function pendingPicker() {
  const box = h('fieldset', { class: 'pending-payouts' }, h('legend', {}, 'Which payouts (none ticked: every pending payout of this method)'), loading());
  api.request('GET', api.handlePath('/payouts') + api.query({ limit: 100 })).then((r) => {
    const items = r.ok ? r.data.items.filter((p) => p.status === 'pending') : [];
    box.replaceChildren(box.firstChild, ...(items.length
      ? items.map((p) => h('label', { class: 'check' },
        h('input', { type: 'checkbox', name: 'payoutId', value: p.payoutId }),
        ` ${p.partnerName || p.partnerId}: ${fmtMoney(p.amount, p.currency)}, made `, fmtTime(p.createdAt)))
      : [h('p', { class: 'hint' }, r.ok ? 'No payout is pending: run payouts first.' : 'The pending payouts could not be listed; every pending payout of the method goes in.')]));
  });
  return box;
}

// What a batch left out, each with its reason in words.
function excluded(items) {
  if (!items || !items.length) return null;
  return h('div', { class: 'excluded' },
    h('p', {}, `Left out (${items.length}):`),
    h('ul', {}, items.map((e) => h('li', { 'data-payout-id': e.payoutId }, `The payout of ${e.partnerId}: ${e.words || words(e.reason)}`))));
}

// A batch as people name it: by when it was made (its id stays in `data-batch-id`).
function batchName(b) {
  return `the batch of ${new Date(b.createdAt).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })}`;
}

async function renderBatches(list, onChange) {
  const r = await api.request('GET', api.handlePath('/payout-batches') + api.query({ limit: 50 }));
  if (!r.ok) {
    clear(list, errorBox(r.error));
    return;
  }
  if (!r.data.items.length) {
    clear(list, empty('No batches yet.'));
    return;
  }
  clear(list, table([
    { label: 'Method', value: (b) => h('span', { 'data-batch-id': b.batchId }, term(b.method)) },
    { label: 'Payouts', value: (b) => String(b.payoutCount) },
    { label: 'Totals', value: (b) => fmtAmounts(b.totals), class: 'num' },
    { label: 'Status', value: (b) => term(b.status, `status ${b.status}`) },
    { label: 'Created', value: (b) => fmtTime(b.createdAt) },
    { label: 'Left out', value: (b) => (b.excluded.length ? excluded(b.excluded) : '–') },
    { label: 'File', value: (b) => (b.status === 'canceled' ? '–' : fileButton(b)) },
    { label: 'Settle', value: (b) => (b.status === 'open' ? settleControls(b, list, onChange) : (b.reference || b.reason || '–')) },
  ], r.data.items, 'Payout batches'));
}

function fileButton(b) {
  const out = h('small', { class: 'hint' });
  const currencies = Object.keys(b.totals);
  const pick = b.method === 'paypal' && currencies.length > 1 ? select('currency', currencies, currencies[0]) : null;
  if (pick) pick.setAttribute('aria-label', `Currency of the PayPal file of ${batchName(b)}`);
  const button = h('button', { type: 'button', class: 'secondary', 'data-batch-file': b.batchId }, 'Download file');
  button.addEventListener('click', async () => {
    const q = pick ? api.query({ currency: pick.value }) : '';
    const r = await api.request('GET', api.handlePath(`/payout-batches/${b.batchId}/file`) + q);
    if (!r.ok) {
      clear(out, errorBox(r.error));
      return;
    }
    const sepa = b.method === 'sepa';
    const name = sepa ? `${b.batchId}.pain.001.001.03.xml` : `${b.batchId}-${b.method}${pick ? `-${pick.value}` : ''}.csv`;
    download(name, r.text, sepa ? 'application/xml' : 'text/csv');
  });
  button.disabled = !session.allows(NEEDS.payoutsWrite);
  return h('div', { class: 'actions' }, pick, button, out);
}

function settleControls(b, list, onChange) {
  const note = input('note', { placeholder: 'bank reference or reason', 'aria-label': `Reference or reason for ${batchName(b)}` });
  const out = h('div', { 'aria-live': 'polite' });
  const buttons = [['mark-paid', 'Mark paid', 'reference'], ['cancel', 'Cancel', 'reason']].map(([action, text, key]) => {
    const button = h('button', { type: 'button', class: action === 'mark-paid' ? 'primary' : 'secondary', 'data-batch-settle': action }, text);
    button.addEventListener('click', async () => {
      if (!note.value.trim()) {
        clear(out, notice('warning', `${text} needs a ${key}.`));
        return;
      }
      const r = await api.request('POST', api.handlePath(`/payout-batches/${b.batchId}/${action}`), { body: { [key]: note.value.trim() } });
      if (!r.ok) clear(out, errorBox(r.error));
      else {
        await renderBatches(list, onChange);
        await onChange();
      }
    });
    button.disabled = !session.allows(NEEDS.payoutsWrite);
    return button;
  });
  return h('div', { class: 'settle' }, note, h('div', { class: 'actions' }, buttons), out);
}
