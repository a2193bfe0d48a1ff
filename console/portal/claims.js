// The portal's Claims tab: a partner asks for a sale it brought that was not credited to it
// (named by the order number its customer has, and when it happened: no id of ours to type;
// with what the sale was and a screenshot of the order when it has them),
// then follows each claim: where it stands, what 10x found (the proposal's reasons, in words),
// and the program's decision with its signed proof (downloadable for `tenx verify`, and
// checked in the page by ./verify.js when the program publishes its keys).

import * as api from './api.js';
import { words } from './words.js';
import { verifyDecision } from './verify.js';
import { clear, download, errorBox, field, fmtMoney, fmtTime, h, input, loading, section } from '../ui.js';

// The images a claim takes: what the API takes (PNG or JPEG, at most 5 MB), checked here first
// so a phone's HEIC or a large photo is named before it is sent.
const IMAGE_TYPES = ['image/png', 'image/jpeg'];
const MAX_IMAGE = 5 * 1024 * 1024;

// What was claimed, in words: the order number, or "a sale" when 10x named it.
function what(c) {
  if (c.orderId) return `Order ${c.orderId}`;
  return 'A sale';
}

// The proposal while a claim is open: what 10x found, in words.
function proposal(c) {
  return h('div', {},
    h('p', {}, `What 10x found: ${words(c.proposal.verdict)}.`),
    c.proposal.reasons.length ? h('ul', { class: 'reasons' }, c.proposal.reasons.map((r) => h('li', {}, r))) : null);
}

// The decision: approved or denied, why, the amount, and its signed proof.
function decision(base, c) {
  const d = c.decision;
  const verdict = h('p', { class: 'proof-verdict', 'aria-live': 'polite' }, 'Checking the program\'s signature…');
  verifyDecision(base, d).then((v) => clear(verdict, v)).catch(() => clear(verdict, 'The signature could not be checked in this browser.'));
  return h('div', {},
    h('p', {}, h('strong', {}, d.decision === 'approve' ? 'Approved' : 'Denied'),
      d.overdue ? ' by the program\'s rule, at the deadline' : ` by the program, ${new Date(d.decidedAt).toLocaleDateString()}`,
      d.amount ? ` · ${fmtMoney(d.amount, d.currency)}` : null),
    h('p', {}, `Why: ${d.reason}`),
    verdict,
    h('button', {
      type: 'button',
      class: 'secondary',
      onclick: () => download(`claim-decision-${c.claimId}.json`, JSON.stringify(d, null, 2), 'application/json'),
    }, 'Download the signed decision'));
}

function claimCard(base, c) {
  return h('article', { class: 'claim-card' },
    h('h3', {}, `${what(c)} · ${words(c.status)}`),
    h('p', { class: 'hint' }, 'Sale on ', fmtTime(c.occurredAt), ' · asked ', fmtTime(c.openedAt),
      c.status === 'open' ? [' · decided by ', fmtTime(c.deadlineAt)] : null),
    c.amount ? h('p', {}, `The sale, as you said: ${fmtMoney(c.amount, c.currency)}`) : null,
    c.evidence && c.evidence.note ? h('p', {}, `Your note: ${c.evidence.note}`) : null,
    c.attachments && c.attachments.length ? h('p', {}, c.attachments.length === 1 ? 'You added 1 image.' : `You added ${c.attachments.length} images.`) : null,
    c.decision ? decision(base, c) : proposal(c));
}

// What is wrong with `file` as a claim's image, in words, or null.
function imageProblem(file) {
  if (!file) return null;
  if (!IMAGE_TYPES.includes(file.type)) return `${file.name} is not a PNG or JPEG image: take a screenshot, or save the image as PNG or JPEG.`;
  if (file.size > MAX_IMAGE) return `${file.name} is ${(file.size / 1048576).toFixed(1)} MB; the most a claim takes is 5 MB.`;
  return null;
}

// Sends `file` to the claim `claimId` (the body the image itself).
async function attach(path, claimId, file) {
  return api.upload(`${path}/${encodeURIComponent(claimId)}/attachments`, file);
}

