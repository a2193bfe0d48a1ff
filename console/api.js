// The API, as the console calls it: same origin (the Content-Security-Policy allows nothing
// else), the session's bearer token, and the API's error envelope turned into an ApiError that
// keeps the message and the request id.

import * as session from './session.js';

export class ApiError extends Error {
  constructor(status, code, message, requestId) {
    super(message);
    this.status = status;
    this.code = code;
    this.requestId = requestId;
  }
}

// The handle's routes: handlePath('/links') → /v2/handles/acme/links
export function handlePath(rest) {
  const s = session.get();
  return `/v2/handles/${encodeURIComponent(s ? s.handle : '')}${rest}`;
}

// One request. Never throws on an HTTP status: the result says `ok`, and `error` is the API's
// error for a non-2xx. Network failures are thrown as an ApiError with status 0.
export async function request(method, path, opts = {}) {
  const headers = { accept: 'application/json', ...(opts.headers || {}) };
  const s = session.get();
  // A person's session is the server's cookie (issue 60): no bearer token, and every write
  // carries the session's CSRF token.
  const person = opts.auth !== false && s && s.kind === 'person';
  if (opts.auth !== false && s && !person) headers.authorization = `Bearer ${s.token}`;
  if (person && method !== 'GET' && method !== 'HEAD') headers['x-csrf-token'] = s.csrf;
  let body;
  if (opts.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.body);
  } else if (opts.raw !== undefined) {
    // A file, or its first part, sent as it is (an import's preview).
    headers['content-type'] = opts.contentType || 'application/octet-stream';
    body = opts.raw;
  }
  let response;
  try {
    const credentials = person || opts.cookie ? 'same-origin' : 'omit';
    response = await fetch(path, { method, headers, body, credentials, cache: 'no-store' });
  } catch (e) {
    throw new ApiError(0, 'network', `The server could not be reached (${e.message}).`, null);
  }
  const requestId = response.headers.get('x-request-id');
  const text = await response.text();
  let data = null;
  if (text && (response.headers.get('content-type') || '').includes('json')) {
    try {
      data = JSON.parse(text);
    } catch {
      data = null;
    }
  }
  const result = { ok: response.ok, status: response.status, data, text, requestId, headers: response.headers };
  if (!response.ok) {
    const e = (data && data.error) || {};
    result.error = new ApiError(response.status, e.code || 'error', e.message || `HTTP ${response.status}`, e.requestId || requestId);
    // The session's credential no longer works (expired, revoked, re-keyed): the console asks
    // to sign in again (main.js) instead of showing the 401 on every panel.
    if (response.status === 401 && (headers.authorization || person) && opts.expire !== false) {
      window.dispatchEvent(new CustomEvent('tenx:session-expired', { detail: result.error }));
    }
    // An admin of a team that requires passkeys, without one, opening a screen: the account
    // screen first (main.js). A write refused so (turning the policy on) says why in place.
    if (e.code === 'passkey_required' && person && method === 'GET' && opts.passkeyRedirect !== false) {
      window.dispatchEvent(new CustomEvent('tenx:passkey-required', { detail: result.error }));
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
export async function file(path) {
  const headers = {};
  const s = session.get();
  const person = s && s.kind === 'person';
  if (s && !person) headers.authorization = `Bearer ${s.token}`;
  const response = await fetch(path, { headers, credentials: person ? 'same-origin' : 'omit', cache: 'no-store' });
  if (response.ok) {
    // The answer's headers ride along (an invoice names its credit note in one).
    const blob = await response.blob();
    blob.headers = response.headers;
    return blob;
  }
  let e = {};
  try {
    e = (await response.json()).error || {};
  } catch {
    e = {};
  }
  throw new ApiError(response.status, e.code || 'error', e.message || `HTTP ${response.status}`, e.requestId || response.headers.get('x-request-id'));
}
