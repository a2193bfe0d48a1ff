// Small DOM helpers: every screen is built from these, with labelled fields, live regions for
// loading and errors, and nothing injected as HTML (text only).

let ids = 0;

export function uid(prefix = 'f') {
  ids += 1;
  return `${prefix}-${ids}`;
}

// h('button', {class: 'primary', onclick: fn, disabled: true}, 'Save')
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value') el.value = v;
    else if (k === 'checked') el.checked = Boolean(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// A labelled control: <div class="field"><label for>…</label>control<small>hint</small></div>.
export function field(label, control, hint) {
  if (!control.id) control.id = uid(control.name || 'f');
  const hintEl = hint ? h('small', { id: `${control.id}-hint`, class: 'hint' }, hint) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  const isCheck = control.type === 'checkbox';
  return h('div', { class: isCheck ? 'field check' : 'field' },
    isCheck ? control : null,
    h('label', { for: control.id }, label),
    isCheck ? null : control,
    hintEl);
}

export function input(name, attrs = {}) {
  return h('input', { name, type: 'text', autocomplete: 'off', spellcheck: 'false', ...attrs });
}

export function select(name, options, value) {
  return h('select', { name },
    options.map((o) => {
      const [v, label] = Array.isArray(o) ? o : [o, o];
      return h('option', { value: v, selected: v === value }, label);
    }));
}

export function checkbox(name, checked, attrs = {}) {
  return h('input', { type: 'checkbox', name, checked, ...attrs });
}

// A form whose submit runs `onsubmit(form)` with its button busy; errors are shown in its
// output region (never a blank page).
export function form(attrs, fields, buttonLabel, onsubmit) {
  const out = h('div', { class: 'form-out', 'aria-live': 'polite' });
  const button = h('button', { type: 'submit', class: 'primary' }, buttonLabel);
  const el = h('form', { ...attrs, novalidate: true }, fields, h('div', { class: 'actions' }, button), out);
  el.addEventListener('submit', async (event) => {
    event.preventDefault();
    await busy(button, out, () => onsubmit(el, out));
  });
  el.output = out;
  el.button = button;
  return el;
}

// Runs `fn` with `button` disabled and a loading note in `out`; an error is rendered there.
export async function busy(button, out, fn) {
  if (button) button.disabled = true;
  const note = loading('Working…');
  if (out) clear(out, note);
  try {
    await fn();
    if (note.isConnected) note.remove();
  } catch (err) {
    if (out) clear(out, errorBox(err));
    else throw err;
  } finally {
    if (button) button.disabled = false;
  }
}

export function loading(text = 'Loading…') {
  return h('p', { class: 'loading', role: 'status' }, text);
}

export function empty(text, ...more) {
  return h('div', { class: 'empty' }, h('p', {}, text), more);
}

// The API's error: status and code, its message, and the request id to quote.
export function errorBox(err) {
  const status = err && err.status ? `${err.status} ${err.code || ''}`.trim() : 'Error';
  return h('div', { class: 'error', role: 'alert' },
    h('strong', { class: 'error-status' }, status),
    ' ',
    h('span', { class: 'error-message' }, (err && err.message) || String(err)),
    err && err.requestId ? h('div', { class: 'request-id' }, 'Request id: ', h('code', {}, err.requestId)) : null);
}

export function notice(kind, ...children) {
  return h('div', { class: `notice ${kind}`, role: kind === 'warning' ? 'alert' : 'status' }, children);
}

export function section(title, ...children) {
  const id = uid('s');
  return h('section', { class: 'panel', 'aria-labelledby': id }, h('h2', { id }, title), children);
}

// A table from column specs: [{label, value: row => node|text, class?}].
export function table(columns, rows, caption) {
  return h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': caption || 'Table' },
    h('table', {},
      caption ? h('caption', {}, caption) : null,
      h('thead', {}, h('tr', {}, columns.map((c) => h('th', { scope: 'col', class: c.class }, c.label)))),
      h('tbody', {}, rows.map((r) => h('tr', {}, columns.map((c) => h('td', { class: c.class, 'data-label': c.label }, c.value(r))))))));
}

export function json(value) {
  return h('pre', { class: 'json' }, JSON.stringify(value, null, 2));
}

export function badge(status) {
  const kind = status >= 500 ? 'bad' : status >= 400 ? 'warn' : 'ok';
  return h('span', { class: `badge ${kind}` }, String(status));
}

export function copyButton(getText, label = 'Copy') {
  const b = h('button', { type: 'button', class: 'secondary' }, label);
  b.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(getText());
      b.textContent = 'Copied';
    } catch {
      // No clipboard permission (an insecure origin, a headless browser): select the text instead.
      b.textContent = 'Select and copy by hand';
    }
    setTimeout(() => { b.textContent = label; }, 2000);
  });
  return b;
}

// A file download of `text` (the CSV export), through an object URL.
export function download(filename, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h('a', { href: url, download: filename, class: 'hidden' });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

export function fmtTime(iso) {
  if (!iso) return '–';
  return iso.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC');
}

// A decimal string amount as people read money: "13760.17", "EUR" → "€13,760.17". The string is
// formatted as a string (never through a float), so no digit changes on the way.
export function fmtMoney(amount, currency) {
  if (amount === null || amount === undefined) return '–';
  const digits = (String(amount).split('.')[1] || '').length;
  try {
    return new Intl.NumberFormat('en-US', {
      style: 'currency', currency, minimumFractionDigits: digits, maximumFractionDigits: digits,
    }).format(String(amount));
  } catch {
    return `${amount} ${currency}`;
  }
}

export function list(values) {
  return (values || []).join(', ');
}

// "a, b ,c" → ['a','b','c']
export function splitList(text) {
  return (text || '').split(',').map((s) => s.trim()).filter(Boolean);
}

// A control the caller may not use: disabled, with the reason next to it.
export function gate(control, allowed, why) {
  if (allowed) return control;
  control.disabled = true;
  const id = uid('why');
  control.setAttribute('aria-describedby', id);
  return h('span', { class: 'gated' }, control, h('small', { id, class: 'hint why' }, why));
}

export function randomId(prefix) {
  const bytes = crypto.getRandomValues(new Uint8Array(4));
  return `${prefix}-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}
