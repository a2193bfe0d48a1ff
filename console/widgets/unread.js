// How many partners' messages the program has not opened (`GET …/message-threads`, each
// thread's `unread`), beside Partners in the navigation. Read again on every screen change and
// after a thread is read (`refresh`), so the count never outlives the messages it counted.

import * as api from '../api.js';
import * as session from '../session.js';
import { NEEDS } from '../session.js';
import { h } from '../ui.js';

let count = 0;
const badges = new Set();

// The number shown (hidden from screen readers, which hear the words beside it).
function paint(wrap) {
  const [num, words] = wrap.children;
  num.textContent = count ? String(count) : '';
  num.hidden = !count;
  words.textContent = count ? ` (${count} unread ${count === 1 ? 'message' : 'messages'})` : '';
}

// The threads' unread counts (none for a caller who may not read them).
export async function threads() {
  if (!session.allows(NEEDS.commissionsRead)) return [];
  const r = await api.request('GET', api.handlePath('/message-threads'));
  return r.ok ? r.data.items : [];
}

// Reads the counts again and repaints every badge on screen.
export async function refresh() {
  const items = await threads();
  count = items.reduce((n, t) => n + (t.unread || 0), 0);
  for (const el of badges) {
    if (el.isConnected) paint(el);
    else badges.delete(el);
  }
}

// A badge for the navigation (empty while nothing is unread); the count is read anew.
export function badge() {
  const wrap = h('span', { class: 'unread' },
    h('span', { class: 'unread-badge', 'aria-hidden': 'true', hidden: true }),
    h('span', { class: 'visually-hidden' }));
  badges.add(wrap);
  paint(wrap);
  refresh().catch(() => {});
  return wrap;
}
