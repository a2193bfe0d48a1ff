// Webhooks (LM-04 … LM-06) and the notifications panel: subscriptions (create: the secret shown
// once, with a copy button and a warning; delete), "send test" with its dispatch id, the delivery
// log per subscription, failed deliveries and counts per subscription, resend.

import * as api from './api.js';
import * as session from './session.js';
import { NEEDS } from './session.js';
import {
  badge, busy, checkbox, clear, copyButton, empty, errorBox, field, fmtTime, form, gate, h, input,
  loading, notice, section, table,
} from './ui.js';

function eventTypes() {
  const raw = document.body.dataset.eventTypes || 'link.clicked,link.created,link.updated,conversion.created,conversion.tested,webhook.test';
  return raw.split(',').filter(Boolean);
}

const hookPath = (id, rest = '') => api.handlePath(`/webhooks/${encodeURIComponent(id)}${rest}`);

export async function render(main) {
  const canRead = session.allows(NEEDS.webhooksRead);
  const canWrite = session.allows(NEEDS.webhooksWrite);
  const secretBox = h('div', { 'aria-live': 'polite' });
  const subsBody = h('div', {}, loading('Loading subscriptions…'));
  const notesBody = h('div', {});
  const refresh = h('button', { type: 'button', class: 'secondary', id: 'webhooks-refresh' }, 'Refresh');
  main.append(
    h('div', { class: 'title-row' }, h('h1', { tabindex: '-1' }, 'Webhooks'), refresh),
    h('p', {}, 'Every matching event is POSTed to your endpoint, signed per Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature).'),
    section('LM-05 · New subscription', createForm(canWrite, secretBox, () => load()), secretBox),
    section('Subscriptions', subsBody),
    section('Notifications', notesBody));
  async function load() {
    if (!canRead) {
      clear(subsBody, notice('info', session.reason(NEEDS.webhooksRead)));
      clear(notesBody, notice('info', session.reason(NEEDS.webhooksRead)));
      return;
    }
    await Promise.all([subscriptions(subsBody, canWrite, load), notifications(notesBody, canWrite)]);
  }
  refresh.addEventListener('click', () => busy(refresh, null, load).catch((e) => subsBody.prepend(errorBox(e))));
  await load();
}

function createForm(canWrite, secretBox, reload) {
  const types = h('fieldset', { class: 'checks' }, h('legend', {}, 'Event types'),
    eventTypes().map((t) => field(t, checkbox('eventType', t === 'link.clicked', { value: t }))));
  const f = form({ id: 'webhook-form', 'aria-label': 'New subscription' },
    h('div', {},
      field('Endpoint URL', input('endpointUrl', { type: 'url', placeholder: 'https://hooks.example.com/tenx' }), 'Public http(s) only, unless the server allows private addresses (local development).'),
      types,
      field('Description', input('description'))),
    'Create subscription',
    async (el, out) => {
      const eventTypesChosen = [...el.querySelectorAll('[name=eventType]:checked')].map((c) => c.value);
      const body = { endpointUrl: el.querySelector('[name=endpointUrl]').value.trim(), eventTypes: eventTypesChosen };
      const d = el.querySelector('[name=description]').value.trim();
      if (d) body.description = d;
      const r = await api.post(api.handlePath('/webhooks'), body);
      clear(out, notice('ok', `Created ${r.subscriptionId}.`));
      showSecretOnce(secretBox, r);
      await reload();
    });
  if (!canWrite) {
    f.querySelector('.actions').replaceChildren(gate(f.button, false, session.reason(NEEDS.webhooksWrite)));
  }
  return f;
}

// The signing secret is in the create response only: shown here once, never again.
function showSecretOnce(box, r) {
  const dismiss = h('button', { type: 'button', class: 'secondary' }, 'I have stored it: hide');
  dismiss.addEventListener('click', () => clear(box));
  clear(box, h('div', { class: 'secret', role: 'alert', id: 'webhook-secret-box' },
    h('h3', {}, 'The signing secret: shown once'),
    h('p', {}, 'Store it now, in your receiver\'s configuration: it is not shown again (the API never returns it after this answer). Lost it? Delete the subscription and create a new one.'),
    h('div', { class: 'field' },
      h('label', { for: 'webhook-secret' }, `Secret of ${r.subscriptionId}`),
      h('input', { id: 'webhook-secret', type: 'text', readonly: true, value: r.secret, class: 'code' })),
    h('div', { class: 'actions' }, copyButton(() => r.secret, 'Copy the secret'), dismiss)));
}

async function subscriptions(body, canWrite, reload) {
  const r = await api.request('GET', api.handlePath('/webhooks') + api.query({ limit: 100 }));
  if (!r.ok) {
    clear(body, errorBox(r.error));
    return;
  }
  if (r.data.items.length === 0) {
    clear(body, empty('No subscription yet: create one above, then send it a test event.'));
    return;
  }
  clear(body, r.data.items.map((s) => subscriptionCard(s, canWrite, reload)));
}

