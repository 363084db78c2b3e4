#!/usr/bin/env bash
# The e2e tests' fixture: playwright-core exactly as package-lock.json pins it (npm ci, only when
# node_modules does not hold that version), and Debian's chromium. Usage: setup.sh NODE NPM CHROMIUM
set -euo pipefail
cd "$(dirname "$0")"
node=${1:-node}
npm=${2:-npm}
chromium=${3:-/usr/bin/chromium}

want=$("$node" -p "require('./package-lock.json').packages['node_modules/playwright-core'].version")
have=$("$node" -p "try { require('./node_modules/playwright-core/package.json').version } catch { '' }")
if [[ "$want" != "$have" ]]; then
  echo "npm ci (playwright-core $want; no browser download)"
  "$npm" ci --no-audit --no-fund --loglevel=error
fi

if [[ ! -x "$chromium" ]]; then
  echo "$chromium is missing: run scripts/ensure_deps.sh (apt-get install chromium)" >&2
  exit 1
fi
"$chromium" --version 2>/dev/null | head -1 || true
echo "e2e setup ok: node $("$node" --version), playwright-core $want"
