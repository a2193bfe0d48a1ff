// The audit log screen (issue 60): who did what, newest first, filtered by who (a kind of
// actor, or one person), what and when, exported as CSV. People are named by their email (the
// team's list), never by an id to type. Admins and operators.

import * as api from '../api.js';
import * as session from '../session.js';
import { targetWords } from '../widgets/people.js';
import {
  clear, download, empty, errorBox, field, fmtTime, form, h, input, loading, notice, section, select, table,
} from '../ui.js';

const READ = { role: 'operator', scope: null, what: 'The audit log' };

const ACTORS = {
  '': 'anyone', user: 'people', jwt: 'signed tokens', pat: 'personal access tokens',
  partner_user: 'partners\' people', partner_token: 'partner tokens', provider: 'providers', system: 'the system',
};

export async function render(main) {
  main.append(h('h1', { tabindex: '-1' }, 'Audit log'),
    h('p', {}, 'Every change, with who made it and when, kept two years.'));
  if (!session.allows(READ) || session.get().kind === 'pat') {
    main.append(notice('info', session.reason(READ)));
    return;
  }
  const people = await names();
  const body = h('div', { id: 'audit-list' }, loading('Loading the log…'));
  const f = filterForm(body, people);
  main.append(section('Filter', f), section('Entries', body));
  await load(body, {}, people);
}

// userId → how people read them (their email), from the team's list.
async function names() {
  const r = await api.request('GET', api.handlePath('/members'));
  const map = new Map();
  if (r.ok) for (const m of r.data.items) map.set(m.userId, m.name || m.email);
  return map;
}

function actorName(a, people) {
  if (a.type === 'user') return people.get(a.id) || 'a former member';
  if (a.type === 'system') return 'the system';
  const kind = ONE[a.type] || String(a.type).replace(/_/g, ' ');
  // A token's or a partner's person's id (`tok_…`, `usr_…`) names nobody a person knows: the
  // kind says who; a name (the console's `console-local`, a provider's `paypal`) is kept.
  return /^[a-z]+_[0-9a-f]{32}$/.test(a.id) ? `a ${kind}` : `${kind} ${a.id}`;
}

// One actor of each kind, as the Who column names it.
const ONE = {
  jwt: 'signed token', pat: 'personal access token', partner_user: "partner's person",
  partner_token: 'partner token', provider: 'provider',
};

function filterForm(body, people) {
  const who = select('who', Object.entries(ACTORS), '');
  for (const [id, name] of people) who.append(h('option', { value: `user:${id}` }, name));
  // What was done, picked in words from the actions the log holds (`load` adds each it shows;
  // the value stays the action, for the API).
  const action = select('action', [['', 'anything']], '');
  body.actionList = action;
  const from = input('from', { type: 'date' });
  const to = input('to', { type: 'date' });
  const params = () => {
    const w = who.value;
    const p = { action: action.value.trim() };
    if (w.startsWith('user:')) Object.assign(p, { actorType: 'user', actorId: w.slice(5) });
    else if (w) p.actorType = w;
    if (from.value) p.from = `${from.value}T00:00:00Z`;
    if (to.value) p.to = `${to.value}T23:59:59Z`;
    return p;
  };
  const exportButton = h('button', { type: 'button', class: 'secondary', id: 'audit-export' }, 'Export as CSV');
  exportButton.addEventListener('click', async () => {
    const r = await api.request('GET', api.handlePath('/audit/export') + api.query(params()));
    if (!r.ok) return clear(body, errorBox(r.error));
    download(`audit-${session.get().handle}.csv`, r.text, 'text/csv');
  });
  const el = form({ id: 'audit-filter', 'aria-label': 'Filter the audit log' },
    h('div', { class: 'grid' }, field('Who', who), field('Action', action), field('From', from), field('To', to)),
    'Show',
    () => load(body, params(), people));
  el.querySelector('.actions').append(exportButton);
  return el;
}

async function load(body, params, people) {
  const r = await api.request('GET', api.handlePath('/audit') + api.query({ ...params, limit: 100 }));
  if (!r.ok) return clear(body, errorBox(r.error));
  if (!r.data.items.length) return clear(body, empty('Nothing recorded for this filter.'));
  offerActions(body.actionList, r.data.items);
  clear(body, table([
    { label: 'When', value: (e) => fmtTime(e.at) },
    { label: 'Who', value: (e) => actorName(e.actor, people) },
    { label: 'What', value: (e) => h('span', { 'data-action': e.action }, e.action.replace(/[._]/g, ' ')) },
    { label: 'On', value: (e) => targetWords(e.target) },
  ], r.data.items, 'Audit entries'));
}

// Each action of `entries` offered in the filter's "Action" `list`, in words, once.
function offerActions(list, entries) {
  if (!list) return;
  const have = new Set([...list.options].map((o) => o.value));
  for (const e of entries) {
    if (have.has(e.action)) continue;
    have.add(e.action);
    list.append(h('option', { value: e.action }, e.action.replace(/[._]/g, ' ')));
  }
}
