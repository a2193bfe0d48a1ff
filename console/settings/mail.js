// Sent mail (issue 59, admins): the handle's newest mail with what became of each, in words
// (`GET …/mail`), a note when mail waits for an hourly limit, and the suppressed addresses with
// a button that lifts one (`GET`/`DELETE …/mail/suppressions`).

import * as api from '../api.js';
import * as session from '../session.js';
import { busy, clear, empty, errorBox, fmtCount, fmtTime, h, loading, notice, section, table } from '../ui.js';
import { term } from '../words.js';

// Who may read it: admins (a JWT or a person; no token scope reaches who was mailed what).
const NEED = { role: 'admin', scope: null, what: 'The sent mail' };

// The reason the worker writes on a mail held by a limit (mail::worker).
const WAITS = 'waits for the hourly mail limit';

export async function render(main) {
  main.append(h('h1', { tabindex: '-1' }, 'Sent mail'),
    h('p', {}, 'What 10x mailed for this handle (the newest 100) and what became of each: sent, waiting, not sent to a suppressed address, failed or bounced.'));
  if (!session.allows(NEED)) {
    main.append(notice('info', session.reason(NEED)));
    return;
  }
  const mailBody = h('div', {}, loading('Loading the sent mail…'));
  const suppressedBody = h('div', {}, loading('Loading the suppressed addresses…'));
  const out = h('div', { 'aria-live': 'polite' });
  main.append(section('Mail', mailBody),
    section('Suppressed addresses',
      h('p', {}, 'No mail of this handle goes to these addresses: they bounced, complained, or their server refused for good. Remove one once the address works again.'),
      suppressedBody, out));
  await Promise.all([loadMail(mailBody), loadSuppressed(suppressedBody, out)]);
}

async function loadMail(body) {
  const r = await api.request('GET', api.handlePath('/mail'));
  if (!r.ok) {
    clear(body, errorBox(r.error));
    return;
  }
  const items = r.data.items;
  if (!items.length) {
    clear(body, empty('No mail yet: approvals, payouts, invitations and the rest are mailed as they happen.'));
    return;
  }
  const waiting = items.filter((m) => m.status === 'queued' && m.error === WAITS).length;
  clear(body,
    waiting ? notice('warning', `${fmtCount(waiting)} ${waiting === 1 ? 'mail waits' : 'mails wait'} for the hourly mail limit (per handle and per recipient): ${waiting === 1 ? 'it goes' : 'they go'} out by themselves once the hour allows.`) : null,
    table([
      { label: 'Queued', value: (m) => fmtTime(m.createdAt) },
      { label: 'To', value: (m) => m.to },
      { label: 'What', value: (m) => term(m.kind) },
      { label: 'Subject', value: (m) => m.subject || '–' },
      { label: 'Status', value: (m) => h('span', { class: `status mail-${m.status}` }, term(m.status)) },
      { label: 'Why', value: (m) => m.error || '–' },
      { label: 'Tries', value: (m) => fmtCount(m.attempts), class: 'num' },
      { label: 'Sent', value: (m) => fmtTime(m.sentAt) },
    ], items, 'Mail of this handle, newest first'));
}

async function loadSuppressed(body, out) {
  const r = await api.request('GET', api.handlePath('/mail/suppressions'));
  if (!r.ok) {
    clear(body, errorBox(r.error));
    return;
  }
  if (!r.data.items.length) {
    clear(body, empty('No suppressed address: every address of this handle gets its mail.'));
    return;
  }
  clear(body, table([
    { label: 'Address', value: (s) => s.email },
    { label: 'Why', value: (s) => term(s.reason) },
    { label: 'Since', value: (s) => fmtTime(s.at) },
    { label: 'What the server said', value: (s) => s.detail || '–' },
    { label: 'Remove', value: (s) => removeButton(s, body, out) },
  ], r.data.items, 'Suppressed addresses'));
}

// Lifts one suppression: mail to the address goes out again.
function removeButton(s, body, out) {
  const b = h('button', { type: 'button', class: 'secondary', dataset: { action: 'unsuppress' } }, 'Remove');
  b.setAttribute('aria-label', `Remove the suppression of ${s.email}`);
  b.addEventListener('click', () => busy(b, out, async () => {
    await api.del(api.handlePath('/mail/suppressions') + api.query({ email: s.email }));
    await loadSuppressed(body, out);
    clear(out, notice('ok', `${s.email} gets this handle's mail again.`));
  }));
  return b;
}
