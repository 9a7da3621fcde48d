#!/usr/bin/env bash
# Builds (once per machine) every real peer the test ground runs, into
# $NTHD_CACHE/bin/<name>-<version>. Only the Go module proxy and PyPI are used.
# Usage: install-peers.sh [kube|kubectl|etcd|kwok|aemm|moto|helm|promtool|prometheus|kubeconform|actionlint|toxiproxy ...]
# (default: all)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
# shellcheck source=versions.sh
. "$here/versions.sh"
bin="$NTHD_CACHE/bin"
mkdir -p "$bin" "$NTHD_CACHE/build"
export GOFLAGS=-mod=mod CGO_ENABLED=0
log() { printf '[peers] %s\n' "$*" >&2; }

build_kube() {
  local v="$KUBE_VERSION" minor="${KUBE_VERSION#v1.}"
  minor="${minor%%.*}"
  if [[ -x "$bin/kube-apiserver-$v" && -x "$bin/kube-controller-manager-$v" && -x "$bin/kube-scheduler-$v" ]]; then
    log "kubernetes $v: cached"; return
  fi
  local dir="$NTHD_CACHE/build/kube-$v"
  mkdir -p "$dir"
  log "kubernetes $v: fetching k8s.io/kubernetes go.mod"
  (cd "$dir" && go mod download -json "k8s.io/kubernetes@$v" >/dev/null)
  local kmod
  kmod="$(go env GOMODCACHE)/cache/download/k8s.io/kubernetes/@v/$v.mod"
  # k8s.io/kubernetes requires its staging modules at v0.0.0 and replaces them
  # with local paths; pin each to the published v0.<minor>.<patch> instead.
  local staging_version="v0.${v#v1.}"
  {
    echo "module nthd.local/kubepeers"
    grep -E '^go [0-9]' "$kmod"
    grep -E '^godebug ' "$kmod" | sort -u
    echo "require k8s.io/kubernetes $v"
    grep -oE '^\s*k8s\.io/[a-z0-9-]+ => \./staging' "$kmod" | awk '{print $1}' | sort -u |
      while read -r m; do echo "replace $m => $m $staging_version"; done
  } >"$dir/go.mod"
  cat >"$dir/tools.go" <<'GO'
//go:build tools

package tools

import (
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kube-scheduler"
)
GO
  log "kubernetes $v: resolving modules (a few hundred MB on first run)"
  (cd "$dir" && go mod tidy -e >/dev/null 2>"$dir/tidy.log" || true)
  local ld="-s -w -X k8s.io/component-base/version.gitVersion=$v -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/client-go/pkg/version.gitVersion=$v"
  for c in kube-apiserver kube-controller-manager kube-scheduler; do
    [[ -x "$bin/$c-$v" ]] && continue
    log "kubernetes $v: compiling $c (first build takes several minutes)"
    (cd "$dir" && go build -tags tools -trimpath -ldflags "$ld" -o "$bin/$c-$v.tmp" "k8s.io/kubernetes/cmd/$c")
    mv "$bin/$c-$v.tmp" "$bin/$c-$v"
  done
}

# kubectl from the same wrapper module as the control plane (kOps switch-over tests run the
# documented kubectl commands). It shares kube's build directory, so it takes kube's lock.
build_kubectl() {
  local v="$KUBE_VERSION"
  [[ -x "$bin/kubectl-$v" ]] && { log "kubectl $v: cached"; return; }
  (
    flock 8
    build_kube
    log "kubectl $v: compiling"
    local minor="${v#v1.}"
    minor="${minor%%.*}"
    local ld="-s -w -X k8s.io/component-base/version.gitVersion=$v -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=$minor -X k8s.io/client-go/pkg/version.gitVersion=$v"
    (cd "$NTHD_CACHE/build/kube-$v" && go build -trimpath -ldflags "$ld" -o "$bin/kubectl-$v.tmp" k8s.io/kubernetes/cmd/kubectl)
    mv "$bin/kubectl-$v.tmp" "$bin/kubectl-$v"
  ) 8>"$NTHD_CACHE/.install-kube.lock"
}

