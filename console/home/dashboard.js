// The money dashboard (issue 62): revenue, commissions by status and payouts per day, and the
// partners by earnings, from GET …/dashboard (the figures the partner summaries and the
// balances add up to). One picture per currency, never summed. Charts are inline SVG (no
// third-party script, presentation attributes only: the CSP), each with the same numbers as a
// table; every figure opens the lines behind it (the ledger's lines, the payouts) below it.

import * as api from '../api.js';
import { term } from '../words.js';
import { clear, errorBox, field, fmtMoney, fmtTime, h, input, loading, section, svg, table } from '../ui.js';

const W = 640;
const H = 150;
const DAY = 86_400_000;

// A decimal string as a number for drawing only (the figures shown are the strings).
const num = (v) => Number(v) || 0;
const isoDay = (ms) => new Date(ms).toISOString().slice(0, 10);
// A day of the series (a UTC day, `2026-11-28`) as people read it: "Nov 28, 2026".
const dayWords = (day) => new Date(`${day}T00:00:00Z`).toLocaleDateString(undefined, { dateStyle: 'medium', timeZone: 'UTC' });

// Bars per day, `keys` stacked ([field, fill, label]); a title per bar for pointers.
function bars(series, keys, label, currency) {
  const total = (d) => keys.reduce((s, [k]) => s + Math.max(0, num(d[k])), 0);
  const max = Math.max(1, ...series.map(total));
  const bw = W / Math.max(1, series.length);
  const out = [];
  series.forEach((d, i) => {
    let y = H;
    for (const [k, fill, name] of keys) {
      const hgt = (Math.max(0, num(d[k])) / max) * (H - 10);
      if (hgt <= 0) continue;
      y -= hgt;
      out.push(svg('rect', { x: (i * bw + 1).toFixed(1), y: y.toFixed(1), width: Math.max(1, bw - 2).toFixed(1), height: hgt.toFixed(1), fill },
        svg('title', {}, `${dayWords(d.day)}: ${name} ${fmtMoney(d[k], currency)}`)));
    }
  });
  return svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': label, class: 'money-chart', width: '100%', preserveAspectRatio: 'none' },
    svg('line', { x1: 0, y1: H - 0.5, x2: W, y2: H - 0.5, stroke: '#8a8f98', 'stroke-width': 1 }), ...out);
}

// The revenue as a line over the days.
function line(series, label) {
  const max = Math.max(1, ...series.map((d) => num(d.revenue)));
  const step = W / Math.max(1, series.length - 1);
  const points = series.map((d, i) => `${(i * step).toFixed(1)},${(H - 5 - (Math.max(0, num(d.revenue)) / max) * (H - 15)).toFixed(1)}`);
  return svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': label, class: 'money-chart', width: '100%', preserveAspectRatio: 'none' },
    svg('line', { x1: 0, y1: H - 0.5, x2: W, y2: H - 0.5, stroke: '#8a8f98', 'stroke-width': 1 }),
    svg('polyline', { points: points.join(' '), fill: 'none', stroke: '#1f6feb', 'stroke-width': 2, 'vector-effect': 'non-scaling-stroke' }));
}

