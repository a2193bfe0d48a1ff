// The console's navigation by the manager's objects (issue 62): eight places (Home, Partners,
// Program, Commissions, Payouts, Links, Integrations, Settings), each with its pages as tabs, and
// the addresses of the screens they replaced kept as aliases so a bookmark still lands.
// Every place is an address (`#/partners/pub-one`): the back button and a reload keep it.

import * as home from './home.js';
import * as partnerList from './partner_list.js';
import * as partnerPage from './partner_page.js';
import * as programs from './programs.js';
import * as campaigns from './partners.js';
import * as broadcasts from './broadcasts.js';
import * as commissions from './commissions.js';
import * as claims from './claims.js';
import * as plans from './plans.js';
import * as customers from './customers_page.js';
import * as conversions from './conversions.js';
import * as payouts from './payouts_page.js';
import * as links from './links.js';
import * as playbook from './start.js';
import * as lifecycle from './lifecycle.js';
import * as integrations from './integrations.js';
import * as webhooks from './webhooks.js';
import * as team from './team.js';
import * as mail from './mail.js';
import * as branding from './branding.js';
import * as tokens from './tokens.js';
import * as auditLog from './audit_log.js';
import * as account from './account.js';

// [place, label, [[hash, tab label, render]]]: the first page is the place's own address.
export const PLACES = [
  ['home', 'Home', [['#/home', 'Home', home.render]]],
  ['partners', 'Partners', [['#/partners', 'All partners', partnerList.render]]],
  ['program', 'Program', [
    ['#/program', 'Settings and applications', programs.render],
    ['#/program/campaigns', 'Campaigns and funnels', campaigns.render],
    ['#/program/broadcasts', 'Broadcasts', broadcasts.render],
  ]],
  ['commissions', 'Commissions', [
    ['#/commissions', 'Review and ledger', commissions.render],
    ['#/commissions/claims', 'Claims', claims.render],
    ['#/commissions/plans', 'Plans and rates', plans.render],
    ['#/commissions/customers', 'Customers', customers.render],
    ['#/commissions/conversions', 'Conversions', conversions.render],
  ]],
  ['payouts', 'Payouts', [
    ['#/payouts', 'Balances and runs', payouts.render],
    ['#/payouts/batches', 'Methods and batches', payouts.renderBatches],
  ]],
  ['links', 'Links', [
    ['#/links', 'All links', links.renderList],
    ['#/links/playbook', "The developer's playbook", playbook.render],
    ['#/links/lifecycle', 'Lifecycle', lifecycle.render],
  ]],
  ['integrations', 'Integrations', [
    ['#/integrations', 'Stripe and Shopify', integrations.render],
    ['#/integrations/webhooks', 'Webhooks', webhooks.render],
  ]],
  ['settings', 'Settings', [
    ['#/settings', 'Team', team.render],
    ['#/settings/branding', 'Branding', branding.render],
    ['#/settings/mail', 'Sent mail', mail.render],
    ['#/settings/tokens', 'Tokens', tokens.render],
    ['#/settings/audit', 'Audit log', auditLog.render],
    ['#/settings/account', 'Your account', account.render],
  ]],
];

// The addresses before issue 62, still honoured (a bookmark, a mail's link).
export const ALIASES = {
  '#/start': '#/home',
  '#/conversions': '#/commissions/conversions',
  '#/lifecycle': '#/links/lifecycle',
  '#/webhooks': '#/integrations/webhooks',
  '#/tokens': '#/settings/tokens',
  '#/team': '#/settings',
  '#/audit': '#/settings/audit',
  '#/account': '#/settings/account',
  '#/mail': '#/settings/mail',
};

// What an address shows: {place, page: [hash, label, render], hash} (a partner's page and the
// link editor are pages of their place without a tab of their own), or null when unknown.
export function resolve(hash) {
  const partner = /^#\/partners\/([^/]+)$/.exec(hash);
  if (partner) {
    const id = decodeURIComponent(partner[1]);
    return { place: 'partners', hash, page: [hash, id, (main) => partnerPage.render(main, id)] };
  }
  const edit = /^#\/links\/edit\/(.+)$/.exec(hash);
  if (edit) return { place: 'links', hash, page: [hash, 'Link', (main) => links.renderEditor(main, decodeURIComponent(edit[1]))] };
  if (hash === '#/links/new') return { place: 'links', hash, page: [hash, 'New link', (main) => links.renderEditor(main, null)] };
  for (const [place, , pages] of PLACES) {
    const page = pages.find(([h]) => h === hash);
    if (page) return { place, hash, page };
  }
  return null;
}

// The place's pages (its tabs), for the strip under the top navigation.
export function pagesOf(place) {
  const found = PLACES.find(([p]) => p === place);
  return found ? found[2] : [];
}

// A page's name in a sentence ("the Claims page"), for "sign in to return to …".
export function pageName(hash) {
  const r = resolve(ALIASES[hash] || hash);
  if (!r) return 'where you were';
  if (r.place === 'partners' && r.hash !== '#/partners') return `the page of ${r.page[1]}`;
  if (/^#\/links\/(edit|new)/.test(r.hash)) return 'the link editor';
  return `the ${r.page[1]} page`;
}
