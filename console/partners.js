// Partners: campaigns (create with a goal type, status changes), the funnel of every campaign
// side by side, a daily chart per campaign (inline SVG), group-by tables and the CSV export.

import * as api from './api.js';
import * as session from './session.js';
import { NEEDS } from './session.js';
import {
  busy, clear, download, empty, errorBox, field, fmtTime, form, gate, h, input, loading, notice,
  section, select, table,
} from './ui.js';

const GOALS = ['AFFILIATE_CLICKOUT', 'LEAD_CAPTURE', 'PURCHASE', 'APP_INSTALL'];
const STATUSES = ['ACTIVE', 'PAUSED', 'ARCHIVED'];

// The breakdowns the server offers, rendered into the page from the code (GroupBy::ALL).
function groupByDimensions() {
  const raw = document.body.dataset.groupBy || 'country,segment,referrer,device,source,link,day';
  return raw.split(',').filter(Boolean);
}

const money = (revenue) => Object.entries(revenue || {}).map(([cur, v]) => `${v} ${cur}`).join(', ') || '–';
const pct = (x) => (x === null || x === undefined ? '–' : `${(x * 100).toFixed(1)} %`);
const campaignLabel = (id) => id ?? '(no campaign)';

export async function render(main) {
  const state = { campaigns: [] };
  const campaignsBody = h('div', {}, loading('Loading campaigns…'));
  const funnelBody = h('div', {});
  const chartBody = h('div', {});
  const groupBody = h('div', {});
  const exportBody = h('div', {});
  main.append(
    h('h1', { tabindex: '-1' }, 'Partners'),
    section('Campaigns', campaignsBody),
    section('Funnel: every campaign side by side', funnelBody),
    section('Daily: clicks, qualified clicks and conversions', chartBody),
    section('Breakdowns', groupBody),
    section('CSV export', exportBody));
  const refreshAll = async () => {
    await loadCampaigns(campaignsBody, state, refreshAll);
    const range = rangeControls();
    await funnel(funnelBody, range);
    chart(chartBody, state);
    groups(groupBody, state);
    exporter(exportBody, state);
  };
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
    clear(body, errorBox(r.error), create);
    return;
  }
  state.campaigns = r.data.items;
  clear(body,
    state.campaigns.length
      ? table([
        { label: 'Campaign', value: (c) => h('strong', {}, c.campaignId) },
        { label: 'Goal', value: (c) => `${c.goalType} → ${c.conversionEvent}` },
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
    clear(out, ` version ${updated.version}`);
  }));
  if (!canWrite) return h('span', {}, c.status);
  return h('span', { class: 'inline' }, sel, button, out);
}

function createForm(canWrite, refreshAll) {
  const f = form({ id: 'campaign-form', 'aria-label': 'New campaign' },
    h('div', { class: 'grid' },
      field('Campaign id', input('campaignId', { placeholder: 'partner-alpha' }), 'Lower-case letters, digits, - and _.'),
      field('Goal type', select('goalType', GOALS, 'AFFILIATE_CLICKOUT')),
      field('Status', select('status', STATUSES, 'ACTIVE')),
      field('Primary link slug', input('slug', { placeholder: 'deal-alpha' })),
      field('Destination URL', input('destinationUrl', { type: 'url', placeholder: 'https://merchant.example.com/product?ref=alpha' })),
      field('Link title', input('title')),
      field('Partner id (optional)', input('partnerId', { placeholder: 'pub-one' }), 'The partner its commissions are paid to (Commissions screen).')),
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
      clear(again || out, notice('ok', `Created ${c.campaignId}: preset ${c.trackingPreset}, conversion event ${c.conversionEvent}, short URL ${c.primaryLink.shortUrl}.`));
    });
  if (!canWrite) {
    f.querySelector('.actions').replaceChildren(gate(f.button, false, session.reason(NEEDS.campaignsWrite)));
  }
  return h('details', { class: 'create', open: true }, h('summary', {}, 'New campaign'), f);
}

// ---------------------------------------------------------------------------------- funnel

function rangeControls() {
  const to = new Date();
  const from = new Date(to.getTime() - 29 * 86400000);
  return { from: from.toISOString().slice(0, 10), to: to.toISOString().slice(0, 10) };
}

async function funnel(body, range) {
  const from = input('from', { type: 'date', value: range.from });
  const to = input('to', { type: 'date', value: range.to });
  const out = h('div', { 'aria-live': 'polite' });
  const refresh = h('button', { type: 'button', class: 'secondary', id: 'funnel-refresh' }, 'Refresh');
  const load = () => busy(refresh, out, async () => {
    const r = await api.get(api.handlePath('/analytics') + api.query({ funnel: 'true', from: from.value, to: to.value }));
    clear(out, funnelTable(r));
  });
  refresh.addEventListener('click', load);
  clear(body, h('div', { class: 'grid range' }, field('From', from), field('To', to), h('div', { class: 'field' }, refresh)),
    h('p', { class: 'hint' }, 'Counters are updated asynchronously, within a second locally: refresh after new clicks.'), out);
  if (!session.allows(NEEDS.analytics)) {
    clear(out, notice('info', session.reason(NEEDS.analytics)));
    return;
  }
  await load();
}

