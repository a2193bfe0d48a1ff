// The partner program, signed in: its settings (admin), a link to its public page, and the
// applications queue (operator): approve (the partner mailed a sign-in link) or reject with a
// reason.

import * as api from '../api.js';
import * as people from '../widgets/people.js';
import * as session from '../session.js';
import { NEEDS } from '../session.js';
import {
  busy, checkbox, clear, empty, errorBox, field, fmtTime, form, gate, h, input, loading,
  notice, section, select, table,
} from '../ui.js';
import { picker } from '../widgets/picker.js';
import { fraudForm } from './fraud.js';

export async function render(main) {
  main.append(h('h1', { tabindex: '-1' }, 'Partner program'),
    h('p', {}, 'Your public program page and the applications it brings. Approval creates the partner, its campaign and link from the template campaign, and mails the partner a link that signs them in to their portal.'));
  const settings = h('div', {}, loading('Loading the program…'));
  const queue = h('div', {}, loading('Loading applications…'));
  // The approved partner's token: above the queue, so reloading the queue keeps it shown.
  const shown = h('div', { 'aria-live': 'polite' });
  main.append(section('Program', settings), section('Applications', shown, queue));
  await loadSettings(settings);
  if (session.allows(NEEDS.applications)) await loadQueue(queue, 'pending', shown);
  else clear(queue, notice('info', session.reason(NEEDS.applications)));
}

async function loadSettings(box) {
  const r = await api.request('GET', api.handlePath('/program'));
  if (!r.ok && r.status !== 404) return clear(box, errorBox(r.error));
  const p = r.ok ? r.data : null;
  const handle = session.get().handle;
  const page = `/programs/${encodeURIComponent(handle)}`;
  clear(box,
    p ? h('p', {}, 'Public page: ', h('a', { href: page }, `${location.origin}${page}`)) : notice('info', 'No program yet: save one to publish its page.'),
    settingsForm(p, box),
    h('h3', {}, 'Fraud rules'),
    fraudForm(p, () => loadSettings(box)));
}

function settingsForm(p, box) {
  const f = form({ 'aria-label': 'Program settings' }, [
    h('div', { class: 'grid' },
      field('Name', input('name', { value: p ? p.name : '' })),
      field('Terms URL', input('termsUrl', { type: 'url', value: p && p.termsUrl ? p.termsUrl : '' }), 'Optional, https://…'),
      field('Applications', select('applications', [['open', 'Open: anyone may apply'], ['invite', 'By invitation only']], p ? p.applications : 'open')),
      field('Template campaign', picker('template', 'campaigns', { value: p && p.template ? p.template.campaignId : '' }), 'Copied for every approved partner (goal, plan, link).')),
    field('Description', h('textarea', { name: 'description', rows: '4' }, p && p.description ? p.description : '')),
    field('Approve every application at once', checkbox('autoApprove', p && p.autoApprove))],
    'Save the program',
    async (el) => {
      const v = (n) => el.querySelector(`[name=${n}]`).value.trim();
      // The save replaces the whole program: it starts from the settings this form does not
      // show (tax, self-billing, fraud, claim and coupon rules), so saving a name keeps them.
      const { version, updatedAt, updatedBy, ...kept } = p || {};
      const body = { ...kept, name: v('name'), applications: v('applications'), autoApprove: el.querySelector('[name=autoApprove]').checked };
      for (const n of ['description', 'termsUrl']) {
        if (v(n)) body[n] = v(n); else delete body[n];
      }
      if (v('template')) body.template = { campaignId: v('template') }; else delete body.template;
      await api.put(api.handlePath('/program'), body);
      await loadSettings(box);
    });
  if (!session.allows(NEEDS.programWrite)) {
    f.button.disabled = true;
    f.button.insertAdjacentElement('afterend', h('small', { class: 'hint why' }, session.reason(NEEDS.programWrite)));
  }
  return f;
}