// The form: the order number, when the sale happened (the browser's local time), what the sale
// was (in the program's `currency`), a screenshot of the order, a note and, when the partner
// has it, the click token its postback received (tucked away: few have one).
function openForm(path, currency, reload) {
  const order = input('orderId', { required: true, 'aria-required': 'true', maxlength: '255' });
  const when = input('occurredAt', { type: 'datetime-local', required: true, 'aria-required': 'true' });
  const amount = input('amount', { inputmode: 'decimal', maxlength: '20', placeholder: '49.90' });
  const image = input('image', { type: 'file', accept: IMAGE_TYPES.join(',') });
  const note = h('textarea', { name: 'note', rows: '3', maxlength: '2000' });
  const ctx = input('ctx', { maxlength: '2048' });
  const out = h('div', { 'aria-live': 'polite' });
  const send = h('button', { class: 'primary', type: 'submit' }, 'Ask for this sale');
  return h('form', {
    onsubmit: async (e) => {
      e.preventDefault();
      const at = when.value ? new Date(when.value) : null;
      if (!order.value.trim() || !at || Number.isNaN(at.getTime())) {
        clear(out, h('p', { class: 'field-error', role: 'alert' }, 'Give the order number and when the sale happened.'));
        (order.value.trim() ? when : order).focus();
        return;
      }
      const said = amount.value.trim().replace(',', '.');
      if (said && !/^\d+(\.\d{1,2})?$/.test(said)) {
        clear(out, h('p', { class: 'field-error', role: 'alert' }, `Give the sale's amount as a number, like 49.90 (in ${currency}).`));
        amount.focus();
        return;
      }
      const file = image.files && image.files[0];
      const problem = imageProblem(file);
      if (problem) {
        clear(out, h('p', { class: 'field-error', role: 'alert' }, problem));
        image.focus();
        return;
      }
      const evidence = {};
      if (note.value.trim()) evidence.note = note.value.trim();
      if (ctx.value.trim()) evidence.ctx = ctx.value.trim();
      const body = { orderId: order.value.trim(), occurredAt: at.toISOString() };
      if (Object.keys(evidence).length) body.evidence = evidence;
      if (said) Object.assign(body, { amount: said, currency });
      send.disabled = true;
      clear(out, loading('Sending…'));
      try {
        const made = await api.post(path, body);
        let imageWords = '';
        if (file) {
          try {
            await attach(path, made.claimId, file);
            imageWords = ' Your image is with it.';
          } catch (err) {
            imageWords = ` Your image was not added: ${err.message}`;
          }
        }
        clear(out, h('p', { role: 'status' }, `Sent. What 10x found: ${words(made.proposal.verdict)}. The program decides by ${new Date(made.deadlineAt).toLocaleDateString()}.${imageWords}`));
        order.value = '';
        amount.value = '';
        image.value = '';
        note.value = '';
        ctx.value = '';
        await reload();
      } catch (err) {
        clear(out, errorBox(err));
      } finally {
        send.disabled = false;
      }
    },
  },
  field('Order number', order, 'As on your customer\'s receipt or order confirmation.'),
  field('When the sale happened', when, 'Your local time; roughly is fine.'),
  field(`The sale's amount in ${currency} (optional)`, amount, 'As on the order confirmation.'),
  field('A screenshot of the order (optional)', image, 'PNG or JPEG, up to 5 MB: the order confirmation, or your customer\'s mail.'),
  field('What happened (optional)', note, 'Anything that helps the program decide, up to 2,000 characters.'),
  h('details', {}, h('summary', {}, 'Have a click token from your postback?'),
    field('Click token (optional)', ctx, 'If your postback received a ctx for this visitor, paste it: it proves the click was yours.')),
  send, out);
}

// The Claims tab for `partnerId` under `base`; `currency` the program's (a sale's amount is
// said in it).
export async function claims(base, partnerId, currency = 'EUR') {
  const path = `${base}/partners/${encodeURIComponent(partnerId)}/claims`;
  const list = h('div', { 'aria-live': 'polite' });
  const reload = async () => {
    const got = await api.get(`${path}?limit=100`);
    clear(list, got.items.length ? got.items.map((c) => claimCard(base, c)) : h('p', {}, 'No claims yet.'));
  };
  await reload();
  return [
    section('Your claims', list),
    section('A sale you brought is missing?', h('p', {}, 'Tell the program which order it was. 10x checks its records for your click and says what it found; the program decides, and its decision is signed.'), openForm(path, currency, reload)),
  ];
}
