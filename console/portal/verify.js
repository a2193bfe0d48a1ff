// What the program signs, checked in the partner's browser the way `tenx verify` checks it
// (docs/partners.md, "Verifying a statement"): the keys from `GET /v2/public/keys` (each key's
// `kid` its RFC 7638 thumbprint), the compact JWS (EdDSA over Ed25519, by WebCrypto: no
// cryptography written here) of the right `typ`, its payload the RFC 8785 form of what is
// shown, and for a statement its lines under the signed RFC 6962 Merkle root, as many as the
// signed `treeSize`, adding up to the signed amount. The verdict is in words, the same as the
// CLI's: "verified", or what does not hold.

const STATEMENT_TYP = 'tenx-statement+jws';
const DECISION_TYP = 'tenx-claim-decision+jws';
const NOTICE_TYP = 'tenx-plan-notice+jws';

const enc = new TextEncoder();

// RFC 8785 (JCS) for what the API signs (objects, arrays, strings, integers, booleans, null):
// keys sorted by UTF-16 code units, no white space, ECMAScript's string and number forms (which
// are JCS's by its definition).
export function canonical(v) {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    return `{${Object.keys(v).sort().map((k) => `${JSON.stringify(k)}:${canonical(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

function b64url(bytes) {
  let s = '';
  for (const b of bytes) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function unb64url(text) {
  if (!/^[A-Za-z0-9_-]*$/.test(text)) throw new Error('not base64url');
  const s = atob(text.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (text.length % 4)) % 4));
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

async function sha256(...parts) {
  const len = parts.reduce((n, p) => n + p.length, 0);
  const all = new Uint8Array(len);
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return new Uint8Array(await crypto.subtle.digest('SHA-256', all));
}

const hex = (bytes) => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

// The RFC 6962 tree head over already hashed leaves (SHA-256 of nothing for none).
async function root(leaves) {
  if (leaves.length === 0) return sha256(new Uint8Array());
  if (leaves.length === 1) return leaves[0];
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return sha256(Uint8Array.of(1), await root(leaves.slice(0, k)), await root(leaves.slice(k)));
}

// A line's leaf: the fields the statement signs, nothing else (statement.rs's `leaf_value`).
function leafValue(l) {
  const f = (name) => (l[name] === undefined ? null : l[name]);
  return {
    commissionId: f('commissionId'), kind: f('kind'), clickId: f('clickId'), subIds: f('subIds'),
    value: f('value'), rate: f('fxRate'), planVersion: f('planVersion'), amount: f('amount'),
  };
}

// Decimal strings added exactly (BigInt over a common scale): money is never a float here.
function sumEquals(amounts, total) {
  const scale = Math.max(...[...amounts, total].map((a) => (String(a).split('.')[1] || '').length));
  const units = (a) => {
    const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(String(a));
    if (!m) throw new Error('an amount is not a decimal');
    const v = BigInt(m[2] + (m[3] || '').padEnd(scale, '0'));
    return m[1] ? -v : v;
  };
  return amounts.reduce((s, a) => s + units(a), 0n) === units(total);
}

let keysOnce = null;

// The published keys, each kept only when its kid is its thumbprint (as the CLI does).
async function publishedKeys() {
  if (!keysOnce) {
    keysOnce = fetch('/v2/public/keys', { cache: 'no-store' }).then((r) => {
      if (!r.ok) throw new Error(`the keys could not be read (${r.status})`);
      return r.json();
    });
  }
  const jwks = await keysOnce;
  const keys = new Map();
  for (const k of jwks.keys || []) {
    if (k.kty !== 'OKP' || k.crv !== 'Ed25519' || typeof k.x !== 'string') continue;
    const thumb = b64url(await sha256(enc.encode(canonical({ crv: k.crv, kty: k.kty, x: k.x }))));
    if (thumb === k.kid) keys.set(k.kid, k);
  }
  return keys;
}

class Failed extends Error {}

// The JWS's payload (bytes) when it verifies as `typ` under a published key; else Failed.
async function jwsPayload(token, typ) {
  const parts = String(token || '').split('.');
  if (parts.length !== 3) throw new Failed('signature: it is not a compact JWS');
  let header;
  try {
    header = JSON.parse(new TextDecoder().decode(unb64url(parts[0])));
  } catch {
    throw new Failed('signature: it is not a compact JWS');
  }
  if (header.alg !== 'EdDSA') throw new Failed('signature: it is not an EdDSA signature');
  if (header.typ !== typ) throw new Failed(`signature: the JWS is a ${header.typ}, not a ${typ}`);
  const jwk = (await publishedKeys()).get(header.kid);
  if (!jwk) throw new Failed('signature: it was not made with a key the program publishes');
  const key = await crypto.subtle.importKey('jwk', { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, { name: 'Ed25519' }, false, ['verify']);
  let good = false;
  try {
    good = await crypto.subtle.verify({ name: 'Ed25519' }, key, unb64url(parts[2]), enc.encode(`${parts[0]}.${parts[1]}`));
  } catch {
    good = false;
  }
  if (!good) throw new Failed('signature: it does not verify');
  return unb64url(parts[1]);
}

const sameBytes = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

// A whole statement (`GET …/payouts/{id}/statement`): null when verified, else what fails.
export async function checkStatement(doc) {
  try {
    if (!doc || !doc.header || !Array.isArray(doc.lines)) throw new Failed('it is not a statement');
    const payload = await jwsPayload(doc.jws, STATEMENT_TYP);
    if (!sameBytes(payload, enc.encode(canonical(doc.header)))) throw new Failed('header: it is not the header that was signed');
    if (doc.header.treeSize !== doc.lines.length) throw new Failed(`lines: ${doc.lines.length} shown, the signed treeSize says otherwise`);
    const leaves = await Promise.all(doc.lines.map((l) => sha256(Uint8Array.of(0), enc.encode(canonical(leafValue(l))))));
    if (hex(await root(leaves)) !== doc.header.merkleRoot) throw new Failed('lines: they are not the signed lines (one changed, was added, removed or moved)');
    if (!sumEquals(doc.lines.map((l) => l.amount), doc.header.amount)) throw new Failed('amount: the lines do not add up to the signed amount');
    return null;
  } catch (e) {
    return e instanceof Failed ? e.message : `it could not be checked (${e.message})`;
  }
}

// A claim's decision: null when verified, else what fails.
export async function checkDecision(d) {
  try {
    const rest = { ...d };
    delete rest.jws;
    const payload = await jwsPayload(d.jws, DECISION_TYP);
    if (!sameBytes(payload, enc.encode(canonical(rest)))) throw new Failed('claim decision: it is not the decision that was signed');
    return null;
  } catch (e) {
    return e instanceof Failed ? e.message : `it could not be checked (${e.message})`;
  }
}

// A plan change notice (`GET …/partners/{id}/notices`): null when verified, else what fails.
export async function checkNotice(n) {
  try {
    const rest = { ...n };
    delete rest.jws;
    const payload = await jwsPayload(n.jws, NOTICE_TYP);
    if (!sameBytes(payload, enc.encode(canonical(rest)))) throw new Failed('notice: it is not the notice that was signed');
    return null;
  } catch (e) {
    return e instanceof Failed ? e.message : `it could not be checked (${e.message})`;
  }
}

export async function verifyNotice(n) {
  const failed = await checkNotice(n);
  return failed ? `Not verified: ${failed}.` : 'Verified: the program signed this notice, and nothing in it changed since.';
}

// A statement of any size (`GET …/payouts/{id}/statement`, through `get`): read a page at a
// time (`pageSize` lines, 1,000 by default: the API's largest page; one page for most), the
// pages' lines joined under the signed header, so the whole is checked at once as `tenx
// verify` checks the file (the same root over every line). A statement over 5,000 lines is
// answered only this way.
// `onPage(linesRead, treeSize)` hears of each page read (the page says how far it got).
export async function readStatement(get, path, pageSize = 1000, onPage = null) {
  let doc = null;
  let cursor = null;
  do {
    const page = await get(`${path}?limit=${pageSize}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    if (!doc) doc = { header: page.header, lines: [], jws: page.jws, planVersions: [] };
    else if (page.jws !== doc.jws) throw new Error('the statement changed while it was read');
    doc.lines.push(...page.lines);
    // The plan versions the lines were paid under (each page names its own): each once.
    for (const v of page.planVersions || []) {
      if (!doc.planVersions.some((w) => canonical(w) === canonical(v))) doc.planVersions.push(v);
    }
    cursor = page.nextCursor;
    if (onPage) onPage(doc.lines.length, doc.header.treeSize);
  } while (cursor);
  return doc;
}

// The verdicts in words, for the page.
export async function verifyDecision(_base, d) {
  const failed = await checkDecision(d);
  return failed ? `Not verified: ${failed}.` : 'Verified: the program signed this decision, and nothing in it changed since.';
}

export async function verifyStatement(doc) {
  const failed = await checkStatement(doc);
  return failed ? `Not verified: ${failed}.` : 'Verified: signed by the program, every line is under its signature and they add up to the amount.';
}
