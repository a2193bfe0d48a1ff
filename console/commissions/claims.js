// The claims queue (issue 62; claims are issue 63's): a partner's claim on a sale it says it
// brought, with what 10x found (the proposal's verdict and reasons, in words), the evidence
// the partner gave and the records it points to; approve or deny with a reason (and an amount
// when the server asks for one: a sale with no plan to rate it by), and a decided claim's
// signed decision checked in this browser against the program's published keys, as the
// partner's portal and `tenx verify` check it.

import * as api from '../api.js';
import * as session from '../session.js';
import { NEEDS } from '../session.js';
import { partnerLink } from '../widgets/partner_link.js';
import { verifyDecision } from '../portal/verify.js';
import {
  clear, download, empty, errorBox, field, fmtMoney, fmtTime, form, h, input, loading, notice,
  section, select,
} from '../ui.js';
import { term } from '../words.js';
import { byWhom } from '../widgets/people.js';

const STATUSES = [['open', 'Waiting for your decision'], ['approved', 'Approved'], ['denied', 'Denied'], ['', 'All']];

export async function render(main) {
  main.append(h('h1', { tabindex: '-1' }, 'Claims'),
    h('p', {}, 'A partner asks for a sale it says it brought. 10x looks for its click and says what it found; you decide, and your decision is signed.'));
  if (!session.allows(NEEDS.commissionsRead)) {
    main.append(notice('info', session.reason(NEEDS.commissionsRead)));
    return;
  }
  const body = h('div', {});
  main.append(section('Claims', body));
  await queue(body, {});
}

// The queue into `body`; `partnerId` narrows it to one partner (its page).
export async function queue(body, { partnerId } = {}) {
  const show = select('status', STATUSES, 'open');
  const list = h('div', { id: partnerId ? 'partner-claims' : 'claims-queue', 'aria-live': 'polite' });
  const load = async () => {
    clear(list, loading('Loading claims…'));
    const r = await api.request('GET', api.handlePath('/claims') + api.query({ status: show.value || undefined, partnerId, limit: 100 }));
    if (!r.ok) {
      clear(list, errorBox(r.error));
      return;
    }
    clear(list, r.data.items.length
      ? r.data.items.map((c) => claimCard(c, load, !partnerId))
      : empty(show.value === 'open' ? 'No claim waits for a decision.' : 'No claims here.'));
  };
  show.addEventListener('change', load);
  clear(body, field('Show', show), list);
  await load();
}

function what(c) {
  if (c.orderId) return `Order ${c.orderId}`;
  if (c.conversionId) return 'A recorded sale';
  return "A customer's sale";
}

// What the partner gave and what 10x found, in words and links (issue 62): the sale as its
// day and amount, the click as the link it came through, a partner by its name; ids stay in
// the tooltips for engineers.
function evidence(c) {
  const e = c.evidence || {};
  const f = c.found || {};
  const items = [
    c.amount ? ['The sale, as the partner says', fmtMoney(c.amount, c.currency)] : null,
    e.note ? ['The partner says', e.note] : null,
    e.receipt ? ['Receipt', h('span', { 'data-receipt': e.receipt }, 'a signed receipt, given (kept with the claim)')] : null,
    e.ctx ? ['Click token', 'given (kept with the claim)'] : null,
    e.clickId ? ['Click', h('span', { 'data-click-id': e.clickId }, 'a click the partner named (kept with the claim)')] : null,
    f.conversionId ? ['The sale 10x found', saleWords(f.conversionId)] : null,
    f.creditedPartnerId ? ['Credited now to', partnerLink(f.creditedPartnerId)] : null,
    f.campaignId ? ['The click came through', campaignWords(f.campaignId)] : null,
  ].filter(Boolean);
  if (c.attachments && c.attachments.length) items.push(['Images the partner added', images(c)]);
  if (!items.length) return h('p', { class: 'hint' }, 'No evidence given beyond the order and its time.');
  return h('dl', { class: 'evidence' }, items.flatMap(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]));
}

// The claim's images (screenshots of the order): each fetched with the caller's credentials and
// shown as a data: URL (the console's policy allows no other), with a link to keep the file.
function images(c) {
  const list = h('ul', { class: 'attachments' });
  c.attachments.forEach((a, i) => {
    const n = i + 1;
    const item = h('li', {}, loading(`Loading image ${n}…`));
    list.append(item);
    const path = api.handlePath(`/partners/${encodeURIComponent(c.partnerId)}/claims/${encodeURIComponent(c.claimId)}/attachments/${encodeURIComponent(a.attachmentId)}`);
    api.file(path).then((blob) => new Promise((resolve, reject) => {
      const reader = new FileReader();
      reader.onload = () => resolve([blob, reader.result]);
      reader.onerror = () => reject(reader.error);
      reader.readAsDataURL(blob);
    })).then(([blob, url]) => {
      const name = `claim-${c.claimId}-image-${n}.${a.contentType === 'image/png' ? 'png' : 'jpg'}`;
      clear(item,
        h('img', { src: url, alt: `Image ${n} the partner added (${a.width}×${a.height})`, width: '160', class: 'claim-image' }),
        h('br', {}), h('a', { href: URL.createObjectURL(blob), download: name }, `Download image ${n}`));
    }).catch((err) => clear(item, errorBox(err)));
  });
  return list;
}

