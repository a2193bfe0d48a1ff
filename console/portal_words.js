// The words a partner reads for the API's codes (kinds, statuses, reasons), kept in the page
// until `GET /v2/reasons` exists. An unknown code is shown as itself rather than hidden.

const WORDS = {
  // statuses
  pending: 'Pending: approved when its hold ends',
  held: 'Held for a review',
  approved: 'Approved, waiting for a payout',
  paid: 'Paid',
  rejected: 'Not paid',
  capped: 'Over the plan\'s cap: not paid',
  // kinds
  conversion: 'A sale or sign-up you brought',
  click_day: 'Your qualified clicks of a day',
  adjustment: 'Taken back after a refund',
  clawback: 'Taken back after a refund, from your next payout',
  manual: 'Set by the program',
  bonus: 'A milestone bonus',
  imported: 'Earned in the program\'s previous tool',
  // reasons
  fx_rate_missing: 'waiting for an exchange rate',
  partner_suspended: 'your partnership is paused',
  low_confidence: 'the sale could not be tied to your click with confidence yet',
  dispute: 'a payout dispute is open',
  superseded_by_verified: 'the merchant reported the same sale, verified',
  outside_customer_duration: 'the customer came longer ago than the plan pays for',
  payout_tax_profile_missing: 'your tax details are missing',
};

export function words(code) {
  return WORDS[code] || code;
}
