// Customers (issue 44): who each partner brought, bound once to the click, coupon or hand that
// brought them, with what they bought and what their partner earned on them. A manager filters
// by partner and campaign; a partner (its own token) sees its own customers, masked, as the
// server narrows the answer.

import { partnerLink } from '../widgets/partner_link.js';
import * as api from '../api.js';
import {
  clear, empty, errorBox, field, fmtAmounts, fmtTime, form, h, input, loading, table,
} from '../ui.js';
import { picker } from '../widgets/picker.js';

// The customers list into `body`; `filters` shows the partner and campaign filters (managers).
// `partnerId` (without filters): that partner's customers only (its page).
export async function render(body, { filters = true, partnerId } = {}) {
  const results = h('div', { id: 'customer-results', 'aria-live': 'polite' });
  if (!filters) {
    clear(body, results);
    await load(results, partnerId ? { partnerId } : {});
    return;
  }
  const f = form({ id: 'customer-filter', 'aria-label': 'Filter customers' },
    h('div', { class: 'grid' },
      field('Partner', picker('partnerId', 'partners', { placeholder: 'any partner' })),
      field('Campaign', picker('campaignId', 'campaigns', { placeholder: 'any campaign' }))),
    'Show customers',
    async (el) => {
      const v = (n) => el.querySelector(`[name=${n}]`).value.trim();
      await load(results, { partnerId: v('partnerId') || undefined, campaignId: v('campaignId') || undefined });
    });
  clear(body, f, results);
  await load(results, {});
}

async function load(results, query) {
  clear(results, loading('Loading customers…'));
  const r = await api.request('GET', api.handlePath('/customers') + api.query({ ...query, limit: 100 }));
  if (!r.ok) {
    clear(results, errorBox(r.error));
    return;
  }
  const items = r.data.items;
  if (!items.length) {
    clear(results, empty('No customers yet: a lead, a coupon code or a sale that names its customer binds one.'));
    return;
  }
  clear(results, table([
    { label: 'Customer', value: customerWords },
    { label: 'Partner', value: (c) => partnerLink(c.partnerId) },
    { label: 'Campaign', value: (c) => c.campaignId || '–' },
    { label: 'Bound', value: (c) => h('span', {}, `by ${c.boundBy}, `, fmtTime(c.boundAt)) },
    { label: 'Email', value: (c) => c.emailMasked || '–' },
    { label: 'Flags', value: (c) => (c.flags.length ? h('span', { class: 'status held' }, c.flags.join(', ')) : '–') },
    { label: 'Conversions', value: (c) => String(c.conversionCount), class: 'num' },
    { label: 'Revenue', value: (c) => fmtAmounts(c.revenue), class: 'num' },
    { label: 'Commissions', value: (c) => fmtAmounts(c.commissions), class: 'num' },
  ], items, 'Customers'));
}

// A customer as the merchant names it (its own id, as sent); one bound by a sale that named no
// customer is keyed by that sale's id, which no person knows: said in words instead.
function customerWords(c) {
  if (/^cnv_[0-9a-f]{32}$/.test(c.customerId)) return h('span', { 'data-customer-id': c.customerId }, 'A buyer whose sale named no customer');
  return h('code', {}, c.customerId);
}
