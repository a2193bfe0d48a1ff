#!/usr/bin/env bash
# Refreshes the bot-pattern data that shared/kernel/src/domain/bots.rs embeds (shared/data/bots/) from
# the npm packages `isbot` (Unlicense) and `crawler-user-agents` (MIT), and prints what changed.
# With --fixtures it also rewrites the npm-derived labelled corpora in
# shared/tests/fixtures/user_agents/ (crawler-user-agents' instances; intoli `user-agents`).
#
#   scripts/update_bot_patterns.sh [--fixtures]
#   ISBOT_VERSION=5.2.3 CRAWLER_USER_AGENTS_VERSION=1.60.0 scripts/update_bot_patterns.sh
#
# Needs npm and node. Run `cargo test -p tenx-shared --lib domain::bots` and
# `cargo test -p tenx-shared --all-features --test integration bot_corpus` afterwards: a new isbot pattern with look-around
# fails the first until it gets a hand-written rewrite in bots.rs.
set -euo pipefail
cd "$(dirname "$0")/.."
data=shared/data/bots
fixtures=shared/tests/fixtures/user_agents
with_fixtures=false
[[ "${1:-}" == "--fixtures" ]] && with_fixtures=true

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# npm pack <spec> into $tmp/<dir>; prints "name@version integrity".
fetch() {
  local spec=$1 dir=$2 json
  json=$(cd "$tmp" && npm pack --silent --json "$spec")
  mkdir -p "$tmp/$dir"
  tar -xzf "$tmp/$(node -e 'console.log(JSON.parse(process.argv[1])[0].filename)' "$json")" \
    -C "$tmp/$dir" --strip-components=1
  node -e 'const p=JSON.parse(process.argv[1])[0]; console.log(`${p.name}@${p.version} ${p.integrity}`)' "$json"
}

isbot=$(fetch "isbot@${ISBOT_VERSION:-latest}" isbot)
cua=$(fetch "crawler-user-agents@${CRAWLER_USER_AGENTS_VERSION:-latest}" cua)
mkdir -p "$tmp/new"

# isbot ships only compiled JS; its `list` export is src/patterns.json verbatim.
node -e 'process.stdout.write(JSON.stringify(require(process.argv[1]).list, null, 2) + "\n")' \
  "$tmp/isbot/index.js" >"$tmp/new/isbot-patterns.json"
# crawler-user-agents: one "pattern<TAB>tags" line per entry (its instances are test data).
node -e '
  for (const e of require(process.argv[1])) {
    if (/[\t\n]/.test(e.pattern)) throw new Error("tab or newline in " + e.pattern);
    console.log(e.pattern + "\t" + (e.tags || []).join(","));
  }' "$tmp/cua/crawler-user-agents.json" >"$tmp/new/crawler-user-agents.tsv"
cp "$tmp/isbot/LICENSE" "$tmp/new/isbot.LICENSE"
cp "$tmp/cua/LICENSE" "$tmp/new/crawler-user-agents.LICENSE"

cat >"$tmp/new/SOURCES.md" <<MD
# Bot-pattern data

Embedded at compile time by \`shared/kernel/src/domain/bots.rs\` (\`include_str!\`); nothing is read at
run time. Regenerate with \`scripts/update_bot_patterns.sh\` (never edit these files by hand:
local additions and exclusions live in bots.rs, with their reasons).

| file | source | version (npm) | licence |
| --- | --- | --- | --- |
| \`isbot-patterns.json\` | npm \`isbot\` (github.com/omrilotan/isbot, \`src/patterns.json\`, taken from the package's \`list\` export) | ${isbot%% *} | Unlicense (public domain), \`isbot.LICENSE\` |
| \`crawler-user-agents.tsv\` | npm \`crawler-user-agents\` (github.com/monperrus/crawler-user-agents, \`crawler-user-agents.json\`): each entry's \`pattern\` and \`tags\`, tab-separated | ${cua%% *} | MIT, \`crawler-user-agents.LICENSE\` |

Package integrity (npm): \`${isbot#* }\` (isbot), \`${cua#* }\` (crawler-user-agents).
MD

changed=0
for f in "$tmp"/new/*; do
  name=$(basename "$f")
  if [[ ! -f "$data/$name" ]]; then
    echo "new: $data/$name"
    changed=1
  elif ! cmp -s "$f" "$data/$name"; then
    echo "changed: $data/$name"
    diff -u "$data/$name" "$f" | sed -n '3,$p' | grep '^[-+]' | head -50 || true
    changed=1
  fi
done
mkdir -p "$data"
cp "$tmp"/new/* "$data/"

if $with_fixtures; then
  mkdir -p "$fixtures"
  node -e '
    const seen = new Set();
    for (const e of require(process.argv[1])) for (const ua of e.instances || [])
      if (!/[\r\n]/.test(ua) && !seen.has(ua)) { seen.add(ua); console.log(ua); }' \
    "$tmp/cua/crawler-user-agents.json" >"$fixtures/crawler-user-agents-instances.txt"
  cp "$tmp/cua/LICENSE" "$fixtures/crawler-user-agents.LICENSE"
  user_agents=$(fetch "user-agents@${USER_AGENTS_VERSION:-latest}" user-agents)
  # "deviceCategory<TAB>userAgent", one line per distinct user agent, sorted by user agent.
  node -e '
    const m = new Map();
    for (const e of require(process.argv[1]))
      if (e.userAgent && !/[\r\n]/.test(e.userAgent)) m.set(e.userAgent, e.deviceCategory);
    console.log([...m.keys()].sort().map((ua) => `${m.get(ua)}\t${ua}`).join("\n"))' \
    "$tmp/user-agents/dist/user-agents.json" >"$fixtures/intoli-devices.tsv"
  cp "$tmp/user-agents/LICENSE" "$fixtures/intoli-user-agents.LICENSE"
  echo "fixtures: $fixtures from ${cua%% *} and ${user_agents%% *}; update the versions in $fixtures/README.md"
fi

echo "isbot: ${isbot%% *}; crawler-user-agents: ${cua%% *}"
[[ $changed == 0 ]] && echo "no change in $data" || true
