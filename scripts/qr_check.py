#!/usr/bin/env python3
"""Usage: python3 scripts/qr_check.py

Checks console/widgets/qr.js (the console's QR encoder) against segno, a Python QR library, module for
module. Texts go one per line to `node scripts/qr_check.mjs`; each answer must equal
segno.make_qr(text, error='m', mode='byte', encoding='utf-8', boost_error=False) with segno's
own version and mask choice: same version, same mask, same matrix. Also: every version 1..15 at
its exact byte capacity and one byte past it, all 8 masks chosen at least once, the empty
string, two texts where masks tie for the lowest penalty (the first must win), and that more
than 412 bytes is refused with an error. The node side checks that qrSvg's single path paints
exactly the dark modules (see qr_check.mjs). qr.js scores masks the way segno does, before the
format/version bits are placed; Nayuki and ZXing score after, so they may pick another (equally
valid) mask for the same text.

segno is pinned and installed into .venv/qr (created on first run). One known segno bug is
patched out before comparing: segno 1.6.6 appends 8 zero bits when the data already ends on a
byte boundary (heuer/segno issue #148, open), which ISO/IEC 18004 §7.4.10 does not do; in byte
mode that is always the case, so the patch applies the issue's fix (pad with -len % 8 bits).
Exit status 1 with a message on the first mismatch.
"""
import glob
import json
import os
import random
import shutil
import subprocess
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
VENV = os.path.join(ROOT, ".venv", "qr")
SEGNO = "1.6.6"
MAX_BYTES = 412  # version 15, level M, byte mode


def in_venv():
    """Re-run this script under .venv/qr, creating it and installing segno when missing."""
    py = os.path.join(VENV, "bin", "python")
    if os.path.realpath(sys.prefix) == os.path.realpath(VENV):
        return
    if not glob.glob(os.path.join(VENV, "lib", "python*", "site-packages", f"segno-{SEGNO}.dist-info")):
        subprocess.run([os.path.join(ROOT, "scripts", "pip_install.sh"), VENV, f"segno=={SEGNO}"], check=True)
    os.execv(py, [py, os.path.abspath(__file__), *sys.argv[1:]])


def fail(msg):
    print(f"qr_check: FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def texts():
    """The corpus: realistic links, non-ASCII, and lengths at every version boundary."""
    t = [
        "",
        "a",
        "https://acme.localhost:8080/summer",
        "https://acme.localhost:8080/summer?ref=partner-42",
        "https://acme.localhost:8080/summer?utm_source=newsletter&utm_medium=email&utm_campaign=q3",
        "http://127.0.0.1:18080/l/AbC123",
        "https://acme.example/café?s=ü",
        "https://acme.example/straße/größe?q=naïve&x=€",
        "https://例え.jp/パス?クエリ=値",
        "https://acme.example/emoji/🎉?party=🥳",
        "HTTPS://ACME.EXAMPLE/UPPER/CASE",
        "0123456789012345678901234567890",
        "mailto:partners@acme.example?subject=Hello%20there",
        "https://acme.example/p?" + "&".join(f"k{i}=v{i}" for i in range(30)),
        "https://acme.example/long/" + "x" * 220,
        "https://acme.example/ü/" + "é" * 110,
        " leading and trailing spaces ",
        "tab\tinside",
        # Two masks tie for the lowest penalty here (2 and 5; 5 and 6): the first must win.
        "https://acme.example/o&a4wfq5z3c1q57juj",
        "https://acme.example/vpqvcysb3b1bglpbz=2jenm0//wxeomgi=rwu1q0woe3o",
        "é" * 206,  # 412 bytes: the largest that fits
        "é" * 207,  # 414 bytes: refused
    ]
    # Exact capacity of each version and one byte more (the next version, or refusal).
    caps = [14, 26, 42, 62, 84, 106, 122, 152, 180, 213, 251, 287, 331, 362, 412]
    for cap in caps:
        base = "https://acme.example/"
        t.append((base + "c" * cap)[:cap])
        t.append((base + "d" * cap)[:cap] + "e")
    # A fixed pseudo-random spread of link-like texts, so every mask gets chosen somewhere.
    rng = random.Random(18004)
    alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~/?=&%"
    for _ in range(40):
        n = rng.randrange(1, 250)
        t.append("https://acme.example/" + "".join(rng.choice(alphabet) for _ in range(n)))
    return t


def main():
    in_venv()
    import segno
    import segno.encoder as enc

    if segno.__version__ != SEGNO:
        fail(f"segno {segno.__version__} in {VENV}, expected {SEGNO}")

    def write_padding_bits(buff, version, length):  # heuer/segno#148 fix
        from segno import consts
        if version not in (consts.VERSION_M1, consts.VERSION_M3):
            buff.extend([0] * (-length % 8))

    enc.write_padding_bits = write_padding_bits

    node = shutil.which("node")
    if not node:
        fail("node is not on PATH (the check runs console/widgets/qr.js under node)")
    corpus = texts()
    assert all("\n" not in s and "\r" not in s for s in corpus)
    run = subprocess.run([node, os.path.join(ROOT, "scripts", "qr_check.mjs")],
                         input="".join(s + "\n" for s in corpus).encode(),
                         capture_output=True, timeout=60)
    if run.returncode:
        fail(f"node exited {run.returncode}: {run.stderr.decode()[-2000:]}")
    answers = [json.loads(line) for line in run.stdout.decode().splitlines()]
    if len(answers) != len(corpus):
        fail(f"node answered {len(answers)} lines for {len(corpus)} texts")

    versions, masks, refused = set(), set(), 0
    for text, got in zip(corpus, answers):
        nbytes = len(text.encode())
        qr = segno.make_qr(text, error="m", mode="byte", encoding="utf-8", boost_error=False)
        if nbytes > MAX_BYTES:
            if "error" not in got or qr.version <= 15:
                fail(f"{nbytes} bytes should be refused (segno needs version {qr.version}), got {str(got)[:200]}")
            refused += 1
            continue
        if "error" in got:
            fail(f"qrMatrix threw for {text!r} ({nbytes} bytes): {got['error']}")
        want = ["".join(str(b) for b in row) for row in qr.matrix]
        label = f"{text[:60]!r}{'…' if len(text) > 60 else ''} ({nbytes} bytes)"
        if got["version"] != qr.version or got["size"] != len(want):
            fail(f"{label}: version {got['version']} (size {got['size']}), segno has {qr.version}")
        if got["mask"] != qr.mask:
            fail(f"{label}: mask {got['mask']}, segno chose {qr.mask}")
        if got["rows"] != want:
            diff = [(y, x) for y, (a, b) in enumerate(zip(got["rows"], want))
                    for x, (p, q) in enumerate(zip(a, b)) if p != q]
            fail(f"{label}: {len(diff)} modules differ from segno, first (row, col) {diff[:8]}")
        if got["svg"] != "ok":
            fail(f"{label}: qrSvg: {got['svg']}")
        versions.add(qr.version)
        masks.add(qr.mask)

    if versions != set(range(1, 16)):
        fail(f"corpus only reached versions {sorted(versions)}")
    if masks != set(range(8)):
        fail(f"corpus only exercised masks {sorted(masks)}; add texts")
    if not refused:
        fail("no too-long text was tried")
    print(f"qr_check: ok: {len(corpus) - refused} texts identical to segno {SEGNO} (versions 1-15, "
          f"masks 0-7, svg paths exact), {refused} over {MAX_BYTES} bytes refused")


if __name__ == "__main__":
    main()
