// One subscription's card: its name, status and endpoint; send a test, pause and resume, recover
// the deliveries that failed since a time, delete (a second click confirms); its health and
// delivery log (log.js). A card is kept between refreshes, so its fields, outcomes and
// focus stay; `update` takes the subscription anew, `showLog` a read of its log.

import * as api from '../api.js';
import * as session from '../session.js';
import { NEEDS } from '../session.js';
import { busy, clear, errorBox, field, fmtTime, form, gate, h, input, notice } from '../ui.js';
import { drawLog } from './log.js';
import { hookPath, isPaused, plural, statusWord, subscriptionLabel } from './words.js';

const DAY_MS = 86400000;

// The words beside a control: what its last use did (or why the API refused it).
const outcome = (what) => h('div', { class: 'outcome', 'aria-live': 'polite', dataset: { for: what } });

const pad = (n) => String(n).padStart(2, '0');

// A datetime-local value (the browser's local time, to the minute).
function localInput(ms) {
  const t = new Date(ms);
  return `${t.getFullYear()}-${pad(t.getMonth() + 1)}-${pad(t.getDate())}T${pad(t.getHours())}:${pad(t.getMinutes())}`;
}

const writeGate = (view, control) => (view.canWrite ? control : gate(control, false, session.reason(NEEDS.webhooksWrite)));

// Send a test: its dispatch id, or why the API refused it (a paused subscription: 409).
function testControl(view, card) {
  const out = outcome('test');
  const b = h('button', { type: 'button', class: 'primary', dataset: { action: 'test' } }, 'Send test');
  b.addEventListener('click', () => busy(b, out, async () => {
    const d = await api.post(hookPath(card.id, '/test'), {});
    clear(out, notice('ok', 'Test event queued: dispatch id ', h('code', { class: 'dispatch-id' }, d.dispatchId),
      ' (sent as webhook-id). Its delivery shows in the log below in a moment.'));
    view.soon(card.id);
  }, (err) => {
    clear(out, h('div', { class: 'refused' },
      h('p', {}, err.status === 409 && card.sub.status !== 'active'
        ? `Not sent: the API refused it because “${card.name()}” is ${statusWord(card.sub)}. Resume it, then send the test again.`
        : 'Not sent: the API refused it.'),
      errorBox(err)));
    return true;
  }));
  return h('div', { class: 'control-row' }, writeGate(view, b), out);
}

// Pause and resume: PATCH {"status": "disabled" | "active"} (the server conditions the write on
// the version it read; a concurrent change answers 409 and the card is read again).
function toggleControl(view, card) {
  const out = outcome('toggle');
  const b = h('button', { type: 'button', class: 'secondary' });
  b.addEventListener('click', () => busy(b, out, async () => {
    const next = card.sub.status === 'active' ? 'disabled' : 'active';
    const r = await api.request('PATCH', hookPath(card.id), { body: { status: next } });
    if (!r.ok) {
      if (r.status === 409) view.refresh();
      throw r.error;
    }
    card.update(r.data);
    // A refusal that described the paused state is stale once it changed (issue 62).
    const stale = out.closest('.subscription')?.querySelector('.outcome[data-for=test]');
    if (stale) clear(stale);
    clear(out, notice('ok', next === 'active'
      ? `Resumed: new events are delivered to “${card.name()}” again. Deliveries that were due while it was stopped were recorded as failed, not sent: recover them below.`
      : `Paused: nothing is sent to “${card.name()}” until you resume it. Events meanwhile are not delivered to it; deliveries already queued or being retried are recorded as failed (not sent), to recover after resuming.`));
    view.refresh();
  }));
  const show = (s) => {
    b.dataset.action = s.status === 'active' ? 'pause' : 'resume';
    b.textContent = s.status === 'active' ? 'Pause deliveries' : 'Resume deliveries';
  };
  return { el: h('div', { class: 'control-row' }, writeGate(view, b), out), show };
}

function recoveredWords(r, name) {
  const span = ['between ', fmtTime(r.since), ' and ', fmtTime(r.until)];
  if (r.deduped) return ['Already recovered from this time: ', plural(r.queued, 're-send was', 're-sends were'), ' queued then, nothing was sent again (failures ', ...span, ').'];
  if (r.queued === 0) return ['Nothing to recover: no delivery of “', name, '” that failed ', ...span, ' can be re-sent.'];
  return ['Queued ', plural(r.queued, 're-send', 're-sends'), ' of the deliveries that failed ', ...span, '; their outcomes show in the log.'];
}

