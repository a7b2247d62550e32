#!/usr/bin/env bash
# PostgreSQL (Debian package) on its own data dir and port, wal_level=logical. up | down | status
source "$(dirname "$0")/../lib.sh"
NAME=postgres
DIR="$TL_HOME/postgres"; DATA="$DIR/data"; LOG="$TL_LOGS/postgres.log"

pg_bin() {
  local b; b="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  if [ -z "$b" ]; then
    say "installing PostgreSQL from Debian packages…"
    { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y postgresql; } >>"$TL_LOGS/postgres-install.log" 2>&1 \
      || die "apt-get install postgresql failed" "$TL_LOGS/postgres-install.log"
    b="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
  fi
  echo "$b"
}
# initdb and the server refuse to run as root: run them as the postgres user when we are root.
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
ready() { "$BIN/pg_isready" -q -h 127.0.0.1 -p "$TL_PG_PORT"; }

up() {
  BIN="$(pg_bin)"
  if is_running $NAME && ready; then return 0; fi
  mkdir -p "$DIR"
  [ "$(id -u)" = 0 ] && chown postgres "$DIR" "$TL_LOGS" && touch "$LOG" && chown postgres "$LOG"
  if [ ! -f "$DATA/PG_VERSION" ]; then
    rm -rf "$DATA"
    as_pg "$BIN/initdb" -D "$DATA" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >>"$LOG" 2>&1 \
      || die "initdb failed" "$LOG"
  fi
  # TLS with the stack's certificate (clients verify it with sslrootcert=$TL_TLS_DIR/local.crt); plain
  # connections stay allowed
  ensure_tls
  cp "$TL_TLS_DIR/local.crt" "$DATA/server.crt" && cp "$TL_TLS_DIR/local.key" "$DATA/server.key" && chmod 600 "$DATA/server.key"
  [ "$(id -u)" = 0 ] && chown postgres "$DATA/server.crt" "$DATA/server.key"
  # a half-started stack: a stale postmaster.pid without a live server is removed by pg_ctl itself;
  # a live server we did not record is adopted only if it answers on our port from our data dir.
  if ready; then
    local pid; pid="$(head -n 1 "$DATA/postmaster.pid" 2>/dev/null || true)"
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then echo "$pid" > "$(pidfile $NAME)"; return 0; fi
    die "postgres: port 127.0.0.1:$TL_PG_PORT answers but it is not our server (data dir $DATA)"
  fi
  ensure_port_free postgres "$TL_PG_PORT"
  as_pg "$BIN/pg_ctl" -D "$DATA" -l "$LOG" -w -t 60 start -o "-c listen_addresses=127.0.0.1 -p $TL_PG_PORT \
    -k $DIR -c wal_level=logical -c max_replication_slots=20 -c max_wal_senders=20 \
    -c max_connections=200 -c wal_sender_timeout=60s -c fsync=on -c ssl=on -c ssl_cert_file=server.crt -c ssl_key_file=server.key" >/dev/null \
    || die "postgres did not start" "$LOG"
  head -n 1 "$DATA/postmaster.pid" > "$(pidfile $NAME)"
  wait_until postgres 30 "$LOG" $NAME ready
}
down() {
  BIN="$(pg_bin)"
  if [ -f "$DATA/postmaster.pid" ] && is_running $NAME; then
    # fast waits for logical walsenders to be confirmed; if that takes long, stop immediately (crash
    # recovery at the next start) rather than kill the postmaster and leave its children holding memory
    as_pg "$BIN/pg_ctl" -D "$DATA" -m fast -w -t 20 stop >/dev/null 2>&1 \
      || as_pg "$BIN/pg_ctl" -D "$DATA" -m immediate -w -t 30 stop >/dev/null 2>&1 || stop_pid $NAME
  fi
  rm -f "$(pidfile $NAME)"
}
status() { BIN="$(pg_bin)"; is_running $NAME && ready; }
install() { pg_bin >/dev/null; }
"${1:?usage: postgres.sh install|up|down|status}"
