#!/usr/bin/env bash
# ClickHouse for the local stack: the ClickHouse 26.9 engine of PyPI's chdb-core, behind ClickHouse's HTTP interface
# (scripts/stack/clickhouse-http.py) on 127.0.0.1:$TL_CLICKHOUSE_PORT and, with the stack's certificate, HTTPS on
# $TL_CLICKHOUSE_TLS_PORT. Clients use the official drivers as against a server: user `default` (password
# $TL_CLICKHOUSE_PASSWORD) or the read-only $TL_CLICKHOUSE_READER_USER. Data: $TL_HOME/clickhouse/data.
# Not part of `make up`. install | up | down | status | env
source "$(dirname "$0")/../lib.sh"
NAME=clickhouse
DIR="$TL_HOME/clickhouse"; VENV="$DIR/venv-$TL_CLICKHOUSE_VERSION"; DATA="$DIR/data"; USERS="$DIR/users.json"
LOG="$TL_LOGS/clickhouse.log"; INSTALL_LOG="$TL_LOGS/clickhouse-install.log"
FRONT="$TL_ROOT/scripts/stack/clickhouse-http.py"

install() {
  # --no-deps: chdb-core declares pandas and pyarrow for its DataFrame/Arrow helpers, which the front never uses.
  pip_venv "$VENV" "$INSTALL_LOG" "chdb-core $TL_CLICKHOUSE_VERSION (the ClickHouse engine, ~180 MB)" "python -c 'import chdb._chdb'" \
    --no-deps "chdb-core==$TL_CLICKHOUSE_VERSION"
}

# users.json for the front: the admin `default` and the reader (readonly = 2: no writes, but it may set its own
# query settings, as the connector does — a server profile with readonly = 2), passwords as SHA-256 (the front re-reads
# the file when it changes, so a new password in the environment takes effect at the next `up`).
write_users() {
  mkdir -p "$DIR"
  ( umask 077
    CH_ADMIN_PASSWORD="$TL_CLICKHOUSE_PASSWORD" CH_READER_USER="$TL_CLICKHOUSE_READER_USER" \
    CH_READER_PASSWORD="$TL_CLICKHOUSE_READER_PASSWORD" "$VENV/bin/python" - "$USERS.tmp" <<'PY'
import hashlib, json, os, sys
h = lambda p: hashlib.sha256(p.encode()).hexdigest()
users = {"default": {"password_sha256_hex": h(os.environ["CH_ADMIN_PASSWORD"]), "readonly": 0},
         os.environ["CH_READER_USER"]: {"password_sha256_hex": h(os.environ["CH_READER_PASSWORD"]), "readonly": 2}}
with open(sys.argv[1], "w") as f:
    json.dump({"users": users}, f, indent=2)
PY
  ) && mv -f "$USERS.tmp" "$USERS" || die "could not write $USERS"
}

ready() {
  curl -sf -m 5 "http://127.0.0.1:$TL_CLICKHOUSE_PORT/ping" >/dev/null \
    && curl -sf -m 5 --cacert "$TL_TLS_DIR/local.crt" "https://127.0.0.1:$TL_CLICKHOUSE_TLS_PORT/ping" >/dev/null
}

# The front we started, even when its pid file was lost: the pid it records in the data directory, if that process
# is our front on our data directory.
own_front() {
  local pid; pid="$(cat "$DIR/front.pid" 2>/dev/null)" || return 1
  kill -0 "$pid" 2>/dev/null && tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "--data $DATA " \
    && echo "$pid"
}

up() {
  need curl "curl is missing: apt-get install -y curl"
  if is_running $NAME && ready; then write_users; return 0; fi
  # a half-started front (alive but not answering on both ports) is stopped and started again
  stop_pid $NAME
  install
  ensure_tls
  local pid
  if pid="$(own_front)"; then
    if ready; then echo "$pid" > "$(pidfile $NAME)"; return 0; fi
    kill -TERM "$pid" 2>/dev/null; for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  ensure_port_free clickhouse "$TL_CLICKHOUSE_PORT"
  ensure_port_free clickhouse "$TL_CLICKHOUSE_TLS_PORT"
  mkdir -p "$DATA"
  write_users
  start_bg $NAME "$LOG" env TZ=UTC "$VENV/bin/python" "$FRONT" --data "$DATA" --users "$USERS" \
    --host 127.0.0.1 --http-port "$TL_CLICKHOUSE_PORT" --https-port "$TL_CLICKHOUSE_TLS_PORT" \
    --cert "$TL_TLS_DIR/local.crt" --key "$TL_TLS_DIR/local.key" --pid-file "$DIR/front.pid"
  wait_until clickhouse 60 "$LOG" $NAME ready
}
down() { stop_pid $NAME; }
status() { is_running $NAME && ready; }
# `env`: the endpoints and credentials, one KEY=value a line (read by the tests, test/support/clickhouse.ts)
print_env() {
  cat <<ENV
TL_CLICKHOUSE_URL=http://127.0.0.1:$TL_CLICKHOUSE_PORT
TL_CLICKHOUSE_HTTPS_URL=https://127.0.0.1:$TL_CLICKHOUSE_TLS_PORT
TL_CLICKHOUSE_USER=default
TL_CLICKHOUSE_PASSWORD=$TL_CLICKHOUSE_PASSWORD
TL_CLICKHOUSE_READER_USER=$TL_CLICKHOUSE_READER_USER
TL_CLICKHOUSE_READER_PASSWORD=$TL_CLICKHOUSE_READER_PASSWORD
TL_CLICKHOUSE_CA_FILE=$TL_TLS_DIR/local.crt
ENV
}
cmd="${1:?usage: clickhouse.sh install|up|down|status|env}"
[ "$cmd" = env ] && cmd=print_env
"$cmd"
