// The API as the partner portal calls it: `client.js` (same origin, the error envelope as an
// ApiError) with the session cookie (never a token in the page), the session's CSRF token on
// writes, and `x-tenx-act-as: partner`, so a person who is also a member of the handle acts here
// as its partner only.

import * as client from '../client.js';

export { ApiError } from '../client.js';

let csrf = '';

export function setCsrf(token) {
  csrf = token || '';
}

function headers(method) {
  const h = { 'x-tenx-act-as': 'partner' };
  if (method !== 'GET') h['x-csrf-token'] = csrf;
  return h;
}

async function answered(method, path, opts) {
  const r = await client.send(method, path, { ...opts, headers: headers(method), credentials: 'same-origin' });
  if (!r.ok) throw r.error;
  return r.data;
}

// One request: the parsed JSON, or an ApiError with the API's message and request id.
export function request(method, path, body) {
  return answered(method, path, { body });
}

// A file sent as the body itself (a claim's image), its type in `content-type`: the parsed
// JSON answer, or an ApiError.
export function upload(path, file) {
  return answered('POST', path, { raw: file, contentType: file.type });
}

export const get = (path) => request('GET', path);
export const post = (path, body) => request('POST', path, body);

// A file the API answers (a PDF): its Blob, or the API's error thrown as an ApiError.
export function file(path) {
  return client.file(path, { headers: { 'x-tenx-act-as': 'partner' }, credentials: 'same-origin' });
}
