// Personal access tokens: create (scopes chosen, the token shown once), list, revoke. JWT
// operators only: a personal access token can never manage tokens.

import * as api from '../api.js';
import * as session from '../session.js';
import { NEEDS } from '../session.js';
import {
  busy, checkbox, clear, copyButton, empty, errorBox, field, fmtTime, form, h, input, loading,
  notice, section, table,
} from '../ui.js';

function scopes() {
  const raw = document.body.dataset.scopes || 'links.read,links.write,campaigns.read,campaigns.write,analytics.read,webhooks.read,webhooks.write,conversions.read,conversions.write';
  return raw.split(',').filter(Boolean);
}

export async function render(main) {
  main.append(h('h1', { tabindex: '-1' }, 'Personal access tokens'),
    h('p', {}, 'Tokens for scripts and partners: one handle, a set of scopes, an optional expiry. Only a hash is stored.'));
  if (!session.allows(NEEDS.tokens)) {
    main.append(notice('info', session.reason(NEEDS.tokens)));
    return;
  }
  const listBody = h('div', {}, loading('Loading tokens…'));
  const shown = h('div', { 'aria-live': 'polite' });
  const reload = () => load(listBody);
  main.append(section('New token', createForm(shown, reload), shown), section('Tokens', listBody));
  await reload();
}

function createForm(shown, reload) {
  return form({ id: 'token-form', 'aria-label': 'New token' },
    h('div', {},
      field('Name', input('name', { placeholder: 'CI webhooks' })),
      h('fieldset', { class: 'checks' }, h('legend', {}, 'Scopes'),
        scopes().map((s) => field(s, checkbox('scope', false, { value: s })))),
      field('Expires in (days)', input('expiresInDays', { type: 'number', inputmode: 'numeric', placeholder: '90' }), '1–3650; empty: never.')),
    'Create token',
    async (el) => {
      clear(shown); // a failed create never sits above the previous token's secret
      const body = {
        name: el.querySelector('[name=name]').value.trim(),
        scopes: [...el.querySelectorAll('[name=scope]:checked')].map((c) => c.value),
      };
      const days = el.querySelector('[name=expiresInDays]').value.trim();
      if (days) body.expiresInDays = Number(days);
      const t = await api.post(api.handlePath('/tokens'), body);
      clear(shown, h('div', { class: 'secret', role: 'alert', id: 'token-secret-box' },
        h('h3', {}, 'The token: shown once'),
        h('p', {}, `Scopes: ${t.scopes.join(', ')}. Store it now: it is not shown again.`),
        h('div', { class: 'field' }, h('label', { for: 'new-token' }, `Token ${t.name}`),
          h('input', { id: 'new-token', type: 'text', readonly: true, value: t.token, class: 'code' })),
        h('div', { class: 'actions' }, copyButton(() => t.token, 'Copy the token'),
          h('button', { type: 'button', class: 'secondary', onclick: () => clear(shown) }, 'I have stored it: hide'))));
      await reload();
    });
}

async function load(body) {
  const r = await api.request('GET', api.handlePath('/tokens') + api.query({ limit: 100 }));
  if (!r.ok) {
    clear(body, errorBox(r.error));
    return;
  }
  if (r.data.items.length === 0) {
    clear(body, empty('No token yet.'));
    return;
  }
  const out = h('div', { 'aria-live': 'polite' });
  clear(body, table([
    { label: 'Name', value: (t) => t.name },
    { label: 'Id', value: (t) => h('code', {}, t.tokenId) },
    { label: 'Scopes', value: (t) => t.scopes.join(', ') },
    { label: 'Created', value: (t) => [fmtTime(t.createdAt), ` by ${t.createdBy}`] },
    { label: 'Expires', value: (t) => fmtTime(t.expiresAt) },
    {
      label: 'Revoke',
      value: (t) => {
        const b = h('button', { type: 'button', class: 'danger', dataset: { action: 'revoke' } }, 'Revoke');
        b.setAttribute('aria-label', `Revoke ${t.name}`);
        let armed = false;
        b.addEventListener('click', () => {
          if (!armed) {
            armed = true;
            b.textContent = 'Click again to revoke for good';
            return;
          }
          busy(b, out, async () => {
            await api.del(api.handlePath(`/tokens/${encodeURIComponent(t.tokenId)}`));
            await load(body);
          });
        });
        return b;
      },
    },
  ], r.data.items, 'Tokens'), out);
}