function funnelTable(r) {
  const rows = [...r.campaigns, { ...r.totals, campaignId: 'Totals', status: null, confidence: null, confidenceReasons: [], total: true }];
  if (r.campaigns.length === 0) return empty(`No campaign and no traffic between ${r.from} and ${r.to}.`);
  const t = table([
    { label: 'Campaign', value: (c) => (c.total ? h('strong', {}, 'Totals') : campaignLabel(c.campaignId)), class: 'key' },
    { label: 'Status', value: (c) => c.status || '–' },
    { label: 'Clicks', value: (c) => String(c.clicks), class: 'num' },
    { label: 'Qualified clicks', value: (c) => String(c.qualifiedClicks), class: 'num' },
    { label: 'Bot clicks', value: (c) => String(c.botClicks), class: 'num' },
    { label: 'Conversions', value: (c) => String(c.conversions), class: 'num' },
    { label: 'Revenue', value: (c) => money(c.revenue), class: 'num' },
    { label: 'Conversion rate', value: (c) => pct(c.conversionRate), class: 'num' },
    { label: 'Bot ratio', value: (c) => pct(c.botRatio), class: 'num' },
    { label: 'Confidence', value: (c) => (c.confidence === null ? '–' : String(c.confidence)), class: 'num' },
    {
      label: 'Why',
      value: (c) => (c.confidenceReasons.length
        ? h('ul', { class: 'reasons' }, c.confidenceReasons.map((x) => h('li', {}, h('code', {}, x.code), ` (−${x.penalty})`)))
        : '–'),
    },
  ], rows, `Funnel ${r.from} → ${r.to}`);
  const explained = r.campaigns.filter((c) => c.confidenceReasons.length);
  return h('div', {}, t,
    explained.length
      ? h('details', { class: 'why' }, h('summary', {}, 'Why the confidence is lower'),
        h('ul', {}, explained.map((c) => h('li', {}, h('strong', {}, campaignLabel(c.campaignId)), ': ',
          c.confidenceReasons.map((x) => `${x.message} (−${x.penalty})`).join(' ')))))
      : null);
}

// ----------------------------------------------------------------------------------- chart

function campaignSelect(state, withAll) {
  const options = state.campaigns.map((c) => [c.campaignId, c.campaignId]);
  return select('campaignId', withAll ? [['', 'All campaigns'], ...options] : options, withAll ? '' : options[0]?.[0]);
}

function chart(body, state) {
  if (!session.allows(NEEDS.analytics)) {
    clear(body, notice('info', session.reason(NEEDS.analytics)));
    return;
  }
  if (state.campaigns.length === 0) {
    clear(body, empty('Create a campaign to chart it.'));
    return;
  }
  const sel = campaignSelect(state, false);
  const out = h('div', { class: 'chart', 'aria-live': 'polite' });
  const show = h('button', { type: 'button', class: 'secondary', id: 'chart-show' }, 'Show');
  const load = () => busy(show, out, async () => {
    const r = await api.get(api.handlePath('/analytics') + api.query({ groupBy: 'day', campaignId: sel.value }));
    clear(out, svgChart(r), h('details', {}, h('summary', {}, 'The numbers'), groupTable(r)));
  });
  show.addEventListener('click', load);
  clear(body, h('div', { class: 'grid' }, field('Campaign', sel), h('div', { class: 'field' }, show)), out);
  load();
}

const SERIES = [['clicks', 'Clicks'], ['qualifiedClicks', 'Qualified clicks'], ['conversions', 'Conversions']];

