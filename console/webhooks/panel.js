// The notifications panel, from one read of `…/notifications`: every subscription's delivery
// counts as the server keeps them (counted as each attempt ends, in the same write that records
// it), and the failed deliveries, filtered by subscription, each with Resend. One request for all
// subscriptions: the panel reads no delivery log.

import { clear, empty, fmtCount, fmtTime, h, table } from '../ui.js';
import { resendButton } from './log.js';
import { PERCENT, response, statusWord } from './words.js';

// The failed-deliveries filter: subscriptions by name (the chosen one stays chosen).
export function chooser(view, subs) {
  const value = view.choose.value;
  const options = [['', 'All subscriptions'], ...subs.map((s) => [s.subscriptionId, view.labels.get(s.subscriptionId)])];
  const now = [...view.choose.options].map((o) => [o.value, o.textContent]);
  if (JSON.stringify(now) === JSON.stringify(options)) return;
  clear(view.choose, options.map(([v, l]) => h('option', { value: v }, l)));
  view.choose.value = options.some(([v]) => v === value) ? value : '';
}

// A redraw must not drop the keyboard: the control that had focus (by its data-key) gets it back.
export function keepFocus(old, fresh) {
  const active = document.activeElement;
  const key = old && active && old.contains(active) ? active.dataset.key : null;
  if (key) {
    queueMicrotask(() => {
      const again = [...fresh.querySelectorAll('[data-key]')].find((e) => e.dataset.key === key);
      if (again && again.isConnected) again.focus({ preventScroll: true });
    });
  }
  return fresh;
}

// Delivered over the deliveries that ended (a 2xx, or failed for good).
function rate(s) {
  const ended = s.successCount + s.failureCount;
  if (ended) return PERCENT.format(s.successCount / ended);
  return s.failedAttempts ? 'none ended yet' : 'no delivery yet';
}

function countsTable(view, subs) {
  const count = (key) => (s) => fmtCount(s[key]);
  return table([
    { label: 'Subscription', value: (s) => h('strong', {}, view.labels.get(s.subscriptionId) || s.subscriptionId), class: 'key' },
    { label: 'Status', value: (s) => h('span', { class: `status ${statusWord(s)}` }, statusWord(s)) },
    { label: 'Delivered', value: count('successCount'), class: 'num' },
    { label: 'Failed for good', value: count('failureCount'), class: 'num' },
    { label: 'Failed attempts', value: count('failedAttempts'), class: 'num' },
    { label: 'Success rate', value: rate, class: 'num' },
  ], subs, 'Deliveries per subscription');
}

function failedTable(view, failed) {
  const named = (x) => view.labels.get(x.subscriptionId) || x.subscriptionId;
  return h('div', { id: 'failed-deliveries' }, table([
    { label: 'Subscription', value: named, class: 'key' },
    { label: 'Event', value: (x) => h('code', {}, x.eventId) },
    { label: 'Type', value: (x) => x.eventType },
    { label: 'Attempts', value: (x) => String(x.attempts), class: 'num' },
    { label: 'Last error', value: (x) => response(x.lastStatusCode, x.lastError, 'no response recorded') },
    { label: 'Failed at', value: (x) => fmtTime(x.failedAt) },
    { label: 'Resend', value: (x) => (view.canWrite ? resendButton(view, x.subscriptionId, x.eventId, view.notesMsg) : '') },
  ], failed, 'Failed deliveries'));
}

export function notifications(view, notes) {
  const chosen = view.choose.value;
  const failed = notes.failedDeliveries.filter((x) => !chosen || x.subscriptionId === chosen);
  return h('div', {},
    notes.subscriptions.length ? countsTable(view, notes.subscriptions) : empty('No subscription yet.'),
    h('h3', {}, chosen ? `Failed deliveries of “${view.labels.get(chosen) || chosen}”` : 'Failed deliveries'),
    failed.length
      ? failedTable(view, failed)
      : empty(chosen ? 'No failed delivery of this subscription.' : 'No failed delivery: every delivery succeeded or is still being retried.'));
}
