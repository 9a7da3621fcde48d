#!/usr/bin/env bash
# Demo: starts the local test ground and shows nthd handling a real
# interruption against it.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
# shellcheck source=setup.sh
. scripts/setup.sh
bash test/env/install-peers.sh
exec node scripts/demo.ts "$@"
