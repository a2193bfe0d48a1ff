// The portal's Messages tab: the partner's one thread with the program, oldest first, and a box
// to write to the program. Opening the thread marks the program's messages read (the API does,
// on the partner's GET), so the tab's unread count is the summary's `unreadMessages` until then.
// Every body is shown as text (never HTML): it was written by a person on the other side.

import * as api from './api.js';
import { clear, errorBox, field, fmtTime, h, loading, section } from '../ui.js';

// One message: who wrote it in words, when, a broadcast's subject, and its body (line breaks kept).
function message(m) {
  const mine = m.from === 'partner';
  return h('li', { class: mine ? 'message mine' : 'message theirs' },
    h('p', { class: 'message-meta' },
      h('strong', {}, mine ? 'You' : 'The program'),
      ' · ', fmtTime(m.at),
      m.broadcastId ? ' · sent to every partner' : null),
    m.subject ? h('p', { class: 'message-subject' }, m.subject) : null,
    h('p', { class: 'message-body' }, m.body));
}

// The thread, oldest first (the API answers newest first).
function thread(items) {
  if (!items.length) return h('p', {}, 'No messages yet. Write to the program below; its answers appear here.');
  return h('ol', { class: 'thread', 'aria-label': 'Messages with the program' }, [...items].reverse().map(message));
}

// The Messages tab for `partnerId` under `base` (`/v2/handles/{handle}`); `onRead` is told the
// thread was read (the tab's unread count goes).
export async function messages(base, partnerId, onRead) {
  const path = `${base}/partners/${encodeURIComponent(partnerId)}/messages`;
  const list = h('div', { 'aria-live': 'polite' });
  const show = async () => {
    const got = await api.get(`${path}?limit=100`);
    clear(list, thread(got.items));
    onRead();
  };
  await show();
  const body = h('textarea', { name: 'body', rows: '5', maxlength: '5000', required: true, 'aria-required': 'true' });
  const out = h('div', { 'aria-live': 'polite' });
  const send = h('button', { class: 'primary', type: 'submit' }, 'Send to the program');
  const form = h('form', {
    onsubmit: async (e) => {
      e.preventDefault();
      if (!body.value.trim()) {
        clear(out, h('p', { class: 'field-error', role: 'alert' }, 'Write something first.'));
        body.focus();
        return;
      }
      send.disabled = true;
      clear(out, loading('Sending…'));
      try {
        await api.post(path, { body: body.value });
        body.value = '';
        clear(out, h('p', { role: 'status' }, 'Sent. The program is told by mail.'));
        await show();
      } catch (err) {
        clear(out, errorBox(err));
      } finally {
        send.disabled = false;
      }
    },
  }, field('Your message', body, 'Plain text, up to 5,000 characters. The program reads it here and by mail.'), send, out);
  return [section('Messages with the program', list), section('Write to the program', form)];
}
