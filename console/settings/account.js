// The account screen (issue 60): a person signed in as themselves sees their sessions ("this
// browser, since, last seen, address"), signs any of them out or all at once, and keeps their
// passkeys (add, remove). A token (JWT, personal access token) has no account: the screen
// says so.

import * as api from '../api.js';
import * as passkeys from '../sign_in/passkeys.js';
import * as session from '../session.js';
import { clear, empty, errorBox, fmtTime, h, loading, notice, section, table } from '../ui.js';

export async function render(main) {
  const s = session.get();
  main.append(h('h1', { tabindex: '-1' }, 'Your account'));
  if (!s || s.kind !== 'person') {
    main.append(notice('info', 'This screen is for people signed in as themselves (by email, a company account or a passkey); a token has no account.'));
    return;
  }
  main.append(h('p', {}, `Signed in as ${s.email}.`));
  if (sessionStorage.getItem('tenx.console.passkeyRequired')) {
    sessionStorage.removeItem('tenx.console.passkeyRequired');
    main.append(notice('warning', 'Admins of this team sign in with a passkey: add one here before anything else.'));
  }
  const keysBody = h('div', { id: 'passkey-list' }, loading('Loading passkeys…'));
  const sessionsBody = h('div', { id: 'session-list' }, loading('Loading sessions…'));
  const reloadKeys = () => loadPasskeys(keysBody, reloadKeys);
  main.append(
    section('Passkeys',
      h('p', {}, 'A passkey signs you in with this device\'s lock (a fingerprint, a face, a PIN): nothing to type, nothing to phish. Lost one? Sign in by email and remove it here.'),
      passkeys.supported() ? passkeys.addForm(reloadKeys) : notice('info', 'This browser cannot make passkeys.'),
      keysBody),
    section('Where you are signed in', sessionsBody));
  await Promise.all([reloadKeys(), loadSessions(sessionsBody)]);
}

async function loadPasskeys(body, reload) {
  const r = await api.request('GET', '/v2/me/passkeys');
  if (!r.ok) return clear(body, errorBox(r.error));
  if (!r.data.items.length) return clear(body, empty('No passkey yet.'));
  const out = h('div', { 'aria-live': 'polite' });
  clear(body, table([
    { label: 'Name', value: (p) => p.name },
    { label: 'Added', value: (p) => fmtTime(p.createdAt) },
    { label: 'Last used', value: (p) => (p.lastUsedAt ? fmtTime(p.lastUsedAt) : 'not yet') },
    {
      label: 'Remove',
      value: (p) => {
        const b = h('button', { type: 'button', class: 'danger', 'aria-label': `Remove ${p.name}` }, 'Remove');
        b.addEventListener('click', async () => {
          const x = await api.request('DELETE', `/v2/me/passkeys/${encodeURIComponent(p.passkeyId)}`);
          if (!x.ok) return clear(out, errorBox(x.error));
          clear(out, notice('success', `${p.name} is removed.`));
          await reload();
        });
        return b;
      },
    },
  ], r.data.items, 'Your passkeys'), out);
}

function browserName(ua) {
  if (!ua) return 'a browser';
  const m = /(Edg|Firefox|Chrome|Chromium|Safari)\/[\d.]+/.exec(ua);
  return m ? m[1].replace('Edg', 'Edge') : ua.slice(0, 40);
}

async function loadSessions(body) {
  const r = await api.request('GET', '/v2/me/sessions');
  if (!r.ok) return clear(body, errorBox(r.error));
  const out = h('div', { 'aria-live': 'polite' });
  const all = h('button', { type: 'button', class: 'danger', id: 'sign-out-everywhere' }, 'Sign out everywhere');
  all.addEventListener('click', async () => {
    const x = await api.request('DELETE', '/v2/me/sessions');
    if (!x.ok) return clear(out, errorBox(x.error));
    session.clear();
    location.hash = '#/signin';
  });
  clear(body, table([
    { label: 'Browser', value: (x) => (x.current ? [h('strong', {}, 'This browser'), ` (${browserName(x.browser)})`] : browserName(x.browser)) },
    { label: 'Since', value: (x) => fmtTime(x.since) },
    { label: 'Last seen', value: (x) => fmtTime(x.lastSeen) },
    { label: 'Address', value: (x) => x.address || 'unknown' },
    {
      label: 'Sign out',
      value: (x) => {
        const b = h('button', { type: 'button', class: 'secondary', 'aria-label': x.current ? 'Sign out this browser' : `Sign out ${browserName(x.browser)} since ${x.since}` }, 'Sign out');
        b.addEventListener('click', async () => {
          const y = await api.request('DELETE', `/v2/me/sessions/${encodeURIComponent(x.sessionId)}`);
          if (!y.ok) return clear(out, errorBox(y.error));
          if (x.current) {
            session.clear();
            location.hash = '#/signin';
            return;
          }
          await loadSessions(body);
        });
        return b;
      },
    },
  ], r.data.items, 'Your sessions'), h('div', { class: 'actions' }, all), out);
}
