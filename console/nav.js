// The console's navigation by the manager's objects (issue 62): eight places (Home, Partners,
// Program, Commissions, Payouts, Links, Integrations, Settings), each with its pages as tabs, and
// the addresses of the screens they replaced kept as aliases so a bookmark still lands.
// Every place is an address (`#/partners/pub-one`): the back button and a reload keep it.

// Each page's module is read when the page is first opened (the first load stays small: the
// page weighs what Home needs, not every screen).
function lazy(importer, fn) {
  return async (main) => (await importer())[fn](main);
}

// [place, label, [[hash, tab label, render]]]: the first page is the place's own address.
export const PLACES = [
  ['home', 'Home', [['#/home', 'Home', lazy(() => import('./home/home.js'), 'render')]]],
  ['partners', 'Partners', [['#/partners', 'All partners', lazy(() => import('./partners/list.js'), 'render')]]],
  ['program', 'Program', [
    ['#/program', 'Settings and applications', lazy(() => import('./program/settings.js'), 'render')],
    ['#/program/campaigns', 'Campaigns and funnels', lazy(() => import('./program/campaigns.js'), 'render')],
    ['#/program/broadcasts', 'Broadcasts', lazy(() => import('./program/broadcasts.js'), 'render')],
  ]],
  ['commissions', 'Commissions', [
    ['#/commissions', 'Review and ledger', lazy(() => import('./commissions/review.js'), 'render')],
    ['#/commissions/claims', 'Claims', lazy(() => import('./commissions/claims.js'), 'render')],
    ['#/commissions/plans', 'Plans and rates', lazy(() => import('./commissions/plans.js'), 'render')],
    ['#/commissions/customers', 'Customers', lazy(() => import('./commissions/customers_page.js'), 'render')],
    ['#/commissions/conversions', 'Conversions', lazy(() => import('./commissions/conversions.js'), 'render')],
  ]],
  ['payouts', 'Payouts', [
    ['#/payouts', 'Balances and runs', lazy(() => import('./payouts/page.js'), 'render')],
    ['#/payouts/batches', 'Methods and batches', lazy(() => import('./payouts/page.js'), 'renderBatches')],
    ['#/payouts/tax', 'Year-end 1099-NEC', lazy(() => import('./payouts/tax_year_end.js'), 'render')],
  ]],
  ['links', 'Links', [
    ['#/links', 'All links', lazy(() => import('./links/links.js'), 'renderList')],
    ['#/links/playbook', "The developer's playbook", lazy(() => import('./links/playbook.js'), 'render')],
    ['#/links/lifecycle', 'Lifecycle', lazy(() => import('./links/lifecycle.js'), 'render')],
    ['#/links/import', 'Import from another tool', lazy(() => import('./links/imports.js'), 'render')],
    ['#/links/domains', 'Your own domains', lazy(() => import('./links/domains.js'), 'render')],
  ]],
  ['integrations', 'Integrations', [
    ['#/integrations', 'Stripe and Shopify', lazy(() => import('./integrations/integrations.js'), 'render')],
    ['#/integrations/webhooks', 'Webhooks', lazy(() => import('./webhooks/webhooks.js'), 'render')],
  ]],
  ['settings', 'Settings', [
    ['#/settings', 'Team', lazy(() => import('./settings/team.js'), 'render')],
    ['#/settings/branding', 'Branding', lazy(() => import('./settings/branding.js'), 'render')],
    ['#/settings/mail', 'Sent mail', lazy(() => import('./settings/mail.js'), 'render')],
    ['#/settings/tokens', 'Tokens', lazy(() => import('./settings/tokens.js'), 'render')],
    ['#/settings/audit', 'Audit log', lazy(() => import('./settings/audit_log.js'), 'render')],
    ['#/settings/account', 'Your account', lazy(() => import('./settings/account.js'), 'render')],
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
    return { place: 'partners', hash, page: [hash, id, (main) => import('./partners/page.js').then((m) => m.render(main, id))] };
  }
  const edit = /^#\/links\/edit\/(.+)$/.exec(hash);
  if (edit) return { place: 'links', hash, page: [hash, 'Link', (main) => import('./links/links.js').then((m) => m.renderEditor(main, decodeURIComponent(edit[1])))] };
  if (hash === '#/links/new') return { place: 'links', hash, page: [hash, 'New link', (main) => import('./links/links.js').then((m) => m.renderEditor(main, null))] };
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
