#!/usr/bin/env bash
# Refreshes the IP-to-country table that the tenx-geo crate embeds (shared/geo/data/) from the
# npm package `@ip-location-db/geo-whois-asn-country` (sapics/ip-location-db: geofeeds, then the
# five RIRs' whois, then their ASN data; CC0-1.0 for the compilation, CC BY 4.0 by the NRO for
# the RIR data it is built from: attribution to nro.net), and prints what changed.
#
#   scripts/update_ip_country.sh
#   IP_COUNTRY_VERSION=2.3.2026061719 scripts/update_ip_country.sh
#   IP_COUNTRY_CSV_DIR=/path/to/csvs scripts/update_ip_country.sh   # the same CSVs, got elsewhere
#
# The table (ip-country.bin.gz, gzip of the layout documented in shared/geo/src/table.rs):
# for IPv4, then IPv6, the sorted starts of every run of addresses with one country (or none),
# delta-encoded, then each run's two-letter code ("\0\0" where no country is known). Where the
# source's ranges overlap (a more specific geofeed or whois entry inside a larger one) the
# narrower range wins, and addresses that are never a visitor's (private, loopback,
# documentation, ...) have no country whatever the source says. It also writes
# ip-country-sample.csv: a few hundred source rows, as the source spells them, that the crate's
# tests look up again.
#
# Needs npm (unless IP_COUNTRY_CSV_DIR), node and python3. Run
# `cargo nextest run --target x86_64-unknown-linux-gnu -p tenx-geo` afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
data=shared/geo/data
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/pkg" "$tmp/new"

if [[ -n "${IP_COUNTRY_CSV_DIR:-}" ]]; then
  cp "$IP_COUNTRY_CSV_DIR"/geo-whois-asn-country-ipv{4,6}{,-num}.csv "$tmp/pkg/"
  cp "$IP_COUNTRY_CSV_DIR"/NRO_LICENSE "$tmp/pkg/" 2>/dev/null || cp "$data/NRO_LICENSE" "$tmp/pkg/"
  spec="CSV files from $IP_COUNTRY_CSV_DIR (not npm)"
  integrity="n/a"
else
  json=$(cd "$tmp" && npm pack --silent --json "@ip-location-db/geo-whois-asn-country@${IP_COUNTRY_VERSION:-latest}")
  file=$(node -e 'console.log(JSON.parse(process.argv[1])[0].filename)' "$json")
  spec=$(node -e 'const p=JSON.parse(process.argv[1])[0]; console.log(`${p.name}@${p.version}`)' "$json")
  integrity=$(node -e 'console.log(JSON.parse(process.argv[1])[0].integrity)' "$json")
  tar -xzf "$tmp/$file" -C "$tmp/pkg" --strip-components=1
  licence=$(node -e 'console.log(require(process.argv[1]).license)' "$tmp/pkg/package.json")
  [[ $licence == CC0-1.0 ]] || { echo "the package's licence is now '$licence', not CC0-1.0: check it before shipping" >&2; exit 1; }
fi
cp "$tmp/pkg/NRO_LICENSE" "$tmp/new/NRO_LICENSE"

python3 - "$tmp/pkg" "$tmp/new" <<'PY'
import csv, gzip, heapq, ipaddress, struct, sys

src, out = sys.argv[1], sys.argv[2]

def rows(name):
    with open(f"{src}/{name}", newline="") as f:
        return [(int(a), int(b), c) for a, b, c in csv.reader(f)]

def check(rs, bits):
    for a, b, c in rs:
        if not (0 <= a <= b < 1 << bits) or len(c) != 2 or not c.isascii() or not c.isupper():
            raise SystemExit(f"bad row {a},{b},{c}")

# Addresses that are never a visitor's (private, loopback, link-local, shared, documentation,
# multicast, reserved): the source places some of them in a country (172.16.0.0/12 and
# 192.168.0.0/16 in AU, 2001:db8::/32 in JP), so they are blanked over whatever it says.
SPECIAL = {
    32: ["0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
         "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15",
         "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4"],
    128: ["::/96", "::ffff:0:0/96", "100::/64", "2001:db8::/32", "fc00::/7", "fe80::/10", "ff00::/8"],
}

