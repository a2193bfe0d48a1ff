// Webhooks (LM-04 … LM-06): the screen. One live feed (`live`, every 10 s while the page is
// visible) reads the subscriptions and the notifications (two requests, whatever the number of
// subscriptions), draws the cards (card.js) and the notifications panel
// (panel.js, whose counts come with the notifications). A card's delivery log is read
// only while the card is on screen (an IntersectionObserver): in the same refresh, at once when
// it scrolls into view with an older read, and right after an action on it (a test, a resend, a
// recovery); a card off screen keeps its last read and says when that was.

import * as api from '../api.js';
import * as session from '../session.js';
import { NEEDS } from '../session.js';
import { busy, clear, empty, errorBox, field, h, live, loading, notice, section, select } from '../ui.js';
import { subscriptionCard } from './card.js';
import { createForm } from './form.js';
import { readLog } from './log.js';
import { chooser, keepFocus, notifications } from './panel.js';
import { labelsOf } from './words.js';

const EVERY_MS = 10000;
// After an action, the card's log is read in the next refreshes even off screen, for this long.
const URGENT_MS = 6000;

function layout(main, view, secretBox) {
  main.append(
    h('div', { class: 'title-row' }, h('h1', { tabindex: '-1' }, 'Webhooks'), view.refreshButton),
    h('p', {}, 'Every matching event is POSTed to your endpoint, signed per Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature).'),
    section('LM-05 · New subscription', createForm(view, secretBox), secretBox),
    section('Subscriptions',
      h('p', { class: 'hint' }, 'Each card\'s health comes from its delivery log (its latest 100 attempts, kept 30 days), read while the card is on screen.'),
      view.subsOut, view.subsBody),
    section('Notifications',
      h('p', { class: 'hint' }, 'Every subscription\'s deliveries as the server counts them, since it was created: each attempt is counted as it ends (a delivery that failed and succeeded on a resend counts in both columns). Read every 10 s, with the failed deliveries.'),
      h('div', { class: 'grid notes-filter' }, field('Failed deliveries of', view.choose)),
      view.notesMsg, view.notesOut));
}

export async function render(main) {
  const view = {
    canWrite: session.allows(NEEDS.webhooksWrite), everyMs: EVERY_MS, loads: 0,
    subsBody: h('div', { id: 'subscriptions' }, loading('Loading subscriptions…')),
    subsOut: h('div', { 'aria-live': 'polite', class: 'subs-out' }),
    notesOut: h('div', { id: 'notifications-live' }),
    notesMsg: h('div', { 'aria-live': 'polite', id: 'notifications-out' }),
    choose: select('subscription', [['', 'All subscriptions']], ''),
    refreshButton: h('button', { type: 'button', class: 'secondary', id: 'webhooks-refresh' }, 'Refresh'),
    cards: new Map(), labels: new Map(), urgent: new Map(), drawn: false,
    deleting: new Set(), reads: new Map(),
    refresh: () => {}, soon: () => {}, removed: () => {},
  };
  // A subscription being deleted is not read again, and its delete waits for the reads already
  // under way (a read answered after the delete would be a 404 for a card that is gone).
  view.quiet = async (id) => {
    view.deleting.add(id);
    await Promise.allSettled(view.reads.get(id) || []);
  };
  view.kept = (id) => view.deleting.delete(id);
  layout(main, view, h('div', { 'aria-live': 'polite' }));
  if (!session.allows(NEEDS.webhooksRead)) {
    clear(view.subsBody, notice('info', session.reason(NEEDS.webhooksRead)));
    clear(view.notesOut, notice('info', session.reason(NEEDS.webhooksRead)));
    return;
  }
  view.observer = new IntersectionObserver((entries) => seen(view, entries), { rootMargin: '100px 0px' });
  const feed = live(view.notesOut, () => loadAll(view), (data) => draw(view, data), EVERY_MS);
  view.refresh = () => feed.refresh();
  // After a change the server carries out a moment later (a queued send): now, then again.
  view.soon = (id) => {
    if (id) view.urgent.set(id, Date.now() + URGENT_MS);
    feed.refresh();
    for (const ms of [1500, 4000]) setTimeout(() => { if (view.notesOut.isConnected) feed.refresh(); }, ms);
  };
  view.removed = (id, label) => {
    clear(view.subsOut, notice('ok', `Deleted “${label}”.`));
    forget(view, id);
    feed.refresh();
  };
  view.choose.addEventListener('change', () => feed.refresh());
  view.refreshButton.addEventListener('click', () => busy(view.refreshButton, null, () => feed.refresh()));
  await feed.first;
}