// Σ of a field over the days, exactly (decimal strings summed in minor units, never floats).
function sum(series, key, currency) {
  let scale = 0;
  for (const d of series) scale = Math.max(scale, (String(d[key]).split('.')[1] || '').length);
  let minor = 0n;
  for (const d of series) {
    const [i, f = ''] = String(d[key]).replace('-', '').split('.');
    const v = BigInt(i) * 10n ** BigInt(scale) + BigInt((f + '0'.repeat(scale)).slice(0, scale) || '0');
    minor += String(d[key]).startsWith('-') ? -v : v;
  }
  const neg = minor < 0n;
  const digits = (neg ? -minor : minor).toString().padStart(scale + 1, '0');
  const text = scale ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}` : digits;
  return fmtMoney(`${neg ? '-' : ''}${text}`, currency);
}

// The lines behind a figure, shown in `out`: the ledger's lines (by status, day, partner) or
// the payouts of the window.
async function showCommissions(out, title, params, currency) {
  clear(out, loading());
  try {
    // The ledger's filters take RFC 3339 times: the days' first and last millisecond (UTC).
    const q = { limit: 100, ...params, from: `${params.from}T00:00:00Z`, to: `${params.to}T23:59:59.999Z` };
    // "Pending" on the dashboard holds the lines on hold too: both are listed.
    const statuses = q.status === 'pending' ? ['pending', 'held'] : [q.status];
    const pages = await Promise.all(statuses.map((status) => api.get(api.handlePath('/commissions') + api.query({ ...q, status }))));
    const r = { items: pages.flatMap((p) => p.items), nextCursor: pages.some((p) => p.nextCursor) };
    const rows = r.items.filter((c) => c.currency === currency);
    clear(out, section(title,
      rows.length
        ? table([
          { label: 'Created', value: (c) => fmtTime(c.createdAt) },
          { label: 'Partner', value: (c) => c.partnerId },
          { label: 'Kind', value: (c) => term(c.kind) },
          { label: 'Status', value: (c) => term(c.status) },
          { label: 'Amount', value: (c) => fmtMoney(c.amount, c.currency), class: 'num' },
          { label: 'Sale', value: (c) => (c.value ? fmtMoney(c.value, c.valueCurrency) : '–'), class: 'num' },
        ], rows, title)
        : h('p', {}, 'No lines here.'),
      r.nextCursor ? h('p', { class: 'hint' }, 'The first 100 lines; the Commissions screen lists them all.') : null));
  } catch (e) {
    clear(out, errorBox(e));
  }
}

async function showPayouts(out, from, to, currency) {
  clear(out, loading());
  try {
    const r = await api.get(api.handlePath('/payouts') + api.query({ limit: 100 }));
    const rows = r.items.filter((p) => p.currency === currency && p.createdAt.slice(0, 10) >= from && p.createdAt.slice(0, 10) <= to);
    clear(out, section(`Payouts made, ${dayWords(from)} to ${dayWords(to)}`,
      rows.length
        ? table([
          { label: 'Made', value: (p) => fmtTime(p.createdAt) },
          { label: 'Partner', value: (p) => p.partnerId },
          { label: 'Status', value: (p) => term(p.status) },
          { label: 'Amount', value: (p) => fmtMoney(p.amount, p.currency), class: 'num' },
        ], rows, 'Payouts made')
        : h('p', {}, 'No payout was made in these days.')));
  } catch (e) {
    clear(out, errorBox(e));
  }
}

// A figure as a button that opens the lines behind it.
function figure(text, label, open) {
  // The accessible name starts with the figure people see (axe: label-content-name-mismatch).
  const b = h('button', { type: 'button', class: 'link-button', 'aria-label': `${text}: ${label}` }, text);
  b.addEventListener('click', open);
  return b;
}

function picture(p, from, to) {
  const c = p.currency;
  const s = p.series;
  const out = h('div', { class: 'drill', 'aria-live': 'polite' });
  const lines = (title, params) => () => showCommissions(out, title, { from, to, ...params }, c);
  const payouts = () => showPayouts(out, from, to, c);
  const totals = h('dl', { class: 'figures' },
    h('dt', {}, 'Revenue from partners'), h('dd', {}, figure(sum(s, 'revenue', c), `Revenue in ${c}: the sales behind it`, lines('Sales that earned a commission', { kind: 'conversion' }))),
    h('dt', {}, 'Commissions pending'), h('dd', {}, figure(sum(s, 'commissionsPending', c), `Pending commissions in ${c}: the lines`, lines('Pending commissions', { status: 'pending' }))),
    h('dt', {}, 'Commissions approved'), h('dd', {}, figure(sum(s, 'commissionsApproved', c), `Approved commissions in ${c}: the lines`, lines('Approved commissions', { status: 'approved' }))),
    h('dt', {}, 'Commissions paid'), h('dd', {}, figure(sum(s, 'commissionsPaid', c), `Paid commissions in ${c}: the lines`, lines('Paid commissions', { status: 'paid' }))),
    h('dt', {}, 'Payouts made'), h('dd', {}, figure(sum(s, 'payouts', c), `Payouts in ${c}: the payouts`, payouts)));
  const active = s.filter((d) => ['revenue', 'commissionsPending', 'commissionsApproved', 'commissionsPaid', 'payouts'].some((k) => num(d[k])));
  const dayLines = (d, status) => () => showCommissions(out, `${dayWords(d.day)}: ${status} commissions`, { from: d.day, to: d.day, status }, c);
  const n = s.length;
  return section(`Money in ${c}`,
    totals,
    h('p', { class: 'hint' }, 'Pending includes lines on hold; approved is net of what partners owe back. Select a figure to see the lines behind it.'),
    h('h3', {}, 'Revenue'),
    line(s, `Revenue from partners per day in ${c}, ${n} days.`),
    h('h3', {}, 'Commissions'),
    bars(s, [['commissionsPaid', '#2da44e', 'paid'], ['commissionsApproved', '#1f6feb', 'approved'], ['commissionsPending', '#d4a72c', 'pending']],
      `Commissions per day in ${c}, ${n} days: paid, approved and pending stacked.`, c),
    h('ul', { class: 'legend' }, [['#2da44e', 'Paid'], ['#1f6feb', 'Approved'], ['#d4a72c', 'Pending']].map(([fill, name]) =>
      h('li', {}, svg('svg', { viewBox: '0 0 10 10', width: 12, height: 12, 'aria-hidden': 'true' }, svg('rect', { width: 10, height: 10, fill })), ` ${name}`))),
    h('h3', {}, 'Payouts'),
    bars(s, [['payouts', '#6e40c9', 'payouts']], `Payouts made per day in ${c}, ${n} days.`, c),
    h('h3', {}, 'Top partners by earnings'),
    p.topPartners.length
      ? table([
        { label: 'Partner', value: (t) => t.name },
        { label: 'Earned', value: (t) => figure(fmtMoney(t.earned, c), `${t.name}'s lines`, lines(`${t.name}'s commissions`, { partnerId: t.partnerId })), class: 'num' },
      ], p.topPartners, `Top partners in ${c}`)
      : h('p', {}, 'No partner has earned in these days yet.'),
    active.length
      ? table([
        { label: 'Day (UTC)', value: (d) => dayWords(d.day) },
        { label: 'Revenue', value: (d) => fmtMoney(d.revenue, c), class: 'num' },
        { label: 'Pending', value: (d) => figure(fmtMoney(d.commissionsPending, c), `${dayWords(d.day)}: pending lines`, dayLines(d, 'pending')), class: 'num' },
        { label: 'Approved', value: (d) => figure(fmtMoney(d.commissionsApproved, c), `${dayWords(d.day)}: approved lines`, dayLines(d, 'approved')), class: 'num' },
        { label: 'Paid', value: (d) => figure(fmtMoney(d.commissionsPaid, c), `${dayWords(d.day)}: paid lines`, dayLines(d, 'paid')), class: 'num' },
        { label: 'Payouts', value: (d) => fmtMoney(d.payouts, c), class: 'num' },
      ], active, `Days with money in ${c}`)
      : h('p', {}, 'Nothing in these days yet.'),
    out);
}

// Renders the dashboard into `el`: a window (the last 30 days by default) and its pictures.
export async function render(el) {
  const now = Date.now();
  const from = input('from', { type: 'date', value: isoDay(now - 29 * DAY), required: true });
  const to = input('to', { type: 'date', value: isoDay(now), required: true });
  const body = h('div', {});
  const apply = h('button', { type: 'submit' }, 'Show');
  const f = h('form', { class: 'inline', 'aria-label': 'Days shown' },
    field('From', from), field('To', to, 'At most 366 days.'), apply);
  async function load() {
    clear(body, loading());
    try {
      const d = await api.get(api.handlePath('/dashboard') + api.query({ from: from.value, to: to.value }));
      clear(body, picture(d, from.value, to.value), ...d.otherCurrencies.map((p) => picture(p, from.value, to.value)));
    } catch (e) {
      clear(body, errorBox(e));
    }
  }
  f.addEventListener('submit', (e) => { e.preventDefault(); load(); });
  clear(el, h('h1', {}, 'Money'), f, body);
  await load();
}
