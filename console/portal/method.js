// The portal's "Getting paid" tab: the partner's payout method as the program keeps it
// (masked), and a form to add or change it that asks only for what the chosen way needs. The
// API checks each field (an IBAN by its check digits, a BIC by its shape) and names the one
// that does not hold. A change is mailed to the address on file before it ("this was not
// me" freezes the payouts) and waits for the program's confirmation, or a day: said here.

import * as api from './api.js';
import { clear, errorBox, field, fmtTime, h, input, loading, section, select } from '../ui.js';

const TYPES = [
  ['sepa', 'A bank transfer (SEPA)'],
  ['paypal', 'PayPal, by the account\'s email'],
  ['paypal_id', 'PayPal, by the account\'s payer ID'],
  ['wise', 'Wise'],
];

// The choice a stored method is shown under (a PayPal account by payer ID is its own choice).
const choice = (m) => (m && m.type === 'paypal' && m.payerId ? 'paypal_id' : m && m.type);

function current(m) {
  if (!m) return h('p', {}, 'You have not said how to pay you yet. The program pays you once you do.');
  const other = { manual: 'Arranged with the program', stripe_connect: 'Your Stripe account' };
  const kind = (TYPES.find(([v]) => v === choice(m)) || [m.type, other[m.type] || m.type])[1];
  return [
    h('dl', { class: 'figures' },
      h('dt', {}, 'How'), h('dd', {}, kind),
      m.accountName ? [h('dt', {}, 'Account holder'), h('dd', {}, m.accountName)] : null,
      m.iban ? [h('dt', {}, 'IBAN'), h('dd', {}, m.iban)] : null,
      m.bic ? [h('dt', {}, 'BIC'), h('dd', {}, m.bic)] : null,
      m.email ? [h('dt', {}, 'Email'), h('dd', {}, m.email)] : null,
      m.payerId ? [h('dt', {}, 'PayPal payer ID'), h('dd', {}, m.payerId)] : null,
      m.account ? [h('dt', {}, 'Stripe account'), h('dd', {}, m.account)] : null,
      h('dt', {}, 'Changed'), h('dd', {}, fmtTime(m.updatedAt))),
    m.pendingConfirmation ? h('p', { class: 'notice warn' }, 'This change waits for the program\'s confirmation (or a day): payouts use it after that. The address on file before it was told by mail.') : null,
    m.disputed ? h('p', { class: 'notice warn' }, 'Someone said this change was not theirs: your payouts wait until the program checks it with you.') : null,
    m.problem ? h('p', { class: 'notice warn' }, `These details no longer pass the program's checks (${m.problem}): give them again.`) : null,
  ];
}

// The "Getting paid" tab for `partnerId` under `base`.
export async function method(base, partnerId) {
  const path = `${base}/partners/${encodeURIComponent(partnerId)}/payout-method`;
  const shown = h('div', { 'aria-live': 'polite' });
  let m = null;
  try {
    m = await api.get(path);
  } catch (err) {
    if (err.status !== 404) throw err;
  }
  clear(shown, current(m));
  const type = select('type', TYPES, m && TYPES.some(([v]) => v === choice(m)) ? choice(m) : 'sepa');
  const accountName = input('accountName', { autocomplete: 'name', maxlength: '70' });
  const iban = input('iban', { maxlength: '42', autocomplete: 'off', inputmode: 'text' });
  const bic = input('bic', { maxlength: '11' });
  const email = input('email', { type: 'email', autocomplete: 'email', maxlength: '254' });
  const payerId = input('payerId', { maxlength: '13', autocomplete: 'off', autocapitalize: 'characters', spellcheck: 'false' });
  const fields = {
    accountName: field('Account holder', accountName, 'As the bank or Wise knows it.'),
    iban: field('IBAN', iban, 'With its country letters, e.g. DE89 3704 0044 0532 0130 00.'),
    bic: field('BIC (optional)', bic),
    email: field('Email of the account', email),
    payerId: field('PayPal payer ID', payerId, 'The 13 capital letters and digits PayPal shows in your account settings (Account info), e.g. 7ZQ4L8NWK2M3P.'),
  };
  const needs = { sepa: ['accountName', 'iban', 'bic'], paypal: ['email'], paypal_id: ['payerId'], wise: ['email', 'accountName'] };
  const fit = () => {
    for (const [name, el] of Object.entries(fields)) el.hidden = !needs[type.value].includes(name);
  };
  type.addEventListener('change', fit);
  fit();
  const out = h('div', { 'aria-live': 'polite' });
  const save = h('button', { class: 'primary', type: 'submit' }, 'Save how to pay me');
  const controls = { accountName, iban, bic, email, payerId };
  const el = h('form', {
    onsubmit: async (e) => {
      e.preventDefault();
      const body = { type: type.value === 'paypal_id' ? 'paypal' : type.value };
      for (const name of needs[type.value]) {
        const v = controls[name].value.trim();
        if (v) body[name] = v;
      }
      save.disabled = true;
      clear(out, loading('Saving…'));
      try {
        const saved = await api.request('PUT', path, body);
        clear(shown, current(saved));
        clear(out, h('p', { role: 'status' }, 'Saved. The program sees it masked; it is kept encrypted.'));
        for (const c of Object.values(controls)) c.value = '';
      } catch (err) {
        clear(out, errorBox(err));
      } finally {
        save.disabled = false;
      }
    },
  }, field('How you want to be paid', type), Object.values(fields), save, out);
  const byStripe = await stripe(`${base}/partners/${encodeURIComponent(partnerId)}/payout-method/stripe-connect`);
  return [
    section('How you are paid', shown),
    section(m ? 'Change how you are paid' : 'Say how to pay you', el),
    byStripe ? section('Get paid to your Stripe account', byStripe) : null,
  ];
}

// Stripe's own onboarding (when the program pays through Stripe): where the partner's account
// stands, in Stripe's words, and a button that opens Stripe and comes back here.
async function stripe(path) {
  const out = h('div', { 'aria-live': 'polite' });
  let state = null;
  try {
    state = await api.get(path);
  } catch (err) {
    // 409: not started yet, or the program does not pay through Stripe (then nothing to offer).
    if (err.status === 409 && /does not pay through Stripe/.test(err.message || '')) return null;
    if (err.status !== 409) clear(out, errorBox(err));
  }
  const go = h('button', { type: 'button', class: 'secondary' }, state ? 'Continue with Stripe' : 'Connect with Stripe');
  go.addEventListener('click', async () => {
    go.disabled = true;
    clear(out, loading('Opening Stripe…'));
    try {
      const link = await api.post(`${path}/onboarding`);
      window.location.assign(link.url);
    } catch (err) {
      clear(out, errorBox(err));
      go.disabled = false;
    }
  });
  const said = state ? h('p', { role: 'status' }, state.words) : h('p', {}, 'Stripe asks for your details once; payouts then go to your Stripe account.');
  return [said, go, out];
}
