// The public partner program page, /programs/{handle}: the program (name, description, terms,
// what a partner earns) from GET /v2/public/programs/{handle}, and the application form,
// posted to POST /v2/public/programs/{handle}/applications. No sign-in. Every field has its
// label; errors are put on their field (aria-invalid, the message tied by aria-describedby),
// summed up in an alert, and focus moves to the first field to fix.

import * as api from '../api.js';
import { clear, errorBox, field, h, input, loading, section, uid } from '../ui.js';

const main = document.getElementById('main');
const handle = decodeURIComponent(location.pathname.split('/')[2] || '');
const base = `/v2/public/programs/${encodeURIComponent(handle)}`;

// The form's fields: [name, label, control attributes, hint, required].
const FIELDS = [
  ['name', 'Your name or company', { autocomplete: 'name', maxlength: '200' }, null, true],
  ['email', 'Email', { type: 'email', autocomplete: 'email', maxlength: '254', spellcheck: 'false' },
    'The merchant writes to you there.', true],
  ['website', 'Website', { type: 'url', autocomplete: 'url', spellcheck: 'false', placeholder: 'https://' },
    'Where you will promote the program (optional).', false],
  ['message', 'Message', { maxlength: '2000' }, 'Your audience, channels, anything the merchant should know (optional, up to 2000 characters).', false],
];

function control(name, attrs, required) {
  const req = required ? { required: true, 'aria-required': 'true' } : {};
  if (name === 'message') return h('textarea', { name, rows: '5', ...attrs, ...req });
  return input(name, { autocomplete: 'off', ...attrs, ...req });
}

function label(text, required) {
  return required ? [text, ' ', h('span', { class: 'required', 'aria-hidden': 'true' }, '*')] : text;
}

// What the browser can tell before asking: required fields and the shapes the API checks.
function check(values) {
  const errors = [];
  if (!values.name.trim()) errors.push(['name', 'is required.']);
  if (!values.email.trim()) errors.push(['email', 'is required.']);
  else if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(values.email.trim())) errors.push(['email', 'must be an email address (name@example.com).']);
  if (values.website.trim() && !/^https?:\/\/\S+$/i.test(values.website.trim())) errors.push(['website', 'must start with https:// or http://.']);
  return errors;
}

function clearErrors(form) {
  for (const e of form.querySelectorAll('.field-error')) e.remove();
  for (const c of form.querySelectorAll('[aria-invalid]')) {
    c.removeAttribute('aria-invalid');
    const hint = document.getElementById(`${c.id}-hint`);
    if (hint) c.setAttribute('aria-describedby', hint.id);
    else c.removeAttribute('aria-describedby');
  }
}

// Marks each field in `errors` ([name, message]) and returns the controls marked.
function markErrors(form, errors) {
  const marked = [];
  for (const [name, message] of errors) {
    const c = form.querySelector(`[name="${name}"]`);
    if (!c) continue;
    const labelText = form.querySelector(`label[for="${c.id}"]`).firstChild.textContent.trim();
    const msg = h('small', { class: 'field-error', id: `${c.id}-error` }, `${labelText}: ${message}`);
    c.setAttribute('aria-invalid', 'true');
    const hint = document.getElementById(`${c.id}-hint`);
    c.setAttribute('aria-describedby', [hint ? hint.id : null, msg.id].filter(Boolean).join(' '));
    c.insertAdjacentElement('afterend', msg);
    marked.push([c, labelText]);
  }
  return marked;
}

function showErrors(form, out, errors) {
  const marked = markErrors(form, errors);
  if (!marked.length) return false;
  const names = marked.map(([, l]) => l).join(', ');
  const n = marked.length;
  clear(out, h('div', { class: 'error form-summary', role: 'alert' },
    `${n === 1 ? 'One field needs' : `${n} fields need`} your attention: ${names}.`));
  marked[0][0].focus();
  return true;
}

function values(form) {
  const v = {};
  for (const [name] of FIELDS) v[name] = form.elements[name].value;
  return v;
}

