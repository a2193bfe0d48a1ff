// The team screen (issue 60): the handle's members with their roles (changed and removed by
// admins; the last admin stays), invitations by email with a role (resent, revoked, their
// expiry shown), and, after a member is removed, the personal access tokens they made, listed
// for revocation. Every member reads the members; the rest is the admins'.

import * as api from '../api.js';
import * as session from '../session.js';
import { ROLES } from '../session.js';
import {
  checkbox, clear, empty, errorBox, field, fmtTime, form, h, input, loading, notice, section, select, table,
} from '../ui.js';

const ADMIN = { role: 'admin', scope: null, what: 'Managing the team' };

export async function render(main) {
  const s = session.get();
  main.append(h('h1', { tabindex: '-1' }, 'Team'),
    h('p', {}, `The people who work on ${s.handle}, each with a role: viewers read, creators make links and campaigns, operators run the program and payouts, admins manage the team.`));
  const admin = session.allows(ADMIN) && s.kind !== 'pat';
  const membersBody = h('div', { id: 'member-list' }, loading('Loading the team…'));
  const removedOut = h('div', { id: 'removed-member', 'aria-live': 'polite' });
  const invitesBody = h('div', { id: 'invitation-list' }, loading('Loading invitations…'));
  // What a click on an invitation did: kept outside the list, which the reload draws anew.
  const invitesOut = h('div', { id: 'invitation-out', 'aria-live': 'polite' });
  const names = new Map();
  const reload = async () => {
    await loadMembers(membersBody, admin, removedOut, reload, names);
    if (admin) await loadInvitations(invitesBody, reload, invitesOut, names);
  };
  main.append(section('Members', membersBody, removedOut));
  if (admin) {
    main.append(section('Invitations',
      h('p', {}, 'An invitation is a link mailed to the person; it signs them in and makes them a member once, within 7 days.'),
      inviteForm(reload), invitesBody, invitesOut),
    section('Signing in', await policyForm()));
  } else {
    main.append(notice('info', 'Inviting people and changing roles needs the admin role.'));
  }
  await reload();
}

// The handle's sign-in policy: admins may be required to sign in with a passkey.
async function policyForm() {
  const r = await api.request('GET', api.handlePath('/sign-in-policy'));
  if (!r.ok) return errorBox(r.error);
  const box = checkbox('requirePasskeyForAdmins', r.data.requirePasskeyForAdmins);
  return form({ id: 'sign-in-policy', 'aria-label': 'Sign-in policy' },
    field('Admins sign in with a passkey', box, 'An admin without a passkey is asked to add one on their account screen before anything else. Add yours first.'),
    'Save',
    async (el, out) => {
      const saved = await api.put(api.handlePath('/sign-in-policy'), { requirePasskeyForAdmins: box.checked });
      out.replaceChildren(notice('success', saved.requirePasskeyForAdmins
        ? 'Admins of this team now need a passkey.' : 'Admins may sign in without a passkey.'));
    });
}

function inviteForm(reload) {
  const email = input('email', { type: 'email', autocomplete: 'off', placeholder: 'ana@example.com' });
  return form({ id: 'invite-form', 'aria-label': 'Invite someone' },
    h('div', { class: 'grid' }, field('Email', email), field('Role', select('role', ROLES, 'operator'))),
    'Send the invitation',
    async (el, out) => {
      const role = el.querySelector('[name=role]').value;
      const inv = await api.post(api.handlePath('/members/invitations'), { email: email.value.trim(), role });
      out.replaceChildren(notice('success', `Invitation mailed to ${inv.email} as ${inv.role}; it expires `, fmtTime(inv.expiresAt), '.'));
      email.value = '';
      await reload();
    });
}

