#!/usr/bin/env bash
# Installs nthd's npm dependencies (including the pinned Node 26 runtime)
# when package-lock.json changed since the last install. Sourced by the
# README's commands; puts the project's node first on PATH.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
stamp="$repo/node_modules/.nthd-install-stamp"
if [[ ! -f "$stamp" || "$repo/package-lock.json" -nt "$stamp" || "$repo/package.json" -nt "$stamp" ]]; then
  echo "[setup] npm ci (installs dependencies and the pinned Node.js runtime)" >&2
  (cd "$repo" && npm ci --no-audit --no-fund --loglevel=error)
  touch "$stamp"
fi
export PATH="$repo/node_modules/.bin:$PATH"
