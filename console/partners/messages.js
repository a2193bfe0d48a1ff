// A partner's conversation with the program, on the partner's page (issue 62): the thread,
// oldest first, and a reply box. Opening the thread marks the partner's messages read (the
// API does, on the program's GET), so the navigation's unread count is read again after it.
// Every body is shown as text (never HTML): it was written by a person on the other side.

import * as api from '../api.js';
import * as session from '../session.js';
import { NEEDS } from '../session.js';
import * as unread from '../widgets/unread.js';
import { clear, errorBox, field, fmtTime, form, h, loading } from '../ui.js';

function message(m, partnerName) {
  const ours = m.from === 'merchant';
  return h('li', { class: ours ? 'message mine' : 'message theirs' },
    h('p', { class: 'message-meta' },
      h('strong', {}, ours ? 'You (the program)' : partnerName),
      ' · ', fmtTime(m.at),
      m.broadcastId ? ' · a broadcast to partners' : null),
    m.subject ? h('p', { class: 'message-subject' }, h('strong', {}, m.subject)) : null,
    h('p', { class: 'message-body' }, m.body));
}

// The conversation with `partner` into `body`.
export async function render(body, partner) {
  const path = api.handlePath(`/partners/${encodeURIComponent(partner.partnerId)}/messages`);
  const list = h('div', { id: 'partner-thread', 'aria-live': 'polite' }, loading('Loading the messages…'));
  const show = async () => {
    const r = await api.request('GET', path + api.query({ limit: 100 }));
    if (!r.ok) {
      clear(list, errorBox(r.error));
      return;
    }
    clear(list, r.data.items.length
      ? h('ol', { class: 'thread', 'aria-label': `Messages with ${partner.name}` },
        [...r.data.items].reverse().map((m) => message(m, partner.name)))
      : h('p', {}, `No messages with ${partner.name} yet.`));
    await unread.refresh();
  };
  const text = h('textarea', { name: 'body', rows: '4', maxlength: '5000' });
  const reply = form({ id: 'reply-form', 'aria-label': `Write to ${partner.name}` },
    field(`Your message to ${partner.name}`, text, partner.email
      ? 'Plain text. It is also mailed to the partner.'
      : 'Plain text. The partner has no email address: it reads this in its portal.'),
    'Send',
    async (el, out) => {
      if (!text.value.trim()) throw Object.assign(new Error('body: write something first.'), { status: 400 });
      await api.post(path, { body: text.value });
      text.value = '';
      await show();
      clear(out, h('p', { role: 'status' }, 'Sent.'));
    });
  if (!session.allows(NEEDS.commissionsWrite)) {
    reply.button.disabled = true;
    reply.append(h('small', { class: 'hint why' }, session.reason(NEEDS.commissionsWrite)));
  }
  clear(body, list, reply);
  await show();
}
