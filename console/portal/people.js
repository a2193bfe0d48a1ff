// The portal's People tab: who acts for the partner (its owner first), and for the owner, a
// colleague invited by email and a member removed (their next request is refused). Members
// see the list only; the API refuses them the rest anyway.

import * as api from './api.js';
import { clear, errorBox, field, fmtTime, h, input, loading, section } from '../ui.js';

const ROLE = { owner: 'Owner: approved by the program, invites and removes', member: 'Member' };

// The People tab for `partnerId` under `base`; `me` is the signed-in person (its user id, and
// whether it is the partner's owner).
export async function people(base, partnerId, me) {
  const path = `${base}/partners/${encodeURIComponent(partnerId)}/members`;
  const list = h('div', { 'aria-live': 'polite' });
  const reload = async () => {
    const got = await api.get(path);
    clear(list, h('ul', { class: 'people' }, got.items.map((u) => h('li', {},
      h('strong', {}, u.email), u.userId === me.userId ? ' (you)' : null, ' · ', ROLE[u.role] || u.role, ' · since ', fmtTime(u.since),
      me.owner && u.role !== 'owner' ? [' ', removeButton(path, u, reload)] : null))));
  };
  await reload();
  const parts = [section('People who act for you', list)];
  if (me.owner) parts.push(section('Invite a colleague', inviteForm(path)));
  return parts;
}

function removeButton(path, u, reload) {
  const out = h('span', { 'aria-live': 'polite' });
  const b = h('button', {
    type: 'button',
    class: 'danger',
    'aria-label': `Remove ${u.email}`,
    onclick: async () => {
      if (!window.confirm(`Remove ${u.email}? They can no longer act for you here.`)) return;
      b.disabled = true;
      try {
        await api.request('DELETE', `${path}/${encodeURIComponent(u.userId)}`);
        await reload();
      } catch (err) {
        b.disabled = false;
        clear(out, errorBox(err));
      }
    },
  }, 'Remove');
  return h('span', {}, b, out);
}

function inviteForm(path) {
  const email = input('email', { type: 'email', autocomplete: 'off', required: true, 'aria-required': 'true' });
  const out = h('div', { 'aria-live': 'polite' });
  const send = h('button', { class: 'primary', type: 'submit' }, 'Send the invitation');
  return h('form', {
    onsubmit: async (e) => {
      e.preventDefault();
      send.disabled = true;
      clear(out, loading('Sending…'));
      try {
        await api.post(`${path}/invitations`, { email: email.value.trim() });
        clear(out, h('p', { role: 'status' }, `Invited: ${email.value.trim()} gets a link by mail (good for 7 days).`));
        email.value = '';
      } catch (err) {
        clear(out, errorBox(err));
      } finally {
        send.disabled = false;
      }
    },
  }, field('Their email', email, 'They sign in with the link we mail them and see what you see.'), send, out);
}
