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
# Where the Dockerfile puts the app (dist/, node_modules/, register-dist-paths.js).
app_home="${CLINISYNC_HOME:-/app}"

case "$cmd" in
  sync-ingest | audit | patients | pharmacy | inventory)
    # V8 options per service, as tools/runtime/service-node-args.ts sets them (a test keeps the
    # two equal): sync-ingest's heap ceiling (unless NODE_OPTIONS sets one) and growth factor.
    node_args=""
    if [ "$cmd" = sync-ingest ]; then
      case "${NODE_OPTIONS:-}" in
        *--max-old-space-size*) ;;
        *) node_args="--max-old-space-size=256" ;;
      esac
      node_args="$node_args --heap-growing-percent=100"
    fi
    # tools/runtime/run-service maps the @clinisync/* aliases to the compiled libs under dist/.
    # shellcheck disable=SC2086 # node_args is empty or options without spaces
    exec node $node_args "$app_home/dist/tools/runtime/run-service.js" "$cmd" "$@"
    ;;
  migrate)
    # = `npm run migrate`, compiled: the image has no ts-node (a dev dependency).
    exec node -r "$app_home/register-dist-paths.js" "$app_home/dist/tools/migrate/migrate.js" "$@"
    ;;
  healthcheck)
    # Used by docker-compose healthchecks (the slim image has no curl). Kubernetes uses httpGet probes.
    probe="${1:-ready}"
    # shellcheck disable=SC2016 # the single-quoted text is JavaScript, not shell
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
