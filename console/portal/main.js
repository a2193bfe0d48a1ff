// The partner portal, /portal/{handle}: a partner's people sign in by email link (the session
// cookie; no token in the page) and see their program as the partner: the overview (balance,
// next payout explained, earnings per day), their links with a copy button and a QR code on
// demand, their commissions with
// the reasons in words and each one's proof ("why this amount"), their payouts with their
// statements (each checked in the page, read a page at a time: ./verify.js), their plan
// in words with its signed change notices, how they are paid, which mail they get and their
// postback's log, their messages with the program (the unread count on the tab) and their
// claims for sales that were not credited to them. A person partner of several programs
// switches between them. Every request acts as the partner (`x-tenx-act-as`).

import * as api from './api.js';
import { claims } from './claims.js';
import { messages } from './messages.js';
import { method } from './method.js';
import { notifications } from './notifications.js';
import { overview, visitors, VISITORS_HEADING } from './overview.js';
import { people } from './people.js';
import { plan } from './plan.js';
import { statementView } from './statement.js';
import { qrOnDemand, subIds } from './subids.js';
import { tax } from './tax.js';
import { invoiceButton } from '../widgets/invoice_button.js';
import { readStatement, verifyStatement } from './verify.js';
import { load as loadWords, reasonsNow, words } from './words.js';
import { clear, copyButton, errorBox, field, fmtAmounts, fmtMoney, h, input, loading, section, table } from '../ui.js';

const main = document.getElementById('main');
const nav = document.getElementById('portal-nav');
const handle = decodeURIComponent(location.pathname.split('/')[2] || '');
const base = `/v2/handles/${encodeURIComponent(handle)}`;

// The program as its partners know it (`GET /v2/public/programs/{handle}`): its name, logo and
// colour on every screen, and whether its partners may make links of their own. Until it is
// read (or when the handle has no program page), its handle.
let program = { name: handle, logoUrl: null, color: null, ownLinks: false, currency: null };

// Black or white, whichever reads better on `hex` (WCAG's relative luminance).
function readableOn(hex) {
  const m = /^#([0-9a-f]{6})$/i.exec(hex || '');
  if (!m) return '#fff';
  const [r, g, b] = [0, 2, 4].map((i) => {
    const c = parseInt(m[1].slice(i, i + 2), 16) / 255;
    return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
  });
  const lum = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  return (1.05 / (lum + 0.05)) >= ((lum + 0.05) / 0.05) ? '#fff' : '#000';
}

// The header: the program's logo and name, its colour (set through the CSSOM: no inline style
// under the CSP).
function showBrand() {
  const brand = document.querySelector('header .brand');
  const logo = program.logoUrl ? h('img', { src: program.logoUrl, alt: '', height: '28' }) : h('img', { src: '/console/icon.svg', alt: '', width: '28', height: '28' });
  clear(brand, logo, h('span', { class: 'program-name' }, program.name));
  if (program.color) {
    document.body.style.setProperty('--brand', program.color);
    document.body.style.setProperty('--brand-fg', readableOn(program.color));
  }
}

async function loadProgram() {
  try {
    const got = await api.get(`/v2/public/programs/${encodeURIComponent(handle)}`);
    program = {
      name: got.name || handle,
      logoUrl: got.logoUrl || null,
      color: got.color || null,
      ownLinks: Boolean(got.ownLinks),
      currency: got.commission ? got.commission.currency : null,
    };
  } catch {
    // No program page: the handle names it.
  }
  showBrand();
}

function signInForm() {
  const email = input('email', { type: 'email', autocomplete: 'email', required: true, 'aria-required': 'true', spellcheck: 'false' });
  const out = h('div', { 'aria-live': 'polite' });
  const form = h('form', {
    onsubmit: async (e) => {
      e.preventDefault();
      clear(out, loading('Sending…'));
      try {
        await api.post('/v2/auth/email-link', { email: email.value.trim(), next: location.pathname });
        clear(out, h('p', { role: 'status' }, 'Check your mail: the link there signs you in (it works once, for 15 minutes).'));
      } catch (err) {
        clear(out, errorBox(err));
      }
    },
  }, field('Your email', email, 'The address the program approved or invited.'), h('button', { class: 'primary', type: 'submit' }, 'Email me a sign-in link'), out);
  return [heading(`Your partner portal at ${program.name}`), section('Sign in to your partner portal', form)];
}

// Each screen's one level-one heading, named as its tab; the page's title says it too.
function heading(title) {
  document.title = `${title} · ${program.name}`;
  return h('h1', {}, title);
}

