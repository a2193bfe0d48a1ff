// QR Code encoder (ISO/IEC 18004): UTF-8 byte mode, level M, versions 1..15. Structure after
// Nayuki's QR Code generator library (MIT); scripts/qr_check.py compares it with segno.

import { svg } from '../ui.js';

// Per version: total codewords; at level M, EC codewords per block and block count.
const TOTAL = [0, 26, 44, 70, 100, 134, 172, 196, 242, 292, 346, 404, 466, 532, 581, 655];
const ECC = [0, 10, 16, 26, 18, 24, 16, 18, 22, 22, 26, 30, 22, 22, 24, 24];
const BLOCKS = [0, 1, 1, 1, 2, 2, 4, 4, 4, 5, 5, 5, 8, 9, 9, 10];
const dataBytes = (v) => TOTAL[v] - ECC[v] * BLOCKS[v];

// Reed-Solomon over GF(256) modulo x^8+x^4+x^3+x^2+1.
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

// BCH code: value, then the remainder of value * x^degree modulo poly.
function bch(value, poly, degree) {
  let r = value;
  for (let i = 0; i < degree; i++) r = (r << 1) ^ ((r >>> (degree - 1)) * poly);
  return (value << degree) | r;
}

// cell(row, col, dark) for both copies of the format bits (level M = 00, then the mask), the
// dark module and, from version 7, both copies of the version bits.
function info(size, v, mask, cell) {
  const f = bch(mask, 0x537, 10) ^ 0x5412;
  for (let k = 0; k < 15; k++) {
    const b = ((f >>> k) & 1) === 1;
    if (k < 8) cell(k < 6 ? k : k + 1, 8, b), cell(8, size - 1 - k, b); // hop the timing line
    else cell(8, k < 9 ? 7 : 14 - k, b), cell(size - 15 + k, 8, b);
  }
  cell(size - 8, 8, true);
  if (v < 7) return;
  const w = bch(v, 0x1f25, 12);
  for (let k = 0; k < 18; k++) {
    const a = size - 11 + (k % 3), b = Math.floor(k / 3), dark = ((w >>> k) & 1) === 1;
    cell(b, a, dark), cell(a, b, dark);
  }
}

// Data masks of Table 10 (i = row, j = column): a module flips where the result is 0.
const MASKS = [
  (i, j) => (i + j) % 2,
  (i) => i % 2,
  (i, j) => j % 3,
  (i, j) => (i + j) % 3,
  (i, j) => (Math.floor(i / 2) + Math.floor(j / 3)) % 2,
  (i, j) => ((i * j) % 2) + ((i * j) % 3),
  (i, j) => (((i * j) % 2) + ((i * j) % 3)) % 2,
  (i, j) => (((i + j) % 2) + ((i * j) % 3)) % 2,
];

