// The overview: the partner's balance, its next payout with the reasons in words (from
// GET …/partners/{partnerId}/summary: the same figures every screen shows) and its earnings
// per day as a chart, with the same numbers as a table for screen readers and keyboards.

import { fmtMoney, h, section, svg, table } from './ui.js';

const W = 640;
const H = 160;

// Stacked bars per day: paid, approved, pending. Presentation attributes only (the CSP).
function chart(days, currency) {
  const total = (d) => Number(d.pending) + Number(d.approved) + Number(d.paid);
  const max = Math.max(1, ...days.map(total));
  const bw = W / Math.max(1, days.length);
  const bars = [];
  days.forEach((d, i) => {
    let y = H;
    for (const [key, cls] of [['paid', 'bar-paid'], ['approved', 'bar-approved'], ['pending', 'bar-pending']]) {
      const v = Math.max(0, Number(d[key]));
      const hgt = (v / max) * (H - 10);
      if (hgt > 0) {
        y -= hgt;
        bars.push(svg('rect', { x: (i * bw + 1).toFixed(1), y: y.toFixed(1), width: Math.max(1, bw - 2).toFixed(1), height: hgt.toFixed(1), class: cls }));
      }
    }
  });
  const label = `Earnings per day in ${currency}, ${days.length} days: pending, approved and paid stacked.`;
  return svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': label, class: 'earnings-chart', width: '100%' }, ...bars);
}

export function overview(summary) {
  const c = summary.currency;
  const b = summary.balance;
  const n = summary.nextPayout;
  const earned = summary.earnings.filter((d) => Number(d.pending) || Number(d.approved) || Number(d.paid));
  return [
    section('Your next payout',
      h('p', { class: 'big-number' }, fmtMoney(n.amount, c)),
      h('ul', { class: 'reasons' }, n.reasons.map((r) => h('li', {}, r)))),
    section('Your balance',
      h('dl', { class: 'figures' },
        h('dt', {}, 'Pending'), h('dd', {}, fmtMoney(b.pending, c)),
        h('dt', {}, 'Approved, not yet paid'), h('dd', {}, fmtMoney(b.approved, c)),
        h('dt', {}, 'Owed back'), h('dd', {}, fmtMoney(b.owedBack, c)))),
    section('Earnings over time',
      chart(summary.earnings, c),
      earned.length
        ? table([
          { label: 'Day', value: (d) => d.day },
          { label: 'Pending', value: (d) => fmtMoney(d.pending, c), class: 'num' },
          { label: 'Approved', value: (d) => fmtMoney(d.approved, c), class: 'num' },
          { label: 'Paid', value: (d) => fmtMoney(d.paid, c), class: 'num' },
        ], earned, 'Days with earnings')
        : h('p', {}, 'Nothing earned in these days yet.')),
  ];
}
