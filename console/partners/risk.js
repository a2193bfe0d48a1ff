// A partner's fraud signals on its page (issue 83): each fired signal in words with its
// evidence (the other partner by name, the click, the sale and its customer) and its weight,
// and a form to dismiss it with a reason (operator+). A dismissed signal shows who dismissed it
// and why; it fires again on new evidence. Never shown in the partner portal.

import * as api from '../api.js';
import * as session from '../session.js';
import { NEEDS } from '../session.js';
import { clear, empty, errorBox, fmtTime, h } from '../ui.js';
import { saleWords } from '../commissions/claims.js';

const enc = encodeURIComponent;

export async function render(box, partnerId) {
  const r = await api.request('GET', api.handlePath(`/partners/${enc(partnerId)}/risk`));
  if (!r.ok) return clear(box, errorBox(r.error));
  const risk = r.data;
  const shown = risk.signals.filter((s) => s.fired || s.dismissed);
  if (!shown.length) return clear(box, empty(`No fraud signal (score ${risk.score} of 100).`));
  return clear(box,
    h('p', {}, `Risk score ${risk.score} of 100, from what the partner brought since `, fmtTime(risk.since), '.'),
    h('ul', { class: 'risk-signals' }, ...shown.map((s) => item(box, partnerId, s))));
}

function item(box, partnerId, s) {
  // A sale's id in an example (alone, or in its sentence) is the sale in words (its day and
  // amount), linked.
  const evidence = s.examples.length ? h('ul', {}, ...s.examples.map((e) => h('li', {}, ...exampleWords(e)))) : '';
  if (s.dismissed) {
    return h('li', { 'data-signal': s.code },
      h('strong', {}, s.detail), ` (weight ${s.weight}, dismissed by ${s.dismissed.by} on ${fmtTime(s.dismissed.at)}: “${s.dismissed.reason}”)`,
      evidence);
  }
  return h('li', { 'data-signal': s.code },
    h('strong', {}, s.detail), ` (weight ${s.weight})`, evidence, dismissForm(box, partnerId, s));
}

function dismissForm(box, partnerId, s) {
  const reason = h('input', { name: 'reason', maxlength: '500', placeholder: 'Why it is fine', 'aria-label': `Why “${s.detail}” is fine` });
  const b = h('button', { type: 'submit', class: 'secondary' }, 'Dismiss');
  const out = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'inline' }, reason, b, out);
  if (!session.allows(NEEDS.commissionsWrite)) {
    b.disabled = true;
    b.title = session.reason(NEEDS.commissionsWrite);
  }
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    b.disabled = true;
    const path = api.handlePath(`/partners/${enc(partnerId)}/risk/signals/${enc(s.code)}/dismiss`);
    const r = await api.request('POST', path, { body: { reason: reason.value } });
    if (!r.ok) {
      b.disabled = false;
      clear(out, errorBox(r.error));
      return;
    }
    await render(box, partnerId);
  });
  return form;
}

// An example's text with each sale id in it replaced by the sale in words.
function exampleWords(text) {
  const plain = String(text).replace(/\bThe sale (cnv_[0-9a-f]{32})/g, '$1');
  const parts = plain.split(/(cnv_[0-9a-f]{32})/);
  return parts.filter((p) => p !== '').map((p) => (/^cnv_[0-9a-f]{32}$/.test(p) ? saleWords(p) : p));
}
