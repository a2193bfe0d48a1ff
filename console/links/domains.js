// The handle's own domains for its short links (`go.acme.com/spring`): add one, the DNS records
// to copy beside it, its state in words, "Check now", and remove. The API is
// `…/domains/{domain}` (docs/api.md, custom domains); nothing here is typed twice.

import * as api from '../api.js';
import * as session from '../session.js';
import { NEEDS } from '../session.js';
import {
  busy, clear, copyButton, empty, errorBox, field, fmtTime, form, h, input, loading, notice,
} from '../ui.js';

// What each state means for the manager, and what to do next.
const STATES = {
  pending: ['Waiting for its DNS record', 'Add the TXT record below at the company that runs your DNS, then choose Check now. It can take a few minutes to show.'],
  pending_dns: ['Verified; its certificate is on its way', 'Add the certificate record below too (keep it: it renews the certificate).'],
  pending_tls: ['Its secure address is being set up', 'Point the domain at the address below; this takes up to 30 minutes.'],
  verified: ['Live', 'Links on this domain work now.'],
  failing: ['Its DNS record is gone', 'Add the TXT record below again: links on it keep working for 7 days from when it went.'],
};

export async function render(main) {
  clear(main, loading());
  const r = await api.request('GET', api.handlePath('/domains'));
  if (!r.ok) {
    clear(main, errorBox(r.error));
    return;
  }
  const add = addForm(main);
  const items = r.data.items;
  clear(main,
    h('h1', { tabindex: '-1' }, 'Your own domains'),
    h('section', { class: 'panel', 'aria-label': 'Add a domain' },
      h('p', { class: 'hint' }, 'Short links on a domain of yours (go.yourshop.com/spring) instead of this service\'s. Add the domain, copy the record it shows to your DNS, and check.'),
      add),
    items.length ? items.map((d) => card(main, d)) : empty('No domain yet: add one above.'));
}

function addForm(main) {
  const f = form({ id: 'domain-add', 'aria-label': 'Add a domain' },
    h('div', { class: 'grid' },
      field('Domain', input('domain', { placeholder: 'go.yourshop.com', autocomplete: 'off', spellcheck: 'false', maxlength: '253' }),
        'A domain or sub-domain you control, without https://')),
    'Add the domain',
    async (el) => {
      const domain = el.querySelector('[name=domain]').value.trim().replace(/^https?:\/\//, '').replace(/\/.*$/, '');
      if (!domain) throw Object.assign(new Error('domain: say which domain, such as go.yourshop.com.'), { status: 400 });
      await api.put(api.handlePath(`/domains/${encodeURIComponent(domain)}`), {});
      await render(main);
    });
  if (!session.allows(NEEDS.domains)) {
    f.button.disabled = true;
    f.append(h('small', { class: 'hint why' }, session.reason(NEEDS.domains)));
  }
  return f;
}

// One DNS record to copy: its type, name and value, each with a copy button.
function record(title, r, domain) {
  return h('dl', { class: 'record', 'aria-label': `${title} for ${domain}` },
    h('dt', {}, 'Type'), h('dd', {}, h('code', {}, r.type)),
    h('dt', {}, 'Name'), h('dd', { class: 'share' }, h('code', {}, r.name), copyButton(() => r.name, 'Copy', `Copy the record's name for ${domain}`)),
    h('dt', {}, 'Value'), h('dd', { class: 'share' }, h('code', {}, r.value), copyButton(() => r.value, 'Copy', `Copy the record's value for ${domain}`)));
}

function card(main, d) {
  const [said, next] = STATES[d.status] || [d.status, ''];
  const out = h('div', { class: 'form-out', 'aria-live': 'polite' });
  const check = h('button', { type: 'button', class: 'primary' }, 'Check now');
  check.setAttribute('aria-label', `Check now: ${d.domain}`);
  check.addEventListener('click', () => busy(check, out, async () => {
    const got = await api.request('POST', api.handlePath(`/domains/${encodeURIComponent(d.domain)}/verify`));
    if (!got.ok) {
      // Not verified yet is an answer, not a failure: what DNS said, in words.
      clear(out, got.error.code === 'not_verified' ? notice('warning', got.error.message) : errorBox(got.error));
      return;
    }
    await render(main);
  }));
  const remove = h('button', { type: 'button', class: 'danger' }, 'Remove');
  remove.setAttribute('aria-label', `Remove ${d.domain}`);
  remove.addEventListener('click', () => busy(remove, out, async () => {
    if (!window.confirm(`Remove ${d.domain}? Links on it stop working; another account may then claim it.`)) return;
    await api.del(api.handlePath(`/domains/${encodeURIComponent(d.domain)}`));
    await render(main);
  }));
  if (!session.allows(NEEDS.domains)) {
    check.disabled = true;
    remove.disabled = true;
  }
  const v = d.verification || {};
  const since = d.status === 'failing' && d.failingSince ? h('p', {}, 'Gone since ', fmtTime(d.failingSince), '.') : null;
  const lapses = d.status === 'pending' && d.pendingExpiresAt ? h('p', { class: 'hint' }, 'Unchecked, the claim lapses ', fmtTime(d.pendingExpiresAt), '.') : null;
  return h('section', { class: 'card domain', 'aria-label': d.domain },
    h('h2', {}, d.domain),
    h('p', {}, h('strong', {}, `${said}. `), next),
    since, lapses,
    d.status === 'verified' ? null : record('The TXT record', v, d.domain),
    v.certificate ? record('The certificate record', v.certificate, d.domain) : null,
    d.target ? record('Where the domain points', d.target, d.domain) : null,
    h('div', { class: 'actions' }, d.status === 'verified' ? null : check, remove), out);
}