// A card's log read, known to the view while under way.
function readOwn(view, id) {
  const read = readLog(id);
  const reads = view.reads.get(id) || new Set();
  reads.add(read);
  view.reads.set(id, reads);
  read.finally(() => reads.delete(read));
  return read;
}

// Whether this refresh reads a subscription's log: its card is on screen, or it was just acted on.
function wantsLog(view, id) {
  if (view.deleting.has(id)) return false;
  const card = view.cards.get(id);
  if (card && card.visible) return true;
  const until = view.urgent.get(id);
  if (until && until < Date.now()) view.urgent.delete(id);
  return Boolean(until && until >= Date.now());
}

// One snapshot: the subscriptions and the notifications, and the logs of the cards on screen. A
// log that cannot be read is shown on its card; the rest still draws.
async function loadAll(view) {
  const seq = ++view.loads;
  try {
    const [subs, notes] = await Promise.all([
      api.get(api.handlePath('/webhooks') + api.query({ limit: 100 })),
      api.get(api.handlePath('/notifications') + api.query({ limit: 50 })),
    ]);
    const ids = subs.items.map((s) => s.subscriptionId).filter((id) => wantsLog(view, id));
    const logs = await Promise.all(ids.map((id) => readOwn(view, id)));
    return { seq, subs: subs.items, notes, logs: new Map(ids.map((id, i) => [id, logs[i]])) };
  } catch (err) {
    if (!view.drawn) clear(view.subsBody, errorBox(err));
    throw err;
  }
}

// Cards scrolling into or out of view; one that comes into view with an older read reads its
// log at once.
function seen(view, entries) {
  if (!view.subsBody.isConnected) {
    if (view.attached) view.observer.disconnect(); // the screen was left (it is drawn detached first)
    return;
  }
  view.attached = true;
  for (const e of entries) {
    const card = view.cards.get(e.target.dataset.subscription);
    if (!card) continue;
    card.visible = e.isIntersecting;
    if (card.visible && Date.now() - card.logAt >= EVERY_MS && !card.reading && !view.deleting.has(card.id)) {
      card.reading = true;
      readOwn(view, card.id).then((log) => {
        card.reading = false;
        if (view.cards.get(card.id) === card) card.showLog(log);
      });
    }
  }
}

function forget(view, id) {
  const card = view.cards.get(id);
  if (!card) return;
  view.observer.unobserve(card.el);
  card.el.remove();
  view.cards.delete(id);
}

// Draws the cards (kept between refreshes: their fields, outcomes and focus stay) and returns the
// notifications panel for `live` to put on screen.
function draw(view, data) {
  if (view.last && data.seq < view.last.seq) return view.panel; // an older answer that came late
  view.last = data;
  view.drawn = true;
  view.labels = labelsOf(data.subs);
  const ids = data.subs.map((s) => s.subscriptionId);
  for (const id of [...view.cards.keys()]) if (!ids.includes(id)) forget(view, id);
  for (const s of data.subs) {
    let card = view.cards.get(s.subscriptionId);
    if (!card) {
      card = subscriptionCard(view, s);
      view.cards.set(s.subscriptionId, card);
      view.observer.observe(card.el);
    }
    card.update(s);
    if (data.logs.has(s.subscriptionId)) card.showLog(data.logs.get(s.subscriptionId));
  }
  const order = ids.map((id) => view.cards.get(id).el);
  const shown = [...view.subsBody.children];
  if (!order.length) clear(view.subsBody, empty('No subscription yet: create one above, then send it a test event.'));
  else if (order.length !== shown.length || order.some((el, i) => el !== shown[i])) clear(view.subsBody, order);
  chooser(view, data.subs);
  view.panel = keepFocus(view.panel, notifications(view, data.notes));
  return view.panel;
}
