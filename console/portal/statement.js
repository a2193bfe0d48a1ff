// A payout's statement shown in the portal once it is checked: its lines a page at a time
// (50 on screen, whatever the statement's size: a statement of 5,000 lines and more is read
// from the API a page of 1,000 at a time by ./verify.js, and the page shows a slice),
// with buttons to the previous and next page and where the reader is, in words.

import { words } from './words.js';
import { clear, fmtMoney, h, section, table } from '../ui.js';

export const PAGE = 50;

const count = (n) => n.toLocaleString();

// The words for a line: its sale ("A purchase of €80.00"), else its kind in words.
function what(l) {
  if (l.value === null || l.value === undefined || !l.valueCurrency) return words(l.kind);
  const sale = l.eventType ? `${/^[aeiou]/i.test(l.eventType) ? 'An' : 'A'} ${l.eventType}` : 'A sale';
  return `${sale} of ${fmtMoney(l.value, l.valueCurrency)}${l.kind === 'conversion' ? '' : ` (${words(l.kind)})`}`;
}

// When the line was earned, in the reader's locale (a statement made before lines carried it:
// its click day, else a dash).
function earnedOn(l) {
  const iso = l.earnedAt || l.clickDay;
  if (!iso) return '–';
  const t = new Date(iso);
  if (Number.isNaN(t.getTime())) return String(iso);
  return h('time', { datetime: iso }, t.toLocaleDateString(undefined, { dateStyle: 'medium' }));
}

// The statement `doc` (checked: `verdict` its words), titled by its payout's `period`.
export function statementView(doc, period, verdict) {
  const lines = doc.lines;
  const pages = Math.max(1, Math.ceil(lines.length / PAGE));
  let at = 0;
  const where = h('p', { class: 'statement-where', 'aria-live': 'polite' });
  const body = h('div', {});
  const prev = h('button', { type: 'button', class: 'secondary', 'data-page': 'previous' }, 'Previous lines');
  const next = h('button', { type: 'button', class: 'secondary', 'data-page': 'next' }, 'Next lines');
  const show = () => {
    const first = at * PAGE;
    const slice = lines.slice(first, first + PAGE);
    where.textContent = lines.length
      ? `Lines ${count(first + 1)} to ${count(first + slice.length)} of ${count(lines.length)} (page ${count(at + 1)} of ${count(pages)}).`
      : 'This statement has no lines.';
    clear(body, table([
      { label: 'Line', value: (l) => count(lines.indexOf(l, first) + 1), class: 'num' },
      { label: 'Earned on', value: (l) => earnedOn(l) },
      { label: 'What', value: what },
      { label: 'Amount', value: (l) => fmtMoney(l.amount, l.currency), class: 'num' },
    ], slice, `Statement lines ${count(first + 1)} to ${count(first + slice.length)}`));
    prev.disabled = at === 0;
    next.disabled = at >= pages - 1;
  };
  prev.addEventListener('click', () => { at = Math.max(0, at - 1); show(); });
  next.addEventListener('click', () => { at = Math.min(pages - 1, at + 1); show(); });
  show();
  return section(`The statement of ${period}`,
    h('p', { class: 'statement-verdict' }, verdict),
    h('p', {}, `${count(lines.length)} lines adding up to ${fmtMoney(doc.header.amount, doc.header.currency)}.`),
    where, h('div', { class: 'pager' }, prev, ' ', next), body);
}
