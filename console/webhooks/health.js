// A subscription's health from its delivery log (newest event first, latest attempt first within
// an event): an event's latest attempt decides whether it was delivered, failed for good, or is
// still being retried; the success rate is delivered over finished deliveries; the last response
// is the latest finished attempt.

import { fmtCount, fmtTime, h } from '../ui.js';
import { PERCENT, plural, response } from './words.js';

export function health(items) {
  const latest = new Map();
  let failedAttempts = 0;
  let last = null;
  for (const a of items) {
    const seen = latest.get(a.eventId);
    if (!seen || a.attempt > seen.attempt) latest.set(a.eventId, a);
    if (a.status === 'failed') failedAttempts += 1;
    if (a.status !== 'sending' && (!last || Date.parse(a.attemptedAt) > Date.parse(last.attemptedAt))) last = a;
  }
  let delivered = 0;
  let failed = 0;
  let retrying = 0;
  for (const a of latest.values()) {
    if (a.status === 'succeeded') delivered += 1;
    else if (a.status === 'sending' || a.nextAttemptAt) retrying += 1;
    else failed += 1;
  }
  const finished = delivered + failed;
  return {
    attempts: items.length, deliveries: latest.size, delivered, failed, retrying, failedAttempts,
    rate: finished ? delivered / finished : null, finished, last,
  };
}

export function rateText(hl) {
  if (!hl.deliveries) return 'no delivery yet';
  if (hl.rate === null) return `none finished yet (${plural(hl.retrying, 'delivery', 'deliveries')} in progress)`;
  return `${PERCENT.format(hl.rate)} (${fmtCount(hl.delivered)} of ${plural(hl.finished, 'finished delivery', 'finished deliveries')} got a 2xx)`;
}

export function lastResponse(hl) {
  const a = hl.last;
  if (!a) return hl.deliveries ? 'none yet: the first attempt is being sent' : 'no delivery yet';
  return h('span', {}, response(a.statusCode, a.error, a.status), ' · ', fmtTime(a.attemptedAt),
    a.durationMs === null || a.durationMs === undefined ? null : ` · took ${fmtCount(a.durationMs)} ms`);
}

export function countsText(hl) {
  if (!hl.deliveries) return 'no delivery yet';
  return `${fmtCount(hl.delivered)} delivered, ${fmtCount(hl.failed)} failed, ${fmtCount(hl.retrying)} being retried; ${plural(hl.failedAttempts, 'failed attempt', 'failed attempts')}`;
}
