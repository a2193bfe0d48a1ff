// Whether everything accepted is counted (issue 58): the handle's events still waiting to be
// counted, and those set aside after every retry, in the server's words. Admins and operators
// read it; anyone else sees nothing here (the funnel already says when its numbers are behind).

import * as api from '../api.js';
import * as session from '../session.js';
import { NEEDS } from '../session.js';
import { h, notice, section } from '../ui.js';

// A section filled once the server answers: a notice per sentence, with Check again.
export function panel() {
  const box = h('div', { id: 'backlog', 'aria-live': 'polite' });
  const again = h('button', { type: 'button', class: 'secondary' }, 'Check again');
  again.addEventListener('click', () => load(box));
  load(box);
  return section('Counting', box, again);
}

async function load(box) {
  if (!session.allows(NEEDS.backlog)) {
    box.replaceChildren(h('p', { class: 'hint why' }, session.reason(NEEDS.backlog)));
    return;
  }
  const r = await api.request('GET', api.handlePath('/backlog'));
  if (!r.ok) {
    box.replaceChildren(h('p', { class: 'hint' }, 'Whether everything is counted could not be read just now.'));
    return;
  }
  const waiting = r.data.pending > 0 || r.data.deadLetters > 0;
  box.replaceChildren(...r.data.words.map((w) => notice(waiting ? 'info' : 'ok', w)));
}
