#!/usr/bin/env bash
# Refreshes the disposable email domains that shared/kernel/src/domain/disposable.rs embeds
# (shared/data/disposable_email/) from the npm package `disposable-email-domains-js` (CC0-1.0;
# its list is disposable-email-domains/disposable-email-domains' blocklist, the community list
# that also feeds PyPI's and crates' packages of the same name), and prints what changed.
#
#   scripts/update_disposable_domains.sh
#   DISPOSABLE_VERSION=1.26.0 scripts/update_disposable_domains.sh
#
# Needs npm and node. Run `cargo test -p tenx-shared --lib domain::disposable` afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."
data=shared/data/disposable_email
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

json=$(cd "$tmp" && npm pack --silent --json "disposable-email-domains-js@${DISPOSABLE_VERSION:-latest}")
file=$(node -e 'console.log(JSON.parse(process.argv[1])[0].filename)' "$json")
spec=$(node -e 'const p=JSON.parse(process.argv[1])[0]; console.log(`${p.name}@${p.version} ${p.integrity}`)' "$json")
mkdir -p "$tmp/pkg" "$tmp/new"
tar -xzf "$tmp/$file" -C "$tmp/pkg" --strip-components=1

# One lower-case domain a line, sorted and unique (what the embedding binary-searches).
node -e '
  const list = require(process.argv[1]);
  const out = [...new Set(list.map(d => String(d).trim().toLowerCase()).filter(d => d && !/\s/.test(d)))].sort();
  process.stdout.write(out.join("\n") + "\n");' \
  "$tmp/pkg/dist/dict/disposable_email_blocklist.json" | LC_ALL=C sort -u >"$tmp/new/domains.txt"
cp "$tmp/pkg/LICENSE" "$tmp/new/LICENSE"

cat >"$tmp/new/SOURCES.md" <<MD
# Disposable email domains

Embedded at compile time by \`shared/kernel/src/domain/disposable.rs\` (\`include_str!\`); nothing is
read at run time. Regenerate with \`scripts/update_disposable_domains.sh\` (never edit these
files by hand).

| file | source | version (npm) | licence |
| --- | --- | --- | --- |
| \`domains.txt\` | npm \`disposable-email-domains-js\` (\`dist/dict/disposable_email_blocklist.json\`, generated from disposable-email-domains/disposable-email-domains' \`disposable_email_blocklist.conf\`), one domain a line, sorted | ${spec%% *} | CC0-1.0, \`LICENSE\` |

Integrity: \`${spec#* }\`.
MD

mkdir -p "$data"
for f in domains.txt LICENSE SOURCES.md; do
  if [[ -f "$data/$f" ]] && ! cmp -s "$data/$f" "$tmp/new/$f"; then
    echo "changed: $f"
    [[ $f == domains.txt ]] && diff <(cat "$data/$f") "$tmp/new/$f" | grep -c '^[<>]' | sed 's/^/  lines added or removed: /' || true
  fi
  cp "$tmp/new/$f" "$data/$f"
done
echo "disposable domains: $(wc -l <"$data/domains.txt") from ${spec%% *}"
