// What a payout sent through Stripe or PayPal is waiting on, and what the manager can do, in
// words: the program's hold (its tax requirement, fraud rules, first-payout minimum, or the
// partner's method not confirmed or disputed) with the place where each is settled, the
// provider not taking it yet (tried again by itself), and a send that failed or came back with
// its reason and the next step. The API says it to managers only (`waiting`): a partner never
// reads why its payout is held.

import { fmtTime, h } from '../ui.js';

const enc = encodeURIComponent;
const sentence = (words) => (/[.!?]$/.test(words) ? words : `${words}.`);
const providerName = (p) => (p.provider && p.provider.name === 'stripe' ? 'Stripe' : 'PayPal');

// What to do about each hold, and where: [words, link text, address or null].
function holdAction(reason, p) {
  const page = `#/partners/${enc(p.partnerId)}`;
  switch (reason) {
    case 'payout_tax_profile_missing':
      return ['Ask the partner for their tax details: they fill in and sign the tax form in their portal, under Getting paid. The payout leaves at the next check after that.', 'Write to the partner from their page', page];
    case 'payout_tax_profile_not_accepted':
      return ["Review the partner's tax details on their page and accept them, or send them back for a fix. The payout leaves at the next check after you accept them.", 'Review the tax details', page];
    case 'payout_fraud_hold':
      return ["Review the partner's fraud signals: dismiss each one that is not fraud (with a reason), or leave the payout held. The partner is not told why it waits.", 'Review the fraud signals', page];
    case 'payout_min_customers':
      return ["Nothing to do: the first payout leaves once the partner has brought the program's minimum of paying customers (the program's settings say how many).", 'Program settings', '#/program'];
    case 'payout_method_unconfirmed':
      return ["The partner changed where they are paid: confirm the change on their page (under Payout method) once you have checked it with them; it confirms itself 24 hours after the change.", 'Confirm the payout method', page];
    case 'payout_method_disputed':
      return ['The partner said a change of their payout details was not theirs: their payouts are frozen until an admin lifts the freeze on their page, once the details are checked.', 'Open the payout method', page];
    default:
      return ['Ask the partner to set where they are paid again, in their portal under Getting paid.', "Open the partner's page", page];
  }
}

// The next step after a provider's failure or return, by what its reason says.
function nextStep(p) {
  const why = (p.reason || '').toLowerCase();
  const name = providerName(p);
  if (why.includes('changed its payout method') || why.includes('no longer paid through')) {
    return ["Run payouts again once the partner's new payout method is confirmed: the amount goes there.", null];
  }
  if (why.includes('disconnected') || why.includes('connects')) {
    return [`Connect ${name} again under Methods and batches (payout providers), then run payouts again.`, ['Payout providers', '#/payouts/batches']];
  }
  if (why.includes('claim')) {
    return ["Ask the partner to check the PayPal email they are paid at (their portal, under Getting paid), then run payouts again.", null];
  }
  return [`Ask the partner to check their ${name} account (their portal, under Getting paid: it says what ${name} needs), then run payouts again.`, null];
}

// The words beside a payout: why it waits or what went wrong, and what to do; null when
// nothing waits and nothing failed.
export function waitWords(p) {
  const w = p.waiting;
  if (w && w.state === 'held') {
    const [todo, linkText, href] = holdAction(w.reason, p);
    return h('div', { class: 'payout-wait', 'data-wait': w.reason || 'held' },
      h('strong', {}, 'Held: '), sentence(w.words), ' ',
      h('small', { class: 'hint' }, 'Checked again ', fmtTime(w.nextCheckAt), '.'),
      h('p', {}, todo, ' ', href ? h('a', { href }, linkText) : null));
  }
  if (w && w.state === 'retrying') {
    const name = providerName(p);
    return h('div', { class: 'payout-wait', 'data-wait': 'retrying' },
      h('strong', {}, `Not taken by ${name} yet: `), sentence(w.words), ' ',
      h('small', { class: 'hint' }, `Tried ${w.attempts} time${w.attempts === 1 ? '' : 's'}; tried again by itself `, fmtTime(w.nextCheckAt), '.'),
      h('p', {}, `Nothing to do while ${name} is busy or down. If it keeps failing, test the connection under `, h('a', { href: '#/payouts/batches' }, 'Methods and batches'), '.'));
  }
  if (p.provider && ['failed', 'returned'].includes(p.status)) {
    const [todo, link] = nextStep(p);
    return h('div', { class: 'payout-wait', 'data-wait': p.status },
      h('strong', {}, p.status === 'failed' ? `${providerName(p)} did not pay it: ` : 'It came back: '), sentence(p.reason || ''), ' ',
      h('p', {}, "The amount is back on the partner's balance for the next run. ", todo, link ? [' ', h('a', { href: link[1] }, link[0])] : null));
  }
  return null;
}
