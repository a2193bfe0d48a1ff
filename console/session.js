// The signed-in caller: the token (a JWT or a personal access token) lives in this tab's
// sessionStorage only, never in a cookie, and is sent as `authorization: Bearer`.

const KEY = 'tenx.console.session';

export const ROLES = ['viewer', 'creator', 'operator', 'admin'];

// What each console feature needs: the JWT role and the PAT scope of its routes (the access
// table of docs/security.md). `scope: null` is JWT only.
export const NEEDS = {
  linksRead: { role: 'creator', scope: 'links.read', what: 'Reading links' },
  linksWrite: { role: 'creator', scope: 'links.write', what: 'Creating and editing links' },
  campaignsRead: { role: 'creator', scope: 'campaigns.read', what: 'Reading campaigns' },
  campaignsWrite: { role: 'creator', scope: 'campaigns.write', what: 'Creating and changing campaigns' },
  analytics: { role: 'viewer', scope: 'analytics.read', what: 'Analytics' },
  webhooksRead: { role: 'operator', scope: 'webhooks.read', what: 'Reading webhooks' },
  webhooksWrite: { role: 'operator', scope: 'webhooks.write', what: 'Managing webhooks' },
  chainRulesRead: { role: 'viewer', scope: null, what: 'Reading chain rules' },
  chainRulesWrite: { role: 'creator', scope: null, what: 'Editing chain rules' },
  tokens: { role: 'operator', scope: null, what: 'Managing personal access tokens' },
  backlog: { role: 'operator', scope: null, what: 'Whether every click and sale is counted' },
  commissionsRead: { role: 'viewer', scope: 'commissions.read', what: 'Reading commissions' },
  commissionsWrite: { role: 'operator', scope: 'commissions.write', what: 'Partners, plans, rates and review' },
  payoutsWrite: { role: 'operator', scope: 'payouts.write', what: 'Running and settling payouts' },
  payoutSettings: { role: 'admin', scope: null, what: 'The payout settings' },
  conversionsRead: { role: 'viewer', scope: 'conversions.read', what: 'Reading conversions' },
  conversionsWrite: { role: 'operator', scope: 'conversions.write', what: 'Reversing conversions' },
  conversionPolicy: { role: 'operator', scope: null, what: 'The conversion policy' },
  redirectSettings: { role: 'operator', scope: null, what: 'Redirect settings' },
  domains: { role: 'operator', scope: null, what: 'Adding and checking your own domains' },
  programWrite: { role: 'admin', scope: null, what: 'Changing the partner program' },
  applications: { role: 'operator', scope: 'commissions.read', what: 'The applications queue' },
};

let current = null;

export function get() {
  if (current) return current;
  try {
    current = JSON.parse(sessionStorage.getItem(KEY) || 'null');
  } catch {
    current = null;
  }
  return current;
}

export function save(session) {
  current = session;
  sessionStorage.setItem(KEY, JSON.stringify(session));
}

export function clear() {
  current = null;
  sessionStorage.removeItem(KEY);
}

