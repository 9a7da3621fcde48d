#!/usr/bin/env bash
# Generates the test ground's PKI into $1: a CA, the apiserver's serving
# certificate for 127.0.0.1/localhost, an admin client certificate
# (group system:masters) and the service-account signing key pair.
set -euo pipefail
dir="$1"
mkdir -p "$dir" && cd "$dir"
[[ -f admin.crt ]] && exit 0
o() { openssl "$@" 2>/dev/null; }
o req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 30 -subj "/CN=nthd-test-ca"
o req -newkey rsa:2048 -nodes -keyout apiserver.key -out apiserver.csr -subj "/CN=kube-apiserver"
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes.default.svc\nextendedKeyUsage=serverAuth\n' >apiserver.ext
o x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out apiserver.crt -days 30 -extfile apiserver.ext
o req -newkey rsa:2048 -nodes -keyout admin.key -out admin.csr -subj "/O=system:masters/CN=nthd-test-admin"
printf 'extendedKeyUsage=clientAuth\n' >client.ext
o x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out admin.crt -days 30 -extfile client.ext
o genrsa -out sa.key 2048
o rsa -in sa.key -pubout -out sa.pub
