// The words a partner reads for the API's codes (kinds, statuses, reasons): the one dictionary
// (`GET /v2/reasons`, loaded by ./words.js), said to the partner ("your sale") where the
// dictionary speaks of it to its program. A held line is "being reviewed", whatever held it:
// the reasons about risk never reach a partner (the API leaves them out of its answers). An
// unknown code is shown as itself rather than hidden.

import { load as loadAll, words as all } from '../words.js';

export const load = loadAll;

// The partner's own words for the codes the dictionary says in the third person.
const YOURS = {
  held: 'Being reviewed',
  pending: 'Pending: not final yet',
  conversion: 'A sale or sign-up you brought',
  claim: 'Your claim, approved',
  click_day: 'A day of clicks on your links',
  partner_suspended: 'Your partnership is paused',
  low_confidence: 'Being reviewed: the sale is not yet tied to your click',
  self_referral: 'Bought through your own link',
  coupon_without_click: 'Your coupon code was used with no click of yours: the program\'s coupon policy applies',
  payout_tax_profile_missing: 'Your tax details are missing',
  payout_tax_profile_not_accepted: 'Your tax details are not accepted yet',
  no_payout_method: 'You have not said how to pay you yet',
};

export function words(code) {
  if (code === null || code === undefined) return '';
  return YOURS[code] || all(code);
}

// A line's statuses whose reasons still say why it is where it is: once approved or paid, the
// reasons it was held for are history, not its state.
const REASONED = new Set(['pending', 'held', 'rejected', 'capped', 'canceled', 'failed']);

// The reasons a line shows a partner now: none once it is approved or paid.
export function reasonsNow(line) {
  if (!REASONED.has(line.status)) return [];
  return (line.reasons || []).filter((r) => !/^(partner_)?risk_/.test(r));
}