def runs(rs, bits):
    """[(start, code)] of each run of one country (code "" where none): the special ranges win,
    then the narrowest range."""
    blank = [ipaddress.ip_network(n) for n in SPECIAL[bits]]
    rs = rs + [(int(n.network_address), int(n.broadcast_address), "") for n in blank]
    special = len(rs) - len(blank)
    events = sorted([(a, 1, i) for i, (a, _, _) in enumerate(rs)] + [(b + 1, 0, i) for i, (_, b, _) in enumerate(rs)])
    active, heap, res, k = set(), [], [], 0
    while k < len(events):
        pos = events[k][0]
        while k < len(events) and events[k][0] == pos:
            _, start, i = events[k]
            if start:
                active.add(i)
                heapq.heappush(heap, (-1 if i >= special else rs[i][1] - rs[i][0], i))
            else:
                active.discard(i)
            k += 1
        while heap and heap[0][1] not in active:
            heapq.heappop(heap)
        code = rs[heap[0][1]][2] if heap else ""
        if not res or res[-1][1] != code:
            res.append((pos, code))
    if res and res[0][0] == 0 and res[0][1] == "":
        res.pop(0)
    return res

def section(rs, width):
    body, prev = bytearray(), 0
    for start, _ in rs:
        body += (start - prev).to_bytes(width, "little")
        prev = start
    for _, code in rs:
        body += code.encode() if code else b"\0\0"
    return bytes(body)

v4, v6 = rows("geo-whois-asn-country-ipv4-num.csv"), rows("geo-whois-asn-country-ipv6-num.csv")
check(v4, 32)
check(v6, 128)
r4, r6 = runs(v4, 32), runs(v6, 128)
table = b"TXIPCC1\n" + struct.pack("<II", len(r4), len(r6)) + section(r4, 4) + section(r6, 16)
with open(f"{out}/ip-country.bin.gz", "wb") as f:
    f.write(gzip.compress(table, 9, mtime=0))
print(f"runs: {len(r4)} IPv4, {len(r6)} IPv6 ({len(table)} bytes before gzip)")

# The sample: rows (as the source writes them) whose neighbours on both sides touch no other
# row, so each row's own country is the answer at its first and last address, and the address
# past its end belongs to the next row or to nobody. Plus the rows of a few well-known resolvers.
def sample(name, num, every, wanted):
    with open(f"{src}/{name}", newline="") as f:
        text = list(csv.reader(f))
    assert len(text) == len(num), name
    picked = set()
    for i in range(2, len(num) - 3, every):
        if all(num[j][1] < num[j + 1][0] for j in range(i - 1, i + 3)) and all(
            ipaddress.ip_address(num[j][k]).is_global for j in (i, i + 1, i + 2) for k in (0, 1)
        ):
            picked.update((i, i + 1, i + 2))
    for ip in wanted:
        n = int(ipaddress.ip_address(ip))
        for i, (a, b, _) in enumerate(num):
            if a <= n <= b and 0 < i < len(num) - 1 and num[i - 1][1] < a and b < num[i + 1][0]:
                picked.add(i)
    return [",".join(text[i]) for i in sorted(picked)]

lines = sample("geo-whois-asn-country-ipv4.csv", v4, 9973, ["8.8.8.8", "1.1.1.1", "9.9.9.9"])
lines += sample("geo-whois-asn-country-ipv6.csv", v6, 6151, ["2001:4860:4860::8888", "2606:4700:4700::1111"])
with open(f"{out}/ip-country-sample.csv", "w") as f:
    f.write("\n".join(lines) + "\n")
print(f"sample: {len(lines)} rows")
PY

cat >"$tmp/new/SOURCES.md" <<MD
# IP address to country

Embedded at compile time by \`shared/geo/src/table.rs\` (\`include_bytes!\`); nothing is read or
downloaded at run time. Regenerate with \`scripts/update_ip_country.sh\` (never edit these files by
hand).

| file | source | version (npm) | licence |
| --- | --- | --- | --- |
| \`ip-country.bin.gz\` | npm \`@ip-location-db/geo-whois-asn-country\` (github.com/sapics/ip-location-db), its \`-ipv4-num.csv\` and \`-ipv6-num.csv\`, as runs of one country (narrowest range first where ranges overlap; no country for private, loopback, documentation and other special-purpose addresses), delta-encoded and gzipped | ${spec} | CC0-1.0 (the compilation) and CC BY 4.0 by the Number Resource Organization (the RIR data), \`NRO_LICENSE\` |
| \`ip-country-sample.csv\` | rows of the same package's \`-ipv4.csv\` and \`-ipv6.csv\`, verbatim, for the tests | ${spec} | as above |

Attribution: IP address data by the Number Resource Organization (https://www.nro.net/),
CC BY 4.0, compiled by sapics/ip-location-db.

Integrity: \`${integrity}\`.
MD

mkdir -p "$data"
for f in "$tmp"/new/*; do
  name=$(basename "$f")
  if [[ ! -f "$data/$name" ]]; then
    echo "new: $data/$name"
  elif ! cmp -s "$f" "$data/$name"; then
    echo "changed: $data/$name"
  fi
done
cp "$tmp"/new/* "$data/"
echo "ip-country: $(stat -c %s "$data/ip-country.bin.gz") bytes from ${spec}"