function switcher(me) {
  if (me.partnerships.length < 2) return null;
  const select = h('select', { id: 'program-switch' }, me.partnerships.map((p) => h('option', { value: p.handle, selected: p.handle === handle }, p.handle)));
  select.addEventListener('change', () => {
    location.assign(`/portal/${encodeURIComponent(select.value)}`);
  });
  return h('div', { class: 'field inline' }, h('label', { for: 'program-switch' }, 'Program'), select);
}

// A link of the partner's own, to a page the program allows (`allowedDestinations`): the API
// says which when the address is elsewhere, and the link's name always starts with the
// partner's id (it can never take the program's own).
function newLinkForm(partnerId, reload) {
  const dest = input('destinationUrl', { type: 'url', required: true, 'aria-required': 'true', inputmode: 'url' });
  const slug = input('slug', { maxlength: '40', pattern: '[a-z0-9\\-]*' });
  const out = h('div', { 'aria-live': 'polite' });
  const make = h('button', { class: 'primary', type: 'submit' }, 'Make the link');
  return h('form', {
    class: 'own-link-form',
    onsubmit: async (e) => {
      e.preventDefault();
      const body = { destinationUrl: dest.value.trim() };
      if (slug.value.trim()) body.slug = slug.value.trim();
      make.disabled = true;
      clear(out, loading('Making it…'));
      try {
        const made = await api.post(`${base}/partners/${encodeURIComponent(partnerId)}/links`, body);
        clear(out, h('p', { role: 'status' }, `Made: ${made.shortUrl}`));
        dest.value = '';
        slug.value = '';
        await reload();
      } catch (err) {
        clear(out, errorBox(err));
      } finally {
        make.disabled = false;
      }
    },
  },
  field('Where it goes', dest, 'A page of the program\'s site that it lets partners link to.'),
  field('Its name (optional)', slug, `Lowercase letters, digits and hyphens; it becomes ${partnerId}-… (random when empty).`),
  make, out);
}

// One link: its address with a copy button beside it, where it goes, its QR code on demand.
function linkCard(l) {
  const [qr, code] = qrOnDemand(l.shortUrl);
  return h('div', { class: 'link-card' },
    h('p', { class: 'link-row' },
      h('a', { class: 'short', href: l.shortUrl, rel: 'noopener noreferrer' }, l.shortUrl),
      copyButton(() => l.shortUrl, 'Copy', `Copy ${l.shortUrl}`), qr),
    h('p', { class: 'dest' }, `Goes to ${l.destinationUrl}`),
    code);
}

async function links(partnerId) {
  const list = h('div', { 'aria-live': 'polite' });
  let items = [];
  const reload = async () => {
    const got = await api.get(`${base}/links`);
    items = got.items;
    clear(list, got.items.length ? got.items.map(linkCard) : h('p', {}, 'No links yet: the program makes your first one.'));
  };
  await reload();
  // The form only where it can succeed: the program allows its partners links of their own.
  const own = program.ownLinks ? [section('Make a link of your own', newLinkForm(partnerId, reload))] : [];
  return [section('Your links', list), ...(await subIds(base, items)), ...own];
}

// Why a commission is what it is, in words (`GET …/commissions/{id}/explanation`), read when
// the person opens it.
function why(c) {
  const out = h('div', { 'aria-live': 'polite' });
  let loaded = false;
  return h('details', {
    class: 'why',
    ontoggle: async (e) => {
      if (!e.target.open || loaded) return;
      loaded = true;
      clear(out, loading());
      try {
        const got = await api.get(`${base}/commissions/${encodeURIComponent(c.commissionId)}/explanation`);
        clear(out, h('ul', { class: 'reasons' }, got.sentences.map((t) => h('li', {}, t))));
      } catch (err) {
        loaded = false;
        clear(out, errorBox(err));
      }
    },
  }, h('summary', {}, 'Why this amount'), out);
}

async function commissions() {
  const [got, tested] = await Promise.all([
    api.get(`${base}/commissions?limit=100`), api.get(`${base}/commissions?limit=100&test=true`)]);
  const test = testSales(tested.items);
  if (!got.items.length) return [section('What you earned', h('p', {}, 'Nothing earned yet: your sales show here as they come.')), ...test];
  return [...test, section('What you earned', table([
    { label: 'Earned on', value: (c) => fmtDay(c.createdAt) },
    { label: 'Amount', value: (c) => (c.amount === null ? '–' : fmtMoney(c.amount, c.currency)), class: 'num' },
    { label: 'What', value: (c) => words(c.kind) },
    { label: 'Status', value: (c) => words(c.status) },
    { label: 'Why', value: (c) => (reasonsNow(c).length ? reasonsNow(c).map(words).join('; ') : '–') },
    { label: 'How it was worked out', value: why },
  ], got.items, 'Your earnings'))];
}