// Penalty N1..N4 (§7.8.3) as segno reads it: N3 counts each 1011101 with 4 light modules on
// either side (outside is light) once; N4 uses segno's float steps, so boundaries match.
function penalty(m) {
  const n = m.length, lines = [];
  let p = 0, dark = 0;
  for (let i = 0; i < n; i++) {
    lines.push(m[i].map(Number).join(''), m.map((r) => +r[i]).join(''));
    for (let j = 0; j < n; j++) {
      const x = m[i][j];
      dark += x;
      if (i && j && x === m[i - 1][j] && x === m[i][j - 1] && x === m[i - 1][j - 1]) p += 3;
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
  return p + Math.floor(Math.abs((dark / (n * n)) * 100 - 50) / 5) * 10;
}

export function qrMatrix(text) {
  const bytes = new TextEncoder().encode(String(text));
  let v = 1;
  while (12 + (v < 10 ? 0 : 8) + 8 * bytes.length > 8 * dataBytes(v))
    if (++v > 15) throw new Error(`The text is too long for a QR code: ${bytes.length} bytes, at most 412 fit.`);

  // Mode 0100, count, bytes, up to 4 terminator zeros, zeros to a byte, then 0xEC/0x11 pads.
  const cap = 8 * dataBytes(v), bin = (val, len) => val.toString(2).padStart(len, '0');
  let bits = '0100' + bin(bytes.length, v < 10 ? 8 : 16) + Array.from(bytes, (b) => bin(b, 8)).join('');
  bits += '0000'.slice(0, cap - bits.length);
  bits += '0'.repeat(-bits.length & 7);
  for (let k = 0; bits.length < cap; k++) bits += k % 2 ? '00010001' : '11101100';
  const data = bits.match(/.{8}/g).map((b) => parseInt(b, 2));

  // Blocks (the last ones one data byte longer) get EC; then interleave data, then EC.
  const nb = BLOCKS[v], ecLen = ECC[v], div = rsDivisor(ecLen);
  const short = nb - (TOTAL[v] % nb), shortLen = Math.floor(TOTAL[v] / nb) - ecLen, blocks = [];
  for (let b = 0, k = 0; b < nb; b++) {
    const d = data.slice(k, (k += shortLen + (b < short ? 0 : 1)));
    blocks.push([d, rsRemainder(d, div)]);
  }
  const words = [];
  for (let i = 0; i <= shortLen; i++) for (const [d] of blocks) if (i < d.length) words.push(d[i]);
  for (let i = 0; i < ecLen; i++) for (const [, e] of blocks) words.push(e[i]);
  const stream = words.map((w) => bin(w, 8)).join('');

  // Function patterns (fn marks them); format and version modules light until the mask is set.
  const size = 4 * v + 17;
  const mod = Array.from({ length: size }, () => new Array(size).fill(false));
  const fn = mod.map((r) => r.slice());
  const set = (r, c, dark) => { mod[r][c] = dark; fn[r][c] = true; };
  // Concentric square of radius rad around (r, c); dark(ring) says which rings are dark.
  const square = (r, c, rad, dark) => {
    for (let i = -rad; i <= rad; i++)
      for (let j = -rad; j <= rad; j++)
        if (mod[r + i]?.[c + j] !== undefined) set(r + i, c + j, dark(Math.max(Math.abs(i), Math.abs(j))));
  };
  for (let i = 0; i < size; i++) set(6, i, i % 2 === 0), set(i, 6, i % 2 === 0);
  for (const [r, c] of [[3, 3], [3, size - 4], [size - 4, 3]]) square(r, c, 4, (d) => d !== 2 && d !== 4);
  if (v > 1) {
    const a = Math.floor(v / 7) + 2, step = Math.floor((v * 8 + a * 3 + 5) / (a * 4 - 4)) * 2;
    const pos = [6], end = (i) => i === 0 || i === a - 1;
    for (let p = size - 7; pos.length < a; p -= step) pos.splice(1, 0, p);
    pos.forEach((r, i) => pos.forEach((c, j) => {
      if (!(end(i) && end(j) && (i === 0 || j === 0))) square(r, c, 2, (d) => d !== 1); // not on a finder
    }));
  }
  info(size, v, 0, (r, c) => set(r, c, false));

  // Codeword bits zigzag up and down 2-wide columns from the right, skipping timing column 6.
  let i = 0;
  for (let right = size - 1; right >= 1; right -= 2) {
    if (right === 6) right = 5;
    for (let vert = 0; vert < size; vert++)
      for (let j = 0; j < 2; j++) {
        const c = right - j, r = (right + 1) & 2 ? vert : size - 1 - vert;
        if (!fn[r][c] && i < stream.length) mod[r][c] = stream[i++] === '1'; // remainder bits: light
      }
  }

  // Lowest penalty wins, the first on a tie; scored before format/version bits are in (as segno).
  const masked = (k) => mod.map((row, r) => row.map((x, c) => x !== (!fn[r][c] && MASKS[k](r, c) === 0)));
  let mask = 0, least = Infinity;
  for (let k = 0; k < 8; k++) {
    const s = penalty(masked(k));
    if (s < least) (mask = k), (least = s);
  }
  const modules = masked(mask);
  info(size, v, mask, (r, c, dark) => (modules[r][c] = dark));
  return { size, modules, version: v, mask };
}

// <svg>: 4-module quiet zone, white rect, one path of horizontal runs. DOM calls and
// presentation attributes only: the console's CSP forbids inline style.
export function qrSvg(text, { label } = {}) {
  const { size, modules } = qrMatrix(text);
  const q = 4, n = size + 2 * q;
  let d = '';
  modules.forEach((row, y) => {
    for (let x = 0; x < size; x++) {
      if (!row[x]) continue;
      const start = x;
      while (x + 1 < size && row[x + 1]) x++;
      d += `M${start + q} ${y + q}h${x + 1 - start}v1h${start - x - 1}z`;
    }
  });
  return svg('svg', { viewBox: `0 0 ${n} ${n}`, role: 'img', 'aria-label': label ?? `QR code for ${text}`, 'shape-rendering': 'crispEdges' },
    svg('rect', { width: n, height: n, fill: '#fff' }), svg('path', { d, fill: '#000' }));
}
