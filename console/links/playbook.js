// The developer's playbook (under Links since issue 62): the attribution walk-through AT-01 →
// AT-06, each step ticked when the console saw it happen in this tab. The manager's start is
// Home (./home.js).

import { h, section } from '../ui.js';
import * as session from '../session.js';

export const STEPS = [
  ['AT-01', 'Create a tracked link', 'A slug, a destination, UTM tracking and, if you like, a routing rule.'],
  ['AT-02', 'Preview its route', 'The decision the redirect would take for a country, device and source.'],
  ['AT-03', 'Try the redirect', 'Follow the short URL once, as a visitor: a real click, a 302 with a ctx.'],
  ['AT-04', 'Decode the ctx', 'What the signed click context carries, as /v2/public/context resolves it.'],
  ['AT-05', 'Submit a conversion', 'With an idempotency key: 202, a new conversion.'],
  ['AT-06', 'Replay it', 'The same key and payload: 200 deduped; a changed payload: 409.'],
];

export function walkthrough(firstLink) {
  return h('div', {},
    h('ol', { class: 'steps' },
      STEPS.map(([id, title, text]) => {
        const done = session.isDone(id);
        return h('li', { class: done ? 'done' : '', dataset: { step: id } },
          h('span', { class: 'step-id' }, id),
          h('strong', {}, title, done ? h('span', { class: 'tick' }, ' ✓ done') : null),
          h('p', {}, text));
      })),
    h('p', {}, firstLink
      ? h('a', { class: 'button primary', href: '#/links/new' }, 'Start: create your first link')
      : h('a', { class: 'button', href: '#/links' }, 'Open your links')));
}

export function render(main) {
  main.append(
    h('h1', { tabindex: '-1' }, "The developer's playbook"),
    section('The attribution playbook (AT-01 → AT-06)',
      h('p', {}, 'Six steps from a new link to an exactly-once conversion. Each is done on the link\'s page, in order.'),
      walkthrough(true)),
    section('Then',
      h('ul', {},
        h('li', {}, h('a', { href: '#/links/lifecycle' }, 'Lifecycle'), ': chain signals, resolve and prefetch decisions, the rules (LM-01 → LM-03).'),
        h('li', {}, h('a', { href: '#/integrations/webhooks' }, 'Webhooks'), ': subscriptions, test deliveries, the delivery log and the notifications panel (LM-04 → LM-06).'),
        h('li', {}, h('a', { href: '#/commissions/conversions' }, 'Conversions'), ': the audit trail with filters and reversals, the conversion policy, redirect settings and orphan visits.'),
        h('li', {}, h('a', { href: '#/settings/tokens' }, 'Tokens'), ': personal access tokens for scripts and partners.'))));
}
