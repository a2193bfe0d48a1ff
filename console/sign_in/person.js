// A person signs in as themselves (issue 60): a one-time link by email, or a provider the
// server is configured with ("Sign in with …", OpenID Connect). Both end in the server's
// session cookie; the console then reads who is signed in from GET /v2/me (main.js).

import * as api from '../api.js';
import { field, form, h, input, notice } from '../ui.js';

// The email form: the same answer whether or not the address has an account.
export function emailForm() {
  const email = input('email', { type: 'email', autocomplete: 'email', placeholder: 'you@example.com' });
  return form({ id: 'email-sign-in', 'aria-label': 'Sign in by email' },
    field('Your email address', email, 'We mail a link that signs you in once, for 15 minutes.'),
    'Email me a sign-in link',
    async (el, out) => {
      await api.post('/v2/auth/email-link', { email: email.value.trim(), next: '/' }, { auth: false });
      out.replaceChildren(notice('success',
        `If ${email.value.trim()} has an account here, a sign-in link is on its way. Open it in this browser.`));
    });
}

// "Sign in with …" for each provider configured; nothing when there is none.
export async function providerButtons() {
  const r = await api.request('GET', '/v2/auth/oidc', { auth: false });
  const items = (r.ok && r.data.items) || [];
  if (!items.length) return null;
  return h('ul', { class: 'sign-in-providers' }, items.map((p) => h('li', {},
    h('a', { class: 'button', href: `${p.startUrl}?next=/` }, `Sign in with ${p.name}`))));
}

// The person signed in by the cookie, if any: GET /v2/me (`null` when nobody is).
export async function signedInPerson() {
  const r = await api.request('GET', '/v2/me', { auth: false, cookie: true, expire: false });
  return r.ok ? r.data : null;
}

// Ends the person's session on the server (the cookie goes with it).
export async function signOut(csrf) {
  await api.request('POST', '/v2/auth/sign-out', { auth: false, cookie: true, headers: { 'x-csrf-token': csrf }, expire: false });
}
