// One partner's page (issue 62), at `#/partners/{partnerId}`: who it is and its status (suspend
// or reactivate), its money (the portal's own summary: balance and next payout with reasons),
// its traffic (the same summary's clicks → sales and top links, in the portal's words), its
// campaigns with their links and plans in words, its funnel, commission lines, customers,
// risk (its fraud signals with their evidence, each dismissable with a reason), payouts and
// payout method, its tax details, a token for the partner's own engineer (made on request, shown
// once: an approval never shows one), the conversation, its claims and its audit trail. Each
// section reads its own part, so one refusal (a viewer and the audit log) leaves the rest.

import * as api from '../api.js';
import * as session from '../session.js';
import { NEEDS } from '../session.js';
import * as claims from '../commissions/claims.js';
import * as customers from '../commissions/customers.js';
import * as messages from './messages.js';
import * as payoutMethod from '../payouts/method.js';
import * as partnerRisk from './risk.js';
import * as taxReview from './tax_review.js';
import { invoiceButton } from '../widgets/invoice_button.js';
import { forget } from '../widgets/partner_link.js';
import { topLinks, traffic as trafficWords, visitors, VISITORS_HEADING } from '../portal/overview.js';
import { riskCell } from '../commissions/ledger.js';
import { ruleInWords } from '../commissions/rules.js';
import { sentence } from '../settings/audit_words.js';
import {
  busy, clear, copyButton, empty, errorBox, fmtAmounts, fmtCount, fmtMoney, fmtTime, h, loading,
  notice, section, table,
} from '../ui.js';
import { term, terms } from '../words.js';

const enc = encodeURIComponent;

export async function render(main, partnerId) {
  const r = await api.request('GET', api.handlePath(`/partners/${enc(partnerId)}`));
  if (!r.ok) {
    main.append(h('p', {}, h('a', { href: '#/partners' }, '← All partners')),
      h('h1', { tabindex: '-1' }, r.status === 404 ? 'No such partner' : 'This partner could not be read'),
      r.status === 404 ? notice('info', `No partner of ${session.get().handle} is called ${partnerId}. Pick one from the list.`) : errorBox(r.error));
    return;
  }
  const p = r.data;
  const parts = {};
  const add = (key, title) => {
    parts[key] = h('div', { id: `partner-${key}` }, loading());
    return section(title, parts[key]);
  };
  const head = h('div', { class: 'partner-head' });
  main.append(
    h('p', {}, h('a', { href: '#/partners' }, '← All partners')),
    h('h1', { tabindex: '-1' }, p.name),
    head,
    add('money', 'Money'),
    add('traffic', 'Clicks, sales and top links'),
    add('campaigns', 'Campaigns, links and plans'),
    add('funnel', 'Funnel, last 30 days'),
    add('messages', 'Messages'),
    add('claims', 'Claims'),
    add('risk', 'Fraud signals'),
    add('commissions', 'Commissions'),
    add('customers', 'Customers'),
    add('payouts', 'Payouts'),
    add('method', 'Payout method'),
    add('tax', 'Tax details'),
    add('token', 'A token for the partner\'s engineer'),
    add('audit', 'Audit trail'));
  drawHead(head, p, () => render(clear(main), partnerId));
  const campaigns = await ownCampaigns(partnerId);
  const summary = api.request('GET', api.handlePath(`/partners/${enc(partnerId)}/summary`));
  await Promise.all([
    money(parts.money, summary),
    traffic(parts.traffic, summary, p, campaigns),
    campaignsPart(parts.campaigns, campaigns),
    funnel(parts.funnel, campaigns),
    messages.render(parts.messages, p),
    claims.queue(parts.claims, { partnerId }),
    partnerRisk.render(parts.risk, partnerId),
    commissions(parts.commissions, partnerId),
    customers.render(parts.customers, { filters: false, partnerId }),
    payouts(parts.payouts, partnerId),
    payoutMethod.render(parts.method, partnerId),
    taxReview.render(parts.tax, partnerId),
    partnerToken(parts.token, p),
    audit(parts.audit, p),
  ].map((x) => Promise.resolve(x).catch(() => {})));
}

// A partner token, on request: for the partner's engineer (its own numbers over the API, a
// server of theirs reading its commissions), never needed to sign in (the partner's people get
// sign-in links by mail). Shown once; asking again makes another.
function partnerToken(part, p) {
  if (!session.allows(NEEDS.commissionsWrite)) {
    clear(part, notice('info', session.reason(NEEDS.commissionsWrite)));
    return;
  }
  const out = h('div', { 'aria-live': 'polite', id: 'partner-token-out' });
  const b = h('button', { type: 'button', class: 'secondary', dataset: { action: 'partner-token' } }, 'Make a token');
  b.addEventListener('click', () => busy(b, out, async () => {
    const t = await api.post(api.handlePath(`/partners/${enc(p.partnerId)}/tokens`), { name: `For ${p.name}'s engineer` });
    clear(out, h('div', { class: 'secret', role: 'alert' },
      h('h3', {}, 'The token: shown once'),
      h('p', {}, `It reads ${p.name}'s own record, commissions, balances, payouts and statements, and nothing else; it ends `, fmtTime(t.expiresAt),
        '. Send it to their engineer by a private channel now: it is not shown again.'),
      h('div', { class: 'field' }, h('label', { for: 'partner-token' }, 'Token'),
        h('input', { id: 'partner-token', type: 'text', readonly: true, value: t.token, class: 'code' })),
      h('div', { class: 'actions' }, copyButton(() => t.token, 'Copy the token'),
        h('button', { type: 'button', class: 'secondary', onclick: () => clear(out) }, 'I have sent it: hide'))));
  }));
  clear(part,
    h('p', { class: 'hint' }, `Only if ${p.name} asks for one: their people sign in with the link they are mailed and need no token.`),
    h('div', { class: 'actions' }, b), out);
}

