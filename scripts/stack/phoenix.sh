#!/usr/bin/env bash
# Arize Phoenix (PyPI arize-phoenix[pg]) on the stack's Postgres (database "phoenix"), for the platform
# tests and the demo. Not part of `make up`: `scripts/stack/phoenix.sh up` (the tests call it). up | down | status
source "$(dirname "$0")/../lib.sh"
NAME=phoenix
DIR="$TL_HOME/phoenix"; VENV="$DIR/venv-$TL_PHOENIX_VERSION"; LOG="$TL_LOGS/phoenix.log"

install() {
  [ -f "$VENV/.complete" ] && return 0
  need python3 "python3 is missing: apt-get install -y python3 python3-venv"
  say "installing arize-phoenix[pg] $TL_PHOENIX_VERSION and the OpenTelemetry SDK from PyPI…"
  rm -rf "$VENV"
  { python3 -m venv "$VENV" && "$VENV/bin/pip" install -q "arize-phoenix[pg]==$TL_PHOENIX_VERSION" \
      "opentelemetry-sdk==$TL_OTEL_VERSION" "opentelemetry-exporter-otlp-proto-http==$TL_OTEL_VERSION"; } >>"$TL_LOGS/phoenix-install.log" 2>&1 \
    || die "pip install arize-phoenix[pg]==$TL_PHOENIX_VERSION failed" "$TL_LOGS/phoenix-install.log"
  touch "$VENV/.complete"
}
ready() { curl -sf "http://127.0.0.1:$TL_PHOENIX_PORT/healthz" >/dev/null; }
up() {
  if is_running $NAME && ready; then return 0; fi
  stop_pid $NAME
  install
  "$TL_ROOT/scripts/stack/postgres.sh" status || die "phoenix needs the stack's Postgres: run make up first"
  psql_db() { PGPASSWORD='' psql -h 127.0.0.1 -p "$TL_PG_PORT" -U postgres -At "$@"; }
  [ "$(psql_db -c "SELECT 1 FROM pg_database WHERE datname = 'phoenix'")" = 1 ] || psql_db -c 'CREATE DATABASE phoenix' >/dev/null \
    || die "could not create the phoenix database" "$LOG"
  ensure_port_free phoenix "$TL_PHOENIX_PORT"
  mkdir -p "$DIR/work"
  start_bg $NAME "$LOG" env PHOENIX_SQL_DATABASE_URL="postgresql://postgres@127.0.0.1:$TL_PG_PORT/phoenix" \
    PHOENIX_HOST=127.0.0.1 PHOENIX_PORT="$TL_PHOENIX_PORT" PHOENIX_GRPC_PORT="$TL_PHOENIX_GRPC_PORT" \
    PHOENIX_WORKING_DIR="$DIR/work" PHOENIX_TELEMETRY_ENABLED=false \
    "$VENV/bin/phoenix" serve
  wait_until phoenix 120 "$LOG" $NAME ready
}
down() { stop_pid $NAME; }
status() { is_running $NAME && ready; }
"${1:?usage: phoenix.sh install|up|down|status}"
