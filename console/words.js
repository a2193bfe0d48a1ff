// The words for the API's codes, from the one dictionary the server keeps (`GET /v2/reasons`,
// shared/kernel/src/domain/words.rs): the console and the partner portal load it once and show words
// where the API answers codes (the code kept in `data-code` for scripts and engineers' devtools,
// never in a tooltip a person reads). Until it has loaded
// (or if it cannot be), a code is shown as itself rather than hidden.

let dictionary = {};
let loaded = null;

// Loads the dictionary once per page; a failure leaves the codes shown as they are.
export function load() {
  if (!loaded) {
    loaded = fetch('/v2/reasons', { headers: { accept: 'application/json' }, credentials: 'omit' })
      .then((r) => (r.ok ? r.json() : {}))
      .then((d) => { dictionary = d && typeof d === 'object' ? d : {}; })
      .catch(() => { dictionary = {}; });
  }
  return loaded;
}

// The words for `code`, or the code.
export function words(code) {
  if (code === null || code === undefined) return '';
  return dictionary[code] || String(code);
}

// Whether the dictionary has words for `code`.
export function has(code) {
  return Object.prototype.hasOwnProperty.call(dictionary, code);
}

// A code as people read it: its words (the code kept in `data-code`).
export function term(code, cls) {
  if (code === null || code === undefined || code === '') return '–';
  const el = document.createElement('span');
  el.className = cls ? `term ${cls}` : 'term';
  el.dataset.code = String(code);
  el.textContent = words(code);
  return el;
}

// A list of codes (a line's reasons): each as a term, "–" for none.
export function terms(codes) {
  if (!codes || !codes.length) return '–';
  const el = document.createElement('span');
  el.className = 'terms';
  codes.forEach((c, i) => {
    if (i) el.append('; ');
    el.append(term(c));
  });
  return el;
}
