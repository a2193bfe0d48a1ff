import { Tenx } from 'tenx-attribution';

const tenx = new Tenx({ baseUrl: process.env.TENX_URL!, token: process.env.TENX_TOKEN!, handle: 'acme' });

const sale = await tenx.conversions.record({
  ctx: process.env.TENX_CTX!, // the ?ctx= of the redirect, kept with the visitor's cart
  idempotencyKey: 'order-789', // your order id: retries and replays count it once
  eventType: 'purchase',
  value: 24.99,
  currency: 'USD',
});
console.log(sale.conversionId, sale.deduped ? 'already recorded' : 'recorded');
