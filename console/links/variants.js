// A link's A/B test: the editor's variants (2 to 4 destinations with whole weights adding up to
// 100, the split drawn as it is typed), and the link page's panel with each variant's numbers
// since the test's period began and the verdict in words (`GET …/links/{slug}/variants`).

import * as api from '../api.js';
import * as session from '../session.js';
import { NEEDS } from '../session.js';
import { clear, field, fmtAmounts, fmtCount, fmtTime, h, input, live, notice, section, table } from '../ui.js';

export const MAX_VARIANTS = 4;

function variantRow(v = {}, onChange) {
  const weight = input('variantWeight', { type: 'number', min: '1', max: '99', step: '1', inputmode: 'numeric', value: v.weight ?? '' });
  const row = h('fieldset', { class: 'variant' },
    h('legend', {}, 'Variant'),
    h('div', { class: 'grid' },
      field('Destination URL', input('variantDestination', { type: 'url', value: v.destinationUrl || '' })),
      field('Weight (percent of visitors)', weight, 'A whole number from 1 to 99.')),
    h('button', { type: 'button', class: 'link-button', onclick: () => { row.remove(); onChange(); } }, 'Remove this variant'));
  weight.addEventListener('input', onChange);
  return row;
}

// The editor's fieldset; `fieldset.fill(variants)` sets its rows.
export function variantsFieldset() {
  const rows = h('div', { class: 'variants' });
  const split = h('p', { class: 'hint', id: 'variants-split', 'aria-live': 'polite' });
  const add = h('button', { type: 'button', class: 'secondary', id: 'add-variant' }, 'Add a variant');
  const redraw = () => {
    const all = [...rows.querySelectorAll('.variant')];
    all.forEach((r, i) => { r.querySelector('legend').textContent = `Variant ${i + 1}${i === 0 ? ' (bots go here)' : ''}`; });
    add.disabled = all.length >= MAX_VARIANTS;
    clear(split, splitInWords(all.map((r) => Number(r.querySelector('[name=variantWeight]').value || 0))));
  };
  add.addEventListener('click', () => {
    rows.append(variantRow({}, redraw));
    if (rows.querySelectorAll('.variant').length === 1) rows.append(variantRow({}, redraw));
    redraw();
  });
  const fieldset = h('fieldset', {},
    h('legend', {}, 'A/B test (splits the visitors no rule takes; each visitor keeps its variant)'),
    rows, split, add);
  fieldset.fill = (variants) => {
    clear(rows, (variants || []).map((v) => variantRow(v, redraw)));
    redraw();
  };
  redraw();
  return fieldset;
}

// "Weights 70 + 30 = 100: ready." or what is missing, before anything is sent.
export function splitInWords(weights) {
  if (weights.length === 0) return 'No test: everyone no rule takes goes to the destination URL.';
  if (weights.length === 1) return 'A test needs at least two variants.';
  const total = weights.reduce((a, b) => a + b, 0);
  const sum = `Weights ${weights.join(' + ')} = ${total}`;
  return total === 100 ? `${sum}: ready.` : `${sum}: they must add up to 100.`;
}

// The variants as the API takes them: null (no test) when there are no rows.
export function readVariants(formEl) {
  const rows = [...formEl.querySelectorAll('.variant')];
  if (rows.length === 0) return null;
  return rows.map((r) => {
    const w = r.querySelector('[name=variantWeight]').value.trim();
    return {
      destinationUrl: r.querySelector('[name=variantDestination]').value.trim(),
      // An empty weight is sent as missing (the server names it), never as 0.
      weight: w === '' ? null : Number(w),
    };
  });
}

// The link page's panel: each variant's numbers since the period began, and the verdict.
export function variantsPanel(path) {
  const out = h('div', { id: 'link-variants' });
  if (!session.allows(NEEDS.analytics)) {
    clear(out, notice('info', session.reason(NEEDS.analytics)));
  } else {
    live(out, () => api.call('GET', `${path}/variants`), drawReport);
  }
  return section('A/B test', out);
}

function rate(v) {
  return v.conversionRate === null || v.conversionRate === undefined ? '–' : `${(v.conversionRate * 100).toFixed(1)} %`;
}

function drawReport(r) {
  if (!r.variants.length) return h('p', {}, r.verdict);
  return h('div', {},
    h('p', {}, 'Counting since ', fmtTime(r.variantsSince), ' (when the variants or weights last changed). Bots and visits a rule took count in no variant.'),
    table([
      { label: 'Variant', value: (v) => `${v.index + 1}${r.winner && r.winner.index === v.index ? ' (winner)' : ''}` },
      { label: 'Destination', value: (v) => h('code', { class: 'url' }, v.destinationUrl), class: 'wide' },
      { label: 'Weight', value: (v) => `${v.weight} %`, class: 'num' },
      { label: 'Clicks', value: (v) => fmtCount(v.clicks), class: 'num' },
      { label: 'Conversions', value: (v) => fmtCount(v.conversions), class: 'num' },
      { label: 'Conversion rate', value: rate, class: 'num' },
      { label: 'Revenue', value: (v) => fmtAmounts(v.revenue), class: 'num' },
    ], r.variants, 'Variants'),
    notice(r.winner ? 'ok' : 'info', r.verdict));
}
