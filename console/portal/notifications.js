// The portal's Notifications tab: which mails the signed-in person gets from this program
// (`GET`/`PUT /v2/me/notifications?handle=`, one switch per kind, the same choices the mails'
// one-click unsubscribe turns off; sign-in links and invitations are always sent), and the
// partner's postback (the address the program set for it, read-only, and its delivery log).

import * as api from './api.js';
import { words } from './words.js';
import { checkbox, clear, errorBox, field, fmtTime, h, loading, section, table } from '../ui.js';

// The kinds a partner receives; the rest (weekly summaries, applications) are the program's.
const PARTNER_KINDS = ['commission_digest', 'payout_sent', 'plan_notice', 'payout_method_changed', 'message', 'claim_decided'];

async function preferences(handle) {
  const path = `/v2/me/notifications?handle=${encodeURIComponent(handle)}`;
  const got = await api.get(path);
  const kinds = PARTNER_KINDS.filter((k) => k in got.kinds);
  const boxes = kinds.map((k) => checkbox(k, got.kinds[k]));
  const out = h('div', { 'aria-live': 'polite' });
  const save = h('button', { class: 'primary', type: 'submit' }, 'Save my choices');
  return h('form', {
    onsubmit: async (e) => {
      e.preventDefault();
      save.disabled = true;
      clear(out, loading('Saving…'));
      try {
        const body = { kinds: Object.fromEntries(boxes.map((b) => [b.name, b.checked])) };
        await api.request('PUT', path, body);
        clear(out, h('p', { role: 'status' }, `Saved: mail to ${got.email} follows these choices.`));
      } catch (err) {
        clear(out, errorBox(err));
      } finally {
        save.disabled = false;
      }
    },
  },
  h('fieldset', {}, h('legend', {}, `Mail to ${got.email} about`), kinds.map((k, i) => field(words(k), boxes[i]))),
  save, out);
}

// Each event's delivery, from its attempts (the log lists every attempt): its last attempt's
// time and outcome, in words.
export function deliveries(attempts) {
  const last = new Map();
  const tries = new Map();
  for (const a of attempts) {
    tries.set(a.eventId, (tries.get(a.eventId) || 0) + 1);
    const seen = last.get(a.eventId);
    if (!seen || a.attempt > seen.attempt) last.set(a.eventId, a);
  }
  return [...last.values()]
    .sort((x, y) => (x.attemptedAt < y.attemptedAt ? 1 : -1))
    .map((a) => ({ ...a, tries: tries.get(a.eventId) }));
}

// The events a postback follows, in words (the API's `postbackEvents`).
const EVENTS = {
  'commission.created': 'A commission earned',
  'commission.approved': 'A commission approved',
  'commission.rejected': 'A commission rejected',
  'commission.reversed': 'A commission taken back',
  'plan.changed': 'Your plan changed',
};

// What happened to one delivery, in words.
export function outcome(d) {
  const times = d.tries === 1 ? 'once' : `${d.tries} times`;
  const last = d.statusCode ? `your server answered ${d.statusCode}` : `no answer (${d.error || 'it could not be reached'})`;
  if (d.status === 'succeeded') return `Delivered: your server answered ${d.statusCode || 'in time'}${d.tries > 1 ? ` (tried ${times})` : ''}.`;
  if (d.status === 'sending') return 'Being sent now.';
  if (d.nextAttemptAt) return `Not delivered yet: tried ${times}, ${last}; trying again at ${new Date(d.nextAttemptAt).toLocaleTimeString(undefined, { timeStyle: 'short' })}.`;
  return `Not delivered: tried ${times}, ${last} the last time. Ask the program to send it again.`;
}

async function postback(base, partnerId) {
  const p = `${base}/partners/${encodeURIComponent(partnerId)}`;
  const [partner, log] = await Promise.all([api.get(p), api.get(`${p}/postbacks?limit=100`)]);
  if (!partner.postbackUrl) return h('p', {}, 'The program has not set a postback for you. Ask it if your tracker needs one.');
  const sent = deliveries(log.items);
  return [
    h('p', {}, 'The program sends each of your events to ', h('code', {}, partner.postbackUrl), '. Only the program changes it.'),
    sent.length
      ? table([
        { label: 'When', value: (d) => fmtTime(d.attemptedAt) },
        { label: 'Event', value: (d) => EVENTS[d.eventType] || words(d.eventType) },
        { label: 'What happened', value: (d) => h('span', { class: `postback-${d.status}` }, outcome(d)) },
      ], sent, 'Postback deliveries')
      : h('p', {}, 'Nothing sent yet.'),
  ];
}

// The Notifications tab for `partnerId` of `handle` under `base`.
export async function notifications(base, handle, partnerId) {
  return [
    section('Mail you get', await preferences(handle)),
    section('Your postback', await postback(base, partnerId)),
  ];
}
