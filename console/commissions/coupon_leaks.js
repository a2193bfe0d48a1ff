// Coupon codes ranked by leak score (issue 63), on the Commissions page: which partner's code
// is shared beyond its audience (coupon sites, browser extensions), in words a manager reads:
// the partner's name, how many of the code's sales came with no click of that partner, where
// those came from, and why the score is what it is (`GET …/coupon-codes/leaks`).

import * as api from '../api.js';
import { partnerLink } from '../widgets/partner_link.js';
import { clear, empty, errorBox, fmtCount, h, loading, notice, table } from '../ui.js';
import { terms } from '../words.js';

export async function render(body) {
  clear(body, loading());
  const r = await api.request('GET', api.handlePath('/coupon-codes/leaks') + api.query({ limit: 20 }));
  if (!r.ok) {
    clear(body, errorBox(r.error));
    return;
  }
  const items = r.data.items;
  if (!items.length) {
    clear(body, empty('No coupon code has been used in a sale yet. Once one is, its leak score shows here.'));
    return;
  }
  const over = items.filter((c) => c.score >= c.threshold && c.conversions >= 5);
  clear(body,
    h('p', {}, 'A code leaks when buyers use it without ever clicking its partner\'s links, often from coupon sites. '
      + 'The highest score is first; sales are those of the last 90 days.'),
    over.length
      ? notice('warning', `${over.length === 1 ? 'One code is' : `${over.length} codes are`} at or over your alert score of ${items[0].threshold}: `
        + 'consider rotating it, or the program\'s rule for a code used without a click.')
      : null,
    table([
      { label: 'Code', value: (c) => h('code', {}, c.code) },
      { label: 'Partner', value: (c) => partnerLink(c.partnerId) },
      { label: 'Leak score', value: (c) => `${c.score} of 100` },
      { label: 'Sales', value: (c) => fmtCount(c.conversions) },
      { label: 'Without the partner\'s click', value: (c) => `${fmtCount(c.withoutClick)} (${Math.round(c.share * 100)} %)` },
      { label: 'Came from', value: (c) => sources(c.sources) },
      { label: 'Why', value: (c) => terms(c.reasons) },
    ], items, 'Coupon codes by leak score'));
}

// "retailmenot.com (8), straight to the shop (2)": the referring sites of sales without a click.
function sources(list) {
  if (!list || !list.length) return '–';
  return list.map((s) => `${s.referrerDomain === 'direct' ? 'straight to the shop' : s.referrerDomain} (${fmtCount(s.count)})`).join(', ');
}