function b64urlJson(part) {
  const b64 = part.replace(/-/g, '+').replace(/_/g, '/');
  const padded = b64 + '='.repeat((4 - (b64.length % 4)) % 4);
  const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

// The JWT's payload, unverified (the server verifies; the console only reads the role and
// handles to hide what the caller cannot do). `null` when the token is not a JWT.
export function decodeJwt(token) {
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  try {
    return b64urlJson(parts[1]);
  } catch {
    return null;
  }
}

// A session from a pasted token. Throws an Error with a sentence for the user.
export function fromToken(token, handleHint) {
  token = token.trim();
  const hint = (handleHint || '').trim().toLowerCase();
  if (token.startsWith('tenx_ptk_')) {
    if (!hint) throw new Error('A partner token works on one handle: enter it.');
    return { token, kind: 'partner', handle: hint, role: null, handles: [hint], exp: null, partnerId: null, denied: [] };
  }
  if (token.startsWith('tenx_pat_')) {
    if (!hint) throw new Error('A personal access token works on one handle: enter it.');
    return { token, kind: 'pat', handle: hint, role: null, handles: [hint], exp: null, denied: [] };
  }
  const claims = decodeJwt(token);
  if (!claims) throw new Error('This is neither a JWT (three dot-separated parts) nor a personal access token (tenx_pat_…).');
  const handles = Array.isArray(claims.handles) ? claims.handles : [];
  if (typeof claims.exp === 'number' && claims.exp * 1000 < Date.now()) {
    throw new Error(`This JWT expired at ${new Date(claims.exp * 1000).toISOString()}.`);
  }
  let handle = hint;
  if (!handle) {
    const named = handles.filter((h) => h !== '*');
    if (named.length === 0) throw new Error('This JWT grants every handle (*): enter the handle to work on.');
    handle = named[0];
  } else if (!handles.includes(handle) && !handles.includes('*')) {
    throw new Error(`This JWT does not grant the handle ${handle} (it grants ${handles.join(', ') || 'none'}).`);
  }
  return { token, kind: 'jwt', handle, role: claims.role || null, handles, exp: claims.exp || null, sub: claims.sub, denied: [] };
}

// Whether the caller may use a feature, as far as the console knows: a JWT by its role; a PAT
// by the scopes the API has refused so far (it does not say its scopes up front), never on
// JWT-only routes.
export function allows(need) {
  const s = get();
  if (!s) return false;
  if (s.kind === 'partner') return PARTNER_READS.includes(need.scope);
  if (s.kind === 'jwt' || s.kind === 'person') return ROLES.indexOf(s.role) >= ROLES.indexOf(need.role);
  if (!need.scope) return false;
  return !(s.denied || []).includes(need.scope);
}

// What a partner token reads (its own data only); it changes nothing.
const PARTNER_READS = ['links.read', 'analytics.read', 'commissions.read'];

// Why a feature is off, for the disabled control's explanation.
export function reason(need) {
  const s = get();
  if (!s) return 'Sign in first.';
  if (s.kind === 'partner') return `${need.what} is the network's: a partner token reads its own data only.`;
  if (s.kind === 'jwt' || s.kind === 'person') return `${need.what} needs the ${need.role} role or higher; you are ${s.role}.`;
  if (!need.scope) return `${need.what} needs a person signed in (or a signed token); a personal access token cannot.`;
  return `${need.what} needs a token with the ${need.scope} scope.`;
}

// The API refused a scope (403 insufficient_scope names it): remember it for this session.
export function noteDenied(scope) {
  const s = get();
  if (!s || s.kind !== 'pat' || (s.denied || []).includes(scope)) return;
  s.denied = [...(s.denied || []), scope];
  save(s);
}

// Onboarding progress (AT-01 … AT-06) seen in this tab.
export function markDone(step) {
  const s = get();
  if (!s) return;
  const done = new Set(s.done || []);
  if (done.has(step)) return;
  done.add(step);
  s.done = [...done];
  save(s);
}

export function isDone(step) {
  const s = get();
  return Boolean(s && (s.done || []).includes(step));
}

// A person signed in by the server's session cookie (issue 60), from GET /v2/me: the role of
// their membership of the handle (the first one, or `handleHint`), and the CSRF token every
// write carries. Throws an Error with a sentence for a person who is a member of no team.
export function fromMe(me, handleHint) {
  const memberships = me.memberships || [];
  const hint = (handleHint || '').trim().toLowerCase();
  const m = memberships.find((x) => x.handle === hint) || memberships[0];
  if (!m) throw new Error(`You are signed in as ${me.user.email}, but not a member of any team yet: ask an admin for an invitation.`);
  return {
    kind: 'person', handle: m.handle, role: m.role, handles: memberships.map((x) => x.handle),
    exp: null, email: me.user.email, csrf: me.csrfToken, denied: [],
  };
}
