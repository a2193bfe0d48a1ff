// The portal's Tax details tab: the partner's tax profile as the program keeps it (masked), and
// a form that asks only for what the chosen form needs. The API checks each id by its format
// and check digits and names the field that does not hold; nothing typed is shown back in full.

import * as api from './portal_api.js';
import { clear, errorBox, field, h, input, loading, section, select } from './ui.js';

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
    h('dt', {}, 'Address'), h('dd', {}, p.addressGiven ? 'Given' : 'Not given'));
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
  const taxField = field('Tax id', taxId, 'A W-9 asks for your SSN (123-45-6789) or EIN (12-3456789); a W-8, your tax id at home if you have one.');
  const vatField = field('VAT number', vatId, 'With its country letters, e.g. DE136695976 (EL for Greece).');
  const fit = () => {
    taxField.hidden = !['w9', 'w8ben', 'w8bene'].includes(form.value);
    vatField.hidden = form.value !== 'eu_vat';
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
      save.disabled = true;
      clear(out, loading('Saving…'));
      try {
        const saved = await api.request('PUT', path, body);
        clear(shown, current(saved));
        clear(out, h('p', { role: 'status' }, 'Saved. The program sees them masked; they are kept encrypted.'));
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
  save, out);
  return [section('Your tax details', shown), section(profile ? 'Change your tax details' : 'Give your tax details', el)];
}
