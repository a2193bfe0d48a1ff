// Partners: campaigns (create with a goal type, status changes), then the reports, all over one
// period (presets or custom days): the funnel of every campaign side by side with bars that
// compare them, a daily chart with a real axis, breakdowns as bar lists, and the CSV export.
// The funnel and the chart are live (ui.js `live`): they refresh while the page is visible.

import * as api from '../api.js';
import * as session from '../session.js';
import { NEEDS } from '../session.js';
import {
  busy, clear, download, empty, errorBox, field, fmtAmounts, fmtCount, fmtTime, form, gate, h,
  input, live, loading, notice, section, select, svg, table,
} from '../ui.js';
import { picker } from '../widgets/picker.js';

// The API's values with the words a manager reads for them.
const GOALS = [['AFFILIATE_CLICKOUT', 'Clicks out to the merchant'], ['LEAD_CAPTURE', 'Leads (sign-ups)'],
  ['PURCHASE', 'Purchases'], ['APP_INSTALL', 'App installs']];
const STATUSES = [['ACTIVE', 'Active'], ['PAUSED', 'Paused'], ['ARCHIVED', 'Archived']];
const inWords = (pairs, value) => (pairs.find(([v]) => v === value) || [value, value])[1];
export const statusInWords = (status) => (status ? inWords(STATUSES, status) : '–');

// The breakdowns the server offers, rendered into the page from the code (GroupBy::ALL), each
// with the words a manager reads for it (the sub-ids keep their names: the partner chose them).
const DIMENSIONS = {
  country: 'Country', segment: 'New or returning', referrer: 'Referring site', device: 'Kind of device',
  source: 'Source', link: 'Link', day: 'Day', botReason: 'People or bots', variant: 'A/B test variant',
  os: 'Operating system', browser: 'Browser', region: 'Region', city: 'City',
};
const dimensionWords = (d) => DIMENSIONS[d] || d;
// The visitor's breakdowns count clicks only (docs/api.md, groupBy).
const VISITOR_DIMENSIONS = ['os', 'browser', 'region', 'city'];
function groupByDimensions() {
  const raw = document.body.dataset.groupBy || 'country,segment,referrer,device,source,link,day';
  return raw.split(',').filter(Boolean).map((d) => [d, dimensionWords(d)]);
}
// A breakdown's key as read: what the click did not say, and a day's cities past the cap.
function keyWords(groupBy, key) {
  if (key === 'unknown') return 'Not known';
  if (groupBy === 'city' && key === 'other') return 'Other cities';
  return key;
}

const pct = (x) => (x === null || x === undefined ? '–' : `${(x * 100).toFixed(1)} %`);
const campaignLabel = (id) => id ?? '(no campaign)';

export async function render(main) {
  const state = { campaigns: [], range: presetRange('30d') };
  const campaignsBody = h('div', {}, loading('Loading campaigns…'));
  const rangeBody = h('div', {});
  const funnelBody = h('div', {});
  const chartBody = h('div', {});
  const groupBody = h('div', {});
  const exportBody = h('div', {});
  const withId = (id, el) => { el.id = id; return el; };
  main.append(
    h('h1', { tabindex: '-1' }, 'Partners'),
    withId('campaigns', section('Campaigns', campaignsBody)),
    withId('period', section('Period of the reports', rangeBody)),
    withId('funnel', section('Funnel: every campaign side by side', funnelBody)),
    withId('daily', section('Daily: clicks, qualified clicks and conversions', chartBody)),
    withId('breakdowns', section('Breakdowns', groupBody)),
    withId('export', section('CSV export', exportBody)));
  const reports = () => {
    if (!session.allows(NEEDS.analytics)) {
      for (const b of [funnelBody, chartBody, groupBody, exportBody]) clear(b, notice('info', session.reason(NEEDS.analytics)));
      return;
    }
    funnel(funnelBody, state);
    chart(chartBody, state);
    groups(groupBody, state);
    exporter(exportBody, state);
  };
  const refreshAll = async () => {
    await loadCampaigns(campaignsBody, state, refreshAll);
    reports();
  };
  rangeControls(rangeBody, state, reports);
  await refreshAll();
}

