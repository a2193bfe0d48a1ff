// Usage: node scripts/qr_check.mjs < texts   (one text per line; run by scripts/qr_check.py)
// For each input line prints one JSON line:
//   {"version", "size", "mask", "rows": ["0101…", …], "svg": "ok" | what is wrong}
// or {"error": message} when qrMatrix throws. "svg" checks qrSvg against a minimal stand-in
// for `document`: attributes, no style, and that its path covers exactly the dark modules.
import { createInterface } from 'node:readline';
import { qrMatrix, qrSvg } from '../console/widgets/qr.js';

class FakeElement {
  constructor(ns, tag) { Object.assign(this, { ns, tag, attrs: {}, children: [] }); }
  setAttribute(k, v) { this.attrs[k] = v; }
  append(...c) { this.children.push(...c); }
}
globalThis.document = { createElementNS: (ns, tag) => new FakeElement(ns, tag) };

function checkSvg(text, size, rows) {
  const NS = 'http://www.w3.org/2000/svg';
  const svg = qrSvg(text);
  const n = size + 8;
  const want = { viewBox: `0 0 ${n} ${n}`, role: 'img', 'aria-label': `QR code for ${text}`, 'shape-rendering': 'crispEdges' };
  if (svg.ns !== NS || svg.tag !== 'svg') return 'root is not an svg element in the SVG namespace';
  for (const [k, v] of Object.entries(want)) if (svg.attrs[k] !== v) return `svg ${k}=${svg.attrs[k]}, want ${v}`;
  const [rect, path, ...rest] = svg.children;
  if (rest.length || rect?.tag !== 'rect' || path?.tag !== 'path') return 'want exactly <rect> then <path>';
  if (rect.attrs.width !== String(n) || rect.attrs.height !== String(n) || rect.attrs.fill !== '#fff') return 'bad background rect';
  if (path.attrs.fill !== '#000') return 'path fill is not #000';
  for (const el of [svg, rect, path]) if ('style' in el.attrs) return 'style attribute present';
  if (qrSvg(text, { label: 'Link QR' }).attrs['aria-label'] !== 'Link QR') return 'label option ignored';
  // Paint the path back onto a grid: every run must be "M x y h w v1 h -w z", no overlaps.
  const grid = Array.from({ length: size }, () => new Array(size).fill(0));
  const re = /M(\d+) (\d+)h(\d+)v1h-(\d+)z/y;
  let m, used = 0;
  while ((m = re.exec(path.attrs.d))) {
    used += m[0].length;
    const [x, y, w, back] = m.slice(1).map(Number);
    if (w !== back || w < 1) return `bad run ${m[0]}`;
    for (let i = 0; i < w; i++) grid[y - 4][x - 4 + i]++;
  }
  if (used !== path.attrs.d.length) return 'path has unparsed text';
  const painted = grid.map((r) => r.join(''));
  return painted.join() === rows.join() ? 'ok' : 'path does not match the matrix';
}

for await (const text of createInterface({ input: process.stdin, crlfDelay: Infinity })) {
  let out;
  try {
    const { size, modules, version, mask } = qrMatrix(text);
    const rows = modules.map((r) => r.map((b) => (b ? '1' : '0')).join(''));
    let svg;
    try { svg = checkSvg(text, size, rows); } catch (e) { svg = `threw: ${e.message}`; }
    out = { version, size, mask, rows, svg };
  } catch (e) {
    out = { error: e.message };
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}
