// QR Code encoder (ISO/IEC 18004): UTF-8 byte mode, error correction level M, versions 1..15.
// Structure after Nayuki's "QR Code generator library" (MIT), written compactly.
// Checked module-for-module against segno by scripts/qr_check.py.

// Per version 1..15 at level M: EC codewords per block, number of blocks.
const ECC = [0, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24];
const BLOCKS = [0, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10];

// Modules left for data + EC after the function patterns (Nayuki's closed form).
function rawModules(v) {
  let n = (16 * v + 128) * v + 64;
  if (v >= 2) {
    const a = Math.floor(v / 7) + 2;
    n -= (25 * a - 10) * a - 55;
    if (v >= 7) n -= 36;
  }
  return n;
}
const dataBytes = (v) => (rawModules(v) >> 3) - ECC[v] * BLOCKS[v];

// GF(256) multiply modulo x^8+x^4+x^3+x^2+1, as Reed-Solomon needs.
function mul(x, y) {
  let z = 0;
  for (let i = 7; i >= 0; i--) z = ((z << 1) ^ ((z >>> 7) * 0x11d) ^ (((y >>> i) & 1) * x)) & 0xff;
  return z;
}
function rsDivisor(deg) {
  const r = new Array(deg).fill(0);
  r[deg - 1] = 1;
  for (let i = 0, root = 1; i < deg; i++, root = mul(root, 2))
    for (let j = 0; j < deg; j++) r[j] = mul(r[j], root) ^ (j + 1 < deg ? r[j + 1] : 0);
  return r;
}
function rsRemainder(data, div) {
  const r = div.map(() => 0);
  for (const b of data) {
    const f = b ^ r.shift();
    r.push(0);
    div.forEach((c, i) => (r[i] ^= mul(c, f)));
  }
  return r;
}

// BCH-protected format (15 bits) and version (18 bits) words.
function bch(value, bits, poly, degree) {
  let r = value;
  for (let i = 0; i < degree; i++) r = (r << 1) ^ ((r >>> (degree - 1)) * poly);
  return (value << degree) | r;
}

const MASKS = [
  (x, y) => (x + y) % 2,
  (x, y) => y % 2,
  (x, y) => x % 3,
  (x, y) => (x + y) % 3,
  (x, y) => (Math.floor(x / 3) + Math.floor(y / 2)) % 2,
  (x, y) => ((x * y) % 2) + ((x * y) % 3),
  (x, y) => (((x * y) % 2) + ((x * y) % 3)) % 2,
  (x, y) => (((x + y) % 2) + ((x * y) % 3)) % 2,
]; // a module is inverted where the function is 0

// Penalty N1..N4 of ISO/IEC 18004:2015 §7.8.3, read as segno reads it: one N3 hit per
// 1011101 with 4 light modules on either side (outside the symbol counts as light).
function penalty(m) {
  const n = m.length;
  let p = 0, dark = 0;
  const lines = [];
  for (let i = 0; i < n; i++) {
    lines.push(m[i].map(Number).join(''), m.map((r) => +r[i]).join(''));
    for (let j = 0; j < n; j++) {
      dark += m[i][j];
      if (i && j && m[i][j] === m[i - 1][j] && m[i][j] === m[i][j - 1] && m[i][j] === m[i - 1][j - 1]) p += 3;
    }
  }
  for (const s of lines) {
    for (const run of s.match(/0+|1+/g)) if (run.length >= 5) p += run.length - 2;
    for (let i = s.indexOf('1011101'); i >= 0; ) {
      const hit = !s.slice(Math.max(i - 4, 0), i).includes('1') || !s.slice(i + 7, i + 11).includes('1');
      if (hit) p += 40;
      i = s.indexOf('1011101', i + (hit ? 7 : 4));
    }
  }
  // Same float steps as segno so a boundary ratio rounds the same way.
  return p + Math.floor(Math.abs((dark / (n * n)) * 100 - 50) / 5) * 10;
}