// Recover: re-send every delivery that failed since a time (default 24 hours ago).
function recoverForm(view, card) {
  const since = input('since', { type: 'datetime-local', value: localInput(Date.now() - DAY_MS), step: 60 });
  const f = form({ class: 'recover' },
    field('Re-send deliveries that failed since', since, 'Your local time; 24 hours ago by default. Each is re-sent once: the same time again sends nothing twice.'),
    'Recover failed deliveries',
    async (el, out) => {
      const t = new Date(since.value);
      if (!since.value || Number.isNaN(t.getTime())) {
        throw Object.assign(new Error('since: enter a date and time'), { status: 400 });
      }
      const r = await api.post(hookPath(card.id, '/recover'), { since: t.toISOString() });
      clear(out, notice('ok', h('span', { class: 'recovered', dataset: { queued: String(r.queued) } }, recoveredWords(r, card.name()))));
      view.soon(card.id);
    });
  f.button.dataset.action = 'recover';
  if (!view.canWrite) f.querySelector('.actions').replaceChildren(writeGate(view, f.button));
  return f;
}

// Delete: the first click arms, the second deletes; leaving the button disarms it. A partner's
// postback is removed from the partner instead.
function deleteControl(view, card) {
  const out = outcome('delete');
  const b = h('button', { type: 'button', class: 'danger', dataset: { action: 'delete' } }, 'Delete');
  let armed = false;
  b.addEventListener('click', () => {
    if (!armed) {
      armed = true;
      b.textContent = 'Click again to delete for good';
      clear(out, h('p', { class: 'hint' }, `Deleting “${card.name()}” drops its queued deliveries and cannot be undone.`));
      return;
    }
    const label = card.name();
    busy(b, out, async () => {
      await view.quiet(card.id);
      try {
        await api.del(hookPath(card.id));
      } catch (err) {
        view.kept(card.id);
        throw err;
      }
      view.removed(card.id, label);
    });
  });
  b.addEventListener('blur', () => {
    if (!armed || b.disabled) return;
    armed = false;
    b.textContent = 'Delete';
    clear(out);
  });
  const row = h('div', { class: 'control-row' });
  const show = (s) => {
    if (row.firstChild && Boolean(s.partnerId) === Boolean(row.dataset.partner)) return;
    row.dataset.partner = s.partnerId ? 'yes' : '';
    clear(row, s.partnerId
      ? h('p', { class: 'hint' }, `The postback of partner ${s.partnerId}: clear the partner's postback URL to remove it.`)
      : writeGate(view, b), out);
  };
  return { el: row, show };
}

export function subscriptionCard(view, first) {
  const card = { id: first.subscriptionId, sub: first, logKey: null, logAt: 0, visible: false };
  card.name = () => view.labels.get(card.id) || subscriptionLabel(card.sub);
  const title = h('span', { class: 'sub-name' });
  const status = h('span', { class: 'status' });
  const reason = h('span', { class: 'hint' });
  const meta = h('p', { class: 'hint sub-meta' });
  const parts = {
    facts: h('dl', { class: 'facts health' }, h('dt', {}, 'Health'), h('dd', { class: 'success-rate' }, 'read when this card is on screen')),
    logSummary: h('span', {}, 'Delivery log'),
    logBody: h('div', { class: 'deliveries' }),
    logOut: outcome('log'),
  };
  const toggle = toggleControl(view, card);
  const del = deleteControl(view, card);
  card.el = h('article', { class: 'card subscription', dataset: { subscription: card.id } },
    h('h3', {}, title, ' ', status, ' ', reason),
    meta,
    parts.facts,
    h('div', { class: 'controls' }, testControl(view, card), toggle.el, recoverForm(view, card), del.el),
    h('details', { class: 'log' },
      h('summary', { dataset: { action: 'deliveries' } }, parts.logSummary), parts.logOut, parts.logBody));
  card.update = (s) => {
    card.sub = s;
    clear(title, card.name());
    status.className = `status ${statusWord(s)}`;
    clear(status, statusWord(s));
    clear(reason, s.status !== 'active' && s.disabledReason && !isPaused(s) ? `(${s.disabledReason})` : '');
    clear(meta, 'Endpoint ', h('span', { class: 'url' }, s.endpointUrl), ` · events: ${s.eventTypes.join(', ')} · created `,
      fmtTime(s.createdAt));
    toggle.show(s);
    del.show(s);
  };
  // A read of the log, unless a newer one is already shown.
  card.showLog = (log) => {
    if (log.at < card.logAt) return;
    card.logAt = log.at;
    drawLog(view, card, log, parts);
  };
  card.update(first);
  return card;
}