// ------------------------------------------------------------------------------- campaigns

async function loadCampaigns(body, state, refreshAll) {
  const canRead = session.allows(NEEDS.campaignsRead);
  const canWrite = session.allows(NEEDS.campaignsWrite);
  const create = createForm(canWrite, refreshAll);
  if (!canRead) {
    clear(body, notice('info', session.reason(NEEDS.campaignsRead)), create);
    return;
  }
  const r = await api.request('GET', api.handlePath('/campaigns') + api.query({ limit: 100 }));
  if (!r.ok) {
    // A token that may not read campaigns would create them blind: the form is offered only
    // when the list could be read.
    clear(body, errorBox(r.error), r.error.code === 'insufficient_scope' ? null : create);
    return;
  }
  state.campaigns = r.data.items;
  clear(body,
    state.campaigns.length
      ? table([
        { label: 'Campaign', value: (c) => h('strong', {}, c.campaignId) },
        { label: 'Goal', value: (c) => goalWords(c) },
        { label: 'Short URL', value: (c) => h('a', { href: `#/links/edit/${encodeURIComponent(c.primaryLink.slug)}` }, c.primaryLink.shortUrl) },
        { label: 'Status', value: (c) => statusControl(c, canWrite) },
        { label: 'Created', value: (c) => fmtTime(c.createdAt) },
      ], state.campaigns, 'Campaigns')
      : empty('No campaign yet: one per affiliate partner gives each partner its own link.'),
    r.data.nextCursor ? h('p', { class: 'hint' }, 'Showing the first 100 campaigns.') : null,
    create);
}

function statusControl(c, canWrite) {
  const sel = select('status', STATUSES, c.status);
  sel.setAttribute('aria-label', `Status of ${c.campaignId}`);
  const out = h('span', { 'aria-live': 'polite' });
  const button = h('button', { type: 'button', class: 'secondary' }, 'Change');
  button.setAttribute('aria-label', `Change the status of ${c.campaignId}`);
  button.addEventListener('click', () => busy(button, out, async () => {
    const path = api.handlePath(`/campaigns/${encodeURIComponent(c.campaignId)}`);
    const updated = await api.patch(path, { status: sel.value }, { headers: { 'if-match': `"${c.version}"` } });
    Object.assign(c, updated);
    clear(out, ` Saved: ${statusInWords(updated.status)}.`);
  }));
  if (!canWrite) return h('span', {}, statusInWords(c.status));
  return h('span', { class: 'inline' }, sel, button, out);
}

function createForm(canWrite, refreshAll) {
  const f = form({ id: 'campaign-form', 'aria-label': 'New campaign' },
    h('div', { class: 'grid' },
      field('Campaign id', input('campaignId', { placeholder: 'partner-alpha' }), 'Lower-case letters, digits, - and _ (up to 64).'),
      field('Goal type', select('goalType', GOALS, 'AFFILIATE_CLICKOUT')),
      field('Status', select('status', STATUSES, 'ACTIVE')),
      field('Primary link slug', input('slug', { placeholder: 'deal-alpha' })),
      field('Destination URL', input('destinationUrl', { type: 'url', placeholder: 'https://merchant.example.com/product?ref=alpha' })),
      field('Link title', input('title')),
      field('Partner (optional)', picker('partnerId', 'partners'), 'The partner its commissions are paid to (Commissions screen).')),
    'Create campaign',
    async (el, out) => {
      const v = (n) => el.querySelector(`[name=${n}]`).value.trim();
      const primaryLink = { slug: v('slug'), destinationUrl: v('destinationUrl') };
      if (v('title')) primaryLink.title = v('title');
      const campaign = { campaignId: v('campaignId'), goalType: v('goalType'), status: v('status'), primaryLink };
      if (v('partnerId')) campaign.partnerId = v('partnerId');
      const c = await api.post(api.handlePath('/campaigns'), campaign);
      await refreshAll();
      const again = document.querySelector('#campaign-form .form-out');
      clear(again || out, notice('ok', `Created ${c.campaignId}: ${goalWords(c)}, short URL ${c.primaryLink.shortUrl}.`));
    });
  if (!canWrite) {
    f.querySelector('.actions').replaceChildren(gate(f.button, false, session.reason(NEEDS.campaignsWrite)));
  }
  return h('details', { class: 'create', open: true }, h('summary', {}, 'New campaign'), f);
}


