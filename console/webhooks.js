// Webhooks (LM-04 … LM-06) and the notifications panel. Subscriptions are named by their
// description (else the endpoint's host, else the id). Each one: send a test, pause and resume,
// recover the deliveries that failed since a time, delete (a second click confirms), and its
// health (success rate, last response) from its delivery log. The delivery logs and the
// notifications panel are one live feed (`live`, every 10 s): one load reads the subscriptions,
// the notifications and every delivery log, and draws the panel and the cards from it, so the
// panel's counts are the logs' counts. The create form's secret is shown once; the form clears
// after a create.

import * as api from './api.js';
import * as session from './session.js';
import { NEEDS } from './session.js';
import {
  badge, busy, checkbox, clear, copyButton, empty, errorBox, field, fmtCount, fmtTime, form, gate, h,
  input, live, loading, notice, section, select, table,
} from './ui.js';

function eventTypes() {
  const raw = document.body.dataset.eventTypes || 'link.clicked,link.created,link.updated,conversion.created,conversion.tested,webhook.test';
  return raw.split(',').filter(Boolean);
}

const hookPath = (id, rest = '') => api.handlePath(`/webhooks/${encodeURIComponent(id)}${rest}`);

const EVERY_MS = 10000;
const LOG_LIMIT = 100; // the API's largest page: health and counts cover these latest attempts
const DAY_MS = 86400000;
// The reason the API records when an operator pauses a subscription (PATCH {"status": "disabled"}).
const PAUSED_REASON = 'paused by an operator';

