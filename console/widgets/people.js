// Who did something, in words (issue 60): a person's id (`usr_…`, a session's subject) as their
// name or email from the team's list, read once per handle and page; a machine (a JWT's
// subject, a token) as it names itself. Used beside the objects the console shows ("approved
// by ana@example.com, 2 Nov").

import * as api from '../api.js';
import * as session from '../session.js';
import { h } from '../ui.js';

const loaded = new Map();

function team() {
  const handle = session.get()?.handle || '';
  if (!loaded.has(handle)) {
    loaded.set(handle, api.request('GET', api.handlePath('/members')).then((r) => {
      const names = new Map();
      if (r.ok) for (const m of r.data.items) names.set(m.userId, m.name || m.email);
      return names;
    }).catch(() => new Map()));
  }
  return loaded.get(handle);
}

// `subject` in words: a member's name or email, "a former member", or the machine's own name.
export async function nameOf(subject) {
  if (!subject) return 'someone';
  if (!subject.startsWith('usr_')) return subject;
  return (await team()).get(subject) || 'a former member';
}

// A text node filled in once the team is read: `by …` beside an object.
export function byWhom(subject, prefix = 'by ') {
  const el = document.createElement('span');
  el.className = 'by-whom';
  el.textContent = subject && subject.startsWith('usr_') ? `${prefix}…` : `${prefix}${subject || 'someone'}`;
  nameOf(subject).then((n) => { el.textContent = `${prefix}${n}`; });
  return el;
}

// A short day ("2 Nov") in the browser's locale.
export function day(iso) {
  return new Date(iso).toLocaleDateString(undefined, { day: 'numeric', month: 'short' });
}

// Who last did one of `actions` to each object, from the audit log (one read per action, the
// newest 100; admins and operators read it, anyone else sees no names): a promise of a Map from
// the object's id (its entry's target begins with it) to the entry.
export function lastDone(actions) {
  return Promise.all(actions.map((action) => api.request('GET', api.handlePath('/audit') + api.query({ action, limit: 100 }))))
    .then((answers) => {
      const done = new Map();
      for (const r of answers) {
        if (!r.ok) continue;
        for (const e of r.data.items) {
          const id = String(e.target || '').split(' ')[0];
          const known = done.get(id);
          if (id && (!known || known.at < e.at)) done.set(id, e);
        }
      }
      return done;
    })
    .catch(() => new Map());
}

// `text`, then "by Ana, 2 Nov" once `done` (from `lastDone`) names who did it to `id`.
export function withWho(text, id, done) {
  const el = h('span', {}, text);
  done.then((m) => {
    const e = m.get(id);
    if (e) el.append(', ', byWhom(e.actor.id), `, ${day(e.at)}`);
  });
  return el;
}

// What an entry's target names, as people read it: "pay_… (SEPA-2026-11)" is its words, an id
// elsewhere in it is named by its kind ("payout pay_…" → "the payout") and a time is read in the
// reader's zone. The raw target stays in the API and the CSV export.
const NOUNS = {
  pay: 'payout', bat: 'batch', com: 'commission', cnv: 'sale', wh: 'webhook', inv: 'invitation', tok: 'token',
  rev: 'reversal', usr: 'person', clm: 'claim', evt: 'event', app: 'application', imp: 'import', brd: 'broadcast',
  msg: 'message', pk: 'passkey', ses: 'session', ntc: 'notice', att: 'attachment', req: 'request', clk: 'click',
};

export function targetWords(t) {
  if (!t) return '';
  const labelled = /^[a-z]+_[0-9a-z]+ \((.+)\)$/.exec(t);
  return (labelled ? labelled[1] : String(t))
    .replace(/\b(?:([a-z]+) )?([a-z]+)_[0-9a-f]{32}\b/g, (all, before, prefix) => {
      const noun = NOUNS[prefix] || 'record';
      if (before === noun) return `the ${noun}`;
      return `${before ? `${before} ` : ''}a ${noun}`;
    })
    .replace(/\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?Z\b/g, (iso) => new Date(iso).toLocaleString(undefined, {
      year: 'numeric', month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit', timeZoneName: 'short',
    }));
}
