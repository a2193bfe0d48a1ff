// Test helpers: the real server comes from scripts/sdk_test.sh (TENX_URL, TENX_TOKEN for an
// admin of `acme`); the receivers, the dropping proxy and the stub server are made here.
import { createHmac } from 'node:crypto';
import { request as httpRequest, createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { connect, createServer as createTcpServer, type AddressInfo, type Socket } from 'node:net';

export const TENX_URL = process.env.TENX_URL ?? '';
export const TENX_TOKEN = process.env.TENX_TOKEN ?? '';
if (!TENX_URL || !TENX_TOKEN) throw new Error('run through scripts/sdk_test.sh: TENX_URL and TENX_TOKEN are unset');
export const server = new URL(TENX_URL);

export const listen = (s: Server | ReturnType<typeof createTcpServer>) =>
  new Promise<number>((resolve) => s.listen(0, '127.0.0.1', () => resolve((s.address() as AddressInfo).port)));

/** Follows the short link like a phone's browser and returns the ctx of its redirect. */
export function followRedirect(handle: string, slug: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: server.hostname,
        port: server.port,
        path: `/${slug}`,
        headers: {
          host: `${handle}.localhost:${server.port}`,
          'user-agent': 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148 Safari/604.1',
        },
      },
      (res) => {
        res.resume();
        const location = res.headers.location ?? '';
        const ctx = new URL(location).searchParams.get('ctx');
        if (res.statusCode !== 302 || !ctx) reject(new Error(`no ctx: ${res.statusCode} ${location}`));
        else resolve(ctx);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

export interface Delivery {
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A local webhook receiver: every delivery, its headers and raw body. */
export async function webhookReceiver() {
  const deliveries: Delivery[] = [];
  const waiters: Array<() => void> = [];
  const srv = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    deliveries.push({ headers: req.headers, body: Buffer.concat(chunks) });
    res.writeHead(200).end();
    waiters.splice(0).forEach((w) => w());
  });
  const port = await listen(srv);
  return {
    url: `http://127.0.0.1:${port}/hooks/tenx`,
    deliveries,
    async next(predicate: (d: Delivery) => boolean, timeoutMs = 20_000): Promise<Delivery> {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const found = deliveries.find(predicate);
        if (found) return found;
        if (Date.now() > deadline) throw new Error(`no delivery in ${timeoutMs} ms (${deliveries.length} others)`);
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 250);
        });
      }
    },
    close: () => new Promise<void>((r) => srv.close(() => r())),
  };
}

/**
 * A TCP proxy to the server that drops (closes) the first connection as soon as the server's
 * answer starts: the request reached the server and was handled, the client never hears.
 */
export async function droppingProxy() {
  let connections = 0;
  let dropped = 0;
  const sockets = new Set<Socket>();
  const srv = createTcpServer((client) => {
    const n = ++connections;
    const upstream = connect(Number(server.port), server.hostname);
    sockets.add(client).add(upstream);
    client.on('data', (d) => upstream.write(d));
    upstream.on('data', (d) => {
      if (n === 1) {
        dropped++;
        client.destroy();
        upstream.destroy();
      } else client.write(d);
    });
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('error', () => {});
    upstream.on('error', () => {});
  });
  const port = await listen(srv);
  return {
    url: `http://127.0.0.1:${port}`,
    stats: () => ({ connections, dropped }),
    close: () =>
      new Promise<void>((r) => {
        sockets.forEach((s) => s.destroy());
        srv.close(() => r());
      }),
  };
}

/** A stub server: every answer has the given status, body and x-tenx-api-version. */
export async function stubServer(version: string, status = 200, extra: Record<string, string> = {}) {
  let hits = 0;
  const srv = createServer((req, res) => {
    hits++;
    req.resume();
    res.writeHead(status, { 'content-type': 'application/json', 'x-tenx-api-version': version, ...extra });
    res.end(
      status < 400
        ? '{"status":"ok"}'
        : JSON.stringify({ error: { code: 'unavailable', message: 'stub says no', requestId: 'req_stub' } }),
    );
  });
  const port = await listen(srv);
  return { url: `http://127.0.0.1:${port}`, hits: () => hits, close: () => new Promise<void>((r) => srv.close(() => r())) };
}

/** Signs like the server does (Standard Webhooks), for deliveries the tests forge. */
export function sign(secret: string, id: string, timestamp: number, body: string): string {
  const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
  return 'v1,' + createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
}
