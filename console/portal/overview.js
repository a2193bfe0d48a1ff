// The overview: the partner's balance, its next payout with the reasons in words (from
// GET …/partners/{partnerId}/summary: the same figures every screen shows), its earnings
// per day as a chart, with the same numbers as a table for screen readers and keyboards, and
// over the same days its clicks and sales and its top links by clicks and by earnings (the
// summary's `traffic`: the funnel's counts, the ledger's earnings per link).

import { fmtMoney, h, section, svg, table } from '../ui.js';

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

const count = (n, one, many) => `${n.toLocaleString()} ${n === 1 ? one : many}`;

// Clicks → sales in words: "12 clicks (10 by people) brought 3 sales in these 30 days: 30% of
// the clicks by people became a sale." `whose`: whose links they are ("your" here; the console
// names the partner).
export function traffic(t, days, whose = 'your') {
  const period = `in these ${days} days`;
  if (!t.clicks && !t.conversions) return h('p', {}, `No clicks on ${whose} links ${period} yet.`);
  const people = t.qualifiedClicks === t.clicks ? '' : ` (${t.qualifiedClicks.toLocaleString()} by people)`;
  const percent = (r) => new Intl.NumberFormat(undefined, { style: 'percent', maximumFractionDigits: 1 }).format(r);
  const rate = t.conversionRate === null ? '' : `: ${percent(t.conversionRate)} of the clicks${people ? ' by people' : ''} became a sale`;
  return [
    h('dl', { class: 'figures traffic' },
      h('dt', {}, 'Clicks'), h('dd', {}, t.clicks.toLocaleString()),
      h('dt', {}, 'Sales'), h('dd', {}, t.conversions.toLocaleString()),
      t.conversionRate === null ? null : [h('dt', {}, 'Conversion rate'), h('dd', {}, percent(t.conversionRate))]),
    h('p', { class: 'traffic-words' }, `${count(t.clicks, 'click', 'clicks')}${people} brought ${count(t.conversions, 'sale', 'sales')} ${period}${rate}.`),
  ];
}

// The row of what sales earned through lines recorded before lines carried their link: in no
// link's figures, so without it the links would not add up to what the sales earned.
export const BEFORE_LINKS = 'Sales before links were recorded';

// One ranking of the partner's links: its short address (the slug when it is not one of the
// links listed), clicks, sales and what it earned (`earnedLabel`: "You earned" here).
function ranking(rows, caption, currency, shortUrls, earnedLabel) {
  const n = (v) => (v === null ? '–' : v.toLocaleString());
  return table([
    { label: 'Link', value: (l) => (l.slug === null ? BEFORE_LINKS : shortUrls.get(l.slug) || l.slug) },
    { label: 'Clicks', value: (l) => n(l.clicks), class: 'num' },
    { label: 'Sales', value: (l) => n(l.conversions), class: 'num' },
    { label: earnedLabel, value: (l) => fmtMoney(l.earned, currency), class: 'num' },
  ], rows, caption);
}

// `words`: how the screen says it ({whose: 'your', earned: 'You earned'} in the portal).
export function topLinks(top, currency, shortUrls, words = { whose: 'your', earned: 'You earned' }) {
  const before = top.earnedBeforeLinks ? [{ slug: null, clicks: null, conversions: null, earned: top.earnedBeforeLinks }] : [];
  const Whose = words.whose[0].toUpperCase() + words.whose.slice(1);
  if (!top.byClicks.length && !top.byEarnings.length && !before.length) return h('p', {}, `${Whose} links have no clicks or earnings in these days yet.`);
  const earned = [...top.byEarnings, ...before];
  return [
    top.byClicks.length ? ranking(top.byClicks, 'Most clicked', currency, shortUrls, words.earned) : h('p', {}, 'No clicks in these days yet.'),
    earned.length ? ranking(earned, 'Most earned', currency, shortUrls, words.earned) : h('p', {}, 'Nothing earned through a link in these days yet.'),
  ];
}

// Where people click the partner's links from and on what, over the summary's days: the
// analytics breakdowns (the API keeps a partner to its own campaigns), the most clicks first,
// five of each. Clicks only: a sale carries its click's country and kind of device, not these.
const PLACES = [['country', 'Countries', 'Country'], ['city', 'Cities', 'City'], ['os', 'Systems', 'System'], ['browser', 'Browsers', 'Browser']];
const TOP = 5;

function placeName(groupBy, key) {
  if (key === 'unknown') return 'Not known';
  if (groupBy === 'city' && key === 'other') return 'Other cities';
  if (groupBy === 'country' && /^[A-Z]{2}$/.test(key)) {
    try { return new Intl.DisplayNames(undefined, { type: 'region' }).of(key) || key; } catch { return key; }
  }
  return key;
}

// `get`: an API reader; `base`: the handle's path; `days`: the summary's earnings; `partnerId`
// (the console's partner page) narrows a manager's reports to that partner, as a partner's are.
// The lists and their words, without a heading (`null` without clicks): the caller heads them.
export async function visitors(get, base, days, { partnerId = null, whose = 'Your' } = {}) {
  if (!days.length) return null;
  const narrow = partnerId ? `&partnerId=${encodeURIComponent(partnerId)}` : '';
  const window = `from=${days[0].day}&to=${days[days.length - 1].day}${narrow}`;
  const reports = await Promise.all(PLACES.map(([g]) => get(`${base}/analytics?groupBy=${g}&${window}`)));
  if (!reports[0].totals.clicks) return null;
  const lists = PLACES.map(([g, caption, label], i) => table([
    { label, value: (r) => placeName(g, r.key) },
    { label: 'Clicks', value: (r) => r.clicks.toLocaleString(), class: 'num' },
  ], reports[i].rows.filter((r) => r.clicks > 0).slice(0, TOP), caption));
  return [
    h('p', { class: 'hint' }, `${whose} links' clicks in these ${days.length} days, the most first. A city is known only where the network that carried the click named it.`),
    h('div', { class: 'visitor-lists' }, lists)];
}

export const VISITORS_HEADING = 'Where and on what people click';

// `links`: the partner's links (`{slug, shortUrl}`), to name each by its address.
export function overview(summary, links = []) {
  const shortUrls = new Map(links.map((l) => [l.slug, l.shortUrl]));
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
    section('Clicks and sales', traffic(summary.traffic, summary.earnings.length)),
    section('Your top links', topLinks(summary.traffic.topLinks, c, shortUrls)),
  ];
}
