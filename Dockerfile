# syntax=docker/dockerfile:1
# One image for every CliniSync service. The service is picked by the command:
#   docker run clinisync/app sync-ingest | audit | patients | pharmacy | inventory | migrate
# deploy/docker/clinisync.sh (installed as /usr/local/bin/clinisync) holds the exact start command.
ARG NODE_IMAGE=node:20-slim

# --- npm manifests only, so the npm ci layers below stay cached until a package.json or the
# --- lockfile changes (workspaces need every libs/*/package.json and services/*/package.json).
FROM ${NODE_IMAGE} AS manifests
WORKDIR /src
COPY . .
RUN find . -mindepth 1 -type f ! -name package.json ! -name package-lock.json -delete \
 && find . -mindepth 1 -type d -empty -delete

# --- all dependencies, for the build
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY --from=manifests /src/ ./
RUN npm ci --no-audit --no-fund

# --- compile TypeScript to dist/
FROM deps AS build
COPY . .
RUN npm run build

# --- production dependencies only
FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY --from=manifests /src/ ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

# --- runtime
FROM ${NODE_IMAGE} AS runtime
# tini as PID 1 forwards SIGTERM to node and reaps zombies (Kubernetes has no `init: true`).
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production \
    CLINISYNC_HOME=/app \
    npm_config_cache=/tmp/.npm \
    npm_config_update_notifier=false
WORKDIR /app
# Code and dependencies stay owned by root: the service user can read but not modify them.
COPY --from=prod-deps /app/ ./
COPY --from=build /app/dist ./dist
COPY deploy/docker/register-dist-paths.js ./register-dist-paths.js
COPY deploy/docker/clinisync.sh /usr/local/bin/clinisync
RUN chmod 0755 /usr/local/bin/clinisync
USER node
# sync-ingest, audit (public); patients, pharmacy, inventory (health/metrics/internal only)
EXPOSE 3100 3200 3101 3102 3103
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/clinisync"]
