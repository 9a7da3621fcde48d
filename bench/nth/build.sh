#!/usr/bin/env bash
# Builds aws-node-termination-handler (the incumbent) from its Go module, once
# per machine, into $NTHD_CACHE/bin/nth-<version>, so the benchmarks can run it
# side by side with nthd. Only the Go module proxy is used.
# Usage: bench/nth/build.sh [version]   (default: the pinned release below)
set -euo pipefail
NTH_VERSION="${1:-${NTH_VERSION:-v1.25.6}}"
NTHD_CACHE="${NTHD_CACHE:-$HOME/.cache/nthd}"
bin="$NTHD_CACHE/bin"
out="$bin/nth-$NTH_VERSION"
log() { printf '[nth-build] %s\n' "$*" >&2; }
mkdir -p "$bin" "$NTHD_CACHE/build"
if [[ -x "$out" ]]; then
  log "nth $NTH_VERSION: cached at $out"
  echo "$out"
  exit 0
fi
# `go install module/cmd@version` asks the proxy for the module's version list
# (to check deprecation), which the proxy here refuses; a small wrapper module
# that requires the pinned release and builds its main package avoids that.
# The release's go.mod has no replace directives, so nothing else is needed.
dir="$NTHD_CACHE/build/nth-$NTH_VERSION"
mkdir -p "$dir"
printf 'module nthd.local/nthpeer\n\ngo 1.25\n\nrequire github.com/aws/aws-node-termination-handler %s\n' \
  "$NTH_VERSION" >"$dir/go.mod"
printf '//go:build tools\n\npackage tools\n\nimport _ "github.com/aws/aws-node-termination-handler/cmd"\n' \
  >"$dir/tools.go"
log "nth $NTH_VERSION: resolving modules"
(cd "$dir" && GOFLAGS=-mod=mod go mod tidy -e >"$dir/tidy.log" 2>&1 || true)
log "nth $NTH_VERSION: compiling (first build takes minutes)"
(cd "$dir" && CGO_ENABLED=0 GOFLAGS=-mod=mod nice -n 10 go build -tags tools -trimpath \
  -ldflags "-s -w" -o "$out.tmp" github.com/aws/aws-node-termination-handler/cmd)
mv "$out.tmp" "$out"
log "nth $NTH_VERSION: built $out"
echo "$out"