function subscriptionCard(s, canWrite, reload) {
  const out = h('div', { 'aria-live': 'polite', class: 'card-out' });
  const log = h('div', { class: 'deliveries' });
  const test = h('button', { type: 'button', class: 'primary', dataset: { action: 'test' } }, 'Send test');
  const show = h('button', { type: 'button', class: 'secondary', dataset: { action: 'deliveries' } }, 'Delivery log');
  const remove = h('button', { type: 'button', class: 'danger', dataset: { action: 'delete' } }, 'Delete');
  test.addEventListener('click', () => busy(test, out, async () => {
    const d = await api.post(hookPath(s.subscriptionId, '/test'), {});
    clear(out, notice('ok', 'Test event queued: dispatch id ', h('code', { class: 'dispatch-id' }, d.dispatchId), ' (sent as webhook-id).'));
  }));
  show.addEventListener('click', () => busy(show, out, () => deliveries(s, log, canWrite)));
  let armed = false;
  remove.addEventListener('click', () => {
    if (!armed) {
      armed = true;
      remove.textContent = 'Click again to delete for good';
      return;
    }
    busy(remove, out, async () => {
      await api.del(hookPath(s.subscriptionId));
      await reload();
    });
  });
  const actions = canWrite ? [test, show, remove] : [gate(test, false, session.reason(NEEDS.webhooksWrite)), show];
  return h('article', { class: 'card subscription', dataset: { subscription: s.subscriptionId } },
    h('h3', {}, h('code', {}, s.subscriptionId), ' ', h('span', { class: `status ${s.status}` }, s.status)),
    h('p', {}, h('span', { class: 'url' }, s.endpointUrl)),
    h('p', { class: 'hint' }, `Events: ${s.eventTypes.join(', ')}${s.description ? ` · ${s.description}` : ''} · created `, fmtTime(s.createdAt)),
    h('div', { class: 'actions' }, actions), out, log);
}

// Re-sends a finished delivery; the outcome shows on the next refresh.
function resendButton(subscriptionId, eventId, out) {
  const b = h('button', { type: 'button', class: 'secondary', dataset: { action: 'resend' } }, 'Resend');
  b.setAttribute('aria-label', `Resend ${eventId}`);
  b.addEventListener('click', () => busy(b, out, async () => {
    const r = await api.post(hookPath(subscriptionId, `/deliveries/${encodeURIComponent(eventId)}/resend`), {});
    clear(out, notice('ok', `Re-sent ${r.eventId} as attempt ${r.attempt}.`));
  }));
  return b;
}

async function deliveries(s, log, canWrite) {
  const r = await api.get(hookPath(s.subscriptionId, '/deliveries') + api.query({ limit: 50 }));
  if (r.items.length === 0) {
    clear(log, empty('No delivery yet: send a test, or wait for a matching event.'));
    return;
  }
  const out = h('div', { 'aria-live': 'polite' });
  // The newest attempt of each event decides whether it may be re-sent (finished ones only).
  const latest = new Set();
  clear(log, table([
    { label: 'Event', value: (a) => h('code', {}, a.eventId) },
    { label: 'Type', value: (a) => a.eventType },
    { label: 'Attempt', value: (a) => `${a.attempt}${a.manual ? ' (manual)' : ''}`, class: 'num' },
    { label: 'Status', value: (a) => h('span', { class: `status ${a.status}` }, a.status) },
    { label: 'Code', value: (a) => (a.statusCode ? badge(a.statusCode) : '–') },
    { label: 'Duration', value: (a) => (a.durationMs === null ? '–' : `${a.durationMs} ms`), class: 'num' },
    { label: 'Error', value: (a) => a.error || '–' },
    { label: 'Attempted', value: (a) => fmtTime(a.attemptedAt) },
    { label: 'Next attempt', value: (a) => fmtTime(a.nextAttemptAt) },
    {
      label: 'Resend',
      value: (a) => {
        const first = !latest.has(a.eventId);
        latest.add(a.eventId);
        return first && canWrite && a.status !== 'sending' && !a.nextAttemptAt ? resendButton(s.subscriptionId, a.eventId, out) : '';
      },
    },
  ], r.items, `Delivery log of ${s.subscriptionId}`), out);
}

async function notifications(body, canWrite) {
  const r = await api.request('GET', api.handlePath('/notifications') + api.query({ limit: 50 }));
  if (!r.ok) {
    clear(body, errorBox(r.error));
    return;
  }
  const n = r.data;
  const out = h('div', { 'aria-live': 'polite' });
  clear(body,
    n.subscriptions.length
      ? table([
        { label: 'Subscription', value: (x) => h('code', {}, x.subscriptionId) },
        { label: 'Endpoint', value: (x) => h('span', { class: 'url' }, x.endpointUrl) },
        { label: 'Status', value: (x) => x.status },
        { label: 'Succeeded', value: (x) => String(x.successCount), class: 'num' },
        { label: 'Failed', value: (x) => String(x.failureCount), class: 'num' },
        { label: 'Failed attempts', value: (x) => String(x.failedAttempts), class: 'num' },
      ], n.subscriptions, 'Deliveries per subscription')
      : empty('No subscription yet.'),
    h('h3', {}, 'Failed deliveries'),
    n.failedDeliveries.length
      ? h('div', { id: 'failed-deliveries' }, table([
        { label: 'Event', value: (x) => h('code', {}, x.eventId) },
        { label: 'Type', value: (x) => x.eventType },
        { label: 'Endpoint', value: (x) => h('span', { class: 'url' }, x.endpointUrl) },
        { label: 'Attempts', value: (x) => String(x.attempts), class: 'num' },
        { label: 'Last code', value: (x) => (x.lastStatusCode ? badge(x.lastStatusCode) : '–') },
        { label: 'Last error', value: (x) => x.lastError || '–' },
        { label: 'Failed at', value: (x) => fmtTime(x.failedAt) },
        { label: 'Resend', value: (x) => (canWrite ? resendButton(x.subscriptionId, x.eventId, out) : '') },
      ], n.failedDeliveries, 'Failed deliveries'), out)
      : empty('No failed delivery: every delivery succeeded or is still being retried.'));
}
