#!/usr/bin/env bash
# The whole test suite, from a fresh clone: dependencies, static checks,
# build, unit tests, then the test ground's peers (built once and cached in
# ~/.cache/nthd) and the integration tests against them.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
# shellcheck source=setup.sh
. scripts/setup.sh
step() { printf '\n[test] %s\n' "$*" >&2; }
step "node $(node --version), typecheck"
npm run -s typecheck
step "lint"
npm run -s lint
step "build"
npm run -s build
step "peers (first run builds Kubernetes, etcd, kwok, the metadata emulator and moto: 20-40 min)"
bash test/env/install-peers.sh
step "unit and integration tests"
node --test --test-reporter=spec --test-concurrency=2 --test-global-setup=test/env/global-setup.ts \
  'test/unit/**/*.test.ts' 'test/integration/**/*.test.ts'
