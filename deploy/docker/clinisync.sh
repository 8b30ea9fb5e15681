#!/bin/sh
# Entrypoint of the one CliniSync image: `clinisync <service>|migrate|healthcheck`.
# THE place that knows how a service is started: fix the command here, nowhere else
# (docker-compose.yml and the Kubernetes manifests only pass the service name).
set -eu

usage() {
  echo "usage: clinisync sync-ingest|audit|patients|pharmacy|inventory|migrate|healthcheck [live|ready]" >&2
  exit 64
}

[ "$#" -ge 1 ] || usage
cmd="$1"
shift

case "$cmd" in
  sync-ingest | audit | patients | pharmacy | inventory)
    # tsconfig-paths maps @clinisync/* to the compiled libs under dist/ (TS_NODE_BASEURL).
    export TS_NODE_BASEURL="${TS_NODE_BASEURL:-./dist}"
    exec node -r tsconfig-paths/register "dist/services/$cmd/src/main.js" "$@"
    ;;
  migrate)
    export TS_NODE_BASEURL="${TS_NODE_BASEURL:-./dist}"
    exec npm run --silent migrate -- "$@"
    ;;
  healthcheck)
    # Used by docker-compose healthchecks (the slim image has no curl). Kubernetes uses httpGet probes.
    probe="${1:-ready}"
    exec node -e '
      const url = `http://127.0.0.1:${process.env.PORT}/health/${process.argv[1]}`;
      fetch(url, { signal: AbortSignal.timeout(2500) })
        .then((r) => process.exit(r.ok ? 0 : 1))
        .catch(() => process.exit(1));
    ' "$probe"
    ;;
  *)
    usage
    ;;
esac
