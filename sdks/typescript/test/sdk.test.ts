// tenx-attribution against a real `tenx serve` (started by scripts/sdk_test.sh).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { Tenx, TenxError, TenxVersionError, WebhookVerificationError, sdk, verifyWebhook, majorOf } from '../src/index.js';
import { TENX_TOKEN, TENX_URL, droppingProxy, followRedirect, sign, stubServer, webhookReceiver } from './helpers.js';

const handle = 'acme';
const tenx = new Tenx({ baseUrl: TENX_URL, token: TENX_TOKEN, handle, retry: { baseDelayMs: 20 } });
const receiver = await webhookReceiver();
let secret = '';

before(async () => {
  const link = await tenx.links.upsert('launch', { destinationUrl: 'https://example.com/product' });
  assert.equal(link.slug, 'launch');
  const subscription = await tenx.webhooks.create({
    endpointUrl: receiver.url,
    eventTypes: ['conversion.created'],
    description: 'sdk test receiver',
  });
  assert.match(subscription.secret, /^whsec_/);
  secret = subscription.secret;
});
after(() => receiver.close());

test('a link, its redirect ctx, a conversion and its replay with the same key', async () => {
  const ctx = await followRedirect(handle, 'launch');
  const order = `order-${randomUUID()}`;
  const first = await tenx.conversions.record({ ctx, idempotencyKey: order, eventType: 'purchase', value: 24.99, currency: 'USD' });
  assert.equal(first.deduped, false);
  assert.match(first.conversionId, /^cnv_/);
  const replay = await tenx.conversions.record({ ctx, idempotencyKey: order, eventType: 'purchase', value: 24.99, currency: 'USD' });
  assert.equal(replay.deduped, true);
  assert.equal(replay.conversionId, first.conversionId);
  const stored = await tenx.conversions.get(first.conversionId);
  assert.equal(stored.conversionId, first.conversionId);
});

test('a key is generated when the caller gives none', async () => {
  const ctx = await followRedirect(handle, 'launch');
  const sale = await tenx.conversions.record({ ctx, eventType: 'signup' });
  assert.equal(sale.deduped, false);
});

test('the real delivery verifies; a stale timestamp and a wrong signature are refused', async () => {
  const ctx = await followRedirect(handle, 'launch');
  const sale = await tenx.conversions.record({ ctx, eventType: 'purchase', value: 5, currency: 'EUR' });
  const delivery = await receiver.next((d) => d.body.toString().includes(sale.conversionId));
  const event = await verifyWebhook(delivery.body, delivery.headers, secret);
  assert.equal(event.type, 'conversion.created');
  assert.equal(event.handle, handle);
  assert.equal(event.id, delivery.headers['webhook-id']);

  // several signatures (a rotation): one match is enough
  const both = { ...delivery.headers, 'webhook-signature': `v1,${Buffer.alloc(32).toString('base64')} ${delivery.headers['webhook-signature']}` };
  assert.equal((await verifyWebhook(delivery.body, both, secret)).id, event.id);

  const body = delivery.body.toString();
  const id = String(delivery.headers['webhook-id']);
  const stale = Math.floor(Date.now() / 1000) - 301;
  await assert.rejects(
    verifyWebhook(body, { 'webhook-id': id, 'webhook-timestamp': String(stale), 'webhook-signature': sign(secret, id, stale, body) }, secret),
    (e: unknown) => e instanceof WebhookVerificationError && e.message === 'webhook timestamp too old (more than 300 seconds)',
  );
  const future = Math.floor(Date.now() / 1000) + 301;
  await assert.rejects(
    verifyWebhook(body, { 'webhook-id': id, 'webhook-timestamp': String(future), 'webhook-signature': sign(secret, id, future, body) }, secret),
    { message: 'webhook timestamp too new (more than 300 seconds ahead)' },
  );
  const wrongKey = 'whsec_' + Buffer.alloc(32, 7).toString('base64');
  await assert.rejects(verifyWebhook(delivery.body, delivery.headers, wrongKey), {
    name: 'WebhookVerificationError',
    message: 'no signature in webhook-signature matches the payload',
  });
  await assert.rejects(verifyWebhook(body.replace('"EUR"', '"USD"'), delivery.headers, secret), {
    message: 'no signature in webhook-signature matches the payload',
  });
  await assert.rejects(verifyWebhook(body, { 'webhook-id': id }, secret), {
    message: 'missing webhook-id, webhook-timestamp or webhook-signature header',
  });
});

test("a partner's balance", async () => {
  const partner = await tenx.partners.create({ name: `Ada ${randomUUID().slice(0, 8)}` });
  await tenx.call(sdk.createManualCommission, {
    path: { handle },
    body: { partnerId: partner.partnerId, amount: '12.50', currency: 'EUR', reason: 'launch bonus' },
  });
  const balances = await tenx.partners.balances(partner.partnerId);
  assert.equal(balances.items.length, 1);
  assert.equal(balances.items[0]!.approved, '12.50');
  assert.equal(balances.items[0]!.currency, 'EUR');
});

test('pages through a list with nextCursor', async () => {
  for (let i = 0; i < 5; i++) await tenx.links.upsert(`page-${i}`, { destinationUrl: `https://example.com/${i}` });
  const slugs: string[] = [];
  for await (const link of tenx.links.list({ limit: 2 })) slugs.push(link.slug);
  for (let i = 0; i < 5; i++) assert.ok(slugs.includes(`page-${i}`), slugs.join());
  assert.equal(new Set(slugs).size, slugs.length);
});

