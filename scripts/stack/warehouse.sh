#!/usr/bin/env bash
# The Databricks-shaped HTTPS endpoint (scripts/stack/warehouse-gateway) in front of Spark. up | down | status
source "$(dirname "$0")/../lib.sh"
NAME=warehouse
LOG="$TL_LOGS/warehouse.log"
ready() { grep -q '"msg":"listening"' "$LOG" && port_open "$TL_WAREHOUSE_PORT"; }
up() {
  if is_running $NAME && ready; then return 0; fi
  stop_pid $NAME
  install
  local node; node="$("$TL_ROOT/scripts/node.sh")/node"
  ensure_port_free warehouse "$TL_WAREHOUSE_PORT"
  start_bg $NAME "$LOG" env TL_WAREHOUSE_PORT="$TL_WAREHOUSE_PORT" TL_WAREHOUSE_PATH="$TL_WAREHOUSE_PATH" \
    TL_WAREHOUSE_TOKEN="$TL_WAREHOUSE_TOKEN" TL_SPARK_PORT="$TL_SPARK_PORT" TL_TLS_DIR="$TL_TLS_DIR" \
    "$node" "$TL_ROOT/scripts/stack/warehouse-gateway/main.ts"
  wait_until warehouse 30 "$LOG" $NAME ready
}
# Once per Spark process (stack.sh runs it when every service is up): a small sink-shaped workload, so the first real MERGEs do not pay for Spark's first
# use of its code paths (scripts/stack/warehouse-warmup.ts). A failure is logged, not fatal.
warm() {
  local spark marker node
  spark="$(cat "$(pidfile spark)" 2>/dev/null)" || return 0
  marker="$TL_RUN/warehouse-warm.$spark"
  [ -f "$marker" ] && return 0
  node="$("$TL_ROOT/scripts/node.sh")/node"
  if "$node" "$TL_ROOT/scripts/stack/warehouse-warmup.ts" "$TL_WAREHOUSE_PORT" "$TL_WAREHOUSE_PATH" "$TL_WAREHOUSE_TOKEN" "$TL_TLS_DIR/local.crt" \
      >> "$TL_LOGS/warehouse-warmup.log" 2>&1; then
    touch "$marker"
  else
    say "  warehouse: warm-up failed (see $TL_LOGS/warehouse-warmup.log); the first statements will be slower"
  fi
}
install() {
  ensure_tls
  [ -d "$TL_ROOT/node_modules/@databricks/sql" ] || die "node_modules is missing: run 'make deps' first"
}
down() { stop_pid $NAME; }
status() { is_running $NAME && ready; }
"${1:?usage: warehouse.sh install|up|down|status|warm}"