export function qrMatrix(text) {
  const bytes = new TextEncoder().encode(String(text));
  let v = 1;
  while (4 + (v < 10 ? 8 : 16) + 8 * bytes.length > 8 * dataBytes(v))
    if (++v > 15) throw new Error(`This text is too long for a QR code here (${bytes.length} bytes; at most 412 bytes fit).`);

  // Bit stream: byte mode, count, data, terminator, zero bits to a byte, then 0xEC/0x11 pads.
  const bits = [];
  const put = (val, len) => { for (let i = len - 1; i >= 0; i--) bits.push((val >>> i) & 1); };
  const cap = 8 * dataBytes(v);
  put(4, 4);
  put(bytes.length, v < 10 ? 8 : 16);
  bytes.forEach((b) => put(b, 8));
  put(0, Math.min(4, cap - bits.length));
  put(0, -bits.length & 7);
  for (let pad = 0xec; bits.length < cap; pad ^= 0xec ^ 0x11) put(pad, 8);
  const data = [];
  for (let i = 0; i < bits.length; i += 8) data.push(parseInt(bits.slice(i, i + 8).join(''), 2));

  // Split into blocks (the last ones one byte longer), add EC, interleave.
  const nb = BLOCKS[v], ecLen = ECC[v], raw = rawModules(v) >> 3;
  const short = nb - (raw % nb), shortLen = Math.floor(raw / nb) - ecLen, div = rsDivisor(ecLen);
  const blocks = [];
  for (let b = 0, k = 0; b < nb; b++) {
    const d = data.slice(k, (k += shortLen + (b < short ? 0 : 1)));
    blocks.push([d, rsRemainder(d, div)]);
  }
  const words = [];
  for (let i = 0; i <= shortLen; i++) for (const [d] of blocks) if (i < d.length) words.push(d[i]);
  for (let i = 0; i < ecLen; i++) for (const [, e] of blocks) words.push(e[i]);

  // Function patterns; format and version areas stay light until the mask is chosen.
  const size = 4 * v + 17;
  const mod = Array.from({ length: size }, () => new Array(size).fill(false));
  const fn = mod.map((r) => r.slice());
  const set = (x, y, dark) => { mod[y][x] = dark; fn[y][x] = true; };
  for (let i = 0; i < size; i++) set(6, i, i % 2 === 0), set(i, 6, i % 2 === 0);
  for (const [cx, cy] of [[3, 3], [size - 4, 3], [3, size - 4]])
    for (let dy = -4; dy <= 4; dy++)
      for (let dx = -4; dx <= 4; dx++) {
        const x = cx + dx, y = cy + dy, d = Math.max(Math.abs(dx), Math.abs(dy));
        if (x >= 0 && x < size && y >= 0 && y < size) set(x, y, d !== 2 && d !== 4);
      }
  if (v > 1) {
    const a = Math.floor(v / 7) + 2, step = Math.floor((v * 8 + a * 3 + 5) / (a * 4 - 4)) * 2;
    const pos = [6];
    for (let p = size - 7; pos.length < a; p -= step) pos.splice(1, 0, p);
    for (const cx of pos)
      for (const cy of pos)
        if (!fn[cy][cx]) // skip the three that would sit on finders
          for (let dy = -2; dy <= 2; dy++)
            for (let dx = -2; dx <= 2; dx++) set(cx + dx, cy + dy, Math.max(Math.abs(dx), Math.abs(dy)) !== 1);
  }
  for (let i = 0; i < 9; i++) set(8, i, false), set(i, 8, false);
  for (let i = 0; i < 8; i++) set(size - 1 - i, 8, false), set(8, size - 1 - i, false);
  if (v >= 7) for (let i = 0; i < 18; i++) set(size - 11 + (i % 3), Math.floor(i / 3), false), set(Math.floor(i / 3), size - 11 + (i % 3), false);

  // Codewords zigzag in 2-wide columns from the right, skipping the vertical timing column.
  let i = 0;
  for (let right = size - 1; right >= 1; right -= 2) {
    if (right === 6) right = 5;
    for (let vert = 0; vert < size; vert++)
      for (let j = 0; j < 2; j++) {
        const x = right - j, y = (right + 1) & 2 ? vert : size - 1 - vert;
        if (!fn[y][x] && i < words.length * 8) mod[y][x] = ((words[i >> 3] >>> (7 - (i & 7))) & 1) === 1, i++;
      }
  }

  // Lowest penalty wins, first on a tie; scored before format/version info is written (as segno).
  const masked = (k) => mod.map((r, y) => r.map((dark, x) => dark !== (!fn[y][x] && MASKS[k](x, y) === 0)));
  let best = 0, bestScore = Infinity;
  for (let k = 0; k < 8; k++) {
    const s = penalty(masked(k));
    if (s < bestScore) (best = k), (bestScore = s);
  }
  const out = masked(best);

  // Format info: level M is 00, then the mask; both copies plus the always-dark module.
  const f = bch(best, 5, 0x537, 10) ^ 0x5412, fb = (k) => ((f >>> k) & 1) === 1;
  for (let k = 0; k < 6; k++) out[k][8] = fb(k), out[8][14 - k - 9 + 9 - 5 + 5 - 0 === 0 ? 0 : 0] = out[8][0];
  for (let k = 0; k < 6; k++) out[k][8] = fb(k);
  out[7][8] = fb(6), out[8][8] = fb(7), out[8][7] = fb(8);
  for (let k = 9; k < 15; k++) out[8][14 - k] = fb(k);
  for (let k = 0; k < 8; k++) out[8][size - 1 - k] = fb(k);
  for (let k = 8; k < 15; k++) out[size - 15 + k][8] = fb(k);
  out[size - 8][8] = true;
  if (v >= 7) {
    const w = bch(v, 6, 0x1f25, 12);
    for (let k = 0; k < 18; k++) {
      const a = size - 11 + (k % 3), b = Math.floor(k / 3), dark = ((w >>> k) & 1) === 1;
      out[b][a] = dark, out[a][b] = dark;
    }
  }
  return { size, modules: out, version: v, mask: best };
}

// An <svg> of the code with a 4-module quiet zone: one white rect, one path of merged runs.
export function qrSvg(text, { label } = {}) {
  const { size, modules } = qrMatrix(text);
  const NS = 'http://www.w3.org/2000/svg', q = 4, n = size + 2 * q;
  const el = (tag, attrs) => {
    const e = document.createElementNS(NS, tag);
    for (const [k, val] of Object.entries(attrs)) e.setAttribute(k, String(val));
    return e;
  };
  const svg = el('svg', {
    viewBox: `0 0 ${n} ${n}`,
    role: 'img',
    'aria-label': label ?? `QR code for ${text}`,
    'shape-rendering': 'crispEdges',
  });
  let d = '';
  modules.forEach((row, y) => {
    for (let x = 0; x < size; x++) {
      if (!row[x]) continue;
      const start = x;
      while (x + 1 < size && row[x + 1]) x++;
      d += `M${start + q} ${y + q}h${x + 1 - start}v1h${start - x - 1}z`;
    }
  });
  svg.append(el('rect', { width: n, height: n, fill: '#fff' }), el('path', { d, fill: '#000' }));
  return svg;
}