// ------------------------------------------------------------------------------------ names

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
function labelsOf(subs) {
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

function isPaused(s) {
  return s.status !== 'active' && (s.disabledReason || '') === PAUSED_REASON;
}

// "active", "paused", or "disabled" (stopped by a 410 or by failing too long: the reason beside it).
function statusWord(s) {
  if (s.status === 'active') return 'active';
  return isPaused(s) ? 'paused' : 'disabled';
}

// ----------------------------------------------------------------------------- responses

const REASONS = {
  200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'No Content', 301: 'Moved Permanently', 302: 'Found',
  303: 'See Other', 307: 'Temporary Redirect', 308: 'Permanent Redirect', 400: 'Bad Request',
  401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed', 408: 'Request Timeout',
  409: 'Conflict', 410: 'Gone', 413: 'Content Too Large', 415: 'Unsupported Media Type', 422: 'Unprocessable Content',
  429: 'Too Many Requests', 500: 'Internal Server Error', 501: 'Not Implemented', 502: 'Bad Gateway',
  503: 'Service Unavailable', 504: 'Gateway Timeout',
};

// An endpoint's answer in words: "500 Internal Server Error", with the error the API recorded
// ("connection failed: …", "redirects are not followed …") after it; never "–" when there is a
// status code.
function responseText(code, error) {
  const parts = [];
  if (code) parts.push(`${code}${REASONS[code] ? ` ${REASONS[code]}` : ''}`);
  if (error) parts.push(error);
  if (!parts.length) return null;
  return code ? parts.join(': ') : `No response: ${parts[0]}`;
}

// The same, as a node: the status code as a badge ("500" in red), then the words.
function response(code, error, none = '–') {
  if (!code) return responseText(code, error) || none;
  const words = [REASONS[code], error].filter(Boolean).join(': ');
  return h('span', { class: 'response' }, badge(code), words ? ` ${words}` : null);
}

const PERCENT = new Intl.NumberFormat(undefined, { style: 'percent', maximumFractionDigits: 1 });
const plural = (n, one, many) => `${fmtCount(n)} ${n === 1 ? one : many}`;

// A subscription's health from its delivery log (newest event first, latest attempt first within
// an event): an event's latest attempt decides whether it was delivered, failed for good, or is
// still being retried; the success rate is delivered over finished deliveries; the last response
// is the latest finished attempt.
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

function rateText(hl) {
  if (!hl.deliveries) return 'no delivery yet';
  if (hl.rate === null) return `none finished yet (${plural(hl.retrying, 'delivery', 'deliveries')} in progress)`;
  return `${PERCENT.format(hl.rate)} (${fmtCount(hl.delivered)} of ${plural(hl.finished, 'finished delivery', 'finished deliveries')} got a 2xx)`;
}

function lastResponse(hl) {
  const a = hl.last;
  if (!a) return hl.deliveries ? 'none yet: the first attempt is being sent' : 'no delivery yet';
  return h('span', {}, response(a.statusCode, a.error, a.status), ' · ', fmtTime(a.attemptedAt),
    a.durationMs === null || a.durationMs === undefined ? null : ` · took ${fmtCount(a.durationMs)} ms`);
}

// ----------------------------------------------------------------------------------- screen

export async function render(main) {
  const canRead = session.allows(NEEDS.webhooksRead);
  const canWrite = session.allows(NEEDS.webhooksWrite);
  const secretBox = h('div', { 'aria-live': 'polite' });
  const subsOut = h('div', { 'aria-live': 'polite', class: 'subs-out' });
  const subsBody = h('div', { id: 'subscriptions' }, loading('Loading subscriptions…'));
  const notesOut = h('div', { id: 'notifications-live' });
  const notesMsg = h('div', { 'aria-live': 'polite', id: 'notifications-out' });
  const choose = select('subscription', [['', 'All subscriptions']], '');
  const refresh = h('button', { type: 'button', class: 'secondary', id: 'webhooks-refresh' }, 'Refresh');
  const view = {
    canWrite, subsBody, subsOut, notesMsg, choose, cards: new Map(), labels: new Map(), drawn: false,
    refresh: () => {}, soon: () => {},
  };
  main.append(
    h('div', { class: 'title-row' }, h('h1', { tabindex: '-1' }, 'Webhooks'), refresh),
    h('p', {}, 'Every matching event is POSTed to your endpoint, signed per Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature).'),
    section('LM-05 · New subscription', createForm(view, secretBox), secretBox),
    section('Subscriptions', subsOut, subsBody),
    section('Notifications',
      h('p', { class: 'hint' }, 'Counted from the same delivery logs as the subscriptions above (their latest ', String(LOG_LIMIT), ' attempts each, kept 30 days), read together every 10 s.'),
      h('div', { class: 'grid notes-filter' }, field('Failed deliveries of', choose)),
      notesMsg, notesOut));
  if (!canRead) {
    clear(subsBody, notice('info', session.reason(NEEDS.webhooksRead)));
    clear(notesOut, notice('info', session.reason(NEEDS.webhooksRead)));
    return;
  }
  const feed = live(notesOut, () => loadAll(view), (data) => draw(view, data), EVERY_MS);
  view.refresh = () => feed.refresh();
  // After a change that the server carries out a moment later (a queued send): now, then again.
  view.soon = () => {
    feed.refresh();
    for (const ms of [1500, 4000]) setTimeout(() => { if (notesOut.isConnected) feed.refresh(); }, ms);
  };
  choose.addEventListener('change', () => feed.refresh());
  refresh.addEventListener('click', () => busy(refresh, null, () => feed.refresh()));
  await feed.first;
}

// One snapshot: the subscriptions, the notifications and every subscription's delivery log, read
// together. A log that cannot be read is shown on its card; the rest still draws.
let loads = 0;

async function loadAll(view) {
  const seq = ++loads;
  try {
    const [subs, notes] = await Promise.all([
      api.get(api.handlePath('/webhooks') + api.query({ limit: 100 })),
      api.get(api.handlePath('/notifications') + api.query({ limit: 50 })),
    ]);
    const logs = await Promise.all(subs.items.map((s) => api.get(hookPath(s.subscriptionId, '/deliveries') + api.query({ limit: LOG_LIMIT }))
      .then((r) => ({ items: r.items, more: Boolean(r.nextCursor) }), (error) => ({ error }))));
    return { seq, at: new Date(), subs: subs.items, notes, logs: new Map(subs.items.map((s, i) => [s.subscriptionId, logs[i]])) };
  } catch (err) {
    if (!view.drawn) clear(view.subsBody, errorBox(err));
    throw err;
  }
}

// Draws the cards (kept between refreshes: their fields, outcomes and focus stay) and returns the
// notifications panel for `live` to put on screen.
function draw(view, data) {
  if (view.last && data.seq < view.last.seq) return view.panel; // an older answer that came late
  view.last = data;
  view.drawn = true;
  view.labels = labelsOf(data.subs);
  const ids = data.subs.map((s) => s.subscriptionId);
  for (const [id, card] of view.cards) {
    if (!ids.includes(id)) {
      card.el.remove();
      view.cards.delete(id);
    }
  }
  for (const s of data.subs) {
    let card = view.cards.get(s.subscriptionId);
    if (!card) {
      card = subscriptionCard(view, s);
      view.cards.set(s.subscriptionId, card);
    }
    card.update(s, data.logs.get(s.subscriptionId), data.at);
  }
  const order = ids.map((id) => view.cards.get(id).el);
  const shown = [...view.subsBody.children];
  if (!order.length) clear(view.subsBody, empty('No subscription yet: create one above, then send it a test event.'));
  else if (order.length !== shown.length || order.some((el, i) => el !== shown[i])) clear(view.subsBody, order);
  chooser(view, data.subs);
  view.panel = keepFocus(view.panel, notifications(view, data));
  return view.panel;
}

// The failed-deliveries filter: subscriptions by name (the chosen one stays chosen).
function chooser(view, subs) {
  const value = view.choose.value;
  const options = [['', 'All subscriptions'], ...subs.map((s) => [s.subscriptionId, view.labels.get(s.subscriptionId)])];
  const now = [...view.choose.options].map((o) => [o.value, o.textContent]);
  if (JSON.stringify(now) === JSON.stringify(options)) return;
  clear(view.choose, options.map(([v, l]) => h('option', { value: v }, l)));
  view.choose.value = options.some(([v]) => v === value) ? value : '';
}

// A redraw must not drop the keyboard: the control that had focus (by its data-key) gets it back.
function keepFocus(old, fresh) {
  const active = document.activeElement;
  const key = old && active && old.contains(active) ? active.dataset.key : null;
  if (key) {
    queueMicrotask(() => {
      const again = [...fresh.querySelectorAll('[data-key]')].find((e) => e.dataset.key === key);
      if (again && again.isConnected) again.focus({ preventScroll: true });
    });
  }
  return fresh;
}

function swap(container, ...children) {
  const active = document.activeElement;
  const key = active && container.contains(active) ? active.dataset.key : null;
  clear(container, ...children);
  if (key) {
    const again = [...container.querySelectorAll('[data-key]')].find((e) => e.dataset.key === key);
    if (again) again.focus({ preventScroll: true });
  }
}

// -------------------------------------------------------------------------------- create

function createForm(view, secretBox) {
  const types = h('fieldset', { class: 'checks' }, h('legend', {}, 'Event types'),
    eventTypes().map((t) => field(t, checkbox('eventType', false, { value: t }))));
  const f = form({ id: 'webhook-form', 'aria-label': 'New subscription' },
    h('div', {},
      field('Endpoint URL', input('endpointUrl', { type: 'url', placeholder: 'https://hooks.example.com/tenx' }), 'Public http(s) only, unless the server allows private addresses (local development).'),
      field('Description', input('description', { maxlength: 200, placeholder: 'CRM sync' }), 'The name this subscription is listed by. Without one, the endpoint\'s host is shown.'),
      types),
    'Create subscription',
    async (el, out) => {
      const chosen = [...el.querySelectorAll('[name=eventType]:checked')].map((c) => c.value);
      if (!chosen.length) throw new Error('Choose at least one event type.');
      const body = { endpointUrl: el.querySelector('[name=endpointUrl]').value.trim(), eventTypes: chosen };
      const d = el.querySelector('[name=description]').value.trim();
      if (d) body.description = d;
      const r = await api.post(api.handlePath('/webhooks'), body);
      // Cleared for the next one: the URL, the description and every event type.
      el.reset();
      clear(out, notice('ok', `Created “${subscriptionLabel(r)}” (${r.subscriptionId}) for ${r.eventTypes.join(', ')}.`));
      showSecretOnce(secretBox, r);
      view.refresh();
    });
  if (!view.canWrite) {
    f.querySelector('.actions').replaceChildren(gate(f.button, false, session.reason(NEEDS.webhooksWrite)));
  }
  return f;
}

// The signing secret is in the create response only: shown here once, never again.
function showSecretOnce(box, r) {
  const dismiss = h('button', { type: 'button', class: 'secondary' }, 'I have stored it: hide');
  dismiss.addEventListener('click', () => clear(box));
  clear(box, h('div', { class: 'secret', role: 'alert', id: 'webhook-secret-box' },
    h('h3', {}, 'The signing secret: shown once'),
    h('p', {}, 'Store it now, in your receiver\'s configuration: it is not shown again (the API never returns it after this answer). Lost it? Delete the subscription and create a new one.'),
    h('div', { class: 'field' },
      h('label', { for: 'webhook-secret' }, `Secret of “${subscriptionLabel(r)}”`),
      h('input', { id: 'webhook-secret', type: 'text', readonly: true, value: r.secret, class: 'code' })),
    h('div', { class: 'actions' }, copyButton(() => r.secret, 'Copy the secret'), dismiss)));
}

// ---------------------------------------------------------------------------------- cards

// The words beside a control: what its last use did (or why the API refused it).
const outcome = (what) => h('div', { class: 'outcome', 'aria-live': 'polite', dataset: { for: what } });

function pad(n) {
  return String(n).padStart(2, '0');
}

// A datetime-local value (the browser's local time, to the minute).
function localInput(ms) {
  const t = new Date(ms);
  return `${t.getFullYear()}-${pad(t.getMonth() + 1)}-${pad(t.getDate())}T${pad(t.getHours())}:${pad(t.getMinutes())}`;
}

function subscriptionCard(view, first) {
  const id = first.subscriptionId;
  const card = { sub: first, logKey: null };
  const name = () => view.labels.get(id) || subscriptionLabel(card.sub);
  const title = h('span', { class: 'sub-name' });
  const status = h('span', { class: 'status' });
  const reason = h('span', { class: 'hint' });
  const meta = h('p', { class: 'hint sub-meta' });
  const facts = h('dl', { class: 'facts health' });
  const logSummary = h('span', {});
  const logBody = h('div', { class: 'deliveries' });
  const logOut = outcome('log');
  const log = h('details', { class: 'log' },
    h('summary', { dataset: { action: 'deliveries' } }, logSummary), logOut, logBody);

  // Send a test.
  const testOut = outcome('test');
  const test = h('button', { type: 'button', class: 'primary', dataset: { action: 'test' } }, 'Send test');
  test.addEventListener('click', () => busy(test, testOut, async () => {
    const d = await api.post(hookPath(id, '/test'), {});
    clear(testOut, notice('ok', 'Test event queued: dispatch id ', h('code', { class: 'dispatch-id' }, d.dispatchId),
      ' (sent as webhook-id). Its delivery shows in the log below in a moment.'));
    view.soon();
  }, (err) => {
    clear(testOut, h('div', { class: 'refused' },
      h('p', {}, err.status === 409 && card.sub.status !== 'active'
        ? `Not sent: the API refused it because “${name()}” is ${statusWord(card.sub)}. Resume it, then send the test again.`
        : 'Not sent: the API refused it.'),
      errorBox(err)));
    return true;
  }));

  // Pause and resume: PATCH {"status": "disabled" | "active"} (the server conditions the write
  // on the version it read; a concurrent change answers 409 and the card is read again).
  const toggleOut = outcome('toggle');
  const toggle = h('button', { type: 'button', class: 'secondary' });
  toggle.addEventListener('click', () => busy(toggle, toggleOut, async () => {
    const next = card.sub.status === 'active' ? 'disabled' : 'active';
    const r = await api.request('PATCH', hookPath(id), { body: { status: next } });
    if (!r.ok) {
      if (r.status === 409) view.refresh();
      throw r.error;
    }
    card.update(r.data);
    clear(toggleOut, notice('ok', next === 'active'
      ? `Resumed: new events are delivered to “${name()}” again. Deliveries that were due while it was stopped were recorded as failed, not sent: recover them below.`
      : `Paused: nothing is sent to “${name()}” until you resume it. Events meanwhile are not delivered to it; deliveries already queued or being retried are recorded as failed (not sent), to recover after resuming.`));
    view.refresh();
  }));

  // Recover: re-send every delivery that failed since a time (default 24 hours ago).
  const since = input('since', { type: 'datetime-local', value: localInput(Date.now() - DAY_MS), step: 60 });
  const recover = form({ class: 'recover' },
    field('Re-send deliveries that failed since', since, 'Your local time; 24 hours ago by default. Each is re-sent once: the same time again sends nothing twice.'),
    'Recover failed deliveries',
    async (el, out) => {
      const t = new Date(since.value);
      if (!since.value || Number.isNaN(t.getTime())) {
        throw Object.assign(new Error('since: enter a date and time'), { status: 400 });
      }
      const r = await api.post(hookPath(id, '/recover'), { since: t.toISOString() });
      const span = ['between ', fmtTime(r.since), ' and ', fmtTime(r.until)];
      let words;
      if (r.deduped) words = ['Already recovered from this time: ', plural(r.queued, 're-send was', 're-sends were'), ' queued then, nothing was sent again (failures ', ...span, ').'];
      else if (r.queued === 0) words = ['Nothing to recover: no delivery of “', name(), '” that failed ', ...span, ' can be re-sent.'];
      else words = ['Queued ', plural(r.queued, 're-send', 're-sends'), ' of the deliveries that failed ', ...span, '; their outcomes show in the log.'];
      clear(out, notice('ok', h('span', { class: 'recovered', dataset: { queued: String(r.queued) } }, words)));
      view.soon();
    });
  recover.button.dataset.action = 'recover';

  // Delete: the first click arms, the second deletes; leaving the button disarms it.
  const delOut = outcome('delete');
  const del = h('button', { type: 'button', class: 'danger', dataset: { action: 'delete' } }, 'Delete');
  let armed = false;
  const disarm = () => {
    armed = false;
    del.textContent = 'Delete';
    clear(delOut);
  };
  del.addEventListener('click', () => {
    if (!armed) {
      armed = true;
      del.textContent = 'Click again to delete for good';
      clear(delOut, h('p', { class: 'hint' }, `Deleting “${name()}” drops its queued deliveries and cannot be undone.`));
      return;
    }
    const label = name();
    busy(del, delOut, async () => {
      await api.del(hookPath(id));
      clear(view.subsOut, notice('ok', `Deleted “${label}”.`));
      card.el.remove();
      view.cards.delete(id);
      view.refresh();
    });
  });
  del.addEventListener('blur', () => { if (armed && !del.disabled) disarm(); });

  const write = (control) => (view.canWrite ? control : gate(control, false, session.reason(NEEDS.webhooksWrite)));
  const deleteControl = () => (card.sub.partnerId
    ? h('p', { class: 'hint' }, `The postback of partner ${card.sub.partnerId}: clear the partner's postback URL to remove it.`)
    : write(del));
  const deleteRow = h('div', { class: 'control-row' });
  if (!view.canWrite) {
    recover.querySelector('.actions').replaceChildren(gate(recover.button, false, session.reason(NEEDS.webhooksWrite)));
  }

  card.el = h('article', { class: 'card subscription', dataset: { subscription: id } },
    h('h3', {}, title, ' ', status, ' ', reason),
    meta,
    facts,
    h('div', { class: 'controls' },
      h('div', { class: 'control-row' }, write(test), testOut),
      h('div', { class: 'control-row' }, write(toggle), toggleOut),
      recover,
      deleteRow),
    log);

  card.update = (s, logData, at) => {
    card.sub = s;
    clear(title, name());
    status.className = `status ${statusWord(s)}`;
    clear(status, statusWord(s));
    clear(reason, s.status !== 'active' && s.disabledReason && !isPaused(s) ? `(${s.disabledReason})` : '');
    clear(meta, 'Endpoint ', h('span', { class: 'url' }, s.endpointUrl), ` · events: ${s.eventTypes.join(', ')} · id `,
      h('code', {}, id), ' · created ', fmtTime(s.createdAt));
    toggle.dataset.action = s.status === 'active' ? 'pause' : 'resume';
    toggle.textContent = s.status === 'active' ? 'Pause deliveries' : 'Resume deliveries';
    if (!deleteRow.firstChild || Boolean(s.partnerId) !== Boolean(deleteRow.dataset.partner)) {
      deleteRow.dataset.partner = s.partnerId ? 'yes' : '';
      clear(deleteRow, deleteControl(), delOut);
    }
    if (logData) drawLog(view, card, logData, at, { facts, logSummary, logBody, logOut });
  };
  card.update(first);
  return card;
}

// A card's health and delivery log, from this snapshot's log. The table is redrawn only when the
// log changed (so a Resend button keeps its focus between refreshes).
function drawLog(view, card, logData, at, parts) {
  const { facts, logSummary, logBody, logOut } = parts;
  const id = card.sub.subscriptionId;
  if (logData.error) {
    clear(facts, h('dt', {}, 'Health'), h('dd', {}, errorBox(logData.error)));
    clear(logSummary, 'Delivery log (not readable)');
    swap(logBody, errorBox(logData.error));
    card.logKey = null;
    return;
  }
  const hl = health(logData.items);
  const within = logData.more ? ` (its latest ${fmtCount(logData.items.length)} attempts)` : '';
  clear(facts,
    h('dt', {}, 'Success rate'), h('dd', { class: 'success-rate' }, rateText(hl), within),
    h('dt', {}, 'Last response'), h('dd', { class: 'last-response' }, lastResponse(hl)),
    h('dt', {}, 'Deliveries'), h('dd', {}, hl.deliveries
      ? `${fmtCount(hl.delivered)} delivered, ${fmtCount(hl.failed)} failed, ${fmtCount(hl.retrying)} being retried; ${plural(hl.failedAttempts, 'failed attempt', 'failed attempts')}`
      : 'no delivery yet'),
    h('dt', {}, 'As of'), h('dd', {}, at ? at.toLocaleTimeString() : '–', ` · refreshes every ${EVERY_MS / 1000} s`));
  clear(logSummary, `Delivery log: ${plural(hl.attempts, 'attempt', 'attempts')}`);
  const key = JSON.stringify([logData.items, view.canWrite, view.labels.get(id)]);
  if (key === card.logKey) return;
  card.logKey = key;
  if (!logData.items.length) {
    swap(logBody, empty('No delivery yet: send a test, or wait for a matching event.'));
    return;
  }
  // The newest attempt of each event decides whether it may be re-sent (finished ones only).
  const latest = new Set();
  swap(logBody, table([
    { label: 'Event', value: (a) => h('code', {}, a.eventId) },
    { label: 'Type', value: (a) => a.eventType },
    { label: 'Attempt', value: (a) => `${a.attempt}${a.manual ? ' (manual)' : ''}`, class: 'num' },
    { label: 'Status', value: (a) => h('span', { class: `status ${a.status}` }, a.status) },
    { label: 'Response', value: (a) => (a.status === 'sending' ? 'sending…' : response(a.statusCode, a.error)) },
    { label: 'Duration', value: (a) => (a.durationMs === null ? '–' : `${fmtCount(a.durationMs)} ms`), class: 'num' },
    { label: 'Attempted', value: (a) => fmtTime(a.attemptedAt) },
    { label: 'Next attempt', value: (a) => fmtTime(a.nextAttemptAt) },
    {
      label: 'Resend',
      value: (a) => {
        const first = !latest.has(a.eventId);
        latest.add(a.eventId);
        return first && view.canWrite && a.status !== 'sending' && !a.nextAttemptAt ? resendButton(view, id, a.eventId, logOut) : '';
      },
    },
  ], logData.items, `Delivery log of ${view.labels.get(id) || subscriptionLabel(card.sub)}`));
}

// Re-sends a finished delivery; its outcome shows in the log and the panel a moment later.
function resendButton(view, subscriptionId, eventId, out) {
  const b = h('button', { type: 'button', class: 'secondary', dataset: { action: 'resend', key: `resend ${subscriptionId} ${eventId}` } }, 'Resend');
  b.setAttribute('aria-label', `Resend ${eventId}`);
  b.addEventListener('click', () => busy(b, out, async () => {
    const r = await api.post(hookPath(subscriptionId, `/deliveries/${encodeURIComponent(eventId)}/resend`), {});
    clear(out, notice('ok', `Re-sent ${r.eventId} as attempt ${r.attempt}.`));
    view.soon();
  }));
  return b;
}

// ------------------------------------------------------------------------- notifications

function notifications(view, data) {
  const logs = data.logs;
  const rows = data.subs.map((s) => ({ s, log: logs.get(s.subscriptionId) }))
    .map((r) => ({ ...r, hl: r.log && !r.log.error ? health(r.log.items) : null }));
  const count = (key) => (r) => (r.hl ? fmtCount(r.hl[key]) : '–');
  const chosen = view.choose.value;
  const failed = data.notes.failedDeliveries.filter((x) => !chosen || x.subscriptionId === chosen);
  const named = (x) => view.labels.get(x.subscriptionId) || x.subscriptionId;
  return h('div', {},
    rows.length
      ? table([
        { label: 'Subscription', value: (r) => h('strong', {}, view.labels.get(r.s.subscriptionId)), class: 'key' },
        { label: 'Status', value: (r) => h('span', { class: `status ${statusWord(r.s)}` }, statusWord(r.s)) },
        { label: 'Delivered', value: count('delivered'), class: 'num' },
        { label: 'Failed', value: count('failed'), class: 'num' },
        { label: 'Being retried', value: count('retrying'), class: 'num' },
        { label: 'Failed attempts', value: count('failedAttempts'), class: 'num' },
        { label: 'Success rate', value: (r) => (!r.hl ? 'log not readable' : r.hl.rate === null ? (r.hl.deliveries ? 'none finished' : 'no delivery yet') : PERCENT.format(r.hl.rate)), class: 'num' },
        { label: 'Last response', value: (r) => (!r.hl ? '–' : r.hl.last ? response(r.hl.last.statusCode, r.hl.last.error) : 'no delivery yet') },
      ], rows, 'Deliveries per subscription')
      : empty('No subscription yet.'),
    h('h3', {}, chosen ? `Failed deliveries of “${view.labels.get(chosen) || chosen}”` : 'Failed deliveries'),
    failed.length
      ? h('div', { id: 'failed-deliveries' }, table([
        { label: 'Subscription', value: (x) => named(x), class: 'key' },
        { label: 'Event', value: (x) => h('code', {}, x.eventId) },
        { label: 'Type', value: (x) => x.eventType },
        { label: 'Attempts', value: (x) => String(x.attempts), class: 'num' },
        { label: 'Last error', value: (x) => response(x.lastStatusCode, x.lastError, 'no response recorded') },
        { label: 'Failed at', value: (x) => fmtTime(x.failedAt) },
        { label: 'Resend', value: (x) => (view.canWrite ? resendButton(view, x.subscriptionId, x.eventId, view.notesMsg) : '') },
      ], failed, 'Failed deliveries'))
      : empty(chosen ? 'No failed delivery of this subscription.' : 'No failed delivery: every delivery succeeded or is still being retried.'));
}
