// A plan rule in words (issue 47): what it pays, when, and at which tier, for the ledger's
// "Rule" column and the plan editor, e.g. "rule 2: purchase, country in DE/AT, tier 2 (from 50): 25 %".

const list = (xs) => xs.join('/');

// The conditions of a rule, in words (empty when it has none).
export function conditionsInWords(c) {
  if (!c) return [];
  const out = [];
  if (c.countryIn) out.push(`country in ${list(c.countryIn)}`);
  if (c.deviceIn) out.push(`device in ${list(c.deviceIn)}`);
  if (c.sourceIn) out.push(`source in ${list(c.sourceIn)}`);
  if (c.metadataEquals) {
    out.push(...Object.entries(c.metadataEquals).map(([k, v]) => `metadata ${k} = ${v}`));
  }
  if (c.valueAtLeast) out.push(`value at least ${c.valueAtLeast}`);
  if (c.customer) out.push(c.customer === 'new' ? 'new customer' : 'returning customer');
  return out;
}

// A rate: "2.00 + 10 %", "10 %", "2.00".
export function rateInWords(r, currency = '') {
  const parts = [];
  if (r.flat) parts.push(`${r.flat}${currency ? ` ${currency}` : ''}`);
  if (r.percent) parts.push(`${r.percent} %`);
  return parts.join(' + ') || '0';
}

// Rule `index` (0-based) of a plan in words; `tierIndex` names the tier that set the rate (a
// ledger line), `null` the rule's own rate; `undefined` lists the tiers (the plan editor).
export function ruleInWords(rule, index, tierIndex, currency = '') {
  const n = `rule ${index + 1}`;
  if (!rule) return n;
  if (rule.bonus) {
    const of = rule.eventType ? `${rule.eventType} ` : '';
    return `${n}: bonus at ${rule.bonus.conversionsInMonth} ${of}conversions in a month: ${rateInWords(rule, currency)}`;
  }
  const what = [rule.qualifiedClick ? 'qualified click' : rule.eventType, ...conditionsInWords(rule.conditions)];
  if (rule.appliesTo && rule.appliesTo !== 'all') what.push(rule.appliesTo === 'first' ? 'first sale' : 'renewals');
  if (rule.priority) what.push(`priority ${rule.priority}`);
  const tier = tierIndex !== null && tierIndex !== undefined && rule.tiers ? rule.tiers[tierIndex] : null;
  if (tier) {
    const unit = rule.tierBasis === 'revenue' && currency ? ` ${currency}` : '';
    what.push(`tier ${tierIndex + 1} (from ${tier.from}${unit})`);
    return `${n}: ${what.join(', ')}: ${rateInWords(tier, currency)}`;
  }
  const tiers = rule.tiers && tierIndex === undefined
    ? `; tiers ${rule.tiers.map((t) => `from ${t.from}: ${rateInWords(t, currency)}`).join(', ')}`
    : '';
  return `${n}: ${what.join(', ')}: ${rateInWords(rule, currency)}${tiers}`;
}
