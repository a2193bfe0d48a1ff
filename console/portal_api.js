// The API as the partner portal calls it: same origin, the session cookie (never a token in the
// page), the session's CSRF token on writes, and `x-tenx-act-as: partner`, so a person who is
// also a member of the handle acts here as its partner only.

let csrf = '';

export class ApiError extends Error {
  constructor(status, code, message, requestId) {
    super(message);
    this.status = status;
    this.code = code;
    this.requestId = requestId;
  }
}

export function setCsrf(token) {
  csrf = token || '';
}

// One request: the parsed JSON, or an ApiError with the API's message and request id.
export async function request(method, path, body) {
  const headers = { accept: 'application/json', 'x-tenx-act-as': 'partner' };
  if (method !== 'GET') headers['x-csrf-token'] = csrf;
  let payload;
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body: payload, credentials: 'same-origin', cache: 'no-store' });
  } catch (e) {
    throw new ApiError(0, 'network', `The server could not be reached (${e.message}).`, null);
  }
  const requestId = response.headers.get('x-request-id');
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const e = (data && data.error) || {};
    throw new ApiError(response.status, e.code || 'error', e.message || `The server answered ${response.status}.`, requestId);
  }
  return data;
}

// A file sent as the body itself (a claim's image), its type in `content-type`: the parsed
// JSON answer, or an ApiError.
export async function upload(path, file) {
  let response;
  try {
    response = await fetch(path, {
      method: 'POST',
      headers: { accept: 'application/json', 'x-tenx-act-as': 'partner', 'x-csrf-token': csrf, 'content-type': file.type || 'application/octet-stream' },
      body: file,
      credentials: 'same-origin',
      cache: 'no-store',
    });
  } catch (e) {
    throw new ApiError(0, 'network', `The server could not be reached (${e.message}).`, null);
  }
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const e = (data && data.error) || {};
    throw new ApiError(response.status, e.code || 'error', e.message || `The server answered ${response.status}.`, response.headers.get('x-request-id'));
  }
  return data;
}

export const get = (path) => request('GET', path);
export const post = (path, body) => request('POST', path, body);

// A file the API answers (a PDF): its Blob, or the API's error thrown as an ApiError.
export async function file(path) {
  const response = await fetch(path, { headers: { 'x-tenx-act-as': 'partner' }, credentials: 'same-origin', cache: 'no-store' });
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
  throw new ApiError(response.status, e.code || 'error', e.message || `The server answered ${response.status}.`, response.headers.get('x-request-id'));
}
