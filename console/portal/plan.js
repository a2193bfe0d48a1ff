// The portal's Plan tab: what the partner earns, in words (`GET …/partners/{id}/terms`: the
// plan in force for each of its campaigns, and a version saved to take effect later), and the
// signed notices of the plan's changes, each checked in the page as statements are (the
// Ed25519 signature over the notice's RFC 8785 form, ./verify.js), with the notice's
// old and new terms side by side and what the change would have made over the last 30 days.

import * as api from './api.js';
import { verifyNotice } from './verify.js';
import { clear, errorBox, fmtMoney, h, section } from '../ui.js';

const day = (t) => String(t).slice(0, 10);

// A plan by its name as a partner knows it: the program's, and, when the partner has plans on
// several links, the link it pays for (a campaign's id is the program's own, never shown).
function planName(campaignId, names) {
  return names.get(campaignId) || names.get('') || 'Your plan';
}

function terms(c, names) {
  const say = (v) => h('ul', { class: 'reasons' }, v.terms.map((t) => h('li', {}, t)));
  return h('div', { class: 'link-card terms' },
    h('h3', {}, planName(c.campaignId, names)),
    c.current ? [h('p', {}, `In force since ${day(c.current.effectiveAt)}:`), say(c.current)] : h('p', {}, 'No terms in force yet.'),
    c.upcoming ? [h('p', {}, h('strong', {}, `From ${day(c.upcoming.effectiveAt)}:`)), say(c.upcoming)] : null);
}

function notice(n, names) {
  const out = h('span', { class: 'proof-verdict', 'aria-live': 'polite' });
  const check = h('button', {
    type: 'button',
    class: 'secondary',
    'aria-label': `Check the signature of the notice of ${day(n.createdAt)}`,
    onclick: async () => {
      check.disabled = true;
      clear(out, 'Checking…');
      try {
        clear(out, await verifyNotice(n));
      } catch (err) {
        clear(out, errorBox(err));
      } finally {
        check.disabled = false;
      }
    },
  }, 'Check the signature');
  const d = n.difference30d;
  return h('article', { class: 'link-card notice' },
    h('h3', {}, `${day(n.createdAt)}: ${n.summary}`),
    h('p', {}, `Takes effect ${day(n.effectiveAt)} (${planName(n.campaignId, names)}, version ${n.planVersion}).`),
    h('div', { class: 'two-columns' },
      h('div', {}, h('h4', {}, 'Before'), h('ul', {}, n.before.map((t) => h('li', {}, t)))),
      h('div', {}, h('h4', {}, 'After'), h('ul', {}, n.after.map((t) => h('li', {}, t))))),
    d ? h('p', {}, `Over ${day(d.from)} to ${day(d.to)} (${d.conversions} sales), the new terms would have paid ${fmtMoney(d.draft, d.currency)} instead of ${fmtMoney(d.actual, d.currency)}.`) : null,
    h('p', {}, check, ' ', out));
}

// The Plan tab for `partnerId` under `base`; `programName` names the plan.
export async function plan(base, partnerId, programName) {
  const p = `${base}/partners/${encodeURIComponent(partnerId)}`;
  const [got, notices, campaigns] = await Promise.all([
    api.get(`${p}/terms`), api.get(`${p}/notices?limit=50`), api.get(`${base}/campaigns?limit=100`).catch(() => ({ items: [] }))]);
  const names = new Map([['', `Your plan at ${programName}`]]);
  if (got.items.length > 1) {
    for (const c of campaigns.items || []) {
      if (c.shortUrl) names.set(c.campaignId, `Your plan at ${programName}, for ${c.shortUrl}`);
    }
  }
  return [
    section('What you earn', got.items.length ? got.items.map((c) => terms(c, names)) : h('p', {}, 'The program has not set your terms yet.')),
    section('Changes to your terms', notices.items.length
      ? [h('p', {}, 'Each change comes with a notice the program signed; check it here, as you would with tenx verify.'), notices.items.map((n) => notice(n, names))]
      : h('p', {}, 'No change so far.')),
  ];
}
