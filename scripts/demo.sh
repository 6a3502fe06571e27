#!/usr/bin/env bash
# `npm run demo`: builds envsync, sets up ./demo from manifests/example.yaml (Express API, Vite SPA,
# observability), generates development values, audits them and pushes them to the local default
# target — Docker secret files plus a compose override. No cloud account, no Docker engine needed.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run --silent build >/dev/null
root=$(pwd)
envsync() { node "$root/bin/run.js" "$@"; }

mkdir -p demo
cd demo
if [ ! -f envsync.yaml ]; then
  sed 's#\$schema=./envsync.schema.json#$schema=../manifests/envsync.schema.json#' ../manifests/example.yaml > envsync.yaml
  printf '.env\n.env.*\nsecrets/\n.envsync/\n' > .gitignore
fi

echo "== envsync generate development"
envsync generate development

# The connection strings are not random: compose them from the generated passwords, as a
# developer would for a local docker compose stack (values never printed).
node -e '
  const fs = require("fs")
  const dotenv = require(require.resolve("dotenv", {paths: [process.argv[1]]}))
  const v = dotenv.parse(fs.readFileSync(".env.development"))
  const add = []
  if (!v.DATABASE_URL) add.push(`DATABASE_URL=postgres://acme:${v.DB_PASSWORD}@localhost:5432/acme`)
  if (!v.REDIS_URL) add.push(`REDIS_URL=redis://:${v.REDIS_PASSWORD}@localhost:6379/0`)
  if (add.length) fs.appendFileSync(".env.development", add.join("\n") + "\n")
' "$root"

echo; echo "== envsync check development"
envsync check development
echo; echo "== envsync push development --yes"
envsync push development --yes
echo; echo "== envsync diff development"
envsync diff development
echo
echo "Secret files: demo/secrets/development/ (0600, no trailing newline)"
echo "Compose override: demo/docker-compose.development.secrets.yml — use with: docker compose -f docker-compose.yml -f docker-compose.development.secrets.yml up"
