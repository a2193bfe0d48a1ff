// The program's fraud rules (issue 83), on the Program screen: for each partner signal what its
// firing does to the money (only shown, new commissions held for review, or payouts held too),
// whether partners may buy ads, the share of paid lines refunded afterwards that counts as too
// many, and the paying customers a partner brings before its first payout. Saved as the whole
// program, starting from the program as read, so the other settings stay as they are. Admin only
// (the API's rule); the signals' words are the manager's, never shown to a partner.

import * as api from '../api.js';
import * as session from '../session.js';
import { NEEDS } from '../session.js';
import { checkbox, field, form, h, input, select } from '../ui.js';

// Each signal as a manager reads it (docs/trust.md has the evidence and weights).
const SIGNALS = [
  ['self_referral', 'The partner bought through their own link'],
  ['click_spike', 'Clicks far above the partner\'s usual'],
  ['conversion_ip_reuse', 'Many sales from one network address'],
  ['fast_conversions', 'Sales seconds after the click'],
  ['high_reversal_rate', 'Many sales refunded or reversed'],
  ['shared_payout_account', 'A payout account another partner uses too'],
  ['shared_tax_id', 'A tax id another partner uses too'],
  ['customer_matches_partner', 'A customer who is the partner themselves'],
  ['disposable_email', 'A throwaway email address'],
  ['paid_traffic', 'Clicks from paid ads'],
  ['refunds_after_payout', 'Refunds after the partner was paid'],
];

const ACTIONS = [
  ['', 'Show it only'],
  ['hold_commissions', 'Hold new commissions for review'],
  ['hold_payouts', 'Hold new commissions and payouts'],
];

// The form; `p` is the program as read (null: none yet), `reload` reads it again.
export function fraudForm(p, reload) {
  const rules = (p && p.fraudRules) || {};
  const rows = SIGNALS.map(([code, words]) => field(words,
    select(`rule-${code}`, ACTIONS, rules[code] === 'flag' ? '' : (rules[code] || ''))));
  const f = form({ 'aria-label': 'Fraud rules', id: 'fraud-rules' }, [
    h('p', { class: 'hint' }, 'What each signal does when it fires for a partner. A held commission waits in Review with the reason in words; a held payout stays out of batches and provider sends until you dismiss the signal on the partner\'s page. Partners never see any of this.'),
    h('div', { class: 'grid' }, ...rows),
    h('div', { class: 'grid' },
      field('Partners may buy ads', checkbox('allowPaidTraffic', Boolean(p && p.allowPaidTraffic)), 'When on, clicks from paid ads are counted but never raise a signal.'),
      field('Too many refunds after payout (percent)', input('refundAfterPayoutThreshold', { type: 'number', min: '0', max: '100', step: '1', value: p && p.refundAfterPayoutThreshold != null ? String(p.refundAfterPayoutThreshold) : '25' }), 'The share of a partner\'s paid sales refunded afterwards above which the signal fires.'),
      field('Paying customers before the first payout', input('minCustomersBeforePayout', { type: 'number', min: '1', max: '10000', step: '1', value: p && p.minCustomersBeforePayout ? String(p.minCustomersBeforePayout) : '' }), 'Optional: a partner\'s first payout waits until they brought this many different paying customers.'))],
    'Save the fraud rules',
    async (el) => {
      const v = (n) => el.querySelector(`[name=${n}]`).value.trim();
      const { version, updatedAt, updatedBy, ...kept } = p;
      const fraudRules = {};
      for (const [code] of SIGNALS) if (v(`rule-${code}`)) fraudRules[code] = v(`rule-${code}`);
      const body = { ...kept, fraudRules, allowPaidTraffic: el.querySelector('[name=allowPaidTraffic]').checked };
      body.refundAfterPayoutThreshold = v('refundAfterPayoutThreshold') === '' ? null : Number(v('refundAfterPayoutThreshold'));
      body.minCustomersBeforePayout = v('minCustomersBeforePayout') === '' ? null : Number(v('minCustomersBeforePayout'));
      await api.put(api.handlePath('/program'), body);
      await reload();
    });
  if (!p || !session.allows(NEEDS.programWrite)) {
    f.button.disabled = true;
    f.button.insertAdjacentElement('afterend', h('small', { class: 'hint why' },
      p ? session.reason(NEEDS.programWrite) : 'Save the program first.'));
  }
  return f;
}
