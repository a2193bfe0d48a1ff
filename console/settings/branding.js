// Branding (issue 62, a Settings page; the branding itself is issue 59's): the name, logo,
// colour, reply-to address and language the mail to partners and the portal carry (admins).

import * as api from '../api.js';
import * as session from '../session.js';
import { clear, errorBox, field, form, h, input, loading, notice, section, select } from '../ui.js';

const NEED = { role: 'admin', scope: null, what: 'The branding' };
const LOCALES = [['', 'English (default)'], ['en', 'English'], ['de', 'German'], ['fr', 'French']];

export async function render(main) {
  main.append(h('h1', { tabindex: '-1' }, 'Branding'),
    h('p', {}, 'How your mail to partners and your partner portal look, and where partners\' replies go.'));
  if (!session.allows(NEED)) {
    main.append(notice('info', session.reason(NEED)));
    return;
  }
  const body = h('div', {}, loading());
  main.append(section('Your brand', body));
  await load(body);
}

async function load(body) {
  const r = await api.request('GET', api.handlePath('/branding'));
  if (!r.ok) return clear(body, errorBox(r.error));
  const b = r.data;
  const f = form({ id: 'branding-form', 'aria-label': 'Branding' },
    h('div', { class: 'grid' },
      field('Name', input('name', { value: b.name || '', maxlength: '80' }), 'As partners know you.'),
      field('Logo (https URL, optional)', input('logoUrl', { type: 'url', value: b.logoUrl || '' })),
      field('Colour (optional)', input('color', { value: b.color || '', placeholder: '#1d4ed8' }), 'As #rrggbb.'),
      field('Replies go to (optional)', input('replyTo', { type: 'email', value: b.replyTo || '' }), b.replyTo
        ? `Partners' messages and replies to your mail go to ${b.replyTo}.`
        : 'Empty: partners\' messages are mailed to each admin of this handle. Give a shared address (partners@…) to collect them in one place.'),
      field('Language of the mail', select('locale', LOCALES, b.locale || ''))),
    'Save the branding',
    async (el, out) => {
      const v = (n) => el.querySelector(`[name=${n}]`).value.trim();
      const next = { name: v('name') };
      for (const k of ['logoUrl', 'color', 'replyTo', 'locale']) if (v(k)) next[k] = v(k);
      await api.put(api.handlePath('/branding'), next);
      clear(out, notice('ok', 'Saved: the next mail carries it.'));
    });
  return clear(body, f);
}
