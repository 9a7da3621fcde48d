# Pinned versions of the real peers the test ground runs. Bump here only.
KUBE_VERSION=v1.35.4
ETCD_VERSION=v3.6.16
KWOK_VERSION=v0.8.0
AEMM_VERSION=v1.13.0
MOTO_VERSION=5.2.5
HELM_VERSION=v3.22.0
PROMTOOL_VERSION=v0.316.0
# The Prometheus server is built from the same module version as promtool.
PROMETHEUS_VERSION=v0.316.0
ACTIONLINT_VERSION=v1.7.12
KUBECONFORM_VERSION=v0.7.0
TOXIPROXY_VERSION=v2.5.0
NTHD_CACHE="${NTHD_CACHE:-$HOME/.cache/nthd}"
