// The program's own Stripe and PayPal accounts (issue 78), which payouts through Stripe Connect
// and PayPal Payouts are sent from: connected by an admin, each secret shown by its last 4 only,
// "Test the connection" answered in words, and where the provider must send its webhooks.

import * as api from '../api.js';
import * as session from '../session.js';
import { NEEDS } from '../session.js';
import { clear, errorBox, field, form, h, input, loading, notice } from '../ui.js';

const PROVIDERS = [
  ['stripe', 'Stripe Connect', [['secretKey', 'Secret key (sk_live_… or sk_test_…)'], ['webhookSecret', 'Webhook signing secret (whsec_…)']]],
  ['paypal', 'PayPal Payouts', [['clientId', 'Client ID'], ['clientSecret', 'Secret'], ['webhookId', 'Webhook ID']]],
];

export async function render(body) {
  clear(body, loading());
  const r = await api.request('GET', api.handlePath('/payout-providers'));
  if (!r.ok) {
    clear(body, errorBox(r.error));
    return;
  }
  const connected = Object.fromEntries(r.data.providers.map((p) => [p.provider, p]));
  clear(body, PROVIDERS.map(([id, title, fields]) => card(body, id, title, fields, connected[id])));
}

function card(body, id, title, fields, now) {
  const state = now
    ? h('p', {}, `Connected: ${masked(now)} · events to `, h('code', {}, now.webhookPath))
    : notice('info', `Not connected: partners paid by ${title.split(' ')[0]} are paid by file.`);
  const f = form({ id: `payout-provider-${id}`, 'aria-label': title },
    h('div', { class: 'grid' }, fields.map(([name, label]) => field(label, input(name, { autocomplete: 'off' })))),
    now ? `Replace ${title}` : `Connect ${title}`,
    async (el) => {
      const v = (n) => el.querySelector(`[name=${n}]`).value.trim();
      await api.put(api.handlePath(`/payout-providers/${id}`), Object.fromEntries(fields.map(([n]) => [n, v(n)])));
      await render(body);
    });
  const out = h('div', { 'aria-live': 'polite' });
  const test = h('button', { type: 'button', class: 'secondary', disabled: !now }, 'Test the connection');
  test.addEventListener('click', async () => {
    const t = await api.request('POST', api.handlePath(`/payout-providers/${id}/test`));
    clear(out, t.ok ? notice(t.data.ok ? 'ok' : 'warning', t.data.message) : errorBox(t.error));
  });
  if (!session.allows(NEEDS.payoutSettings)) {
    f.button.disabled = true;
    test.disabled = true;
    f.append(h('small', { class: 'hint why' }, session.reason(NEEDS.payoutSettings)));
  }
  return h('section', { class: 'card' }, h('h4', {}, title), state, f, h('div', { class: 'actions' }, test), out);
}

function masked(p) {
  if (p.provider === 'stripe') return `key ${p.secretKey}${p.testMode ? ' (test mode)' : ''}, signing secret ${p.webhookSecret}`;
  return `client ${p.clientId}, secret ${p.clientSecret}, webhook ${p.webhookId}`;
}
