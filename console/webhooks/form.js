// LM-05: the new-subscription form. The signing secret is in the create response only: shown
// once, with a copy button; the form clears after a create (URL, description, event types).

import * as api from '../api.js';
import * as session from '../session.js';
import { NEEDS } from '../session.js';
import { checkbox, clear, copyButton, field, form, gate, h, input, notice } from '../ui.js';
import { subscriptionLabel } from './words.js';

// The event types the server knows (EventType::ALL, written into the page).
function eventTypes() {
  const raw = document.body.dataset.eventTypes || 'link.clicked,link.created,link.updated,conversion.created,conversion.tested,webhook.test';
  return raw.split(',').filter(Boolean);
}

export function createForm(view, secretBox) {
  const types = h('fieldset', { class: 'checks' }, h('legend', {}, 'Event types'),
    eventTypes().map((t) => field(t, checkbox('eventType', false, { value: t }))));
  const f = form({ id: 'webhook-form', 'aria-label': 'New subscription' },
    h('div', {},
      field('Endpoint URL', input('endpointUrl', { type: 'url', placeholder: 'https://hooks.example.com/tenx' }), 'Public http(s) only, unless the server allows private addresses (local development).'),
      field('Description', input('description', { maxlength: 200, placeholder: 'CRM sync' }), 'The name this subscription is listed by. Without one, the endpoint\'s host is shown.'),
      types),
    'Create subscription',
    async (el, out) => {
      const chosen = [...el.querySelectorAll('[name=eventType]:checked')].map((c) => c.value);
      if (!chosen.length) throw new Error('Choose at least one event type.');
      const body = { endpointUrl: el.querySelector('[name=endpointUrl]').value.trim(), eventTypes: chosen };
      const d = el.querySelector('[name=description]').value.trim();
      if (d) body.description = d;
      const r = await api.post(api.handlePath('/webhooks'), body);
      // Cleared for the next one: the URL, the description and every event type.
      el.reset();
      clear(out, notice('ok', `Created “${subscriptionLabel(r)}” (${r.subscriptionId}) for ${r.eventTypes.join(', ')}.`));
      showSecretOnce(secretBox, r);
      view.soon(r.subscriptionId);
    });
  if (!view.canWrite) {
    f.querySelector('.actions').replaceChildren(gate(f.button, false, session.reason(NEEDS.webhooksWrite)));
  }
  return f;
}

// The signing secret, shown here once, never again (the API never returns it after this answer).
function showSecretOnce(box, r) {
  const dismiss = h('button', { type: 'button', class: 'secondary' }, 'I have stored it: hide');
  dismiss.addEventListener('click', () => clear(box));
  clear(box, h('div', { class: 'secret', role: 'alert', id: 'webhook-secret-box' },
    h('h3', {}, 'The signing secret: shown once'),
    h('p', {}, 'Store it now, in your receiver\'s configuration: it is not shown again (the API never returns it after this answer). Lost it? Delete the subscription and create a new one.'),
    h('div', { class: 'field' },
      h('label', { for: 'webhook-secret' }, `Secret of “${subscriptionLabel(r)}”`),
      h('input', { id: 'webhook-secret', type: 'text', readonly: true, value: r.secret, class: 'code' })),
    h('div', { class: 'actions' }, copyButton(() => r.secret, 'Copy the secret'), dismiss)));
}