// The program's test sales of this partner (its manager is trying the program out): shown apart,
// never as earnings.
function testSales(items) {
  if (!items.length) return [];
  return [section('Test sales (not real money)',
    h('p', {}, 'The program is being tried out: these test sales show you what a real one will look like. They are never paid to you and never in your earnings.'),
    table([
      { label: 'Made on', value: (c) => fmtDay(c.createdAt) },
      { label: 'Amount', value: (c) => [c.amount === null ? '–' : fmtMoney(c.amount, c.currency), ' ', h('span', { class: 'badge warn test-badge' }, 'Test')], class: 'num' },
      { label: 'Status', value: (c) => words(c.status) },
    ], items, 'Test sales'))];
}

// A day as people read it, in their locale ("27 Nov 2026"), the instant in the tooltip.
export function fmtDay(iso) {
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return String(iso || '–');
  return h('time', { datetime: iso, title: iso }, t.toLocaleDateString(undefined, { dateStyle: 'medium' }));
}

// How a customer came to be the partner's, in words.
const BOUND_BY = { ctx: 'Through your link', coupon: 'With your coupon code', manual: 'Added by the program', import: 'Imported' };

// The customers it brought: masked (the API keeps emails only masked), with what each earned it.
async function customers() {
  const got = await api.get(`${base}/customers?limit=100`);
  if (!got.items.length) return [section('Customers you brought', h('p', {}, 'No customers yet.'))];
  return [section('Customers you brought', table([
    { label: 'Customer', value: (c) => c.emailMasked || 'No email given' },
    { label: 'Since', value: (c) => fmtDay(c.boundAt) },
    { label: 'How', value: (c) => BOUND_BY[c.boundBy] || c.boundBy },
    { label: 'Sales', value: (c) => String(c.conversionCount), class: 'num' },
    { label: 'You earned', value: (c) => fmtAmounts(c.commissions), class: 'num' },
  ], got.items, 'Customers'))];
}

// A payout's statement, fetched and checked in the page; the verdict in words beside it, and
// the file to keep (the same JSON `tenx verify` checks); its lines, a page at a time, shown in
// `view` below the payouts. A statement is read 1,000 lines a request, and the page says how
// far it got while it reads a large one.
function statementCell(p, view) {
  const path = `${base}/payouts/${encodeURIComponent(p.payoutId)}/statement`;
  const out = h('span', { class: 'proof-verdict', 'aria-live': 'polite' });
  const period = `${p.periodStart.slice(0, 10)} to ${p.periodEnd.slice(0, 10)}`;
  const check = h('button', {
    type: 'button',
    class: 'secondary',
    'aria-label': `Check the statement of the payout of ${p.periodEnd.slice(0, 10)}`,
    onclick: async () => {
      check.disabled = true;
      clear(out, 'Checking…');
      try {
        const progress = (read, total) => clear(out, `Read ${read.toLocaleString()} of ${Number(total).toLocaleString()} lines…`);
        const doc = await readStatement(api.get, path, 1000, progress);
        clear(out, `Checking ${doc.lines.length.toLocaleString()} lines…`);
        const verdict = await verifyStatement(doc);
        const file = URL.createObjectURL(new Blob([JSON.stringify(doc)], { type: 'application/json' }));
        clear(out, verdict, ' ', h('a', { href: file, download: `statement-${p.payoutId}.json` }, 'Download it'));
        clear(view, statementView(doc, period, verdict));
      } catch (err) {
        clear(out, errorBox(err));
      } finally {
        check.disabled = false;
      }
    },
  }, 'Check the statement');
  return h('span', {}, check, ' ', out);
}

async function payouts(partnerId) {
  const got = await api.get(`${base}/payouts`);
  if (!got.items.length) return [section('Your payouts', h('p', {}, 'No payouts yet.'))];
  const view = h('div', { class: 'statement-view' });
  // The invoice column only once self-billing is on and accepted (else there is none to make).
  const billing = await api.get(`${base}/partners/${encodeURIComponent(partnerId)}/self-billing`).catch(() => null);
  const invoices = Boolean(billing && billing.enabled && billing.accepted);
  return [section('Your payouts', table([
    { label: 'Period', value: (p) => `${p.periodStart.slice(0, 10)} to ${p.periodEnd.slice(0, 10)}` },
    { label: 'Amount', value: (p) => fmtMoney(p.amount, p.currency), class: 'num' },
    { label: 'Status', value: (p) => words(p.status) },
    { label: 'Signed statement', value: (p) => statementCell(p, view) },
    ...(invoices ? [{ label: 'Invoice', value: (p) => (p.status === 'paid' ? invoiceButton(api.file, base, p) : '') }] : []),
  ], got.items, 'Payouts')), view];
}

