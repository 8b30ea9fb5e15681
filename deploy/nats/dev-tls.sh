#!/bin/sh
# Throwaway TLS material for NATS in development (deploy/README.md "NATS security"): a CA and one
# server certificate valid for the compose and Kubernetes NATS host names and localhost, also
# usable as a client certificate (cluster routes with verify). Never for production: there the
# certificates come from your PKI or cert-manager, in the Secret nats-tls.
#   deploy/nats/dev-tls.sh [out-dir]        # default: deploy/nats/tls (git-ignored)
# Writes ca.pem, ca-key.pem, server.pem, server-key.pem.
set -eu
out=${1:-$(dirname "$0")/tls}
mkdir -p "$out"
san="DNS:localhost,IP:127.0.0.1,DNS:nats,DNS:nats-1,DNS:nats-2,DNS:nats-3,DNS:nats-headless,DNS:*.nats-headless,DNS:*.nats-headless.clinisync.svc,DNS:*.nats-headless.clinisync-dev.svc"
openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj "/CN=clinisync-dev-nats-ca" \
  -keyout "$out/ca-key.pem" -out "$out/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=nats" -keyout "$out/server-key.pem" -out "$out/server.csr" 2>/dev/null
printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth,clientAuth\nbasicConstraints=CA:FALSE\n' "$san" > "$out/server.ext"
openssl x509 -req -in "$out/server.csr" -CA "$out/ca.pem" -CAkey "$out/ca-key.pem" -CAcreateserial -days 30 \
  -extfile "$out/server.ext" -out "$out/server.pem" 2>/dev/null
rm -f "$out/server.csr" "$out/server.ext" "$out/ca.srl"
# nats-server in the container runs as an unprivileged user: it must read the key.
chmod 644 "$out/server-key.pem"
echo "wrote $out/ca.pem, server.pem, server-key.pem"