build_etcd() {
  local v="$ETCD_VERSION"
  [[ -x "$bin/etcd-$v" ]] && { log "etcd $v: cached"; return; }
  local dir="$NTHD_CACHE/build/etcd-$v"
  mkdir -p "$dir"
  printf 'module nthd.local/etcdpeer\n\ngo 1.25\n\nrequire go.etcd.io/etcd/server/v3 %s\n' "$v" >"$dir/go.mod"
  printf '//go:build tools\n\npackage tools\n\nimport _ "go.etcd.io/etcd/server/v3"\n' >"$dir/tools.go"
  log "etcd $v: building"
  (cd "$dir" && go mod tidy -e >/dev/null 2>&1 || true; go build -tags tools -trimpath -ldflags "-s -w" -o "$bin/etcd-$v.tmp" go.etcd.io/etcd/server/v3)
  mv "$bin/etcd-$v.tmp" "$bin/etcd-$v"
}

go_install() { # name module version
  local name="$1" mod="$2" v="$3"
  [[ -x "$bin/$name-$v" ]] && { log "$name $v: cached"; return; }
  log "$name $v: building"
  GOBIN="$NTHD_CACHE/build/gobin-$name-$v" go install -trimpath -ldflags "-s -w" "$mod@$v"
  mv "$NTHD_CACHE/build/gobin-$name-$v/$(basename "$mod")" "$bin/$name-$v"
}

# The fault layer's TCP proxy: refuses, resets, hangs or delays connections on command.
build_toxiproxy() { go_install toxiproxy-server github.com/Shopify/toxiproxy/v2/cmd/server "$TOXIPROXY_VERSION"; }

build_kwok() {
  go_install kwok sigs.k8s.io/kwok/cmd/kwok "$KWOK_VERSION"
  # The stage documents ship inside the module; keep a copy beside the binary.
  local stages="$NTHD_CACHE/kwok-stages-$KWOK_VERSION"
  if [[ ! -d "$stages" ]]; then
    local src
    src="$(GOFLAGS= go env GOMODCACHE)/sigs.k8s.io/kwok@$KWOK_VERSION/kustomize/stage"
    mkdir -p "$stages" && cp -r "$src"/. "$stages"/ && chmod -R u+w "$stages"
  fi
}

build_aemm() { go_install ec2-metadata-mock github.com/aws/amazon-ec2-metadata-mock/cmd/ec2-metadata-mock "$AEMM_VERSION"; }
build_helm() { go_install helm helm.sh/helm/v3/cmd/helm "$HELM_VERSION"; }
build_promtool() { go_install promtool github.com/prometheus/prometheus/cmd/promtool "$PROMTOOL_VERSION"; }
# The Prometheus server (API only: the web UI's assets are not embedded without the
# builtinassets tag, and the tests need none of it).
build_prometheus() { go_install prometheus github.com/prometheus/prometheus/cmd/prometheus "$PROMETHEUS_VERSION"; }
build_actionlint() { go_install actionlint github.com/rhysd/actionlint/cmd/actionlint "$ACTIONLINT_VERSION"; }
build_kubeconform() { go_install kubeconform github.com/yannh/kubeconform/cmd/kubeconform "$KUBECONFORM_VERSION"; }

build_moto() {
  local venv="$NTHD_CACHE/moto-$MOTO_VERSION"
  [[ -f "$venv/.complete" ]] && { log "moto $MOTO_VERSION: cached"; return; }
  log "moto $MOTO_VERSION: installing into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION"
  touch "$venv/.complete"
}

peers=("$@")
[[ ${#peers[@]} -eq 0 ]] && peers=(moto aemm kwok etcd helm promtool kubeconform actionlint toxiproxy kube kubectl prometheus)
# One installer per peer at a time (parallel runs share the cache).
for p in "${peers[@]}"; do
  (
    flock 9
    "build_$p"
  ) 9>"$NTHD_CACHE/.install-$p.lock"
done
log "all requested peers ready in $bin"