test('streams the analytics CSV export', async () => {
  let csv = '';
  for await (const chunk of tenx.analytics.exportCsv()) csv += chunk;
  assert.match(csv.split('\n')[0]!, /^campaignId,status,clicks,/);
});

test('an API error is a TenxError with the API\'s code, words and request id', async () => {
  await assert.rejects(tenx.links.get('no-such-link'), (e: unknown) => {
    assert.ok(e instanceof TenxError);
    assert.equal(e.code, 'not_found');
    assert.equal(e.status, 404);
    assert.match(e.requestId ?? '', /^req_/);
    assert.ok(e.message.length > 0);
    return true;
  });
  await assert.rejects(tenx.conversions.record({ ctx: 'not-a-ctx', eventType: 'purchase' }), { code: 'invalid_ctx', status: 400 });
});

test('an answer lost after the server accepted the conversion: the retry with the same key answers the same conversion', async () => {
  const proxy = await droppingProxy();
  try {
    const viaProxy = new Tenx({ baseUrl: proxy.url, token: TENX_TOKEN, handle, retry: { baseDelayMs: 20 } });
    const ctx = await followRedirect(handle, 'launch');
    const key = `order-${randomUUID()}`;
    const sale = await viaProxy.conversions.record({ ctx, idempotencyKey: key, eventType: 'purchase', value: 10, currency: 'USD' });
    assert.equal(proxy.stats().dropped, 1);
    assert.equal(sale.deduped, true, 'the first try was accepted by the server');
    const direct = await tenx.conversions.record({ ctx, idempotencyKey: key, eventType: 'purchase', value: 10, currency: 'USD' });
    assert.equal(direct.conversionId, sale.conversionId);
  } finally {
    await proxy.close();
  }
});

test('retries: 503 with Retry-After retried with a key, a request without a key never retried', async () => {
  const stub = await stubServer('0.1.0', 503, { 'retry-after': '0' });
  try {
    const client = new Tenx({ baseUrl: stub.url, token: 't', handle, retry: { maxAttempts: 3, baseDelayMs: 1 } });
    await assert.rejects(client.conversions.record({ ctx: 'x', eventType: 'purchase' }), { code: 'unavailable', status: 503 });
    assert.equal(stub.hits(), 3);
    await assert.rejects(client.links.get('launch'), { status: 503, requestId: 'req_stub' });
    assert.equal(stub.hits(), 4);
  } finally {
    await stub.close();
  }
});

test('a server of another major version is refused, in words; 0.x minors are the same major', async () => {
  const stub = await stubServer('1.0.0');
  try {
    const client = new Tenx({ baseUrl: stub.url });
    await assert.rejects(client.call(sdk.health, {}), (e: unknown) => {
      assert.ok(e instanceof TenxVersionError);
      assert.equal(e.code, 'api_version_mismatch');
      assert.match(e.message, /the server speaks 10x API 1\.0\.0 .* the major versions differ \(1 and 0\)/);
      return true;
    });
    assert.equal(stub.hits(), 1, 'never retried');
  } finally {
    await stub.close();
  }
  const minor = await stubServer('0.2.0');
  try {
    assert.deepEqual(await new Tenx({ baseUrl: minor.url }).call(sdk.health, {}), { status: 'ok' });
  } finally {
    await minor.close();
  }
  assert.equal(majorOf('0.9.1'), 0);
  assert.equal(majorOf('2.0.0-rc.1'), 2);
});

const root = fileURLToPath(new URL('../..', import.meta.url)); // sdks/typescript
function run(file: string, env: Record<string, string>) {
  return spawn(process.execPath, [file], { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

test('the quick start (docs/sdks.md) records a conversion, and again: recorded once', async () => {
  const ctx = await followRedirect(handle, 'launch');
  for (const expected of ['recorded', 'already recorded']) {
    const child = run('build/examples/quickstart.js', { TENX_URL, TENX_TOKEN, TENX_CTX: ctx });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const code = await new Promise((r) => child.on('close', r));
    assert.equal(code, 0, out);
    assert.match(out.trim(), new RegExp(`^cnv_\\S+ ${expected}$`));
  }
});

test('the webhook quick start (docs/sdks.md) verifies a real delivery', async () => {
  const port = 20000 + Math.floor(Math.random() * 20000);
  const sub = await tenx.webhooks.create({ endpointUrl: `http://127.0.0.1:${port}/`, eventTypes: ['conversion.created'] });
  const child = run('build/examples/webhook.js', { TENX_WEBHOOK_SECRET: sub.secret, PORT: String(port) });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  try {
    await new Promise((r) => setTimeout(r, 300));
    const ctx = await followRedirect(handle, 'launch');
    await tenx.conversions.record({ ctx, eventType: 'purchase', value: 1, currency: 'USD' });
    const deadline = Date.now() + 20_000;
    while (!/conversion\.created \S+/.test(out) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    assert.match(out, /conversion\.created \S+/);
  } finally {
    child.kill();
    await tenx.call(sdk.deleteWebhook, { path: { handle, subscriptionId: sub.subscriptionId } });
  }
});
