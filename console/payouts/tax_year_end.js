// The year-end 1099-NEC figures, for an admin: pick the year, read its threshold in dollars (the
// law's, or the program's own for that year), and download the CSV a filing service imports or
// each payee's Copy B as PDF. The files hold the payees' tax ids, so the API answers them to an
// admin only and never caches them; anyone else reads why in words. The program's own threshold
// of a year (the IRS's inflation-indexed figure of a year after 2026) is set here too, in dollars
// and cents, sent as whole cents.

import * as api from '../api.js';
import * as session from '../session.js';
import { NEEDS } from '../session.js';
import { clear, errorBox, field, form, h, input, loading, notice, section, select } from '../ui.js';

const ADMIN = { role: 'admin', scope: null, what: 'The year-end tax figures' };

// The law's threshold of a year of payments, in cents: $600 through 2025, $2,000 from 2026
// (payouts::tax_report::threshold_cents says the same, with its sources).
function lawCents(year) {
  return year <= 2025 ? 60000 : 200000;
}

// Cents as dollars, never through a float: 210000 → "$2,100.00".
function dollars(cents) {
  const s = String(cents).padStart(3, '0');
  const whole = s.slice(0, -2).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  return `$${whole}.${s.slice(-2)}`;
}

// "2,100" or "2100.5" → 210050 cents, by the digits alone; null when it is not an amount.
export function toCents(text) {
  const m = /^\$?\s*(\d{1,3}(?:,\d{3})*|\d+)(?:\.(\d{1,2}))?$/.exec(text.trim());
  if (!m) return null;
  const whole = m[1].replace(/,/g, '');
  const frac = (m[2] || '').padEnd(2, '0');
  return Number(whole) * 100 + Number(frac);
}

// The page in `body`; `chosen`: the year to show (after a save, the one saved for).
export async function render(body, chosen) {
  if (!session.allows(ADMIN)) {
    clear(body, notice('info', `${session.reason(ADMIN)} The files hold the payees' tax ids, so only an admin downloads them.`));
    return;
  }
  clear(body, loading());
  const r = await api.request('GET', api.handlePath('/program'));
  if (!r.ok && r.status !== 404) return clear(body, errorBox(r.error));
  const program = r.ok ? r.data : null;
  const now = new Date().getUTCFullYear();
  // The year just ended is the one filed in January: it comes first.
  const years = [now - 1, now, now - 2, now - 3].map(String);
  const year = select('year', years.map((y) => [y, y]), years.includes(String(chosen)) ? String(chosen) : years[0]);
  const detail = h('div', { 'aria-live': 'polite' });
  const show = () => clear(detail, yearPanel(body, program, Number(year.value)));
  year.addEventListener('change', show);
  clear(body, h('div', { id: 'tax-year-end' }, section('Year-end 1099-NEC',
    h('p', {}, 'What the program paid each US payee (a W-9 on file) in a calendar year, by bank transfer or payout file, '
      + 'for the payees at or over the year\'s threshold. Payments through PayPal or Stripe are not here: '
      + 'PayPal and Stripe report them on Form 1099-K.'),
    field('Year of the payments', year), detail)));
  show();
}

function yearPanel(body, program, year) {
  const own = program && program.form1099NecThresholds ? program.form1099NecThresholds[String(year)] : undefined;
  const cents = own === undefined ? lawCents(year) : own;
  const whose = own === undefined ? 'the law\'s' : 'your program\'s own';
  const out = h('div', { 'aria-live': 'polite' });
  const base = api.handlePath(`/tax-reports/1099-nec?year=${year}`);
  const csv = h('button', { type: 'button', class: 'primary', 'data-nec': 'csv' }, 'Download the CSV for your filing service');
  const pdf = h('button', { type: 'button', class: 'secondary', 'data-nec': 'pdf' }, 'Download each payee\'s Copy B (PDF)');
  const get = (button, path, name, words) => async () => {
    button.disabled = true;
    clear(out, loading('Adding up the year…'));
    try {
      const blob = await api.file(path);
      const url = URL.createObjectURL(blob);
      clear(out, h('a', { href: url, download: name }, words));
    } catch (err) {
      clear(out, errorBox(err));
    } finally {
      button.disabled = false;
    }
  };
  csv.addEventListener('click', get(csv, `${base}&format=csv`, `1099-nec-${year}.csv`, `Save the ${year} CSV`));
  pdf.addEventListener('click', get(pdf, `${base}&format=pdf`, `1099-nec-${year}-copy-b.pdf`, `Save the ${year} Copy B forms (PDF)`));
  return [
    h('p', { id: 'nec-threshold-now' }, `Threshold for payments made in ${year}: `, h('strong', {}, dollars(cents)), ` (${whose}).`),
    h('div', { class: 'actions' }, csv, ' ', pdf),
    out,
    h('p', { class: 'hint' }, 'Each download is recorded in the audit log.'),
    thresholdForm(body, program, year, own),
  ];
}

// The program's own threshold of `year`, in dollars; empty goes back to the law's.
function thresholdForm(body, program, year, own) {
  const amount = input('form1099NecThresholds', { inputmode: 'decimal', value: own === undefined ? '' : dollars(own).slice(1) });
  const f = form({ id: 'nec-threshold', 'aria-label': `Your own threshold for ${year}` },
    field(`Your own threshold for ${year}, in US dollars`, amount,
      'Only when the IRS published a figure this page does not know yet (from 2027 it is indexed for inflation). Leave it empty for the law\'s.'),
    `Save the threshold for ${year}`,
    async () => {
      const text = amount.value.trim();
      const cents = text === '' ? null : toCents(text);
      if (text !== '' && cents === null) {
        throw Object.assign(new Error('form1099NecThresholds: write an amount in dollars, like 2,100 or 2100.00.'), { status: 400, code: 'invalid_request' });
      }
      const { version, updatedAt, updatedBy, ...kept } = program || {};
      const thresholds = { ...(kept.form1099NecThresholds || {}) };
      if (cents === null) delete thresholds[String(year)]; else thresholds[String(year)] = cents;
      await api.put(api.handlePath('/program'), { ...kept, form1099NecThresholds: thresholds });
      await render(body, year);
    });
  if (!program || !session.allows(NEEDS.programWrite)) {
    f.button.disabled = true;
    const why = program ? session.reason(NEEDS.programWrite) : 'Save the program first (Program, Settings and applications).';
    f.button.insertAdjacentElement('afterend', h('small', { class: 'hint why' }, why));
  }
  return f;
}
