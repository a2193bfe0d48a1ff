// "Send a test event" and the provider's last events in words (issue 62). The button calls
// POST …/integrations/{provider}/test: a sample delivery signed with the connector's own secret,
// through the provider's webhook code, marked test (it never earns a commission). The list
// reads GET …/integrations/{provider}/events and says each event as a sentence.

import * as api from '../api.js';
import * as session from '../session.js';
import { NEEDS } from '../session.js';
import { ago, clear, errorBox, h, loading, notice } from '../ui.js';
import { words } from '../words.js';

const NAMES = { stripe: 'Stripe', shopify: 'Shopify' };

// What a provider's event type is, for a person.
const TYPES = {
  'checkout.session.completed': 'a checkout was completed',
  'invoice.paid': 'an invoice was paid',
  'invoice_payment.paid': 'an invoice payment was made',
  'charge.refunded': 'a charge was refunded',
  'refund.created': 'a refund was made',
  'charge.dispute.created': 'a payment was disputed',
  'charge.dispute.closed': 'a dispute was closed',
  'orders/paid': 'an order was paid',
  'refunds/create': 'an order was refunded',
  'orders/cancelled': 'an order was cancelled',
};

// What the event's status means, for a person.
const OUTCOMES = {
  processed: 'counted',
  ignored: 'nothing to do',
  parked: 'waiting for its sale',
  failed: 'could not be applied',
  received: 'received, not finished yet',
};

// One event as a sentence: "5 minutes ago, a checkout was completed (a test): nothing to do, no
// referral …". The codes stay in the tooltip.
function sentence(e) {
  const when = ago(new Date(e.receivedAt));
  const what = TYPES[e.type] || `an event ${e.type} arrived`;
  const test = e.eventId.startsWith('evt_test_') || e.eventId.startsWith('test-') ? ' (a test event)' : '';
  const outcome = words(e.status) !== e.status ? words(e.status) : (OUTCOMES[e.status] || e.status);
  const why = e.reason ? `: ${e.reason}` : '';
  return h('li', { 'data-type': e.type, 'data-event-id': e.eventId, 'data-status': e.status },
    `${when[0].toUpperCase()}${when.slice(1)}, ${what}${test}. ${outcome[0].toUpperCase()}${outcome.slice(1)}${why}.`);
}

async function lastEvents(list, provider) {
  const r = await api.request('GET', api.handlePath(`/integrations/${provider}/events`) + api.query({ limit: 10 }));
  if (!r.ok) {
    clear(list, errorBox(r.error));
    return;
  }
  clear(list, r.data.items.length
    ? h('ol', { class: 'event-sentences' }, r.data.items.map(sentence))
    : h('p', {}, `No ${NAMES[provider]} event yet.`));
}

// Renders the button and the last events of `provider` ('stripe' or 'shopify') into `el`.
export async function render(el, provider) {
  const name = NAMES[provider] || provider;
  const out = h('div', { class: 'test-event-out', 'aria-live': 'polite' });
  const list = h('div', {}, loading(`Loading the last ${name} events…`));
  const send = h('button', { type: 'button', class: 'secondary', id: `test-event-${provider}` }, 'Send a test event');
  send.addEventListener('click', async () => {
    send.disabled = true;
    clear(out, loading('Sending…'));
    try {
      const e = await api.post(api.handlePath(`/integrations/${provider}/test`), undefined);
      const ok = e.status === 'ignored' || e.status === 'processed';
      clear(out, notice(ok ? 'ok' : 'warning',
        ok
          ? `${name} test event received: its signature checked and its content read. It earns nothing (a test event).`
          : `${name} test event: ${OUTCOMES[e.status] || e.status}${e.reason ? `: ${e.reason}` : ''}.`));
      await lastEvents(list, provider);
    } catch (err) {
      clear(out, errorBox(err));
    } finally {
      send.disabled = false;
    }
  });
  if (!session.allows(NEEDS.conversionsWrite)) {
    send.disabled = true;
    out.append(h('small', { class: 'hint why' }, session.reason(NEEDS.conversionsWrite)));
  }
  clear(el, h('h4', {}, `Test ${name}`), h('p', { class: 'hint' }, `Sends a sample ${name} event, signed with your secret, through the same checks a real one goes through.`),
    h('div', { class: 'inline' }, send), out, h('h4', {}, 'The last events, in words'), list);
  await lastEvents(list, provider);
}