async function loadQueue(box, status, shown) {
  const r = await api.request('GET', api.handlePath('/partner-applications') + api.query({ status, limit: 100 }));
  const filter = select('status', [['pending', 'Pending'], ['approved', 'Approved'], ['rejected', 'Rejected']], status);
  filter.addEventListener('change', () => loadQueue(box, filter.value, shown));
  const head = h('div', { class: 'grid' }, field('Show', filter));
  if (!r.ok) return clear(box, head, errorBox(r.error));
  if (r.data.items.length === 0) return clear(box, head, empty(`No ${status} application.`));
  const done = people.lastDone(['application.approved', 'application.rejected']);
  clear(box, head, table([
    { label: 'Applicant', value: (a) => [h('strong', {}, a.name), h('br', {}), a.email,
      ...(a.throwawayDomain ? [h('br', {}), h('small', { class: 'badge warn' }, `A throwaway address (${a.throwawayDomain}): such addresses are often used to apply again under another name.`)] : [])] },
    { label: 'Website', value: (a) => (a.website ? h('a', { href: a.website, rel: 'noopener noreferrer' }, a.website) : '—') },
    { label: 'Message', value: (a) => a.message || '—' },
    { label: 'Applied', value: (a) => fmtTime(a.createdAt) },
    { label: 'Decision', value: (a) => decision(a, box, shown, done) },
  ], r.data.items, 'Applications'));
}

function decision(a, box, shown, done) {
  if (a.status === 'approved') return people.withWho(`Approved as ${a.partnerId}`, a.applicationId, done);
  if (a.status === 'rejected') return people.withWho(`Rejected: ${a.reason}`, a.applicationId, done);
  const out = h('div', { 'aria-live': 'polite' });
  const approve = h('button', { type: 'button', class: 'primary' }, 'Approve');
  approve.setAttribute('aria-label', `Approve ${a.name}`);
  // One key per card: pressed again after a lost answer, the approval answers the same partner.
  const key = `approve-${a.applicationId}-${Math.random().toString(36).slice(2, 10)}`;
  approve.addEventListener('click', () => busy(approve, out, async () => {
    const got = await api.post(api.handlePath(`/partner-applications/${a.applicationId}/approve`), undefined,
      { headers: { 'idempotency-key': key } });
    showApproved(shown, got, a);
    await loadQueue(box, 'pending', shown);
  }));
  // The reject box has a visible label of its own (issue 62), naming whom it rejects.
  const reason = input('reason', { maxlength: '500' });
  const reject = h('button', { type: 'button', class: 'danger' }, 'Reject');
  reject.setAttribute('aria-label', `Reject ${a.name}`);
  const tell = checkbox('mailApplicant', true);
  reject.addEventListener('click', () => busy(reject, out, async () => {
    const body = { reason: reason.value.trim(), mailApplicant: tell.checked };
    await api.post(api.handlePath(`/partner-applications/${a.applicationId}/reject`), body);
    await loadQueue(box, 'pending', shown);
  }));
  const can = session.allows(NEEDS.commissionsWrite);
  const why = session.reason(NEEDS.commissionsWrite);
  return h('div', {}, h('div', { class: 'actions' }, gate(approve, can, why)),
    field(`Why reject ${a.name}?`, reason, 'Kept with the application for your team.'),
    field(`Mail ${a.name} this reason`, tell, 'Untick to turn them down without a mail.'),
    h('div', { class: 'actions' }, gate(reject, can, why)), out);
}

// The approval in words: the partner was mailed a sign-in link to its portal, so nothing is
// handed over here (a token for a machine is made on the partner's page, on request).
function showApproved(shown, got, a) {
  clear(shown, h('div', { class: 'notice ok', role: 'status' },
    h('h3', {}, `${a.name} is now a partner`),
    h('p', {}, `We mailed ${a.email || 'them'} a link that signs them in to their partner portal. Their link: `,
      h('code', { class: 'url' }, got.shortUrl), '.'),
    h('div', { class: 'actions' },
      h('a', { href: `#/partners/${encodeURIComponent(got.partnerId)}` }, `Open ${a.name}'s page`),
      h('button', { type: 'button', class: 'secondary', onclick: () => clear(shown) }, 'Done'))));
}