// "the sale of 12 Nov 2026, €49.00", linking to the conversions (the id in `data-conversion-id`).
export function saleWords(id) {
  const a = h('a', { href: '#/commissions/conversions', 'data-conversion-id': id, class: 'sale-link' }, 'a recorded sale');
  api.request('GET', api.handlePath(`/conversions/${encodeURIComponent(id)}`)).then((r) => {
    if (!r.ok) return;
    const day = new Date(r.data.receivedAt).toLocaleDateString(undefined, { dateStyle: 'medium' });
    a.textContent = r.data.value !== null && r.data.value !== undefined
      ? `the sale of ${day}, ${fmtMoney(r.data.value, r.data.currency)}` : `the sale of ${day}`;
  }).catch(() => {});
  return a;
}

// The campaign's link as people see it (its short URL), linking to the link's page.
function campaignWords(id) {
  const a = h('a', { href: '#/program/campaigns', 'data-campaign-id': id, class: 'campaign-link' }, "the partner's link");
  api.request('GET', api.handlePath(`/campaigns/${encodeURIComponent(id)}`)).then((r) => {
    if (!r.ok) return;
    a.href = `#/links/edit/${encodeURIComponent(r.data.primarySlug)}`;
    a.textContent = `the link ${r.data.shortUrl || r.data.primarySlug}`;
  }).catch(() => {});
  return a;
}

function claimCard(c, reload, withPartner) {
  return h('article', { class: 'claim-card', 'data-claim': c.claimId },
    h('h3', {}, withPartner ? [partnerLink(c.partnerId), ': '] : null, what(c), ' · ', term(c.status, `status ${c.status === 'open' ? 'held' : c.status === 'approved' ? 'approved' : 'rejected'}`)),
    h('p', { class: 'hint' }, 'Sale on ', fmtTime(c.occurredAt), ' · asked ', fmtTime(c.openedAt),
      c.status === 'open' ? [' · decided by the rule after ', fmtTime(c.deadlineAt)] : null),
    h('p', {}, h('strong', {}, 'What 10x found: '), term(c.proposal.verdict)),
    c.proposal.reasons.length ? h('ul', { class: 'reasons' }, c.proposal.reasons.map((r) => h('li', {}, r))) : null,
    c.proposal.forManagers && c.proposal.forManagers.length
      ? [h('p', {}, h('strong', {}, 'For the program only (the partner never reads this): ')),
        h('ul', { class: 'reasons' }, c.proposal.forManagers.map((r) => h('li', {}, r)))]
      : null,
    evidence(c),
    c.decision ? decision(c) : decideForm(c, reload));
}

// Approve or deny. The amount fields appear when the server asks for them (400 naming
// `amount`: nothing to rate the sale by), keeping what was typed.
function decideForm(c, reload) {
  const amountBox = h('div', { class: 'grid', hidden: true },
    field('Amount to pay', input('amount', { inputmode: 'decimal', placeholder: '12.50' }), 'No plan rates this sale: say what it earns.'),
    field('Currency', input('currency', { placeholder: 'EUR', maxlength: '3' })));
  const f = form({ class: 'decide-form', 'aria-label': `Decide the claim: ${what(c)}` },
    h('div', {},
      h('div', { class: 'grid' },
        field('Decision', select('decision', [['approve', 'Approve: credit the partner'], ['deny', 'Deny']], c.proposal.verdict === 'deny' ? 'deny' : 'approve')),
        field('Why (the partner reads it)', input('reason', { maxlength: '500' }))),
      amountBox),
    'Decide',
    async (el) => {
      const v = (n) => el.querySelector(`[name=${n}]`).value.trim();
      const body = { decision: v('decision'), reason: v('reason') };
      if (!amountBox.hidden && v('amount')) {
        body.amount = v('amount');
        if (v('currency')) body.currency = v('currency').toUpperCase();
      }
      try {
        await api.post(api.handlePath(`/claims/${encodeURIComponent(c.claimId)}/decide`), body);
      } catch (err) {
        if (err.status === 400 && /^(amount|currency)\b/.test(err.message || '')) amountBox.hidden = false;
        throw err;
      }
      await reload();
    });
  if (!session.allows(NEEDS.commissionsWrite)) {
    f.button.disabled = true;
    f.append(h('small', { class: 'hint why' }, session.reason(NEEDS.commissionsWrite)));
  }
  return f;
}

// A decided claim: the decision in words and its signed proof, checked here.
function decision(c) {
  const d = c.decision;
  const verdict = h('p', { class: 'proof-verdict', 'aria-live': 'polite' }, 'Checking the signature…');
  verifyDecision('', d)
    .then((text) => {
      verdict.textContent = text;
      verdict.classList.add(text.startsWith('Verified') ? 'ok' : 'bad');
    })
    .catch(() => { verdict.textContent = 'The signature could not be checked in this browser.'; });
  return h('div', { class: 'decision' },
    h('p', {}, h('strong', {}, d.decision === 'approve' ? 'Approved' : 'Denied'),
      d.overdue ? ' by the rule at the deadline' : [' ', byWhom(d.decidedBy), ', ', fmtTime(d.decidedAt)],
      d.amount ? ` · ${fmtMoney(d.amount, d.currency)}` : null),
    h('p', {}, `Why: ${d.reason}`),
    verdict,
    h('button', {
      type: 'button',
      class: 'secondary',
      onclick: () => download(`claim-decision-${c.claimId}.json`, JSON.stringify(d, null, 2), 'application/json'),
    }, 'Download the signed decision'),
    h('small', { class: 'hint' }, ' Anyone can check it with ', h('code', {}, 'tenx verify'), ' and the program\'s published keys.'));
}
