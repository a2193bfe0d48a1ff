// A partner named as people know it (issue 62): its name, linking to its page
// (`#/partners/{id}`), the id in the tooltip for engineers. The names are read once per few
// seconds however many links a screen draws (`GET …/partners`, 100 at a time).

import * as api from '../api.js';
import { h } from '../ui.js';

let cached = null;
let cachedAt = 0;

// id → partner, read again after a few seconds (a partner just created is named at once after
// `forget()`).
export function partners() {
  if (!cached || Date.now() - cachedAt > 5000) {
    cachedAt = Date.now();
    cached = (async () => {
      const all = new Map();
      let cursor;
      do {
        const r = await api.request('GET', api.handlePath('/partners') + api.query({ limit: 100, cursor }));
        if (!r.ok) break;
        for (const p of r.data.items) all.set(p.partnerId, p);
        cursor = r.data.nextCursor;
      } while (cursor && all.size < 1000);
      return all;
    })();
  }
  return cached;
}

export function forget() {
  cached = null;
}

// `<a href="#/partners/pub-one" title="pub-one">Publisher One</a>` (the id until names arrive).
export function partnerLink(id) {
  if (!id) return '–';
  const a = h('a', { href: `#/partners/${encodeURIComponent(id)}`, title: id, class: 'partner-link' }, id);
  partners().then((all) => {
    const p = all.get(id);
    if (p && p.name) a.textContent = p.name;
  }).catch(() => {});
  return a;
}
