// A picker for the ids the console asks (issue 62): a text field with the handle's partners,
// campaigns or links suggested as the manager types (`GET …/search?q=`, a native <datalist>:
// keyboard and screen readers work as with any text field). The value sent is the id; a value
// that is not one of the handle's ids is refused beside the field before anything is sent, so a
// typo can no longer become "Nothing to pay".

import * as api from '../api.js';
import { h, input, uid } from '../ui.js';

const KINDS = {
  partners: { id: 'partnerId', label: (p) => `${p.name} (${p.partnerId})`, noun: 'partner' },
  campaigns: { id: 'campaignId', label: (c) => `${c.primarySlug}${c.partnerId ? `, paid to ${c.partnerId}` : ''}`, noun: 'campaign' },
  links: { id: 'slug', label: (l) => l.title || l.destinationUrl, noun: 'link' },
};

async function find(kind, q) {
  const found = await api.get(api.handlePath('/search') + api.query({ q }));
  return found[kind] || [];
}

// `picker('partnerId', 'partners', attrs)`: an input named `name`, its datalist beside it. Forms
// built with ui.form check it on submit (`verify`): empty is allowed (the field is optional
// where the form says so), anything else must be an id the search finds.
export function picker(name, kind, attrs = {}) {
  const spec = KINDS[kind];
  const list = h('datalist', { id: uid(`${name}-list`) });
  const field = input(name, { list: list.id, placeholder: `Type a ${spec.noun}'s name or id`, ...attrs });
  field.dataset.picker = kind;
  let timer = null;
  let asked = '';
  const suggest = async () => {
    // The list lives beside its field (ui.field labels the field alone).
    if (!list.isConnected) field.insertAdjacentElement('afterend', list);
    const q = field.value.trim();
    if (q === asked) return;
    asked = q;
    try {
      const items = await find(kind, q);
      list.replaceChildren(...items.map((x) => h('option', { value: x[spec.id] }, spec.label(x))));
    } catch {
      // Suggestions are a help: the field still takes a typed id, checked on submit.
    }
  };
  field.addEventListener('focus', suggest);
  field.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(suggest, 150);
  });
  // The problem with the value, in words, or null when it is fine.
  field.verify = async () => {
    const value = field.value.trim();
    if (!value) return null;
    let items;
    try {
      items = await find(kind, value);
    } catch {
      return null; // the server answers the request itself then
    }
    if (items.some((x) => x[spec.id] === value)) return null;
    // A typo ("pub-onee") holds no id: what its first letters find is the likely one.
    if (!items.length && value.length > 3) {
      try {
        items = await find(kind, value.slice(0, Math.max(3, value.length - 2)));
      } catch {
        items = [];
      }
    }
    const near = items.slice(0, 3).map((x) => x[spec.id]);
    return `no ${spec.noun} "${value}" in this program${near.length ? `: did you mean ${near.join(', ')}?` : ': pick one from the list.'}`;
  };
  return field;
}