function drawHead(head, p, reload) {
  const next = p.status === 'active' ? 'suspended' : 'active';
  const out = h('div', { 'aria-live': 'polite' });
  const b = h('button', { type: 'button', class: next === 'suspended' ? 'danger' : 'primary', id: 'partner-status' },
    next === 'suspended' ? 'Suspend this partner' : 'Reactivate this partner');
  b.addEventListener('click', async () => {
    b.disabled = true;
    const r = await api.request('PATCH', api.handlePath(`/partners/${enc(p.partnerId)}`), { body: { status: next } });
    if (!r.ok) {
      b.disabled = false;
      clear(out, errorBox(r.error));
      return;
    }
    forget();
    await reload();
  });
  if (!session.allows(NEEDS.commissionsWrite)) {
    b.disabled = true;
    b.title = session.reason(NEEDS.commissionsWrite);
  }
  clear(head,
    h('span', {}, term(p.status, `status ${p.status === 'active' ? 'approved' : 'held'}`)),
    h('span', {}, p.email ? ['Email: ', h('a', { href: `mailto:${p.email}` }, p.email)] : 'No email address'),
    h('span', {}, 'Partner since ', fmtTime(p.createdAt)),
    h('span', {}, 'Risk: ', riskCell(p.partnerId)),
    h('span', { class: 'hint', title: 'How the API names this partner' }, 'Id ', h('code', {}, p.partnerId)),
    b, out);
}

async function money(box, summary) {
  const r = await summary;
  if (!r.ok) return clear(box, errorBox(r.error));
  const s = r.data;
  const c = s.currency;
  return clear(box,
    h('dl', { class: 'figures' },
      h('dt', {}, 'Pending and held'), h('dd', {}, fmtMoney(s.balance.pending, c)),
      h('dt', {}, 'Approved, not yet paid'), h('dd', {}, fmtMoney(s.balance.approved, c)),
      h('dt', {}, 'Owed back'), h('dd', {}, fmtMoney(s.balance.owedBack, c)),
      h('dt', {}, 'Next payout'), h('dd', {}, fmtMoney(s.nextPayout.amount, c))),
    s.nextPayout.reasons.length ? h('ul', { class: 'reasons' }, s.nextPayout.reasons.map((x) => h('li', {}, x))) : null);
}

// The summary's traffic over its days (clicks → sales, top links by clicks and by earnings), in
// the portal's words with the partner's name for "your"; each link by its short address when
// it is a campaign's.
async function traffic(box, summary, p, campaigns) {
  const r = await summary;
  if (!r.ok) return clear(box, errorBox(r.error));
  const s = r.data;
  const shortUrls = new Map((campaigns || []).filter((c) => c.primaryLink).map((c) => [c.primaryLink.slug, c.primaryLink.shortUrl]));
  const whose = 'this partner\'s';
  // The analytics need a viewer's reading: without it the rest of the traffic still shows.
  const places = await visitors(api.get, api.handlePath(''), s.earnings, { partnerId: p.partnerId, whose: 'This partner\'s' })
    .then((parts) => parts && [h('h3', {}, VISITORS_HEADING), ...parts], () => null);
  return clear(box,
    h('div', { class: 'partner-traffic' }, trafficWords(s.traffic, s.earnings.length, whose)),
    topLinks(s.traffic.topLinks, s.currency, shortUrls, { whose, earned: 'Earned' }),
    places);
}

async function ownCampaigns(partnerId) {
  const r = await api.request('GET', api.handlePath('/campaigns') + api.query({ limit: 100 }));
  return r.ok ? r.data.items.filter((c) => c.partnerId === partnerId) : null;
}

async function campaignsPart(box, campaigns) {
  if (campaigns === null) return clear(box, notice('info', session.reason(NEEDS.campaignsRead)));
  if (!campaigns.length) return clear(box, empty('No campaign pays this partner yet: give one on the Program page (Campaigns and funnels).'));
  const plans = await Promise.all(campaigns.map(async (c) => {
    const r = await api.request('GET', api.handlePath(`/campaigns/${enc(c.campaignId)}/commission-plan`));
    return r.ok ? r.data : null;
  }));
  return clear(box, table([
    { label: 'Campaign', value: (c) => c.campaignId },
    { label: 'Status', value: (c) => term(c.status) },
    { label: 'Link', value: (c) => (c.primaryLink ? h('a', { href: `#/links/edit/${enc(c.primaryLink.slug)}`, class: 'url' }, c.primaryLink.shortUrl) : '–') },
    { label: 'Plan', value: (c, i = campaigns.indexOf(c)) => planWords(plans[i]) },
  ], campaigns, 'Campaigns of this partner'));
}

