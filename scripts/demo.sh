#!/usr/bin/env bash
# `npm run demo`: builds envsync and sets up a demo project in ./demo with the local default
# (Docker secret files), then audits it. No cloud account needed.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run --silent build >/dev/null
root=$(pwd)
envsync() { node "$root/bin/run.js" "$@"; }

mkdir -p demo
if [ -f demo/envsync.yaml ]; then
  echo "demo/envsync.yaml exists: keeping it and its values (delete ./demo to start over)"
else
  envsync init --yes --dir demo --project demo --services backend,frontend,observability --public frontend \
    --environments development,staging,production --secrets recommended --targets docker
fi
cd demo
for env in development production; do
  echo
  envsync check "$env"
done
echo
echo "Try: cd demo && ../bin/run.js template     (documents every key, no values)"
