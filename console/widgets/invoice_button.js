// A paid payout's self-billing invoice, in the console and the portal: a button that fetches the
// PDF (with the page's own credentials, through `fetchFile`) and offers it as a download, or says
// in words why there is none yet (self-billing off, not accepted, not paid). When the payment
// was given back after it was paid, a credit note cancels the invoice: offered beside it.

import { clear, errorBox, h } from '../ui.js';

// A saved PDF's link.
function saveLink(blob, name, words) {
  return h('a', { href: URL.createObjectURL(blob), download: name }, words);
}

// The button for payout `p` under `base` (`/v2/handles/{handle}`).
export function invoiceButton(fetchFile, base, p) {
  const out = h('span', { 'aria-live': 'polite' });
  const path = `${base}/payouts/${encodeURIComponent(p.payoutId)}`;
  const b = h('button', {
    type: 'button',
    class: 'secondary',
    'aria-label': `Download the invoice of the payout of ${new Date(p.periodEnd).toLocaleDateString(undefined, { dateStyle: 'medium' })}`,
    onclick: async () => {
      b.disabled = true;
      clear(out, 'Making the invoice…');
      try {
        const blob = await fetchFile(`${path}/invoice?format=pdf`);
        const links = [saveLink(blob, `invoice-${p.payoutId}.pdf`, 'Save the invoice (PDF)')];
        const note = blob.headers && blob.headers.get('x-credit-note-number');
        if (note) {
          const credit = await fetchFile(`${path}/credit-note?format=pdf`);
          links.push(' ', h('span', {}, 'The payment came back, so a credit note cancels it: '),
            saveLink(credit, `credit-note-${note}.pdf`, `Save the credit note ${note} (PDF)`));
        }
        clear(out, ...links);
      } catch (err) {
        clear(out, errorBox(err));
      } finally {
        b.disabled = false;
      }
    },
  }, 'Invoice');
  return h('span', {}, b, ' ', out);
}
