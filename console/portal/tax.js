// The portal's Tax details tab: the partner's tax profile as the program keeps it (masked),
// where the program's review of it stands (in words, with its reason when sent back), and a form
// that asks only for what the chosen form needs, with the form's certification shown in the
// IRS's words and signed by typing one's name. The API checks each id by its format and check
// digits and names the field that does not hold; nothing typed is shown back in full. Below it,
// self-billing: the agreement's words and the one button that accepts it.

import * as api from './api.js';
import { CERTIFICATION } from './tax_words.js';
import { clear, errorBox, field, h, input, loading, section, select } from '../ui.js';

const STATUS = {
  draft: 'Saved, not signed yet: sign it below so the program can accept it.',
  submitted: 'Signed and sent: the program has not reviewed it yet.',
  accepted: 'Accepted by the program.',
  needs_fix: 'Sent back by the program for a fix.',
};

const FORMS = [
  ['w9', 'W-9: a US person or company'],
  ['w8ben', 'W-8BEN: a person outside the US'],
  ['w8bene', 'W-8BEN-E: a company outside the US'],
  ['eu_vat', 'A business with an EU VAT number'],
  ['none', 'None of these'],
];

function current(p) {
  if (!p) return h('p', {}, 'You have not given your tax details yet. The program may wait for them before paying you.');
  const form = (FORMS.find(([v]) => v === p.form) || [p.form, p.form])[1];
  return h('dl', { class: 'figures' },
    h('dt', {}, 'Form'), h('dd', {}, form),
    h('dt', {}, 'Legal name'), h('dd', {}, p.legalName),
    h('dt', {}, 'Country'), h('dd', {}, p.country),
    p.taxId ? [h('dt', {}, 'Tax id'), h('dd', {}, p.taxId)] : null,
    p.vatId ? [h('dt', {}, 'VAT number'), h('dd', {}, p.vatId)] : null,
    h('dt', {}, 'Address'), h('dd', {}, p.addressGiven ? 'Given' : 'Not given'),
    h('dt', {}, 'Where it stands'), h('dd', {}, STATUS[p.status] || p.status),
    p.fixReason ? [h('dt', {}, 'What to fix'), h('dd', {}, p.fixReason)] : null,
    p.certification ? [h('dt', {}, 'Signed'), h('dd', {}, `by ${p.certification.signedName} on ${p.certification.signedAt.slice(0, 10)}`)] : null);
}

// Self-billing: where it stands, the agreement and its button.
async function selfBilling(base, partnerId) {
  const path = `${base}/partners/${encodeURIComponent(partnerId)}/self-billing`;
  const state = await api.get(path);
  if (!state.enabled) return null;
  const out = h('div', { 'aria-live': 'polite' });
  if (state.accepted) {
    clear(out, h('p', {}, `You accepted on ${state.acceptedAt.slice(0, 10)}: ${state.customer} makes the invoice of each payout for you. Download them from Payouts.`));
    return section('Invoices made for you (self-billing)', out);
  }
  const accept = h('button', {
    class: 'primary',
    type: 'button',
    onclick: async () => {
      accept.disabled = true;
      try {
        const done = await api.post(`${path}/accept`, {});
        clear(out, h('p', { role: 'status' }, `Accepted on ${done.acceptedAt.slice(0, 10)}. Your invoices are in Payouts.`));
      } catch (err) {
        accept.disabled = false;
        out.append(errorBox(err));
      }
    },
  }, 'I accept self-billing');
  clear(out,
    h('p', {}, `${state.customer} offers to make the invoice of each payout in your name, so you need not write one.`),
    h('blockquote', { class: 'agreement' }, state.agreement),
    accept);
  return section('Invoices made for you (self-billing)', out);
}

// The Tax details tab for `partnerId` under `base`.
export async function tax(base, partnerId) {
  const path = `${base}/partners/${encodeURIComponent(partnerId)}/tax-profile`;
  const shown = h('div', { 'aria-live': 'polite' });
  // The list (narrowed to the partner's own) rather than the profile itself: none given yet is
  // an empty list, not a 404 in the browser's console.
  const mine = await api.get(`${base}/tax-profiles`);
  const profile = mine.items.find((p) => p.partnerId === partnerId) || null;
  clear(shown, current(profile));
  const form = select('form', FORMS, profile ? profile.form : 'w8ben');
  const name = input('legalName', { autocomplete: 'name', required: true, 'aria-required': 'true', maxlength: '200' });
  const country = input('country', { autocomplete: 'country', maxlength: '2', required: true, 'aria-required': 'true' });
  const taxId = input('taxId', { maxlength: '30' });
  const vatId = input('vatId', { maxlength: '20' });
  const address = h('textarea', { name: 'address', rows: '3', maxlength: '500', autocomplete: 'street-address' });
  const words = h('blockquote', { class: 'certification' });
  const signer = input('signedName', { autocomplete: 'name', maxlength: '200' });
  const sign = h('input', { type: 'checkbox', name: 'sign', checked: true });
  const taxField = field('Tax id', taxId, 'A W-9 asks for your SSN (123-45-6789) or EIN (12-3456789); a W-8, your tax id at home if you have one.');
  const vatField = field('VAT number', vatId, 'With its country letters, e.g. DE136695976 (EL for Greece).');
  const fit = () => {
    taxField.hidden = !['w9', 'w8ben', 'w8bene'].includes(form.value);
    vatField.hidden = form.value !== 'eu_vat';
    // The wording's line breaks as paragraphs (no inline style under the CSP).
    clear(words, (CERTIFICATION[form.value] || '').split('\n').filter((l) => l.trim()).map((l) => h('p', {}, l)));
  };
  form.addEventListener('change', fit);
  fit();
  const out = h('div', { 'aria-live': 'polite' });
  const save = h('button', { class: 'primary', type: 'submit' }, 'Save my tax details');
  const el = h('form', {
    onsubmit: async (e) => {
      e.preventDefault();
      const body = { form: form.value, legalName: name.value.trim(), country: country.value.trim() };
      if (!taxField.hidden && taxId.value.trim()) body.taxId = taxId.value.trim();
      if (!vatField.hidden && vatId.value.trim()) body.vatId = vatId.value.trim();
      if (address.value.trim()) body.address = address.value.trim();
      if (sign.checked) body.certification = { signedName: signer.value.trim() };
      save.disabled = true;
      clear(out, loading('Saving…'));
      try {
        const saved = await api.request('PUT', path, body);
        clear(shown, current(saved));
        clear(out, h('p', { role: 'status' }, saved.certification
          ? 'Saved and signed. The program sees them masked; they are kept encrypted.'
          : 'Saved, not signed. The program sees them masked; they are kept encrypted.'));
        taxId.value = '';
        vatId.value = '';
        address.value = '';
      } catch (err) {
        clear(out, errorBox(err));
      } finally {
        save.disabled = false;
      }
    },
  },
  field('Which form you file', form),
  field('Legal name', name, 'As on your tax registration.'),
  field('Country', country, 'Two letters: US, DE, GB, …'),
  taxField, vatField,
  field('Address (optional)', address, 'Your address for tax forms.'),
  h('h3', {}, 'Certification'),
  words,
  h('label', {}, sign, ' Sign these details with the words above'),
  field('Your full name, as your signature', signer, 'You may sign for a business you are allowed to sign for. The date is added when you save.'),
  save, out);
  const billing = await selfBilling(base, partnerId).catch((err) => section('Invoices made for you (self-billing)', errorBox(err)));
  return [section('Your tax details', shown), section(profile ? 'Change your tax details' : 'Give your tax details', el), billing].filter(Boolean);
}
