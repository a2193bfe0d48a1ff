// Connectors (issue 45): Stripe and Shopify send sales, renewals, refunds and disputes by
// themselves. Per provider: whether it is connected, the endpoint URL to paste into the
// provider (copyable), the signing secrets (masked: the last 4 of one 24+ long), its health (last event, events
// that failed or wait) and the event log; a form to connect it or rotate its secrets.

import * as api from '../api.js';
import * as session from '../session.js';
import { NEEDS } from '../session.js';
import {
  clear, copyButton, empty, errorBox, field, fmtTime, form, h, input, loading, notice, table,
} from '../ui.js';
import { term } from '../words.js';
import * as integrationsTest from './test_event.js';

const PROVIDERS = [
  {
    id: 'stripe',
    name: 'Stripe',
    events: 'checkout.session.completed, invoice.paid, invoice_payment.paid, charge.refunded, '
      + 'refund.created, charge.dispute.created, charge.dispute.closed',
    secretHint: 'The endpoint\'s signing secret (whsec_…). Add the new one beside the old to rotate.',
  },
  {
    id: 'shopify',
    name: 'Shopify',
    events: 'orders/paid, refunds/create, orders/cancelled',
    secretHint: 'The secret Shopify signs webhooks with (x-shopify-hmac-sha256).',
  },
];

// Both providers into `body`.
export async function render(body) {
  if (!session.allows(NEEDS.conversionsRead)) {
    clear(body, notice('info', session.reason(NEEDS.conversionsRead)));
    return;
  }
  const cards = PROVIDERS.map((p) => h('div', { class: 'card', id: `connector-${p.id}` }, loading(`Loading ${p.name}…`)));
  clear(body, ...cards);
  await Promise.all(PROVIDERS.map((p, i) => renderOne(cards[i], p)));
}

async function renderOne(card, p) {
  const r = await api.request('GET', api.handlePath(`/integrations/${p.id}`));
  const connected = r.ok ? r.data : null;
  if (!r.ok && r.status !== 404) {
    clear(card, errorBox(r.error));
    return;
  }
  const url = `${window.location.origin}/v2/public/integrations/${p.id}/${session.get().handle}`;
  clear(card,
    h('h3', {}, p.name, ' ', h('span', { class: `status ${connected ? 'approved' : 'held'}` }, connected ? 'connected' : 'not connected')),
    h('p', {}, 'Endpoint URL: ', h('code', { id: `endpoint-${p.id}`, class: 'url' }, url), ' ', copyButton(() => url, 'Copy', `Copy the ${p.name} endpoint URL`)),
    h('p', { class: 'hint' }, `Events to send: ${p.events}.`),
    connected ? h('p', {}, `Signing secrets: ${connected.signingSecrets.join(', ')} · conversions of type ${connected.eventType}`) : '',
    connectForm(p, connected, () => renderOne(card, p)));
  if (connected) card.append(await health(p));
  if (connected) integrationsTest.render(card.appendChild(h('div', { class: 'connector-test' })), p.id);
}

// The provider's health and its last events.
async function health(p) {
  const out = h('div', { class: 'connector-health', 'aria-live': 'polite' });
  const r = await api.request('GET', api.handlePath(`/integrations/${p.id}/events`) + api.query({ limit: 50 }));
  if (!r.ok) {
    clear(out, errorBox(r.error));
    return out;
  }
  const items = r.data.items;
  if (!items.length) {
    clear(out, empty(`No ${p.name} event received yet: send a test event from ${p.name}.`));
    return out;
  }
  const failed = items.filter((e) => e.status === 'failed').length;
  const parked = items.filter((e) => e.status === 'parked').length;
  clear(out,
    h('p', {}, 'Last event ', fmtTime(items[0].receivedAt), `. Of the last ${items.length}: `,
      h('span', { class: `status ${failed ? 'rejected' : 'approved'}` }, `${failed} failed`), ', ',
      h('span', { class: 'status pending' }, `${parked} waiting for their sale`), '.'),
    table([
      { label: 'Received', value: (e) => fmtTime(e.receivedAt) },
      { label: 'Event', value: (e) => h('span', { 'data-event-id': e.eventId }, eventWords(e.type)) },
      { label: 'Status', value: (e) => term(e.status, `status ${statusClass(e.status)}`) },
      { label: 'Why', value: (e) => (e.reason ? term(e.reason) : '–') },
      { label: 'Sale', value: (e) => (e.conversionId ? h('a', { href: '#/commissions/conversions', 'data-conversion-id': e.conversionId }, 'Recorded') : '–') },
    ], items, `${p.name} events, newest first`));
  return out;
}

// The providers' event types in words (the type itself in the tooltip).
const EVENT_WORDS = {
  'checkout.session.completed': 'A checkout was paid',
  'invoice.paid': 'An invoice was paid (a subscription or its renewal)',
  'invoice_payment.paid': 'An invoice payment went through',
  'charge.refunded': 'A charge was refunded',
  'refund.created': 'A refund was made',
  'charge.dispute.created': 'A customer disputed a charge',
  'charge.dispute.closed': 'A dispute was closed',
  'orders/paid': 'An order was paid',
  'refunds/create': 'An order was refunded',
  'orders/cancelled': 'An order was cancelled',
};

function eventWords(type) {
  return h('span', { 'data-type': type }, EVENT_WORDS[type] || type);
}

function statusClass(status) {
  return { processed: 'approved', ignored: 'paid', parked: 'pending', failed: 'rejected' }[status] || 'held';
}

// Connect, or replace the secrets (operators).
function connectForm(p, connected, refresh) {
  const fields = [field('Signing secret', input('secret', { type: 'password', autocomplete: 'off', required: true }), p.secretHint)];
  if (p.id === 'shopify') fields.push(field('Shop domain', input('shopDomain', { placeholder: 'your-shop.myshopify.com', value: connected?.shopDomain || '' })));
  const f = form({ 'aria-label': `Connect ${p.name}` }, h('div', { class: 'grid' }, ...fields),
    connected ? 'Replace the secret' : `Connect ${p.name}`,
    async (el) => {
      const v = (n) => el.querySelector(`[name=${n}]`)?.value.trim();
      const body = { signingSecrets: [v('secret')] };
      if (p.id === 'shopify') body.shopDomain = v('shopDomain');
      const r = await api.request('PUT', api.handlePath(`/integrations/${p.id}`), { body });
      if (!r.ok) throw r.error;
      await refresh();
    });
  if (!session.allows(NEEDS.conversionsWrite)) {
    f.button.disabled = true;
    f.append(h('small', { class: 'hint why' }, session.reason(NEEDS.conversionsWrite)));
  }
  return f;
}