function planWords(plan) {
  if (!plan) return 'No plan yet: its sales earn nothing.';
  return h('ul', { class: 'reasons' },
    plan.rules.map((rule, i) => h('li', {}, ruleInWords(rule, i, undefined, plan.currency))),
    h('li', { class: 'hint' }, `Held ${plan.holdDays} days; version ${plan.version}.`));
}

async function funnel(box, campaigns) {
  if (!campaigns || !campaigns.length) return clear(box, empty('No campaign, so no funnel yet.'));
  const to = new Date();
  const from = new Date(to.getTime() - 30 * 86400000);
  const r = await api.request('GET', api.handlePath('/analytics')
    + api.query({ funnel: 'true', from: from.toISOString().slice(0, 10), to: to.toISOString().slice(0, 10) }));
  if (!r.ok) return clear(box, errorBox(r.error));
  const ids = new Set(campaigns.map((c) => c.campaignId));
  const rows = r.data.campaigns.filter((c) => ids.has(c.campaignId));
  if (!rows.length) return clear(box, empty('No traffic in the last 30 days.'));
  const n = (k) => (c) => fmtCount(c[k]);
  return clear(box, table([
    { label: 'Campaign', value: (c) => c.campaignId },
    { label: 'Clicks', value: n('clicks'), class: 'num' },
    { label: 'Qualified clicks', value: n('qualifiedClicks'), class: 'num' },
    { label: 'Conversions', value: n('conversions'), class: 'num' },
    { label: 'Revenue', value: (c) => fmtAmounts(c.revenue), class: 'num' },
    { label: 'Commissions pending', value: (c) => fmtAmounts(c.commissionsPendingAmount), class: 'num' },
    { label: 'Approved', value: (c) => fmtAmounts(c.commissionsApprovedAmount), class: 'num' },
    { label: 'Paid', value: (c) => fmtAmounts(c.commissionsPaidAmount), class: 'num' },
  ], rows, 'Funnel of this partner'));
}

async function commissions(box, partnerId) {
  const r = await api.request('GET', api.handlePath('/commissions') + api.query({ partnerId, limit: 20 }));
  if (!r.ok) return clear(box, errorBox(r.error));
  if (!r.data.items.length) return clear(box, empty('No commission yet.'));
  return clear(box, table([
    { label: 'When', value: (c) => fmtTime(c.createdAt) },
    { label: 'What', value: (c) => term(c.kind) },
    { label: 'Amount', value: (c) => fmtMoney(c.amount, c.currency), class: 'num' },
    { label: 'Status', value: (c) => term(c.status, `status ${c.status}`) },
    { label: 'Why', value: (c) => terms(c.reasons) },
  ], r.data.items, 'The latest 20 lines'),
  h('p', {}, h('a', { href: '#/commissions' }, 'All lines and the review queue')));
}

async function payouts(box, partnerId) {
  const r = await api.request('GET', api.handlePath('/payouts') + api.query({ partnerId, limit: 20 }));
  if (!r.ok) return clear(box, errorBox(r.error));
  if (!r.data.items.length) return clear(box, empty('Not paid yet.'));
  return clear(box, table([
    { label: 'Payout', value: (p) => `#${p.sequence}` },
    { label: 'Amount', value: (p) => fmtMoney(p.amount, p.currency), class: 'num' },
    { label: 'Status', value: (p) => term(p.status, `status ${p.status}`) },
    { label: 'Made', value: (p) => fmtTime(p.createdAt) },
    { label: 'Invoice', value: (p) => (p.status === 'paid' ? invoiceButton(api.file, api.handlePath(''), p) : '') },
  ], r.data.items, 'Payouts of this partner'),
  h('p', {}, h('a', { href: '#/payouts' }, 'Run and settle payouts')));
}

// The audit log's newest entries that name this partner (as their target or their actor).
async function audit(box, partner) {
  const { partnerId } = partner;
  if (!session.allows(NEEDS.backlog)) return clear(box, h('p', { class: 'hint why' }, 'The audit trail is for admins and operators.'));
  const r = await api.request('GET', api.handlePath('/audit') + api.query({ limit: 100 }));
  if (!r.ok) return clear(box, errorBox(r.error));
  const mine = r.data.items.filter((e) => e.actor.id === partnerId || String(e.target || '').split(/[ /]/).includes(partnerId));
  if (!mine.length) return clear(box, empty('Nothing recorded about this partner among the latest 100 entries.'));
  // Sentences, newest first ("Ana approved the claim on 12 Nov"): issue 62.
  return clear(box, h('ul', { class: 'audit-sentences', 'aria-label': 'What was done about this partner' },
    mine.map((e) => sentence(e, partner))));
}
