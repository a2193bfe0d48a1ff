// Small DOM helpers: every screen is built from these, with labelled fields, live regions for
// loading and errors, and nothing injected as HTML (text only).

import { has as hasWords, words } from './words.js';

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

// svg('rect', {x: 0, width: 10}): an SVG element (attributes only: no inline style under the CSP).
export function svg(tag, attrs, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  for (const c of children) el.append(typeof c === 'object' ? c : document.createTextNode(String(c)));
  return el;
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

// A form whose submit runs `onsubmit(form, out)` with its button busy. A 400 that names one of
// the form's fields (`destinationUrl: must be …`) is shown on that field (aria-invalid, its
// message under it) and focus moves there; any other error goes to the output region. Focus
// otherwise stays on the button that was used.
export function form(attrs, fields, buttonLabel, onsubmit) {
  const out = h('div', { class: 'form-out', 'aria-live': 'polite' });
  const button = h('button', { type: 'submit', class: 'primary' }, buttonLabel);
  const el = h('form', { ...attrs, novalidate: true }, fields, h('div', { class: 'actions' }, button), out);
  el.addEventListener('submit', async (event) => {
    event.preventDefault();
    clearFieldErrors(el);
    // A picker's value must be one of the handle's ids (./picker.js): refused on its field,
    // before anything is sent.
    for (const c of el.querySelectorAll('[data-picker]')) {
      const problem = c.verify ? await c.verify() : null;
      if (problem) {
        showOnField(el, { status: 400, message: `${c.name}: ${problem}` });
        return;
      }
    }
    let onField = false;
    await busy(button, out, () => onsubmit(el, out), (err) => {
      onField = showOnField(el, err);
      return onField;
    });
    if (!onField && button.isConnected) button.focus();
  });
  el.output = out;
  el.button = button;
  return el;
}

// Every field error under `el` gone, and the fields no longer marked invalid.
export function clearFieldErrors(el) {
  for (const e of el.querySelectorAll('.field-error')) e.remove();
  for (const c of el.querySelectorAll('[aria-invalid]')) {
    c.removeAttribute('aria-invalid');
    const ids = (c.getAttribute('aria-describedby') || '').split(' ').filter((x) => x && !x.endsWith('-error'));
    if (ids.length) c.setAttribute('aria-describedby', ids.join(' '));
    else c.removeAttribute('aria-describedby');
  }
}

// `routingRules[1].priority` → "routing rule 2, priority": the API's paths in plain words.
export function plainPath(path) {
  return path.split('.').map((part) => part
    .replace(/\[(\d+)\]/g, (_, i) => ` ${Number(i) + 1}`)
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .replace(/s (\d+)$/, ' $1')
    .toLowerCase()).join(', ');
}

// "routingRules[0].priority: is required" → "routing rule 1, priority: is required".
function plainMessage(message) {
  const m = /^([A-Za-z][\w]*(?:\[\d+\]|\.[A-Za-z]\w*)+): (.+)$/s.exec(message);
  return m ? `${plainPath(m[1])}: ${m[2]}` : message;
}

// Puts a 400's message on the field it names, when the form has one by that name.
function showOnField(el, err) {
  const m = err && err.status === 400 ? /^([A-Za-z][\w.[\]]*): (.+)$/s.exec(err.message || '') : null;
  if (!m) return false;
  const name = m[1].split(/[.[]/)[0];
  const control = el.querySelector(`[name="${name}"]`);
  if (!control) return false;
  const label = el.querySelector(`label[for="${control.id}"]`);
  const rest = m[1].slice(name.length).replace(/^\./, '');
  const where = rest ? `${plainPath(rest.replace(/^\[/, 'item['))}: ` : '';
  const msg = h('small', { class: 'field-error', id: `${control.id || uid('c')}-error` },
    `${label ? label.textContent : plainPath(name)}: ${where}${m[2]}`);
  control.setAttribute('aria-invalid', 'true');
  const described = (control.getAttribute('aria-describedby') || '').split(' ').filter(Boolean);
  control.setAttribute('aria-describedby', [...described, msg.id].join(' '));
  control.insertAdjacentElement('afterend', msg);
  control.focus();
  return true;
}

// Runs `fn` with `button` disabled and a loading note in `out`; an error is rendered there
// (unless `onError` took it).
export async function busy(button, out, fn, onError) {
  if (button) button.disabled = true;
  const note = loading('Working…');
  if (out) clear(out, note);
  try {
    await fn();
    if (note.isConnected) note.remove();
  } catch (err) {
    if (onError && onError(err)) {
      if (note.isConnected) note.remove();
    } else if (out) clear(out, errorBox(err));
    else throw err;
  } finally {
    if (button) button.disabled = false;
  }
}

export function loading(text = 'Loading…') {
  return h('p', { class: 'loading', role: 'status' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), text);
}

export function empty(text, ...more) {
  return h('div', { class: 'empty' }, h('p', {}, text), more);
}

// The API's error in words: what happened and what to do (the dictionary's words for its code),
// the server's message, then the status and code and the request id to quote, for engineers.
// A network failure says so.
export function errorBox(err) {
  const coded = err && err.status ? `${err.status} ${err.code || ''}`.trim() : 'Error';
  const headline = err && err.status === 0 ? 'The server could not be reached: nothing was changed by this page; try again.'
    : err && err.code && hasWords(err.code) ? words(err.code) : coded;
  return h('div', { class: 'error', role: 'alert' },
    h('strong', { class: 'error-status' }, headline),
    ' ',
    h('span', { class: 'error-message' }, plainMessage((err && err.message) || String(err))),
    // The status, code and request id are for whoever helps: folded away, never the headline.
    h('details', { class: 'request-id' }, h('summary', {}, 'Details for support'),
      h('code', { class: 'error-code' }, coded),
      err && err.requestId ? [' · Request id: ', h('code', {}, err.requestId)] : null));
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
  // The region's name differs from its section's heading: two landmarks never share a name.
  return h('div', { class: 'table-wrap', tabindex: '0', role: 'region', 'aria-label': caption ? `${caption} (table)` : 'Table' },
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

export function copyButton(getText, label = 'Copy', ariaLabel = null) {
  const b = h('button', { type: 'button', class: 'secondary copy', 'aria-label': ariaLabel }, label);
  // The accessible name keeps the visible words in it (WCAG 2.5.3) while they change.
  const say = (text, name) => {
    b.textContent = text;
    if (ariaLabel) b.setAttribute('aria-label', name);
  };
  b.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(getText());
      say('Copied', ariaLabel ? ariaLabel.replace(/^Copy\b/, 'Copied') : null);
    } catch {
      // No clipboard permission (an insecure origin, a headless browser): select the text instead.
      say('Select and copy by hand', 'Select and copy by hand');
    }
    setTimeout(() => say(label, ariaLabel), 2000);
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

// A time as people read it: local, in the browser's locale, with "5 min ago" beside it; the
// exact UTC instant in the tooltip.
export function fmtTime(iso) {
  if (!iso) return '–';
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return iso;
  // The zone is named: a team and its partners read the same time from several zones.
  const local = t.toLocaleString(undefined, {
    year: 'numeric', month: 'short', day: 'numeric', hour: 'numeric', minute: '2-digit', timeZoneName: 'short',
  });
  // The tooltip: the exact time, to the second, with the zone's full name (never the machine's
  // form: that stays in `datetime`).
  const exact = t.toLocaleString(undefined, { dateStyle: 'full', timeStyle: 'long' });
  return h('time', { datetime: iso, title: exact }, `${local} (${ago(t)})`);
}

const RELATIVE = new Intl.RelativeTimeFormat(undefined, { numeric: 'auto' });

export function ago(t) {
  const s = Math.round((t.getTime() - Date.now()) / 1000);
  for (const [unit, size] of [['day', 86400], ['hour', 3600], ['minute', 60]]) {
    if (Math.abs(s) >= size) return RELATIVE.format(Math.round(s / size), unit);
  }
  return RELATIVE.format(s, 'second');
}

// A count in the browser's locale: 13760 → "13,760".
export function fmtCount(n) {
  return n === null || n === undefined ? '–' : Number(n).toLocaleString();
}

// Several currencies' amounts ({USD: "12.50", EUR: "3"}), each formatted.
export function fmtAmounts(byCurrency) {
  const parts = Object.entries(byCurrency || {}).map(([cur, v]) => fmtMoney(v, cur));
  return parts.length ? parts.join(', ') : '–';
}

// A decimal string amount as people read money, in the browser's locale: "13760.17", "EUR" →
// "€13,760.17" (en-US), "49.9" → "€49.90". The string is
// formatted as a string (never through a float), so no digit changes on the way.
export function fmtMoney(amount, currency) {
  if (amount === null || amount === undefined) return '–';
  // At least the currency's own minor digits ("49.9" EUR is €49.90, "5" JPY ¥5), more when the
  // amount has them (a rate's fourth decimal is kept, never rounded away).
  const digits = (String(amount).split('.')[1] || '').length;
  try {
    const minor = new Intl.NumberFormat(undefined, { style: 'currency', currency }).resolvedOptions().maximumFractionDigits;
    const shown = Math.max(digits, minor);
    return new Intl.NumberFormat(undefined, {
      style: 'currency', currency, minimumFractionDigits: shown, maximumFractionDigits: shown,
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

// Live data: `load()` fetches, `show(data)` draws into `out`. It runs now, then every `everyMs`
// while the page is visible and `out` is on screen (polling: it works the same through API
// Gateway and Lambda, which hold no open stream, and on the one credential). A failed refresh
// keeps the last data and says so; "Updated …" says how fresh it is.
export function live(out, load, show, everyMs = 10000) {
  const stamp = h('p', { class: 'hint updated', 'aria-live': 'off' });
  const body = h('div', {});
  clear(out, body, stamp);
  let last = null;
  let timer = null;
  let first = true;
  // A screen is drawn detached and attached when it is complete: only later ticks stop when
  // `out` has left the page.
  const tick = async () => {
    clearTimeout(timer);
    if (!first && !out.isConnected) return;
    const now = first;
    first = false;
    if (now || document.visibilityState === 'visible') {
      try {
        const data = await load();
        last = new Date();
        clear(body, show(data));
        clear(stamp, `Updated ${last.toLocaleTimeString()} · refreshes every ${everyMs / 1000} s`);
      } catch (err) {
        if (!last) clear(body, errorBox(err));
        else clear(stamp, h('span', { class: 'stale' }, `Could not refresh (${err.message}); showing data from ${last.toLocaleTimeString()}.`));
      }
    }
    timer = setTimeout(tick, everyMs);
  };
  const onShow = () => {
    if (!out.isConnected) document.removeEventListener('visibilitychange', onShow);
    else if (document.visibilityState === 'visible') tick();
  };
  document.addEventListener('visibilitychange', onShow);
  return { refresh: tick, first: tick() };
}