// ---------------------------------------------------------------------------------- period

const DAY = 86400000;
const PRESETS = [['1d', 'Last 24 hours'], ['7d', 'Last 7 days'], ['30d', 'Last 30 days'], ['custom', 'Custom']];
const isoDay = (t) => new Date(t).toISOString().slice(0, 10);
// A UTC day (`2026-11-28`) as people read it: "Nov 28, 2026".
const dayWords = (day) => new Date(`${day}T00:00:00Z`).toLocaleDateString(undefined, { dateStyle: 'medium', timeZone: 'UTC' });
// A period of UTC days in words: "Oct 30, 2026 to Nov 28, 2026".
const period = (from, to) => `${dayWords(from)} to ${dayWords(to)}`;

// The API counts whole UTC days: "24 hours" is yesterday and today.
function presetRange(preset) {
  const days = { '1d': 2, '7d': 7, '30d': 30 }[preset] || 30;
  const now = Date.now();
  return { preset, from: isoDay(now - (days - 1) * DAY), to: isoDay(now) };
}

function rangeControls(body, state, onChange) {
  const preset = select('preset', PRESETS, state.range.preset);
  const from = input('from', { type: 'date', value: state.range.from });
  const to = input('to', { type: 'date', value: state.range.to });
  const out = h('p', { class: 'hint', 'aria-live': 'polite', id: 'period-note' });
  const say = () => clear(out, `The funnel, the chart, the breakdowns and the CSV cover ${period(state.range.from, state.range.to)} (UTC days).`);
  const apply = (range) => {
    state.range = range;
    from.value = range.from;
    to.value = range.to;
    say();
    onChange();
  };
  preset.addEventListener('change', () => {
    if (preset.value !== 'custom') apply(presetRange(preset.value));
  });
  for (const control of [from, to]) {
    control.addEventListener('change', () => {
      if (!from.value || !to.value) return;
      if (from.value > to.value) {
        clear(out, h('span', { class: 'stale' }, 'The first day must not be after the last.'));
        return;
      }
      preset.value = 'custom';
      apply({ preset: 'custom', from: from.value, to: to.value });
    });
  }
  clear(body, h('div', { class: 'grid range', id: 'range-form' }, field('Period', preset), field('From', from), field('To', to)), out);
  say();
}

// ---------------------------------------------------------------------------------- funnel

function funnel(body, state) {
  const out = h('div', {});
  const refresh = h('button', { type: 'button', class: 'secondary', id: 'funnel-refresh' }, 'Refresh now');
  clear(body, out, refresh);
  const range = state.range;
  const feed = live(out,
    () => api.get(api.handlePath('/analytics') + api.query({ funnel: 'true', from: range.from, to: range.to })),
    funnelView);
  refresh.addEventListener('click', () => feed.refresh());
}

const NO_TRAFFIC = (c) => !c.total && c.clicks === 0 && c.conversions === 0;

function funnelView(r) {
  if (r.campaigns.length === 0) return empty(`No campaign and no traffic from ${period(r.from, r.to)}.`);
  const rows = [...r.campaigns, { ...r.totals, campaignId: 'Totals', status: null, confidence: null, confidenceReasons: [], total: true }];
  const count = (key) => (c) => fmtCount(c[key]);
  const t = table([
    { label: 'Campaign', value: (c) => (c.total ? h('strong', {}, 'Totals') : campaignLabel(c.campaignId)), class: 'key' },
    { label: 'Status', value: (c) => statusInWords(c.status) },
    { label: 'Clicks', value: count('clicks'), class: 'num' },
    { label: 'Qualified clicks', value: count('qualifiedClicks'), class: 'num' },
    { label: 'Bot clicks', value: count('botClicks'), class: 'num' },
    { label: 'Conversions', value: count('conversions'), class: 'num' },
    { label: 'Revenue', value: (c) => fmtAmounts(c.revenue), class: 'num' },
    { label: 'Conversion rate', value: (c) => pct(c.conversionRate), class: 'num' },
    { label: 'Bot ratio', value: (c) => pct(c.botRatio), class: 'num' },
    { label: 'Confidence', value: (c) => (c.confidence === null || NO_TRAFFIC(c) ? '–' : String(c.confidence)), class: 'num' },
    { label: 'Why', value: reasons },
  ], rows, `Funnel, ${period(r.from, r.to)}`);
  return h('div', {}, behind(r.freshness), t, compareBars(r.campaigns));
}

