// Each link's last 30 days (the analytics default period): clicks, qualified clicks, conversions
// and revenue, from one analytics request grouped by link. The links list and a link's own page
// both read and show them through these helpers.

import * as api from '../api.js';
import * as session from '../session.js';
import { NEEDS } from '../session.js';
import { fmtAmounts, fmtCount } from '../ui.js';

// The numbers shown, in order: [key, the list's column, the link page's label].
export const LINK_STATS = [
  ['clicks', 'Clicks (30 d)', 'Clicks'],
  ['qualifiedClicks', 'Qualified', 'Qualified clicks'],
  ['conversions', 'Conversions', 'Conversions'],
  ['revenue', 'Revenue', 'Revenue'],
];

// {slug: row} of the last 30 days, or null when the caller may not read analytics. A refused or
// failed read is thrown (the list shows '–' then; the live link page keeps its last numbers).
export async function linkStats() {
  if (!session.allows(NEEDS.analytics)) return null;
  const r = await api.request('GET', api.handlePath('/analytics') + api.query({ groupBy: 'link' }));
  if (!r.ok) throw r.error;
  return Object.fromEntries(r.data.rows.map((row) => [row.key, row]));
}

// One number of one link as shown: '–' when unknown (no analytics), '0' for a link without
// traffic in the period, revenue in its currencies.
export function statText(stats, slug, key) {
  if (!stats) return '–';
  const row = stats[slug];
  if (key === 'revenue') return row ? fmtAmounts(row.revenue) : '–';
  return fmtCount(row ? row[key] : 0);
}
