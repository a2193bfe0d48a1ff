// Partners (issue 62): every partner of the handle, searchable (name, email or id) and sortable
// by a column header (a button: keyboard and screen readers work; `aria-sort` says the order),
// each name opening the partner's page; unread messages beside the partner who wrote; and the
// form to add a partner by hand (applications come through the Program page).

import * as api from '../api.js';
import * as session from '../session.js';
import { NEEDS } from '../session.js';
import * as unread from '../widgets/unread.js';
import { forget, partners } from '../widgets/partner_link.js';
import { riskCell } from '../commissions/ledger.js';
import { gateForm } from '../commissions/review.js';
import {
  clear, empty, field, fmtTime, form, h, input, loading, notice, section, table,
} from '../ui.js';
import { term } from '../words.js';

const COLUMNS = [
  ['name', 'Name', (p) => (p.name || '').toLowerCase()],
  ['status', 'Status', (p) => p.status],
  ['email', 'Email', (p) => (p.email || '').toLowerCase()],
  ['createdAt', 'Joined', (p) => p.createdAt],
  ['unread', 'Unread messages', (p) => p.unread],
];

export async function render(main) {
  const list = h('div', { id: 'partner-list' }, loading('Loading partners…'));
  const add = h('div', {});
  main.append(
    h('h1', { tabindex: '-1' }, 'Partners'),
    h('p', {}, 'Everyone who promotes you. Open a partner for its links, plan, earnings, payouts, messages and claims.'),
    section('All partners', list),
    section('Add a partner by hand', add));
  if (!session.allows(NEEDS.commissionsRead)) {
    clear(list, notice('info', session.reason(NEEDS.commissionsRead)));
    return;
  }
  clear(add, partnerForm(() => load(list)));
  await load(list);
}

async function load(list) {
  forget();
  const [all, threads] = await Promise.all([partners(), unread.threads()]);
  const waiting = new Map(threads.map((t) => [t.partnerId, t.unread || 0]));
  const rows = [...all.values()].map((p) => ({ ...p, unread: waiting.get(p.partnerId) || 0 }));
  if (!rows.length) {
    clear(list, empty('No partners yet. Approve an application on the Program page, or add one below.'));
    return;
  }
  const state = { q: '', sort: 'name', dir: 1 };
  const search = input('q', { type: 'search', placeholder: 'Name, email or id' });
  const count = h('p', { class: 'hint', 'aria-live': 'polite' });
  const results = h('div', {});
  const risks = new Map();
  const draw = () => {
    const q = state.q.toLowerCase();
    const key = COLUMNS.find(([k]) => k === state.sort)[2];
    const shown = rows
      .filter((p) => !q || [p.name, p.email, p.partnerId].some((x) => (x || '').toLowerCase().includes(q)))
      .sort((a, b) => (key(a) < key(b) ? -state.dir : key(a) > key(b) ? state.dir : 0));
    count.textContent = `${shown.length} of ${rows.length} partners`;
    clear(results, shown.length ? sortable(shown, state, draw, risks) : empty(`No partner matches “${state.q}”.`));
  };
  search.addEventListener('input', () => { state.q = search.value.trim(); draw(); });
  clear(list, field('Search partners', search), count, results);
  draw();
}

function sortable(rows, state, draw, risks) {
  const t = table([
    { label: 'Name', value: (p) => h('a', { href: `#/partners/${encodeURIComponent(p.partnerId)}`, title: p.partnerId }, p.name || p.partnerId) },
    { label: 'Status', value: (p) => term(p.status, `status ${p.status === 'active' ? 'approved' : 'held'}`) },
    { label: 'Email', value: (p) => p.email || '–' },
    { label: 'Joined', value: (p) => fmtTime(p.createdAt) },
    { label: 'Unread messages', value: (p) => (p.unread ? h('strong', {}, String(p.unread)) : '–'), class: 'num' },
    { label: 'Risk', value: (p) => riskCell(p.partnerId, risks) },
  ], rows, 'Partners');
  // Each sortable header becomes a button; the risk column is read per partner, not sorted.
  t.querySelectorAll('thead th').forEach((th, i) => {
    const col = COLUMNS[i];
    if (!col) return;
    const [k, label] = col;
    const on = state.sort === k;
    th.setAttribute('aria-sort', on ? (state.dir > 0 ? 'ascending' : 'descending') : 'none');
    const b = h('button', { type: 'button', class: 'sort', 'data-sort': k }, label, on ? (state.dir > 0 ? ' ▲' : ' ▼') : '');
    b.addEventListener('click', () => {
      state.dir = on ? -state.dir : 1;
      state.sort = k;
      draw();
      document.querySelector(`button[data-sort="${k}"]`)?.focus();
    });
    th.replaceChildren(b);
  });
  return t;
}

function partnerForm(done) {
  const f = form({ id: 'partner-form', 'aria-label': 'New partner' }, [
    h('div', { class: 'grid' },
      field('Name', input('name', { placeholder: 'Publisher One' })),
      field('Email (optional)', input('email', { type: 'email' }), 'Where its mail and your messages go.')),
    // The id is made from the name (issue 62); an engineer matching another system may set it.
    h('details', { class: 'partner-id' },
      h('summary', {}, 'Choose its id yourself (optional)'),
      field('Partner id', input('partnerId', { placeholder: 'made from the name' }),
        'Only to match an id of another system: lowercase letters, digits, hyphens and underscores.'))],
    'Add the partner',
    async (el) => {
      const v = (n) => el.querySelector(`[name=${n}]`).value.trim();
      const partner = { name: v('name') };
      if (v('partnerId')) partner.partnerId = v('partnerId');
      if (v('email')) partner.email = v('email');
      const created = await api.post(api.handlePath('/partners'), partner);
      await done();
      clear(el.querySelector('.form-out'), notice('ok', 'Added ', h('a', { href: `#/partners/${encodeURIComponent(created.partnerId)}` }, created.name), '.'));
    });
  return gateForm(f, NEEDS.commissionsWrite);
}
