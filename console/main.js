// The console's entry point: sign-in, the navigation, and a hash router over the screens.

import * as api from './api.js';
import * as session from './session.js';
import { load as loadWords } from './words.js';
import { ROLES } from './session.js';
import * as peopleSignIn from './sign_in/person.js';
import * as passkeys from './sign_in/passkeys.js';
import * as nav from './nav.js';
import * as unread from './widgets/unread.js';
import { clear, errorBox, field, form, h, input, loading, notice, section, select } from './ui.js';

// A partner token sees one screen: its own.
const PARTNER_SCREENS = [['#/partner', 'Your partner view', async (main) => (await import('./partners/own_view.js')).render(main)]];

const main = document.getElementById('main');
const navEl = document.getElementById('nav');
const who = document.getElementById('who');

// Navigates (a hash change renders) or, on the same hash, renders again.
function go(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

function isLoopback() {
  return ['localhost', '127.0.0.1', '[::1]'].includes(location.hostname);
}

// The code `tenx serve --local-sign-in` printed in its URL (`/?code=…`): kept in this tab
// (sessionStorage, so signing in again after the hour needs no new URL) and taken out of the
// address bar at once, so it stays out of the history and of screenshots.
const CODE_KEY = 'tenx.console.signInCode';

function takeSignInCode() {
  const params = new URLSearchParams(location.search);
  const code = params.get('code');
  if (code) {
    sessionStorage.setItem(CODE_KEY, code);
    params.delete('code');
    const rest = params.toString();
    history.replaceState(null, '', location.pathname + (rest ? `?${rest}` : '') + location.hash);
  }
  return sessionStorage.getItem(CODE_KEY);
}

const signInCode = takeSignInCode();

// ---------------------------------------------------------------------------------- sign-in

// Checks a new session against the API: 401 (a bad token) and 403 forbidden (another handle)
// refuse it; a role or scope refusal still proves the token and the handle.
async function verify(candidate) {
  session.save(candidate);
  if (candidate.kind === 'partner') {
    await verifyPartner(candidate);
    return;
  }
  const r = await api.request('GET', api.handlePath('/links') + api.query({ limit: 1 }), { expire: false });
  if (r.ok || ['insufficient_role', 'insufficient_scope'].includes(r.error.code)) return;
  session.clear();
  throw r.error;
}

// A partner token reads its own partner record (the only one `GET …/partners` answers it).
async function verifyPartner(candidate) {
  const r = await api.request('GET', api.handlePath('/partners'), { expire: false });
  if (!r.ok || r.data.items.length !== 1) {
    session.clear();
    throw r.ok ? new Error('This token is not bound to a partner of this handle.') : r.error;
  }
  session.save({ ...candidate, partnerId: r.data.items[0].partnerId });
}

function pasteForm() {
  const token = h('textarea', { name: 'token', rows: 3, autocomplete: 'off', spellcheck: 'false' });
  const handle = input('handle', { placeholder: 'acme' });
  return form({ id: 'token-sign-in', 'aria-label': 'Sign in with a token' },
    h('div', {},
      field('Access token', token, 'Kept in this tab only, until you close it.'),
      field('Handle', handle, 'The handle the token is for; a token made by the server\'s own command names it already.')),
    'Sign in',
    async () => {
      const candidate = session.fromToken(token.value, handle.value);
      await verify(candidate);
      go(candidate.kind === 'partner' ? '#/partner' : takeReturn());
    });
}

function localForm() {
  const handle = input('handle', { value: 'acme' });
  return form({ id: 'local-sign-in', 'aria-label': 'Sign in on this machine' },
    h('div', { class: 'grid' }, field('Handle', handle), field('Role', select('role', ROLES, 'admin'))),
    'Sign in on this machine',
    async (el) => {
      const body = { handle: handle.value.trim(), role: el.querySelector('[name=role]').value, code: signInCode };
      const r = await api.post('/console/sign-in', body, { auth: false });
      session.save(session.fromToken(r.token, r.handle));
      go(takeReturn());
    });
}

// ------------------------------------------------------------------------- session's end

// Where a session ended (the screen to return to after signing in again) and why.
const RETURN_KEY = 'tenx.console.returnTo';
let endedWhy = null;

function takeReturn() {
  const to = sessionStorage.getItem(RETURN_KEY);
  sessionStorage.removeItem(RETURN_KEY);
  return to && to !== '#/signin' ? to : '#/home';
}

function endSession(why) {
  if (!session.get()) return;
  const here = location.hash || '#/home';
  if (here !== '#/signin') sessionStorage.setItem(RETURN_KEY, here);
  session.clear();
  endedWhy = why;
  clearTimeout(endTimers.warn);
  clearTimeout(endTimers.end);
  renderSignIn();
}

// An admin of a team that requires passkeys of its admins, without one (403 passkey_required on
// any of the handle's routes): the account screen, saying why, before anything else.
window.addEventListener('tenx:passkey-required', () => {
  if (location.hash === '#/settings/account') return;
  sessionStorage.setItem('tenx.console.passkeyRequired', '1');
  go('#/settings/account');
});

window.addEventListener('tenx:session-expired', (event) => {
  endSession(`Your session ended: the server no longer accepts its token (${event.detail.message}).`);
});

// A JWT says when it ends: a warning five minutes before, then the sign-in.
const endTimers = { warn: null, end: null };
const WARN_MS = 5 * 60 * 1000;

function scheduleEnd(s) {
  clearTimeout(endTimers.warn);
  clearTimeout(endTimers.end);
  document.getElementById('session-warning')?.remove();
  if (!s.exp) return;
  const left = s.exp * 1000 - Date.now();
  endTimers.warn = setTimeout(() => warnEnd(s), Math.max(0, left - WARN_MS));
  endTimers.end = setTimeout(() => endSession('Your session ended: its token expired.'), left);
}

function warnEnd(s) {
  if (document.getElementById('session-warning')) return;
  const at = new Date(s.exp * 1000).toLocaleTimeString();
  const again = h('button', { type: 'button', class: 'secondary' }, 'Sign in again now');
  again.addEventListener('click', () => endSession('You chose to sign in again before the session ended.'));
  const bar = h('div', { id: 'session-warning', class: 'notice warning session-warning', role: 'alert' },
    `Your session ends at ${at}. Sign in again to keep working; you come back to this screen.`, ' ', again);
  main.before(bar);
}

function renderSignIn() {
  clear(navEl);
  clear(who);
  document.getElementById('session-warning')?.remove();
  const why = endedWhy;
  endedWhy = null;
  const back = sessionStorage.getItem(RETURN_KEY);
  clear(main,
    h('h1', { tabindex: '-1' }, why ? 'Sign in again' : 'Sign in to the 10x console'),
    why ? notice('warning', why, back ? ` Sign in to return to ${screenName(back)}.` : '') : null,
    section('By email',
      h('p', {}, 'No password: type your email and we mail you a link that signs you in.'),
      peopleSignIn.emailForm()),
    isLoopback() && signInCode
      ? section('On this machine',
        h('p', {}, 'You opened the sign-in link the server printed: one click signs this browser in for an hour.'),
        localForm())
      : null,
    section('With a passkey',
      h('p', {}, 'Added a passkey on your account screen? Sign in with this device\'s lock.'),
      passkeys.signInForm(async () => {
        // The server set the session cookie: read who it signs in.
        cookieLooked = false;
        go(takeReturn());
      })),
    h('div', { id: 'provider-sign-in' }),
    engineersSignIn());
  main.querySelector('h1').focus();
  peopleSignIn.providerButtons().then((buttons) => {
    const slot = document.getElementById('provider-sign-in');
    if (buttons && slot) slot.replaceWith(section('With your company account', buttons));
  }).catch(() => {});
}

// Signing in with a token is for the engineers who run the server or build on its API: out
// of a manager's way, behind a disclosure, in plain words.
function engineersSignIn() {
  return h('details', { id: 'engineer-sign-in', class: 'engineers' },
    h('summary', {}, 'For engineers: sign in with an access token'),
    h('p', {}, 'Paste an access token: one made on the Access tokens screen, a partner\'s token, or one the server makes (',
      h('code', {}, 'tenx token --handle acme --role operator'), ').'),
    pasteForm());
}

// The person the server's cookie signs in (issue 60), looked for once per page load: a sign-in
// by email link or provider lands on `/` with the cookie and nothing in this tab yet.
let cookieLooked = false;

async function resumePerson() {
  if (cookieLooked) return false;
  cookieLooked = true;
  const me = await peopleSignIn.signedInPerson().catch(() => null);
  if (!me) return false;
  try {
    session.save(session.fromMe(me, sessionStorage.getItem('tenx.console.handle')));
    // An admin of a team that requires passkeys, without one: the account screen before
    // anything else (any of the handle's routes answers 403 passkey_required).
    if (session.get().role === 'admin') {
      const r = await api.request('GET', api.handlePath('/sign-in-policy'), { expire: false, passkeyRedirect: false });
      if (!r.ok && r.error.code === 'passkey_required') {
        sessionStorage.setItem('tenx.console.passkeyRequired', '1');
        history.replaceState(null, '', '#/settings/account');
      }
    }
    return true;
  } catch (e) {
    endedWhy = e.message;
    return false;
  }
}

// ------------------------------------------------------------------------------- navigation

function screenName(hash) {
  if (hash === '#/partner') return 'your partner view';
  return nav.pageName(hash);
}

// The top navigation: the eight places (a partner token: its one screen); `current` is the
// place's first address. Partners says how many partners' messages wait unread.
function renderChrome(current) {
  const s = session.get();
  const places = s.kind === 'partner'
    ? PARTNER_SCREENS.map(([hash, label]) => [hash, label])
    : nav.PLACES.map(([place, label, pages]) => [pages[0][0], label, place]);
  clear(navEl, h('ul', {}, places.map(([hash, label, place]) => h('li', {},
    h('a', { href: hash, 'aria-current': current === hash ? 'page' : null },
      label, place === 'partners' ? unread.badge() : null)))));
  const signOut = h('button', { type: 'button', class: 'secondary', id: 'sign-out' }, 'Sign out');
  signOut.addEventListener('click', async () => {
    if (s.kind === 'person') await peopleSignIn.signOut(s.csrf).catch(() => {});
    session.clear();
    go('#/signin');
  });
  const what = {
    jwt: `${s.role} (signed token)`, partner: `partner ${s.partnerId}`, person: `${s.role} · ${s.email}`,
  }[s.kind] || 'personal access token';
  clear(who, h('span', { id: 'who-am-i' }, h('strong', {}, s.handle), ` · ${what}`), ' ', signOut);
}

async function route() {
  const s = session.get() || (await resumePerson() ? session.get() : null);
  if (!s) {
    renderSignIn();
    return;
  }
  if (s.exp && s.exp * 1000 < Date.now()) {
    endSession('Your session ended: its token expired.');
    return;
  }
  scheduleEnd(s);
  if (s.kind === 'partner') {
    await renderScreen('#/partner', PARTNER_SCREENS[0][2]);
    return;
  }
  // An old address (before issue 62) is replaced by its new one, so the back button skips it.
  const asked = location.hash || '#/home';
  if (nav.ALIASES[asked]) history.replaceState(null, '', nav.ALIASES[asked]);
  const found = nav.resolve(nav.ALIASES[asked] || asked) || nav.resolve('#/home');
  const pages = nav.pagesOf(found.place);
  await renderScreen(pages[0][0], (body) => {
    if (pages.length > 1) body.append(tabs(pages, found.hash));
    return found.page[2](body);
  });
}

// A place's pages as tabs (links: each an address of its own).
function tabs(pages, current) {
  return h('nav', { class: 'tabs', 'aria-label': 'Pages of this section' }, h('ul', {},
    pages.map(([hash, label]) => h('li', {},
      h('a', { href: hash, 'aria-current': hash === current ? 'page' : null }, label)))));
}

// The chrome with `current` marked, then the screen `render` draws (an error in its place).
// Only the latest navigation draws: a slow page left before it finished (Home's checks) must
// not replace the page opened after it.
let drawing = 0;

async function renderScreen(current, render) {
  const mine = ++drawing;
  renderChrome(current);
  clear(main, loading());
  const body = h('div', {});
  try {
    await render(body);
    if (!session.get() || mine !== drawing) return; // the session ended, or another page opened
    clear(main, body);
  } catch (err) {
    if (!session.get() || mine !== drawing) return;
    clear(main, h('h1', { tabindex: '-1' }, 'Something went wrong'), errorBox(err),
      notice('info', 'Reload the page, or sign in again if your token expired.'));
  }
  const heading = main.querySelector('h1');
  if (heading) heading.focus();
}

window.addEventListener('hashchange', route);
// A place or tab link to the page already shown reads it again (no hashchange would).
document.addEventListener('click', (event) => {
  const a = event.target.closest && event.target.closest('#nav a, main .tabs a');
  if (!a || a.getAttribute('href') !== location.hash || event.ctrlKey || event.metaKey) return;
  event.preventDefault();
  route();
});
// The words for the API's codes (GET /v2/reasons) before the first screen: a failure to load
// them leaves the codes shown as they are.
loadWords().finally(route);