// The Messages tab's label: its unread count as a badge while there is one (said in words to
// a screen reader: "Messages (2 new)"), short enough for a phone's row.
function unreadLabel(n) {
  if (!(n > 0)) return ['Messages'];
  return ['Messages', h('span', { class: 'unread-badge', 'aria-hidden': 'true' }, String(n)), h('span', { class: 'visually-hidden' }, ` (${n} new)`)];
}

function setUnread(n) {
  const b = nav.querySelector('button[data-view="messages"]');
  if (b) clear(b, ...unreadLabel(n));
}

// The signed-in person: its user id and whether it is its partner's owner (the People tab).
let who = { userId: '', owner: false };

// The tabs: [view, its label (the screen's heading)]; the first four fit a phone's width, the
// rest are behind one menu.
const PRIMARY = [['overview', 'Overview'], ['links', 'Links'], ['commissions', 'Earnings'], ['messages', 'Messages']];
const MORE = [['payouts', 'Payouts'], ['claims', 'Claims'], ['plan', 'Your plan'], ['customers', 'Customers'], ['method', 'Getting paid'], ['tax', 'Tax details'], ['people', 'People'], ['notifications', 'Notifications']];
const VIEWS = [...PRIMARY, ...MORE];

async function show(view, partnerId) {
  const title = heading(VIEWS.find(([v]) => v === view)[1]);
  for (const b of nav.querySelectorAll('button[data-view]')) {
    if (b.dataset.view === view) b.setAttribute('aria-current', 'page');
    else b.removeAttribute('aria-current');
  }
  const menu = nav.querySelector('details.more');
  if (menu) menu.open = false;
  clear(main, title, loading());
  try {
    const tabs = {
      overview: async () => {
        const [summary, own] = await Promise.all([
          api.get(`${base}/partners/${encodeURIComponent(partnerId)}/summary`),
          api.get(`${base}/links`),
        ]);
        setUnread(summary.unreadMessages);
        // Where and on what: a part of the overview, never a reason to lose the rest of it.
        const places = await visitors(api.get, base, summary.earnings).catch(() => null);
        return [...overview(summary, own.items), places && section(VISITORS_HEADING, places)];
      },
      links: () => links(partnerId),
      commissions,
      customers,
      payouts: () => payouts(partnerId),
      messages: () => messages(base, partnerId, () => setUnread(0)),
      // A sale's amount is said in the program's currency (its summary's, without a template).
      claims: async () => claims(base, partnerId, program.currency
        || (await api.get(`${base}/partners/${encodeURIComponent(partnerId)}/summary`)).currency),
      people: () => people(base, partnerId, who),
      tax: () => tax(base, partnerId),
      plan: () => plan(base, partnerId, program.name),
      method: () => method(base, partnerId),
      notifications: () => notifications(base, handle, partnerId),
    };
    const parts = await tabs[view]();
    clear(main, title, ...parts);
  } catch (err) {
    clear(main, title, errorBox(err));
  }
  main.focus();
}

// The navigation: the primary places, then "More" with the rest, the program switcher and
// signing out.
function navigation(me, partnerId, signOut) {
  const button = ([v, label]) => h('button', { type: 'button', 'data-view': v, onclick: () => show(v, partnerId) }, label);
  return [
    h('div', { class: 'primary-places' }, PRIMARY.map(button)),
    h('details', { class: 'more' }, h('summary', {}, 'More'),
      h('div', { class: 'more-menu' }, MORE.map(button), switcher(me), signOut)),
  ];
}

async function start() {
  // The words for the codes the portal shows (one dictionary, the console's too), and the
  // program's name and brand.
  await Promise.all([loadWords(), loadProgram()]);
  let me;
  try {
    me = await api.get('/v2/me');
  } catch (err) {
    clear(main, ...(err.status === 401 ? signInForm() : [heading('Your partner portal'), errorBox(err)]));
    return;
  }
  api.setCsrf(me.csrfToken);
  const mine = me.partnerships.find((p) => p.handle === handle);
  const signOut = h('button', {
    type: 'button',
    onclick: async () => {
      await api.post('/v2/auth/sign-out').catch(() => null);
      location.reload();
    },
  }, 'Sign out');
  if (!mine) {
    clear(nav, signOut);
    clear(main, heading('Not a partner of this program'), h('p', {}, `You (${me.user.email}) are not a partner of ${program.name}.`), switcher(me));
    return;
  }
  who = { userId: me.user.userId, owner: mine.role === 'owner' };
  clear(nav, navigation(me, mine.partnerId, signOut));
  // A mail's link names the screen it is about (`/portal/{handle}#messages`).
  const asked = location.hash.slice(1);
  await show(VIEWS.some(([v]) => v === asked) ? asked : 'overview', mine.partnerId);
}

start();
