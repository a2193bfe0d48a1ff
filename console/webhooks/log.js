// A subscription's delivery log: read (its latest attempts, the API's largest page), its health
// facts, and the log as a table with Resend on each finished delivery; Resend is also the
// notifications panel's.

import * as api from '../api.js';
import { busy, clear, empty, errorBox, fmtCount, fmtTime, h, notice, table } from '../ui.js';
import { countsText, health, lastResponse, rateText } from './health.js';
import { hookPath, plural, response, subscriptionLabel } from './words.js';

export const LOG_LIMIT = 100; // the API's largest page: health and counts cover these latest attempts

// One read of a log: its attempts, or the error that kept it from being read; `at` is when the
// read started (a card keeps the newest read).
export async function readLog(id) {
  const at = Date.now();
  try {
    const r = await api.get(hookPath(id, '/deliveries') + api.query({ limit: LOG_LIMIT }));
    return { at, items: r.items, more: Boolean(r.nextCursor) };
  } catch (error) {
    return { at, error };
  }
}

// Replaces a container's children; the control that had focus (by its data-key) gets it back.
function swap(container, ...children) {
  const active = document.activeElement;
  const key = active && container.contains(active) ? active.dataset.key : null;
  clear(container, ...children);
  if (key) {
    const again = [...container.querySelectorAll('[data-key]')].find((e) => e.dataset.key === key);
    if (again) again.focus({ preventScroll: true });
  }
}

// A card's health and delivery log from one read. The table is redrawn only when the log changed
// (so a Resend button keeps its focus between refreshes).
export function drawLog(view, card, log, parts) {
  const { facts, logSummary, logBody, logOut } = parts;
  const asOf = [h('dt', {}, 'As of'), h('dd', { class: 'as-of' }, new Date(log.at).toLocaleTimeString(), ` · read every ${view.everyMs / 1000} s while this card is on screen`)];
  if (log.error) {
    clear(facts, h('dt', {}, 'Health'), h('dd', {}, errorBox(log.error)), asOf);
    clear(logSummary, 'Delivery log (not readable)');
    swap(logBody, errorBox(log.error));
    card.logKey = null;
    return;
  }
  const hl = health(log.items);
  const within = log.more ? ` (its latest ${fmtCount(log.items.length)} attempts)` : '';
  clear(facts,
    h('dt', {}, 'Success rate'), h('dd', { class: 'success-rate' }, rateText(hl), within),
    h('dt', {}, 'Last response'), h('dd', { class: 'last-response' }, lastResponse(hl)),
    h('dt', {}, 'Deliveries'), h('dd', {}, countsText(hl)),
    asOf);
  clear(logSummary, `Delivery log: ${plural(hl.attempts, 'attempt', 'attempts')}`);
  const key = JSON.stringify([log.items, view.canWrite, card.name()]);
  if (key === card.logKey) return;
  card.logKey = key;
  swap(logBody, log.items.length
    ? logTable(view, card, log.items, logOut)
    : empty('No delivery yet: send a test, or wait for a matching event.'));
}

function logTable(view, card, items, out) {
  // The newest attempt of each event decides whether it may be re-sent (finished ones only).
  const latest = new Set();
  const resend = (a) => {
    const first = !latest.has(a.eventId);
    latest.add(a.eventId);
    return first && view.canWrite && a.status !== 'sending' && !a.nextAttemptAt ? resendButton(view, card.id, a.eventId, out) : '';
  };
  return table([
    { label: 'Event', value: (a) => h('code', {}, a.eventId) },
    { label: 'Type', value: (a) => a.eventType },
    { label: 'Attempt', value: (a) => `${a.attempt}${a.manual ? ' (manual)' : ''}`, class: 'num' },
    { label: 'Status', value: (a) => h('span', { class: `status ${a.status}` }, a.status) },
    { label: 'Response', value: (a) => (a.status === 'sending' ? 'sending…' : response(a.statusCode, a.error)) },
    { label: 'Duration', value: (a) => (a.durationMs === null ? '–' : `${fmtCount(a.durationMs)} ms`), class: 'num' },
    { label: 'Attempted', value: (a) => fmtTime(a.attemptedAt) },
    { label: 'Next attempt', value: (a) => fmtTime(a.nextAttemptAt) },
    { label: 'Resend', value: resend },
  ], items, `Delivery log of ${card.name() || subscriptionLabel(card.sub)}`);
}

// Re-sends a finished delivery; its outcome shows in the log and the panel a moment later.
export function resendButton(view, subscriptionId, eventId, out) {
  const b = h('button', { type: 'button', class: 'secondary', dataset: { action: 'resend', key: `resend ${subscriptionId} ${eventId}` } }, 'Resend');
  b.setAttribute('aria-label', `Resend ${eventId}`);
  b.addEventListener('click', () => busy(b, out, async () => {
    const r = await api.post(hookPath(subscriptionId, `/deliveries/${encodeURIComponent(eventId)}/resend`), {});
    clear(out, notice('ok', `Re-sent ${r.eventId} as attempt ${r.attempt}.`));
    view.soon(subscriptionId);
  }));
  return b;
}
