// A partner's payout method (issue 46): shown masked, with "changed, awaiting confirmation" and
// a Confirm button for managers while a change of details is held; a form to set it (the
// partner's own token may set its own). The details never come back from the server unmasked.

import { byWhom } from '../widgets/people.js';
import * as api from '../api.js';
import * as session from '../session.js';
import { NEEDS } from '../session.js';
import {
  clear, errorBox, field, fmtTime, form, h, input, loading, notice, select,
} from '../ui.js';

const TYPES = [['sepa', 'SEPA bank transfer'], ['paypal', 'PayPal'], ['wise', 'Wise'], ['manual', 'Manual (paid outside batches)']];
const FIELDS = { sepa: ['accountName', 'iban', 'bic'], paypal: ['email'], wise: ['email', 'accountName'], manual: [] };

const path = (partnerId) => api.handlePath(`/partners/${encodeURIComponent(partnerId)}/payout-method`);

// `asPartner`: the partner view (no confirm button; a change says it waits for the merchant).
export async function render(body, partnerId, asPartner = false) {
  clear(body, loading('Loading the payout method…'));
  const r = await api.request('GET', path(partnerId));
  if (!r.ok && r.status !== 404) {
    clear(body, errorBox(r.error));
    return;
  }
  const shown = r.ok ? describe(r.data, body, partnerId, asPartner) : notice('info', 'No payout method yet: its payouts wait, left out of every payment file, until it has one.');
  clear(body, shown, methodForm(body, partnerId, asPartner));
}

function describe(m, body, partnerId, asPartner) {
  const parts = [m.type.toUpperCase()];
  for (const k of ['accountName', 'iban', 'bic', 'email', 'payerId']) if (m[k]) parts.push(m[k]);
  const out = [h('p', { class: 'payout-method' }, h('strong', {}, parts.join(' · ')), ' (set ', byWhom(m.updatedBy), ', ', fmtTime(m.updatedAt), ')')];
  if (m.problem) {
    out.push(notice('warning', `These details are no longer accepted: ${m.problem}`));
  }
  if (m.pendingConfirmation) {
    const was = m.change.previous;
    out.push(notice('warning', 'Changed, awaiting confirmation: payouts to these details stay out of batches until a manager confirms or until ',
      fmtTime(m.change.heldUntil), `. Before: ${[was.type, was.accountName, was.iban, was.email, was.payerId].filter(Boolean).join(' · ')}.`));
    if (!asPartner) out.push(confirmButton(body, partnerId));
  }
  return h('div', { class: 'payout-method-state' }, out);
}

function confirmButton(body, partnerId) {
  const b = h('button', { type: 'button', class: 'primary', 'data-confirm-method': partnerId }, 'Confirm change');
  b.addEventListener('click', async () => {
    b.disabled = true;
    const r = await api.request('POST', `${path(partnerId)}/confirm`);
    if (!r.ok) b.replaceWith(errorBox(r.error));
    else await render(body, partnerId);
  });
  if (!session.allows(NEEDS.payoutsWrite)) b.disabled = true;
  return b;
}

function methodForm(body, partnerId, asPartner) {
  const type = select('type', TYPES, 'sepa');
  const inputs = {
    accountName: field('Account holder', input('accountName')),
    iban: field('IBAN', input('iban', { placeholder: 'DE89 3704 0044 0532 0130 00' }), 'Checked by its country\'s length, structure and check digits; SEPA: an IBAN of a SEPA country.'),
    bic: field('BIC (optional)', input('bic', { placeholder: 'DEUTDEFF' })),
    email: field('Email', input('email', { type: 'email' })),
  };
  const show = () => {
    for (const [k, el] of Object.entries(inputs)) el.hidden = !FIELDS[type.value].includes(k);
  };
  type.addEventListener('change', show);
  show();
  const f = form({ class: 'payout-method-form', 'aria-label': `Payout method of ${partnerId}` },
    h('div', { class: 'grid' }, field('Paid by', type), Object.values(inputs)),
    'Save payout method',
    async (el) => {
      const v = (n) => el.querySelector(`[name=${n}]`).value.trim();
      const method = { type: type.value };
      for (const k of FIELDS[type.value]) if (v(k) || k !== 'bic') method[k] = v(k);
      const saved = await api.put(path(partnerId), method);
      await render(body, partnerId, asPartner);
      const note = saved.pendingConfirmation
        ? 'Saved. A change of details waits for the merchant\'s confirmation (at most 24 hours) before payouts use it.'
        : 'Saved.';
      const outEl = body.querySelector('.payout-method-form .form-out');
      if (outEl) clear(outEl, notice('ok', note));
    });
  if (!asPartner && !session.allows(NEEDS.payoutsWrite)) {
    f.button.disabled = true;
    f.append(h('small', { class: 'hint why' }, session.reason(NEEDS.payoutsWrite)));
  }
  return f;
}
