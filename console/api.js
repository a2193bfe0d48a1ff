// The API, as the console calls it: `client.js` (same origin, the error envelope as an
// ApiError) with the console's caller: a token's `authorization: Bearer`, or a person's session
// cookie and its CSRF token on writes.

import * as client from './client.js';
import * as session from './session.js';

export { ApiError } from './client.js';

// The handle's routes: handlePath('/links') → /v2/handles/acme/links
export function handlePath(rest) {
  const s = session.get();
  return `/v2/handles/${encodeURIComponent(s ? s.handle : '')}${rest}`;
}

// One request. Never throws on an HTTP status: the result says `ok`, and `error` is the API's
// error for a non-2xx. Network failures are thrown as an ApiError with status 0.
export async function request(method, path, opts = {}) {
  const headers = { ...(opts.headers || {}) };
  const s = session.get();
  // A person's session is the server's cookie (issue 60): no bearer token, and every write
  // carries the session's CSRF token.
  const person = opts.auth !== false && s && s.kind === 'person';
  if (opts.auth !== false && s && !person) headers.authorization = `Bearer ${s.token}`;
  if (person && method !== 'GET' && method !== 'HEAD') headers['x-csrf-token'] = s.csrf;
  const credentials = person || opts.cookie ? 'same-origin' : 'omit';
  // `raw`: a file, or its first part, sent as it is (an import's preview).
  const { body, raw, contentType } = opts;
  const result = await client.send(method, path, { headers, body, raw, contentType, credentials });
  if (!result.ok) {
    const e = result.error;
    // The session's credential no longer works (expired, revoked, re-keyed): the console asks
    // to sign in again (main.js) instead of showing the 401 on every panel.
    if (result.status === 401 && (headers.authorization || person) && opts.expire !== false) {
      window.dispatchEvent(new CustomEvent('tenx:session-expired', { detail: e }));
    }
    // An admin of a team that requires passkeys, without one, opening a screen: the account
    // screen first (main.js). A write refused so (turning the policy on) says why in place.
    if (e.code === 'passkey_required' && person && method === 'GET' && opts.passkeyRedirect !== false) {
      window.dispatchEvent(new CustomEvent('tenx:passkey-required', { detail: e }));
    }
    if (e.code === 'insufficient_scope') {
      const m = /lacks the ([a-z]+\.[a-z]+) scope/.exec(e.message || '');
      if (m) session.noteDenied(m[1]);
    }
  }
  return result;
}

// A request whose non-2xx answer is thrown (as an ApiError); returns the parsed body.
export async function call(method, path, opts) {
  const r = await request(method, path, opts);
  if (!r.ok) throw r.error;
  return r.data;
}

export const get = (path, opts) => call('GET', path, opts);
export const post = (path, body, opts) => call('POST', path, { ...opts, body });
export const put = (path, body, opts) => call('PUT', path, { ...opts, body });
export const patch = (path, body, opts) => call('PATCH', path, { ...opts, body });
export const del = (path, opts) => call('DELETE', path, opts);

export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== null && v !== undefined && v !== '') q.set(k, v);
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

// A file the API answers (a PDF): its Blob, or the API's error thrown as an ApiError.
export function file(path) {
  const headers = {};
  const s = session.get();
  const person = s && s.kind === 'person';
  if (s && !person) headers.authorization = `Bearer ${s.token}`;
  return client.file(path, { headers, credentials: person ? 'same-origin' : 'omit' });
}
