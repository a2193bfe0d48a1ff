// Sub-ids on the portal's Links tab: a partner tags one of its links for a placement (`sub1`,
// and `sub2` if it splits further: a video, a newsletter issue), gets the tagged address with
// its QR code to copy or print, and reads its clicks and sales per `sub1` (the analytics
// report, narrowed by the API to the partner's own campaigns). The tags travel with the click
// to the sale and its commission (docs/api.md: `sub1` … `sub5`).

import * as api from './api.js';
import { qrSvg } from '../widgets/qr.js';
import { clear, copyButton, field, fmtAmounts, h, input, section, select, table } from '../ui.js';

// The link with its tags in the query (a tag already there is replaced, empty ones left out).
export function tagged(shortUrl, tags) {
  const u = new URL(shortUrl);
  for (const [name, value] of Object.entries(tags)) {
    const v = value.trim();
    if (v) u.searchParams.set(name, v);
    else u.searchParams.delete(name);
  }
  return u.toString();
}

// A link's QR code on demand: a button that shows it (and hides it again), so a list of links
// stays a list on a phone.
export function qrOnDemand(url) {
  const holder = h('div', { hidden: true });
  const b = h('button', { type: 'button', class: 'secondary', 'aria-expanded': 'false', 'aria-label': `Show the QR code of ${url}` }, 'QR code');
  b.addEventListener('click', () => {
    const open = holder.hidden;
    if (open && !holder.firstChild) holder.append(qrSvg(url, { label: `QR code of ${url}` }));
    holder.hidden = !open;
    b.setAttribute('aria-expanded', String(open));
  });
  return [b, holder];
}

function builder(items) {
  const link = select('link', items.map((l) => [l.shortUrl, l.shortUrl]), items[0].shortUrl);
  const sub1 = input('sub1', { maxlength: '100', placeholder: 'youtube' });
  const sub2 = input('sub2', { maxlength: '100' });
  const out = h('div', { class: 'link-card', 'aria-live': 'polite' });
  const show = () => {
    const url = tagged(link.value, { sub1: sub1.value, sub2: sub2.value });
    const [qr, code] = qrOnDemand(url);
    clear(out,
      h('p', { class: 'link-row' }, h('code', { class: 'tagged-url' }, url), copyButton(() => url, 'Copy', 'Copy the tagged link'), qr),
      code);
  };
  for (const el of [link, sub1, sub2]) el.addEventListener('input', show);
  link.addEventListener('change', show);
  show();
  return h('form', { class: 'subid-form', onsubmit: (e) => e.preventDefault() },
    field('Which link', link),
    field('Where you place it (sub1)', sub1, 'A word for the placement: youtube, newsletter-12, … Sales through it are counted under it.'),
    field('A finer split (sub2, optional)', sub2),
    out);
}

// Clicks and sales per sub1 over the last 30 days.
async function bySubId(base) {
  const to = new Date();
  const from = new Date(to.getTime() - 29 * 86400000);
  const day = (d) => d.toISOString().slice(0, 10);
  const got = await api.get(`${base}/analytics?groupBy=sub1&from=${day(from)}&to=${day(to)}`);
  if (!got.rows.length) return h('p', {}, 'No tagged clicks in the last 30 days yet.');
  return table([
    { label: 'sub1', value: (r) => r.key },
    { label: 'Clicks', value: (r) => String(r.clicks), class: 'num' },
    { label: 'Sales', value: (r) => String(r.conversions), class: 'num' },
    { label: 'Sales value', value: (r) => fmtAmounts(r.revenue), class: 'num' },
  ], got.rows, 'Clicks and sales per sub1, last 30 days');
}

// The sections of the Links tab that tag links; `items` the partner's links.
export async function subIds(base, items) {
  if (!items.length) return [];
  return [
    section('Tag a link for a placement', builder(items)),
    section('Clicks and sales per placement', await bySubId(base)),
  ];
}
