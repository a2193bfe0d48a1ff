import { WebhookVerificationError } from './errors.js';
import type { WebhookEvent } from './generated/types.gen.js';

/** Headers as fetch has them, or as Node's `req.headers` (a record, any case). */
export type WebhookHeaders =
  | Headers
  | Record<string, string | string[] | undefined>;

export interface VerifyOptions {
  /** How far the `webhook-timestamp` may be from now, either way (default 300 s). */
  toleranceSeconds?: number;
  /** The clock, in seconds since the epoch (tests). */
  nowSeconds?: number;
}

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') {
    return (headers as Headers).get(name) ?? undefined;
  }
  for (const [key, value] of Object.entries(headers as Record<string, string | string[] | undefined>)) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? value.join(' ') : value;
  }
  return undefined;
}

function decodeBase64(text: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return undefined;
  const raw = atob(text);
  const out = new Uint8Array(raw.length);
  for (let i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
  return out;
}

function encodeBase64(bytes: Uint8Array): string {
  let raw = '';
  for (const b of bytes) raw += String.fromCharCode(b);
  return btoa(raw);
}

/** Equal without telling where they differ (every byte is looked at). */
function constantTimeEqual(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  if (x.length !== y.length) return false; // a signature's length is no secret (44 characters)
  let diff = 0;
  for (let i = 0; i < x.length; i++) diff |= x[i]! ^ y[i]!;
  return diff === 0;
}

/**
 * Verifies a 10x webhook delivery (Standard Webhooks) and returns its event.
 *
 * `payload` is the raw body, exactly as received (a string or bytes: never re-serialized JSON);
 * `secret` is the subscription's `whsec_…` secret. The signature header may hold several
 * space-separated `v1,<base64>` signatures (during a secret rotation); one match is enough.
 * Throws `WebhookVerificationError` with the same words as the Python library.
 */
export async function verifyWebhook(
  payload: string | Uint8Array,
  headers: WebhookHeaders,
  secret: string,
  options: VerifyOptions = {},
): Promise<WebhookEvent> {
  const tolerance = options.toleranceSeconds ?? 300;
  const id = header(headers, 'webhook-id');
  const timestamp = header(headers, 'webhook-timestamp');
  const signatures = header(headers, 'webhook-signature');
  if (!id || !timestamp || !signatures) {
    throw new WebhookVerificationError('missing webhook-id, webhook-timestamp or webhook-signature header');
  }
  if (!/^\d{1,15}$/.test(timestamp.trim())) {
    throw new WebhookVerificationError('invalid webhook-timestamp');
  }
  const sent = Number(timestamp.trim());
  const now = options.nowSeconds ?? Math.floor(Date.now() / 1000);
  if (now - sent > tolerance) {
    throw new WebhookVerificationError(`webhook timestamp too old (more than ${tolerance} seconds)`);
  }
  if (sent - now > tolerance) {
    throw new WebhookVerificationError(`webhook timestamp too new (more than ${tolerance} seconds ahead)`);
  }
  const key = decodeBase64(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret);
  if (!key || key.length === 0) {
    throw new WebhookVerificationError('the secret is not whsec_ followed by base64');
  }
  const body = typeof payload === 'string' ? payload : new TextDecoder().decode(payload);
  const cryptoKey = await globalThis.crypto.subtle.importKey(
    'raw',
    key as BufferSource,
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['sign'],
  );
  const mac = await globalThis.crypto.subtle.sign(
    'HMAC',
    cryptoKey,
    new TextEncoder().encode(`${id}.${timestamp.trim()}.${body}`) as BufferSource,
  );
  const expected = encodeBase64(new Uint8Array(mac));
  let matched = false;
  for (const candidate of signatures.split(' ')) {
    const comma = candidate.indexOf(',');
    if (comma < 0 || candidate.slice(0, comma) !== 'v1') continue;
    // Look at every candidate, matched or not: the time taken says nothing about which.
    if (constantTimeEqual(candidate.slice(comma + 1), expected)) matched = true;
  }
  if (!matched) {
    throw new WebhookVerificationError('no signature in webhook-signature matches the payload');
  }
  try {
    return JSON.parse(body) as WebhookEvent;
  } catch {
    throw new WebhookVerificationError('the payload is not a JSON event');
  }
}
