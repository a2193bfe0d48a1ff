// Broadcasts (issue 62): one message to every active partner, or to a group of them, in each
// partner's thread and by mail; the broadcasts sent so far with how many they reached.

import * as api from '../api.js';
import * as session from '../session.js';
import { NEEDS } from '../session.js';
import {
  clear, empty, errorBox, field, fmtCount, fmtTime, form, h, input, loading, notice, section,
  select, table,
} from '../ui.js';
import { term } from '../words.js';

export async function render(main) {
  main.append(h('h1', { tabindex: '-1' }, 'Broadcasts'),
    h('p', {}, 'Tell all your partners, or a group of them, something at once: each finds it in its messages and in its mail.'));
  if (!session.allows(NEEDS.commissionsRead)) {
    main.append(notice('info', session.reason(NEEDS.commissionsRead)));
    return;
  }
  const sent = h('div', { id: 'broadcast-list' }, loading('Loading broadcasts…'));
  const groups = await api.request('GET', api.handlePath('/partner-groups'));
  const choices = [['', 'Every active partner'],
    ...(groups.ok ? groups.data.items.map((g) => [g.groupId, `${g.name} (${g.partnerIds.length})`]) : [])];
  main.append(section('Write to your partners', broadcastForm(choices, () => list(sent))), section('Sent', sent));
  await list(sent);
}

function broadcastForm(choices, done) {
  const text = h('textarea', { name: 'body', rows: '5', maxlength: '5000' });
  const f = form({ id: 'broadcast-form', 'aria-label': 'A broadcast to partners' },
    h('div', {},
      h('div', { class: 'grid' },
        field('To', select('groupId', choices, '')),
        field('Subject', input('subject', { maxlength: '200' }))),
      field('Message', text, 'Plain text, up to 5,000 characters.')),
    'Send to partners',
    async (el, out) => {
      const v = (n) => el.querySelector(`[name=${n}]`).value.trim();
      const body = { subject: v('subject'), body: text.value };
      if (v('groupId')) body.groupId = v('groupId');
      const got = await api.post(api.handlePath('/broadcasts'), body);
      text.value = '';
      el.querySelector('[name=subject]').value = '';
      await done();
      clear(out, notice('ok', `Sent to ${fmtCount(got.recipients)} ${got.recipients === 1 ? 'partner' : 'partners'}.`));
    });
  if (!session.allows(NEEDS.commissionsWrite)) {
    f.button.disabled = true;
    f.append(h('small', { class: 'hint why' }, session.reason(NEEDS.commissionsWrite)));
  }
  return f;
}

async function list(box) {
  const r = await api.request('GET', api.handlePath('/broadcasts'));
  if (!r.ok) {
    clear(box, errorBox(r.error));
    return;
  }
  if (!r.data.items.length) {
    clear(box, empty('No broadcast yet.'));
    return;
  }
  clear(box, table([
    { label: 'Sent', value: (b) => fmtTime(b.createdAt) },
    { label: 'Subject', value: (b) => b.subject },
    { label: 'Partners reached', value: (b) => fmtCount(b.recipients), class: 'num' },
    { label: 'Status', value: (b) => term(b.status) },
  ], r.data.items, 'Broadcasts'));
}
