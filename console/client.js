// The one HTTP client of the console and the partner portal: same origin (the
// Content-Security-Policy allows nothing else), never cached, and the API's error envelope
// turned into an ApiError that keeps its message and request id. Who calls (the console's
// token or session in api.js, the portal's partner session in portal/api.js) is theirs to add.

export class ApiError extends Error {
  constructor(status, code, message, requestId) {
    super(message);
    this.status = status;
    this.code = code;
    this.requestId = requestId;
  }
}

// The API's error of a non-2xx answer (its envelope's `error`, possibly empty), in words even
// when the answer says nothing (a proxy's page).
function refusal(status, e, requestId) {
  return new ApiError(status, e.code || 'error', e.message || `The server answered ${status}.`, e.requestId || requestId);
}

function unreachable(e) {
  return new ApiError(0, 'network', `The server could not be reached (${e.message}).`, null);
}

// One request. `body` goes as JSON; `raw` as it is (a file, or its first part), typed
// `contentType`; `credentials` says whether the session cookie goes with it. Never throws on an
// HTTP status: the result says `ok`, and `error` is the API's error for a non-2xx. Network
// failures are thrown as an ApiError with status 0.
export async function send(method, path, { headers = {}, body, raw, contentType, credentials = 'omit' } = {}) {
  const sent = { accept: 'application/json', ...headers };
  let payload;
  if (body !== undefined) {
    sent['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  } else if (raw !== undefined) {
    sent['content-type'] = contentType || 'application/octet-stream';
    payload = raw;
  }
  let response;
  try {
    response = await fetch(path, { method, headers: sent, body: payload, credentials, cache: 'no-store' });
  } catch (e) {
    throw unreachable(e);
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
  if (!response.ok) result.error = refusal(response.status, (data && data.error) || {}, requestId);
  return result;
}

// A file the API answers (a PDF): its Blob, or the API's error thrown as an ApiError.
export async function file(path, { headers = {}, credentials = 'omit' } = {}) {
  let response;
  try {
    response = await fetch(path, { headers, credentials, cache: 'no-store' });
  } catch (e) {
    throw unreachable(e);
  }
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
  throw refusal(response.status, e, response.headers.get('x-request-id'));
}