function body(v) {
  const b = { name: v.name.trim(), email: v.email.trim() };
  if (v.website.trim()) b.website = v.website.trim();
  if (v.message.trim()) b.message = v.message.trim();
  return b;
}

function thanks(container, id) {
  const heading = h('h2', { tabindex: '-1', id: uid('thanks') }, 'Thank you: your application was sent');
  clear(container, h('div', { class: 'notice ok', role: 'status' },
    heading,
    h('p', {}, 'The merchant reviews it and writes to you at the email you gave.'),
    h('p', {}, 'Your application id: ', h('code', {}, id))));
  heading.focus();
}

async function submit(form, out, button, panel) {
  clearErrors(form);
  const v = values(form);
  if (showErrors(form, out, check(v))) return;
  button.disabled = true;
  clear(out, loading('Sending your application…'));
  try {
    const r = await api.request('POST', `${base}/applications`, { body: body(v), auth: false });
    if (r.ok) return thanks(panel, r.data.applicationId);
    const m = r.status === 400 ? /^([A-Za-z]+): (.+)$/s.exec(r.error.message || '') : null;
    if (!(m && showErrors(form, out, [[m[1], m[2]]]))) {
      clear(out, errorBox(r.error));
      button.focus();
    }
  } catch (err) {
    clear(out, errorBox(err));
    button.focus();
  } finally {
    button.disabled = false;
  }
}

function applicationForm(panel) {
  const out = h('div', { class: 'form-out', 'aria-live': 'polite' });
  const button = h('button', { type: 'submit', class: 'primary' }, 'Send my application');
  const fields = FIELDS.map(([name, text, attrs, hint, required]) => {
    const f = field(text, control(name, attrs, required), hint);
    const l = f.querySelector('label');
    clear(l, label(text, required));
    return f;
  });
  const form = h('form', { novalidate: true, 'aria-describedby': 'form-note' },
    h('p', { id: 'form-note', class: 'hint' }, 'Fields marked * are required.'),
    fields, h('div', { class: 'actions' }, button), out);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    submit(form, out, button, panel);
  });
  return form;
}

function earnings(c) {
  if (!c) return h('p', {}, 'The merchant has not published its commission terms yet.');
  return [
    h('p', {}, `Paid in ${c.currency}:`),
    h('ul', { class: 'earn-list' }, c.rules.map((r) => h('li', {}, r.text))),
    h('p', { class: 'hint' }, `${c.holdDays > 0 ? `Commissions are payable ${c.holdDays} days after the sale` : 'Commissions are payable once approved'}; a customer you bring keeps earning for ${c.customerDuration === 'lifetime' ? 'their lifetime' : c.customerDuration}.`),
  ];
}

function render(p) {
  document.title = `${p.name}: partner program`;
  const title = h('h1', { tabindex: '-1' }, p.name);
  const about = [
    p.description ? p.description.split(/\n{2,}/).map((para) => h('p', {}, para)) : null,
    p.termsUrl ? h('p', { class: 'terms' }, h('a', { href: p.termsUrl, rel: 'noopener noreferrer' }, 'Program terms')) : null,
  ];
  const panel = section('Apply to become a partner');
  if (p.applications === 'open') panel.append(applicationForm(panel));
  else panel.append(h('p', { class: 'notice' }, 'This program takes partners by invitation only.'));
  clear(main, title, about, section('What you earn', earnings(p.commission)), panel);
}

async function load() {
  clear(main, loading('Loading the program…'));
  try {
    const r = await api.request('GET', base, { auth: false });
    if (r.ok) return render(r.data);
    if (r.status === 404 || r.status === 400) {
      return clear(main, h('h1', {}, 'No partner program here'),
        h('p', {}, 'This address does not lead to a partner program. Check the link you were given.'));
    }
    clear(main, h('h1', {}, 'Partner program'), errorBox(r.error));
  } catch (err) {
    clear(main, h('h1', {}, 'Partner program'), errorBox(err));
  }
}

load();
