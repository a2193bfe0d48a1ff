// A paid payout's self-billing invoice, in the console and the portal: a button that fetches the
// PDF (with the page's own credentials, through `fetchFile`) and offers it as a download, or says
// in words why there is none yet (self-billing off, not accepted, not paid).

import { clear, errorBox, h } from './ui.js';

// The button for payout `p` under `base` (`/v2/handles/{handle}`).
export function invoiceButton(fetchFile, base, p) {
  const out = h('span', { 'aria-live': 'polite' });
  const b = h('button', {
    type: 'button',
    class: 'secondary',
    'aria-label': `Download the invoice of the payout of ${p.periodEnd.slice(0, 10)}`,
    onclick: async () => {
      b.disabled = true;
      clear(out, 'Making the invoice…');
      try {
        const blob = await fetchFile(`${base}/payouts/${encodeURIComponent(p.payoutId)}/invoice?format=pdf`);
        const url = URL.createObjectURL(blob);
        clear(out, h('a', { href: url, download: `invoice-${p.payoutId}.pdf` }, 'Save the invoice (PDF)'));
      } catch (err) {
        clear(out, errorBox(err));
      } finally {
        b.disabled = false;
      }
    },
  }, 'Invoice');
  return h('span', {}, b, ' ', out);
}
