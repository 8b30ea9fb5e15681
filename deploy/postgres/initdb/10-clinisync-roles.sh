#!/bin/sh
# docker-compose only: runs once, when the postgres container initialises an empty data volume.
# Creates the two non-owner login roles the services use (grants on the schemas are the
# migrations' job). Idempotent, so migrations may also create/alter these roles.
set -eu

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
  -v app_user="${CLINISYNC_APP_USER:-clinisync_app}" \
  -v app_password="${CLINISYNC_APP_PASSWORD:-clinisync_app}" \
  -v relay_user="${CLINISYNC_RELAY_USER:-clinisync_relay}" \
  -v relay_password="${CLINISYNC_RELAY_PASSWORD:-clinisync_relay}" <<'SQL'
SELECT format('CREATE ROLE %I LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD %L', :'app_user', :'app_password')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'app_user') \gexec
SELECT format('CREATE ROLE %I LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD %L', :'relay_user', :'relay_password')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = :'relay_user') \gexec
SELECT format('GRANT CONNECT ON DATABASE %I TO %I, %I', current_database(), :'app_user', :'relay_user') \gexec
SQL
