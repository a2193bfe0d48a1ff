// Lifecycle messaging: append chain signals for a session (LM-01), resolve (LM-02) and prefetch
// (LM-03) decisions with their envelopes, and the handle's chain rules, viewed and edited.

import * as api from '../api.js';
import * as session from '../session.js';
import { NEEDS } from '../session.js';
import {
  clear, errorBox, field, form, gate, h, input, json, loading, notice, randomId, section, splitList,
  table,
} from '../ui.js';

// A message's channel as people say it (`in_app` → "in-app message").
const CHANNELS = { in_app: 'in-app message', email: 'email', sms: 'SMS', push: 'push notification' };
const channelWords = (c) => CHANNELS[c] || String(c).replace(/_/g, ' ');

function envelopeFacts(e) {
  const d = e.decision || {};
  const what = d.action === 'send_message'
    ? `send_message: ${d.template} by ${d.channel}${d.delaySeconds ? ` after ${d.delaySeconds} s` : ''}`
    : d.action;
  return h('dl', { class: 'facts envelope', dataset: { trigger: e.trigger } },
    h('dt', {}, 'Trigger'), h('dd', {}, e.trigger),
    h('dt', {}, 'Decision'), h('dd', { class: 'decision' }, what),
    h('dt', {}, 'Rule'), h('dd', {}, e.ruleId || '–'),
    h('dt', {}, 'Reason'), h('dd', {}, e.reason),
    h('dt', {}, 'Signals considered'), h('dd', {}, String(e.signalsConsidered)));
}

export async function render(main) {
  const s = session.get();
  const sessionId = input('sessionId', { value: randomId('sess') });
  main.append(
    h('h1', { tabindex: '-1' }, 'Lifecycle messaging'),
    h('p', {}, 'What a visitor did in a session decides what to send next. These routes are public (no token); the handle is ', h('code', {}, s.handle), '.'),
    field('Session id', sessionId, 'Shared by the three steps below.'),
    signals(s, sessionId),
    resolve(s, sessionId),
    prefetch(s, sessionId),
    rules(s));
}

function signals(s, sessionId) {
  const out = h('div', { 'aria-live': 'polite', id: 'signals-result' });
  const type = input('type', { value: 'view' });
  const f = form({ id: 'signals-form', 'aria-label': 'Append signals' },
    h('div', { class: 'grid' }, field('Signal types', type, 'Comma-separated, appended in order: view, cart, purchase'),
      field('Data (optional: names and values, as in the example)', input('data', { placeholder: '{"sku":"A1"}' }))),
    'Append signals',
    async (el) => {
      const raw = el.querySelector('[name=data]').value.trim();
      let data;
      if (raw) {
        try {
          data = JSON.parse(raw);
        } catch (e) {
          throw new Error(`Data: not JSON (${e.message}).`);
        }
      }
      const list = splitList(type.value).map((t) => (data ? { type: t, data } : { type: t }));
      const r = await api.post('/v2/public/chain/signals', { handle: s.handle, sessionId: sessionId.value.trim(), signals: list }, { auth: false });
      clear(out, notice('ok', `Accepted: the session ${r.sessionId} now has ${r.totalSignals} signal${r.totalSignals === 1 ? '' : 's'}.`));
    });
  return section('LM-01 · Append chain signals', f, out);
}

function resolve(s, sessionId) {
  const out = h('div', { 'aria-live': 'polite', id: 'resolve-result' });
  const f = form({ id: 'resolve-form', 'aria-label': 'Resolve' },
    field('Trigger', input('trigger', { value: 'checkout' })),
    'Resolve',
    async (el) => {
      const r = await api.post('/v2/public/chain/resolve',
        { handle: s.handle, sessionId: sessionId.value.trim(), trigger: el.querySelector('[name=trigger]').value.trim() }, { auth: false });
      clear(out, envelopeFacts(r), h('details', {}, h('summary', {}, 'The decision envelope'), json(r)));
    });
  return section('LM-02 · Resolve the decision at a trigger', f, out);
}

function prefetch(s, sessionId) {
  const out = h('div', { 'aria-live': 'polite', id: 'prefetch-result' });
  const f = form({ id: 'prefetch-form', 'aria-label': 'Prefetch' },
    field('Triggers', input('triggers', { value: 'checkout, browse, exit_intent' }), 'Comma-separated, 1–20.'),
    'Prefetch',
    async (el) => {
      const r = await api.post('/v2/public/chain/prefetch',
        { handle: s.handle, sessionId: sessionId.value.trim(), triggers: splitList(el.querySelector('[name=triggers]').value) }, { auth: false });
      clear(out, h('div', { class: 'envelopes' }, r.decisions.map(envelopeFacts)), h('details', {}, h('summary', {}, 'The envelopes'), json(r)));
    });
  return section('LM-03 · Prefetch several triggers', f, out);
}

function conditionText(c) {
  if (c.hasType) return `has ${c.hasType}`;
  if (c.lacksType) return `lacks ${c.lacksType}`;
  if (c.atLeast) return `at least ${c.atLeast.count} × ${c.atLeast.type}`;
  if (c.withinSeconds) return `${c.withinSeconds.type} in the last ${c.withinSeconds.seconds} s`;
  return JSON.stringify(c);
}

function rules(s) {
  const body = h('div', {}, loading('Loading the rules…'));
  const panel = section('The handle\'s chain rules', body);
  if (!session.allows(NEEDS.chainRulesRead)) {
    clear(body, notice('info', session.reason(NEEDS.chainRulesRead)));
    return panel;
  }
  const path = api.handlePath('/chain/rules');
  // After a save the result is said outside the collapsed editor, which stays open.
  const draw = (r, saved = false) => {
    const editor = h('textarea', { name: 'rules', rows: 14, class: 'code' }, JSON.stringify({ rules: r.rules }, null, 2));
    const f = form({ id: 'rules-form', 'aria-label': 'Edit the rules' },
      field('Rules (JSON: the whole set, replaced on save)', editor, 'An empty list ({"rules": []}) means never message.'),
      'Save the rules',
      async () => {
        let parsed;
        try {
          parsed = JSON.parse(editor.value);
        } catch (e) {
          throw new Error(`Rules: not JSON (${e.message}).`);
        }
        draw(await api.put(path, parsed), true);
      });
    if (!session.allows(NEEDS.chainRulesWrite)) {
      f.querySelector('.actions').replaceChildren(gate(f.button, false, session.reason(NEEDS.chainRulesWrite)));
    }
    clear(body,
      h('p', { id: 'rules-source' }, r.source === 'default' ? 'The built-in defaults (no custom rules yet).' : `Custom rules, version ${r.version}.`),
      saved ? notice('ok', `Saved: version ${r.version}, ${r.rules.length} rule${r.rules.length === 1 ? '' : 's'}.`) : null,
      table([
        { label: 'Rule', value: (x) => h('code', {}, x.ruleId) },
        { label: 'Trigger', value: (x) => x.trigger },
        { label: 'Priority', value: (x) => String(x.priority), class: 'num' },
        { label: 'Conditions', value: (x) => (x.conditions || []).map(conditionText).join(' and ') || 'always' },
        { label: 'Decision', value: (x) => (x.decision.action === 'send_message' ? `${x.decision.template} by ${channelWords(x.decision.channel)}` : x.decision.action) },
      ], r.rules, 'Rules'),
      h('details', { open: saved }, h('summary', {}, 'Edit'), f));
  };
  api.request('GET', path).then((r) => (r.ok ? draw(r.data) : clear(body, errorBox(r.error))))
    .catch((e) => clear(body, errorBox(e)));
  return panel;
}