async function loadMembers(body, admin, removedOut, reload, names) {
  const r = await api.request('GET', api.handlePath('/members'));
  if (!r.ok) return clear(body, errorBox(r.error));
  for (const m of r.data.items) names.set(m.userId, m.name || m.email);
  const out = h('div', { 'aria-live': 'polite' });
  const who = (m) => (m.name ? `${m.name} (${m.email})` : m.email);
  const columns = [
    { label: 'Person', value: who },
    { label: 'Member since', value: (m) => fmtTime(m.since) },
    {
      label: 'Role',
      value: (m) => {
        if (!admin) return m.role;
        const pick = select('role', ROLES, m.role);
        pick.setAttribute('aria-label', `Role of ${m.email}`);
        pick.addEventListener('change', async () => {
          const x = await api.request('PATCH', api.handlePath(`/members/${encodeURIComponent(m.userId)}`), { body: { role: pick.value } });
          if (!x.ok) {
            pick.value = m.role;
            return clear(out, errorBox(x.error));
          }
          clear(out, notice('success', `${m.email} is ${pick.value} now.`));
          m.role = pick.value;
        });
        return pick;
      },
    },
  ];
  if (admin) {
    columns.push({
      label: 'Remove',
      value: (m) => {
        const b = h('button', { type: 'button', class: 'danger', 'aria-label': `Remove ${m.email}` }, 'Remove');
        b.addEventListener('click', async () => {
          const x = await api.request('DELETE', api.handlePath(`/members/${encodeURIComponent(m.userId)}`));
          if (!x.ok) return clear(out, errorBox(x.error));
          clear(out, notice('success', `${m.email} is no longer a member: their next request is refused.`));
          await showTokensOf(removedOut, m);
          await reload();
        });
        return b;
      },
    });
  }
  clear(body, r.data.items.length ? table(columns, r.data.items, 'Members') : empty('No member yet.'), out);
}

// The personal access tokens a removed member made: they keep working until revoked.
async function showTokensOf(out, m) {
  const r = await api.request('GET', api.handlePath('/tokens') + api.query({ limit: 100 }));
  if (!r.ok) return clear(out, errorBox(r.error));
  const theirs = r.data.items.filter((t) => t.createdBy === m.userId);
  if (!theirs.length) return clear(out, notice('info', `${m.email} made no personal access token.`));
  const rows = h('div', {});
  const draw = (items) => clear(rows, table([
    { label: 'Token', value: (t) => t.name },
    { label: 'Scopes', value: (t) => t.scopes.join(', ') },
    { label: 'Created', value: (t) => fmtTime(t.createdAt) },
    {
      label: 'Revoke',
      value: (t) => {
        const b = h('button', { type: 'button', class: 'danger', 'aria-label': `Revoke ${t.name}` }, 'Revoke');
        b.addEventListener('click', async () => {
          const x = await api.request('DELETE', api.handlePath(`/tokens/${encodeURIComponent(t.tokenId)}`));
          if (!x.ok) return rows.append(errorBox(x.error));
          const left = items.filter((y) => y !== t);
          if (!left.length) return clear(out, notice('success', `Every token ${m.email} made is revoked.`));
          draw(left);
        });
        return b;
      },
    },
  ], items, `Tokens ${m.email} made`));
  draw(theirs);
  clear(out, notice('warning', `${m.email} made ${theirs.length} personal access token${theirs.length > 1 ? 's' : ''}: they keep working until revoked.`), rows);
}

async function loadInvitations(body, reload, out, names) {
  const r = await api.request('GET', api.handlePath('/members/invitations'));
  if (!r.ok) return clear(body, errorBox(r.error));
  if (!r.data.items.length) return clear(body, empty('No invitation waiting.'));
  const revoke = (i) => api.request('DELETE', api.handlePath(`/members/invitations/${encodeURIComponent(i.invitationId)}`));
  clear(body, table([
    { label: 'Email', value: (i) => i.email },
    { label: 'Role', value: (i) => i.role },
    { label: 'Invited by', value: (i) => names.get(i.invitedBy) || (i.invitedBy.startsWith('usr_') ? 'a former member' : i.invitedBy) },
    { label: 'Expires', value: (i) => fmtTime(i.expiresAt) },
    {
      label: 'Actions',
      value: (i) => {
        // A resend is a new invitation (a new link and expiry); the old link is withdrawn.
        const resend = h('button', { type: 'button', class: 'secondary', 'aria-label': `Resend the invitation to ${i.email}` }, 'Resend');
        resend.addEventListener('click', async () => {
          const x = await api.request('POST', api.handlePath('/members/invitations'), { body: { email: i.email, role: i.role } });
          if (!x.ok) return clear(out, errorBox(x.error));
          await revoke(i);
          clear(out, notice('success', `A new invitation is mailed to ${i.email}.`));
          await reload();
        });
        const drop = h('button', { type: 'button', class: 'danger', 'aria-label': `Revoke the invitation to ${i.email}` }, 'Revoke');
        drop.addEventListener('click', async () => {
          const x = await revoke(i);
          if (!x.ok) return clear(out, errorBox(x.error));
          clear(out, notice('success', `The invitation to ${i.email} is withdrawn: its link no longer works.`));
          await reload();
        });
        return h('span', { class: 'actions' }, resend, ' ', drop);
      },
    },
  ], r.data.items, 'Invitations waiting'));
}