function days(from, to) {
  const out = [];
  for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`) && out.length < 400; t += 86400000) {
    out.push(new Date(t).toISOString().slice(0, 10));
  }
  return out;
}

function svg(tag, attrs, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  for (const c of children) el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return el;
}

// Three series over the report's days, as polylines on a shared scale.
function svgChart(r) {
  const dates = days(r.from, r.to);
  const byDay = Object.fromEntries(r.rows.map((row) => [row.key, row]));
  const W = 640; const H = 240; const L = 40; const B = 28; const T = 12; const R = 12;
  const max = Math.max(1, ...r.rows.flatMap((row) => SERIES.map(([k]) => row[k])));
  const x = (i) => L + (dates.length === 1 ? 0 : (i * (W - L - R)) / (dates.length - 1));
  const y = (v) => T + (H - T - B) * (1 - v / max);
  const label = `Daily clicks, qualified clicks and conversions of ${r.campaignId}, ${r.from} to ${r.to}; at most ${max} a day.`;
  const el = svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': label, class: 'daily', id: 'daily-chart' },
    svg('title', {}, label),
    svg('line', { x1: L, y1: y(0), x2: W - R, y2: y(0), class: 'axis' }),
    svg('line', { x1: L, y1: T, x2: L, y2: y(0), class: 'axis' }),
    svg('text', { x: L - 6, y: y(max) + 4, class: 'tick end' }, max),
    svg('text', { x: L - 6, y: y(0) + 4, class: 'tick end' }, 0),
    svg('text', { x: L, y: H - 8, class: 'tick' }, dates[0]),
    svg('text', { x: W - R, y: H - 8, class: 'tick end' }, dates[dates.length - 1]));
  SERIES.forEach(([key], s) => {
    const points = dates.map((d, i) => `${x(i).toFixed(1)},${y(byDay[d] ? byDay[d][key] : 0).toFixed(1)}`);
    el.append(svg('polyline', { points: points.join(' '), class: `series s${s}`, 'data-series': key }));
    dates.forEach((d, i) => {
      const v = byDay[d] ? byDay[d][key] : 0;
      if (v > 0) el.append(svg('circle', { cx: x(i).toFixed(1), cy: y(v).toFixed(1), r: 3, class: `dot s${s}` }, svg('title', {}, `${d}: ${v} ${key}`)));
    });
  });
  const legend = h('ul', { class: 'legend' }, SERIES.map(([key, name], s) => h('li', { class: `s${s}` }, h('span', { class: 'swatch', 'aria-hidden': 'true' }), `${name}: ${r.totals[key]}`)));
  return h('figure', {}, el, h('figcaption', {}, legend));
}

// ------------------------------------------------------------------------------ breakdowns

function groupTable(r) {
  if (r.rows.length === 0) return empty('No traffic in this range.');
  return table([
    { label: r.groupBy, value: (row) => h('strong', {}, row.key) },
    { label: 'Clicks', value: (row) => String(row.clicks), class: 'num' },
    { label: 'Qualified clicks', value: (row) => String(row.qualifiedClicks), class: 'num' },
    { label: 'Bot clicks', value: (row) => String(row.botClicks), class: 'num' },
    { label: 'Conversions', value: (row) => String(row.conversions), class: 'num' },
    { label: 'Revenue', value: (row) => money(row.revenue), class: 'num' },
    { label: 'Conversion rate', value: (row) => pct(row.conversionRate), class: 'num' },
  ], r.rows, `By ${r.groupBy}${r.campaignId ? ` · ${r.campaignId}` : ''}`);
}

function groups(body, state) {
  if (!session.allows(NEEDS.analytics)) {
    clear(body, notice('info', session.reason(NEEDS.analytics)));
    return;
  }
  const dim = select('groupBy', groupByDimensions(), 'country');
  const camp = campaignSelect(state, true);
  const out = h('div', { 'aria-live': 'polite', id: 'group-result' });
  const f = form({ id: 'group-form', 'aria-label': 'Breakdown' },
    h('div', { class: 'grid' }, field('Group by', dim), field('Campaign', camp)), 'Show the breakdown',
    async () => {
      const r = await api.get(api.handlePath('/analytics') + api.query({ groupBy: dim.value, campaignId: camp.value }));
      clear(out, groupTable(r));
    });
  clear(body, f, out);
}

// ---------------------------------------------------------------------------------- export

function exporter(body, state) {
  if (!session.allows(NEEDS.analytics)) {
    clear(body, notice('info', session.reason(NEEDS.analytics)));
    return;
  }
  const camp = campaignSelect(state, true);
  const dim = select('groupBy', [['', 'The funnel'], ...groupByDimensions()], '');
  const preview = h('div', { 'aria-live': 'polite' });
  const f = form({ id: 'export-form', 'aria-label': 'CSV export' },
    h('div', { class: 'grid' }, field('Campaign', camp), field('Report', dim)), 'Download CSV',
    async () => {
      const r = await api.request('GET', api.handlePath('/analytics/export') + api.query({ format: 'csv', campaignId: camp.value, groupBy: dim.value }),
        { headers: { accept: 'text/csv' } });
      if (!r.ok) throw r.error;
      const disposition = r.headers.get('content-disposition') || '';
      const name = (/filename="([^"]+)"/.exec(disposition) || [])[1] || 'analytics.csv';
      download(name, r.text, 'text/csv');
      clear(preview, h('p', {}, 'Downloaded ', h('code', { id: 'export-name' }, name), '. Its first lines:'),
        h('pre', { class: 'json', id: 'export-preview' }, r.text.split('\r\n').slice(0, 6).join('\n')));
    });
  clear(body, h('p', {}, 'RFC 4180 CSV, one revenue column per currency, for review or a commission run.'), f, preview);
}