// Issue 42: after an incident the counts catch up by themselves; until then, say so rather than
// let a manager read moving numbers as final. A few seconds of lag is normal counting.
function behind(f) {
  if (!f || f.pendingSince === null || f.behindSeconds < 10) return null;
  return h('div', { id: 'funnel-behind' }, notice('info',
    'Still counting: events accepted since ', fmtTime(f.pendingSince),
    ` (${fmtCount(f.behindSeconds)} s behind) are not in these numbers yet. `,
    'They are counted once each, and this table refreshes by itself.'));
}

// A campaign's goal and the event that counts for it, in words: a click-out is counted by 10x
// itself; an event the merchant sends is named as it is sent (`purchase`, `lead`), in quotes.
function goalWords(c) {
  const goal = inWords(GOALS, c.goalType);
  if (c.conversionEvent === 'affiliate_click') return `${goal}, each counted by 10x`;
  return `${goal}, counted as “${String(c.conversionEvent).replace(/_/g, ' ')}”`;
}

// Confidence reasons in words, each with the points it cost.
function reasons(c) {
  if (NO_TRAFFIC(c)) return 'No traffic yet: nothing to judge.';
  if (!c.confidenceReasons.length) return c.total ? '–' : 'No warning sign.';
  return h('ul', { class: 'reasons' }, c.confidenceReasons.map((x) => h('li', {}, `${x.message} (−${x.penalty} points)`)));
}

const SERIES = [['clicks', 'Clicks'], ['qualifiedClicks', 'Qualified clicks'], ['conversions', 'Conversions']];

// Campaigns compared: a bar per series on one scale (the most clicks of any campaign).
function compareBars(campaigns) {
  const max = Math.max(1, ...campaigns.flatMap((c) => SERIES.map(([k]) => c[k])));
  return h('figure', { class: 'compare', id: 'compare-chart' },
    h('figcaption', {}, 'Campaigns compared: clicks, qualified clicks and conversions on one scale'),
    h('ul', { class: 'bar-list' }, campaigns.map((c) => h('li', {},
      h('span', { class: 'bar-label' }, campaignLabel(c.campaignId)),
      bars(SERIES.map(([k, name], i) => [c[k], max, `s${i}`, `${name}: ${fmtCount(c[k])}`]))))),
    legend());
}

function legend(totals) {
  return h('ul', { class: 'legend' }, SERIES.map(([key, name], s) => h('li', { class: `s${s}` },
    h('span', { class: 'swatch', 'aria-hidden': 'true' }), totals ? `${name}: ${fmtCount(totals[key])}` : name)));
}

// Horizontal bars ([value, max, class, label]), drawn as SVG (no inline style under the CSP).
function bars(list) {
  return h('span', { class: 'bars' }, list.map(([value, max, cls, label]) => h('span', { class: 'bar-row' },
    svg('svg', { viewBox: '0 0 100 6', preserveAspectRatio: 'none', class: 'bar', 'aria-hidden': 'true' },
      svg('rect', { x: 0, y: 0, width: ((100 * value) / max).toFixed(2), height: 6, class: cls })),
    h('span', { class: 'bar-value' }, label))));
}

// ----------------------------------------------------------------------------------- chart

function campaignSelect(state, withAll) {
  const options = state.campaigns.map((c) => [c.campaignId, c.campaignId]);
  return select('campaignId', withAll ? [['', 'All campaigns'], ...options] : options, withAll ? '' : options[0]?.[0]);
}

