#!/usr/bin/env bash
# Start a throwaway PostgreSQL server for the store tests and print its URL.
# Installs the Debian package first when it is missing. Used by .ci/run.
set -euo pipefail
if ! ls -d /usr/lib/postgresql/*/bin > /dev/null 2>&1; then
    apt-get update -qq > /dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql > /dev/null
fi
BIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
DATA=${VIGIL_CI_PGDATA:-/tmp/vigil-ci-pg}
PORT=${VIGIL_CI_PGPORT:-54329}
if [ -f "$DATA/postmaster.pid" ]; then
    su postgres -c "$BIN/pg_ctl -D $DATA -m immediate stop" > /dev/null 2>&1 || true
fi
rm -rf "$DATA"
mkdir -p "$DATA"
chown postgres "$DATA"
su postgres -c "$BIN/initdb -D $DATA -A trust -U postgres" > /dev/null
su postgres -c "$BIN/pg_ctl -D $DATA -o '-p $PORT -k /tmp -c listen_addresses=127.0.0.1' -l $DATA/log -w start" > /dev/null
echo "postgresql+psycopg://postgres@127.0.0.1:$PORT/postgres"
