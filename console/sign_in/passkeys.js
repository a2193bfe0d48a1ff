// Passkeys in the browser (issue 60): the server's WebAuthn options (JSON) handed to
// navigator.credentials, and the credential's own toJSON() sent back. Registering needs a
// signed-in person (the session cookie and its CSRF token); signing in needs nothing.

import * as api from '../api.js';
import { field, form, input, notice } from '../ui.js';

// Whether this browser can make and use passkeys (the JSON forms of WebAuthn level 3).
export function supported() {
  return typeof window.PublicKeyCredential === 'function'
    && typeof PublicKeyCredential.parseCreationOptionsFromJSON === 'function'
    && typeof PublicKeyCredential.parseRequestOptionsFromJSON === 'function';
}

// A browser's refusal in words (the person closed the prompt, or has no passkey here).
function refused(e) {
  if (e && e.name === 'NotAllowedError') return new Error('The passkey prompt was closed or timed out: nothing was changed. Try again.');
  if (e && e.name === 'InvalidStateError') return new Error('This device holds a passkey for your account already.');
  return e;
}

// Registers a passkey for the signed-in person; resolves to the server's passkey.
export async function add(name) {
  const begin = await api.post('/v2/auth/passkeys/register/begin', {});
  let credential;
  try {
    credential = await navigator.credentials.create({ publicKey: PublicKeyCredential.parseCreationOptionsFromJSON(begin.publicKey) });
  } catch (e) {
    throw refused(e);
  }
  return api.post('/v2/auth/passkeys/register/finish', { credential: credential.toJSON(), name: name || undefined });
}

// Signs in with one of this device's passkeys: the server sets the session cookie.
export async function signIn(next) {
  const begin = await api.post('/v2/auth/passkeys/authenticate/begin', { next }, { auth: false });
  let credential;
  try {
    credential = await navigator.credentials.get({ publicKey: PublicKeyCredential.parseRequestOptionsFromJSON(begin.publicKey) });
  } catch (e) {
    throw refused(e);
  }
  return api.post('/v2/auth/passkeys/authenticate/finish', { credential: credential.toJSON() }, { auth: false, cookie: true });
}

// The sign-in page's passkey form: one button, the browser offers the person's passkeys.
export function signInForm(done) {
  if (!supported()) {
    return notice('info', 'This browser cannot use passkeys: sign in by email instead.');
  }
  return form({ id: 'passkey-sign-in', 'aria-label': 'Sign in with a passkey' }, [],
    'Sign in with a passkey',
    async () => {
      const r = await signIn('/');
      await done(r.next);
    });
}

// The account screen's form: a name (optional), then the browser's prompt.
export function addForm(done) {
  const name = input('name', { placeholder: 'Work laptop', maxlength: 60 });
  return form({ id: 'passkey-add', 'aria-label': 'Add a passkey' },
    field('Name', name, 'So you can tell your passkeys apart; optional.'),
    'Add a passkey',
    async (el, out) => {
      const p = await add(name.value.trim());
      name.value = '';
      out.replaceChildren(notice('success', `${p.name} is added: you can sign in with it from now on.`));
      await done(p);
    });
}

