// The portal's Claims tab: a partner asks for a sale it brought that was not credited to it
// (named by the order number its customer has, and when it happened: no id of ours to type),
// then follows each claim: where it stands, what 10x found (the proposal's reasons, in words),
// and the program's decision with its signed proof (downloadable for `tenx verify`, and
// checked in the page by ./portal_verify.js when the program publishes its keys).

import * as api from './portal_api.js';
import { words } from './portal_words.js';
import { verifyDecision } from './portal_verify.js';
import { clear, download, errorBox, field, fmtMoney, fmtTime, h, input, loading, section } from './ui.js';

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
    c.evidence && c.evidence.note ? h('p', {}, `Your note: ${c.evidence.note}`) : null,
    c.decision ? decision(base, c) : proposal(c));
}

// The form: the order number, when the sale happened (the browser's local time), a note and,
// when the partner has it, the click token its postback received.
function openForm(path, reload) {
  const order = input('orderId', { required: true, 'aria-required': 'true', maxlength: '255' });
  const when = input('occurredAt', { type: 'datetime-local', required: true, 'aria-required': 'true' });
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
      const evidence = {};
      if (note.value.trim()) evidence.note = note.value.trim();
      if (ctx.value.trim()) evidence.ctx = ctx.value.trim();
      const body = { orderId: order.value.trim(), occurredAt: at.toISOString() };
      if (Object.keys(evidence).length) body.evidence = evidence;
      send.disabled = true;
      clear(out, loading('Sending…'));
      try {
        const made = await api.post(path, body);
        clear(out, h('p', { role: 'status' }, `Sent. What 10x found: ${words(made.proposal.verdict)}. The program decides by ${new Date(made.deadlineAt).toLocaleDateString()}.`));
        order.value = '';
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
  field('What happened (optional)', note, 'Anything that helps the program decide, up to 2,000 characters.'),
  field('Click token from your postback (optional)', ctx, 'If your postback received a ctx for this visitor, paste it: it proves the click was yours.'),
  send, out);
}

// The Claims tab for `partnerId` under `base`.
export async function claims(base, partnerId) {
  const path = `${base}/partners/${encodeURIComponent(partnerId)}/claims`;
  const list = h('div', { 'aria-live': 'polite' });
  const reload = async () => {
    const got = await api.get(`${path}?limit=100`);
    clear(list, got.items.length ? got.items.map((c) => claimCard(base, c)) : h('p', {}, 'No claims yet.'));
  };
  await reload();
  return [
    section('Your claims', list),
    section('A sale you brought is missing?', h('p', {}, 'Tell the program which order it was. 10x checks its records for your click and says what it found; the program decides, and its decision is signed.'), openForm(path, reload)),
  ];
}
