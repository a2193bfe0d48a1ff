// A partner's tax details on its page in the console: the form, the legal name, where the
// review stands in words, who signed and when; and the program's two answers: accept the signed
// details, or send them back with a reason (the partner is mailed it). Ids stay masked.

import * as api from '../api.js';
import { clear, errorBox, field, h } from '../ui.js';

const FORMS = {
  w9: 'W-9 (a US person)',
  w8ben: 'W-8BEN (a person outside the US)',
  w8bene: 'W-8BEN-E (a business outside the US)',
  eu_vat: 'EU VAT',
  none: 'None of these',
};

const STATUS = {
  draft: 'Given, not signed by the partner yet',
  submitted: 'Signed by the partner: waiting for your review',
  accepted: 'Accepted',
  needs_fix: 'Sent back to the partner for a fix',
};

const enc = encodeURIComponent;

// The Tax details part of the partner's page, in `box`.
export async function render(box, partnerId) {
  const path = api.handlePath(`/partners/${enc(partnerId)}/tax-profile`);
  const r = await api.request('GET', path);
  if (r.status === 404) return clear(box, h('p', {}, 'The partner has not given its tax details yet.'));
  if (!r.ok) return clear(box, errorBox(r.error));
  const p = r.data;
  const out = h('div', { 'aria-live': 'polite' });
  const again = () => render(box, partnerId);
  const answer = async (step, body, button) => {
    button.disabled = true;
    const res = await api.request('POST', `${path}/${step}`, { body });
    button.disabled = false;
    if (!res.ok) return clear(out, errorBox(res.error));
    return again();
  };
  const accept = h('button', { type: 'button', class: 'primary' }, 'Accept the tax details');
  accept.addEventListener('click', () => answer('accept', {}, accept));
  accept.disabled = !p.certification || p.status === 'accepted';
  const reason = h('textarea', { name: 'reason', rows: '2', maxlength: '500' });
  const back = h('button', { type: 'button', class: 'secondary' }, 'Send back for a fix');
  back.addEventListener('click', () => {
    if (!reason.value.trim()) return clear(out, h('p', { class: 'error' }, 'Say what the partner should fix: it is mailed to them.'));
    return answer('request-fix', { reason: reason.value.trim() }, back);
  });
  return clear(box,
    h('dl', { class: 'figures' },
      h('dt', {}, 'Form'), h('dd', {}, FORMS[p.form] || p.form),
      h('dt', {}, 'Legal name'), h('dd', {}, p.legalName),
      h('dt', {}, 'Country'), h('dd', {}, p.country),
      p.taxId ? [h('dt', {}, 'Tax id'), h('dd', {}, p.taxId)] : null,
      p.vatId ? [h('dt', {}, 'VAT number'), h('dd', {}, p.vatId)] : null,
      h('dt', {}, 'Review'), h('dd', {}, STATUS[p.status] || p.status),
      p.fixReason ? [h('dt', {}, 'Asked to fix'), h('dd', {}, p.fixReason)] : null,
      h('dt', {}, 'Signed'), h('dd', {}, p.certification
        ? `by ${p.certification.signedName} on ${new Date(p.certification.signedAt).toLocaleDateString(undefined, { dateStyle: 'medium' })}`
        : 'Not signed: the partner signs in its portal')),
    h('p', {}, accept),
    field('What the partner should fix', reason, 'Mailed to the partner with a link to its portal.'),
    h('p', {}, back),
    out);
}
