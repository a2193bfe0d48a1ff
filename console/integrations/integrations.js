// Integrations (issue 62): Stripe and Shopify, step by step, with their connectors
// (./connectors.js: the endpoint to paste, the secret, the last events in words) and "send a
// test event" (./integrations_test.js, when it is there).

import * as connectors from './connectors.js';
import { h, section } from '../ui.js';

const STEPS = {
  stripe: [
    'In Stripe, open Developers → Webhooks and add an endpoint.',
    'Paste the endpoint URL below, and pick the events listed under it.',
    'Copy the endpoint\'s signing secret (it starts with whsec_) and paste it below, then press Connect Stripe.',
    'Send a test event: it appears under "Last events" with what 10x did with it.',
  ],
  shopify: [
    'In Shopify, open Settings → Notifications → Webhooks and create a webhook per event listed below.',
    'Give each the endpoint URL below, format JSON.',
    'Copy the secret Shopify shows under the webhooks, paste it below with your shop\'s domain, then press Connect Shopify.',
    'Place a test order: it appears under "Last events".',
  ],
};

export async function render(main) {
  const body = h('div', { id: 'connectors' });
  main.append(
    h('h1', { tabindex: '-1' }, 'Integrations'),
    h('p', {}, 'Connect your shop so sales, renewals and refunds reach 10x by themselves: no code on your side.'),
    section('Step by step',
      h('h3', {}, 'Stripe'), h('ol', {}, STEPS.stripe.map((s) => h('li', {}, s))),
      h('h3', {}, 'Shopify'), h('ol', {}, STEPS.shopify.map((s) => h('li', {}, s)))),
    section('Your connections', body));
  // Each connected provider's card carries its "Send a test event" (./integrations_test.js).
  await connectors.render(body);
}