function chart(body, state) {
  const sel = campaignSelect(state, true);
  const out = h('div', { class: 'chart' });
  const show = h('button', { type: 'button', class: 'secondary', id: 'chart-show' }, 'Show');
  clear(body, h('div', { class: 'grid' }, field('Campaign', sel), h('div', { class: 'field' }, show)), out);
  const range = state.range;
  const feed = live(out,
    () => api.get(api.handlePath('/analytics') + api.query({ groupBy: 'day', campaignId: sel.value, from: range.from, to: range.to })),
    (r) => h('div', {}, svgChart(r, out.clientWidth), h('details', {}, h('summary', {}, 'The numbers'), groupTable(r))));
  show.addEventListener('click', () => feed.refresh());
  sel.addEventListener('change', () => feed.refresh());
}

function days(from, to) {
  const out = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`) && out.length < 400; t += DAY) {
    out.push(isoDay(t));
  }
  return out;
}

// Round steps (1, 2 or 5 times a power of ten) so the axis reads 0, 5, 10, 15 …
function niceStep(max, ticks) {
  const raw = Math.max(1, max / ticks);
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw);
}

// Three series over the period's days, drawn at the width it has (labels stay 12 px on a phone).
function svgChart(r, width) {
  const dates = days(r.from, r.to);
  const byDay = Object.fromEntries(r.rows.map((row) => [row.key, row]));
  const W = Math.max(300, Math.round(width || 640)); const H = 240; const L = 44; const B = 28; const T = 12; const R = 14;
  const most = Math.max(0, ...r.rows.flatMap((row) => SERIES.map(([k]) => row[k])));
  const step = niceStep(most, 4);
  const top = Math.max(step, Math.ceil(most / step) * step);
  const x = (i) => L + (dates.length === 1 ? (W - L - R) / 2 : (i * (W - L - R)) / (dates.length - 1));
  const y = (v) => T + (H - T - B) * (1 - v / top);
  const who = r.campaignId ? r.campaignId : 'every campaign';
  const label = `Daily clicks, qualified clicks and conversions of ${who}, ${period(r.from, r.to)}; at most ${most} a day.`;
  const el = svg('svg', { viewBox: `0 0 ${W} ${H}`, width: W, height: H, role: 'img', 'aria-label': label, class: 'daily', id: 'daily-chart' },
    svg('title', {}, label));
  for (let v = 0; v <= top; v += step) {
    el.append(svg('line', { x1: L, y1: y(v), x2: W - R, y2: y(v), class: v === 0 ? 'axis' : 'grid-line' }),
      svg('text', { x: L - 6, y: y(v) + 4, class: 'tick end' }, fmtCount(v)));
  }
  const every = Math.max(1, Math.ceil(dates.length / Math.floor((W - L - R) / 70)));
  dates.forEach((d, i) => {
    if (i % every === 0) el.append(svg('text', { x: x(i), y: H - 8, class: 'tick middle' }, new Date(`${d}T00:00:00Z`).toLocaleDateString(undefined, { month: 'short', day: 'numeric', timeZone: 'UTC' })));
  });
  SERIES.forEach(([key, name], s) => {
    const points = dates.map((d, i) => `${x(i).toFixed(1)},${y(byDay[d] ? byDay[d][key] : 0).toFixed(1)}`);
    el.append(svg('polyline', { points: points.join(' '), class: `series s${s}`, 'data-series': key }));
    dates.forEach((d, i) => {
      const v = byDay[d] ? byDay[d][key] : 0;
      if (v > 0) el.append(svg('circle', { cx: x(i).toFixed(1), cy: y(v).toFixed(1), r: 3, class: `dot s${s}` }, svg('title', {}, `${dayWords(d)}: ${fmtCount(v)} ${name.toLowerCase()}`)));
    });
  });
  return h('figure', {}, el, h('figcaption', {}, legend(r.totals)));
}

// ------------------------------------------------------------------------------ breakdowns

function groupTable(r) {
  if (r.rows.length === 0) return empty('No traffic in this period.');
  return table([
    { label: dimensionWords(r.groupBy), value: (row) => h('strong', {}, keyWords(r.groupBy, row.key)) },
    { label: 'Clicks', value: (row) => fmtCount(row.clicks), class: 'num' },
    { label: 'Qualified clicks', value: (row) => fmtCount(row.qualifiedClicks), class: 'num' },
    { label: 'Bot clicks', value: (row) => fmtCount(row.botClicks), class: 'num' },
    { label: 'Conversions', value: (row) => fmtCount(row.conversions), class: 'num' },
    { label: 'Revenue', value: (row) => fmtAmounts(row.revenue), class: 'num' },
    { label: 'Conversion rate', value: (row) => pct(row.conversionRate), class: 'num' },
  ], r.rows, `By ${dimensionWords(r.groupBy).toLowerCase()}${r.campaignId ? ` · ${r.campaignId}` : ''}`);
}

// A breakdown as a bar list (the most clicked first), its table under "The numbers".
function groupBars(r) {
  if (r.rows.length === 0) return empty('No traffic in this period.');
  const rows = [...r.rows].sort((a, b) => b.clicks - a.clicks);
  const max = Math.max(1, ...rows.map((row) => row.clicks));
  const clicksOnly = VISITOR_DIMENSIONS.includes(r.groupBy);
  const words = (row) => `${fmtCount(row.clicks)} clicks${clicksOnly ? '' : ` · ${fmtCount(row.conversions)} conversions`}`;
  return h('div', {},
    clicksOnly ? h('p', { class: 'hint' }, 'Clicks only: a sale is counted by its click\'s country and kind of device, not by these.') : null,
    h('ul', { class: 'bar-list' }, rows.map((row) => h('li', {},
      h('span', { class: 'bar-label' }, keyWords(r.groupBy, row.key)),
      bars([[row.clicks, max, 's0', words(row)]])))),
    h('details', {}, h('summary', {}, 'The numbers'), groupTable(r)));
}

function groups(body, state) {
  const dim = select('groupBy', groupByDimensions(), 'country');
  const camp = campaignSelect(state, true);
  const out = h('div', { 'aria-live': 'polite', id: 'group-result' });
  const range = state.range;
  const f = form({ id: 'group-form', 'aria-label': 'Breakdown' },
    h('div', { class: 'grid' }, field('Group by', dim), field('Campaign', camp)), 'Show the breakdown',
    async () => {
      const r = await api.get(api.handlePath('/analytics') + api.query({ groupBy: dim.value, campaignId: camp.value, from: range.from, to: range.to }));
      clear(out, groupBars(r));
    });
  clear(body, f, out);
}

// ---------------------------------------------------------------------------------- export

function exporter(body, state) {
  const camp = campaignSelect(state, true);
  const dim = select('groupBy', [['', 'The funnel'], ...groupByDimensions()], '');
  const preview = h('div', { 'aria-live': 'polite' });
  const range = state.range;
  const f = form({ id: 'export-form', 'aria-label': 'CSV export' },
    h('div', { class: 'grid' }, field('Campaign', camp), field('Report', dim)), 'Download CSV',
    async () => {
      const q = { format: 'csv', campaignId: camp.value, groupBy: dim.value, from: range.from, to: range.to };
      const r = await api.request('GET', api.handlePath('/analytics/export') + api.query(q), { headers: { accept: 'text/csv' } });
      if (!r.ok) throw r.error;
      const disposition = r.headers.get('content-disposition') || '';
      const name = (/filename="([^"]+)"/.exec(disposition) || [])[1] || 'analytics.csv';
      download(name, r.text, 'text/csv');
      clear(preview, h('p', {}, 'Downloaded ', h('code', { id: 'export-name' }, name), '. Its first lines:'),
        h('pre', { class: 'json', id: 'export-preview' }, r.text.split('\r\n').slice(0, 6).join('\n')));
    });
  clear(body, h('p', {}, `A spreadsheet file (CSV) of ${period(range.from, range.to)}, one revenue column per currency, for review or a commission run.`), f, preview);
}
