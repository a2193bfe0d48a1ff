// Customers (issue 62: a page of Commissions): who each partner brought, with what they bought
// and what their partner earned on them (./customers.js).

import * as customers from './customers.js';
import * as session from '../session.js';
import { NEEDS } from '../session.js';
import { clear, h, notice, section } from '../ui.js';

export async function render(main) {
  const body = h('div', {});
  main.append(h('h1', { tabindex: '-1' }, 'Customers'), section('Customers your partners brought', body));
  if (!session.allows(NEEDS.commissionsRead)) {
    clear(body, notice('info', session.reason(NEEDS.commissionsRead)));
    return;
  }
  await customers.render(body);
}
