// Webhooks in words: a subscription's name (its description, else its endpoint's host, else its
// id), its status (active, paused, disabled), an endpoint's answer ("500 Internal Server Error:
// …"), counts and rates; and where a subscription lives in the API.

import * as api from '../api.js';
import { badge, fmtCount, h } from '../ui.js';

export const hookPath = (id, rest = '') => api.handlePath(`/webhooks/${encodeURIComponent(id)}${rest}`);

// The reason the API records when an operator pauses a subscription (PATCH {"status": "disabled"}).
const PAUSED_REASON = 'paused by an operator';

function hostOf(url) {
  try {
    return new URL(url).host;
  } catch {
    // A partner's postback is a URL template with {macros}: its host is still readable.
    const m = /^[a-z][a-z0-9+.-]*:\/\/([^/?#{}]+)/i.exec(url || '');
    return m ? m[1] : '';
  }
}

// How a subscription is shown and chosen: its description, else its endpoint's host, else its id.
export function subscriptionLabel(s) {
  return (s.description || '').trim() || hostOf(s.endpointUrl) || s.subscriptionId;
}

// Every subscription's name, made unique: two that share one get their id added.
export function labelsOf(subs) {
  const seen = new Map();
  for (const s of subs) {
    const l = subscriptionLabel(s);
    seen.set(l, (seen.get(l) || 0) + 1);
  }
  return new Map(subs.map((s) => {
    const l = subscriptionLabel(s);
    return [s.subscriptionId, seen.get(l) > 1 && l !== s.subscriptionId ? `${l} (${s.subscriptionId})` : l];
  }));
}

export function isPaused(s) {
  return s.status !== 'active' && (s.disabledReason || '') === PAUSED_REASON;
}

// "active", "paused", or "disabled" (stopped by a 410 or by failing too long: the reason beside it).
export function statusWord(s) {
  if (s.status === 'active') return 'active';
  return isPaused(s) ? 'paused' : 'disabled';
}

const REASONS = {
  200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content', 301: 'Moved Permanently', 302: 'Found',
  303: 'See Other', 307: 'Temporary Redirect', 308: 'Permanent Redirect', 400: 'Bad Request',
  401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 408: 'Request Timeout',
  409: 'Conflict', 410: 'Gone', 413: 'Content Too Large', 415: 'Unsupported Media Type', 422: 'Unprocessable Content',
  429: 'Too Many Requests', 500: 'Internal Server Error', 501: 'Not Implemented', 502: 'Bad Gateway',
  503: 'Service Unavailable', 504: 'Gateway Timeout',
};

// An endpoint's answer: the status code as a badge ("500" in red), then its words and the error
// the API recorded ("connection failed: …", "redirects are not followed …"); without a status
// code, "No response: …"; never "–" when there is a status code.
export function response(code, error, none = '–') {
  if (!code) return error ? `No response: ${error}` : none;
  const words = [REASONS[code], error].filter(Boolean).join(': ');
  return h('span', { class: 'response' }, badge(code), words ? ` ${words}` : null);
}

export const PERCENT = new Intl.NumberFormat(undefined, { style: 'percent', maximumFractionDigits: 1 });

export const plural = (n, one, many) => `${fmtCount(n)} ${n === 1 ? one : many}`;
