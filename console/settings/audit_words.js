// An audit entry as a sentence (issue 62): "Ana approved the claim on 12 Nov", never a raw
// action or an id. What it was done to, in words, is in the tooltip.

import { day, nameOf, targetWords } from '../widgets/people.js';
import { partners } from '../widgets/partner_link.js';
import { h } from '../ui.js';

// What each action did, after its doer's name.
const DID = {
  'partner.created': 'added the partner',
  'partner.updated': "changed the partner's details",
  'application.approved': "approved the partner's application",
  'application.rejected': "turned down the partner's application",
  'campaign.created': 'made a campaign for the partner',
  'campaign.updated': "changed the partner's campaign",
  'plan.changed': "changed the partner's commission plan",
  'claim.opened': 'opened a claim',
  'claim.approved': 'approved the claim',
  'claim.denied': 'denied the claim',
  'commission.approved': 'approved a commission',
  'commission.rejected': 'rejected a commission',
  'commission.manual_created': 'added a commission by hand',
  'conversion.reversed': 'reversed a sale',
  'customer.moved': 'moved a customer to another partner',
  'payout_run.started': 'ran the payouts',
  'test_mode.on': 'switched test mode on',
  'test_mode.off': 'switched test mode off',
  'payout.marked_paid': 'marked a payout paid',
  'payout.marked_failed': 'marked a payout failed',
  'payout.canceled': 'canceled a payout',
  'payout.held': 'held a payout before its provider (the reason beside it)',
  'payout.sending': 'handed a payout to its provider',
  'payout.sent': 'sent a payout',
  'payout.provider_paid': 'confirmed a payout paid',
  'payout.provider_failed': 'reported a payout failed',
  'payout.provider_returned': 'returned a payout',
  'payout_batch.created': 'put a payout in a batch',
  'payout_method.set': 'set the payout method',
  'payout_method.changed': 'changed the payout method',
  'payout_provider.connected': 'connected the program\'s payout account',
  'payout_provider.disconnected': 'disconnected the program\'s payout account',
  'tax_profile.set': 'saved the tax profile',
  'tax_profile.certified': 'signed the tax profile',
  'tax_profile.accepted': 'accepted the tax profile',
  'tax_profile.fix_requested': 'sent the tax profile back for a fix',
  'self_billing.accepted': 'accepted self-billing',
  'invoice.issued': 'made an invoice',
  'invoice.credited': 'made a credit note cancelling an invoice',
  'tax_reports.exported': 'exported the 1099-NEC figures',
  'message.sent': 'sent a message',
  'partner_group.saved': 'put the partner in a group',
  'partner_group.deleted': "deleted one of the partner's groups",
  'broadcast.created': 'sent a broadcast',
  'link.created': 'made a link for the partner',
  'link.updated': "changed the partner's link",
  'link.deleted': "deleted the partner's link",
  'partner_invitation.created': "invited a person to the partner's account",
  'partner_user.removed': "removed a person from the partner's account",
  'commission.imported': 'imported a commission',
};

// Who did it, as people read it: a teammate's name, the partner's (`partner`: the page's own,
// whose people and tokens act for it), or the machine's kind.
async function who(actor, partner) {
  switch (actor.type) {
    case 'user': return nameOf(actor.id);
    case 'partner_user':
    case 'partner_token': {
      // A partner's token or person is named by its id or its own (the page's partner).
      const p = (await partners()).get(actor.id);
      if (p && p.name) return p.name;
      return partner && partner.name ? partner.name : 'The partner';
    }
    case 'system': return '10x';
    case 'provider': return `The ${actor.id} connection`;
    case 'pat': return 'An access token';
    default: return 'A program token';
  }
}

function did(action) {
  return DID[action] || `did “${String(action).replace(/[._]/g, ' ')}”`;
}

// `<li>` with the sentence (filled in once the names are read) and its time.
export function sentence(e, partner) {
  const text = h('span', { class: 'audit-sentence' }, `${did(e.action)} on ${day(e.at)}`);
  who(e.actor, partner).then((name) => {
    // A sentence starts with a capital, but an email address is left as it is written.
    const n = name.includes('@') ? name : name.charAt(0).toUpperCase() + name.slice(1);
    text.textContent = `${n} ${did(e.action)} on ${day(e.at)}`;
  }).catch(() => {});
  return h('li', { title: targetWords(e.target) || null, 'data-action': e.action }, text,
    ' ', h('time', { datetime: e.at, class: 'hint' }, new Date(e.at).toLocaleTimeString(undefined, { hour: 'numeric', minute: '2-digit', timeZoneName: 'short' })));
}
