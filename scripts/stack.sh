#!/usr/bin/env bash
# The local stack: PostgreSQL, Kafka, Schema Registry, Spark+Delta and its Databricks-shaped gateway.
#   stack.sh up      install what is missing, start what is not running (idempotent; repairs a half-started stack)
#   stack.sh down    stop what the stack started (by pid file); data is kept
#   stack.sh status  one line per service
#   stack.sh clean   down, then delete the data (downloads and installs are kept)
source "$(dirname "$0")/lib.sh"
S="$TL_ROOT/scripts/stack"
SERVICES=(postgres kafka registry spark warehouse)
OPTIONAL=(phoenix clickhouse seaweedfs)   # started on demand (platform tests, make demo); stopped and shown with the rest
TIMINGS="$TL_LOGS/start-timings.tsv"

up() {
  local s t0 pids=() failed=0
  # installs run one after another (they share Maven's and pip's caches), starts run in parallel
  for s in "${SERVICES[@]}"; do
    t0=$SECONDS; "$S/$s.sh" install || exit 1
    [ $((SECONDS - t0)) -gt 1 ] && say "  $s installed in $((SECONDS - t0))s"
  done
  for s in "${SERVICES[@]}"; do
    ( if "$S/$s.sh" status; then exit 0; fi
      local start; start=$(date +%s.%N)
      "$S/$s.sh" up || exit 1
      printf "%s\t%s\t%s\n" "$(date -u +%FT%TZ)" "$s" "$(awk -v a="$start" -v b="$(date +%s.%N)" "BEGIN{printf \"%.1f\", b-a}")" >> "$TIMINGS"
    ) & pids+=($!)
  done
  for p in "${pids[@]}"; do wait "$p" || failed=1; done
  [ $failed = 0 ] || { say "tracelake stack: not all services started; 'make status' shows which"; exit 1; }
  "$S/warehouse.sh" warm   # a new Spark process runs a small sink-shaped workload first (warehouse-warmup.ts)
  write_env
  status
}
# $TL_HOME/stack.env: the endpoints of the running stack, read by the tests and the demo.
write_env() {
  cat > "$TL_HOME/stack.env.tmp" <<ENV
TL_PG_URL=postgres://postgres@127.0.0.1:$TL_PG_PORT/postgres
TL_KAFKA_BROKERS=127.0.0.1:$TL_KAFKA_PORT
TL_KAFKA_SASL_SSL_BROKERS=127.0.0.1:$TL_KAFKA_SASL_SSL_PORT
TL_KAFKA_SASL_USER=$TL_KAFKA_SASL_USER
TL_KAFKA_SASL_PASSWORD=$TL_KAFKA_SASL_PASSWORD
TL_TLS_CA_FILE=$TL_TLS_DIR/local.crt
TL_REGISTRY_URL=http://127.0.0.1:$TL_REGISTRY_PORT/apis/ccompat/v7
TL_WAREHOUSE_HOST=127.0.0.1
TL_WAREHOUSE_PORT=$TL_WAREHOUSE_PORT
TL_WAREHOUSE_PATH=$TL_WAREHOUSE_PATH
TL_WAREHOUSE_TOKEN=$TL_WAREHOUSE_TOKEN
TL_WAREHOUSE_CA_FILE=$TL_TLS_DIR/local.crt
ENV
  mv "$TL_HOME/stack.env.tmp" "$TL_HOME/stack.env"
}
down() {
  local i s
  for s in "${OPTIONAL[@]}"; do "$S/$s.sh" down; done
  for ((i=${#SERVICES[@]}-1; i>=0; i--)); do "$S/${SERVICES[$i]}.sh" down; done
}
status() {
  local s state all=0
  printf '%-10s %-8s %-24s %s\n' SERVICE STATE ENDPOINT LOG >&2
  for s in "${SERVICES[@]}"; do
    if "$S/$s.sh" status; then state=up; else state=down; all=1; fi
    printf '%-10s %-8s %-24s %s\n' "$s" "$state" "$(endpoint "$s")" "$TL_LOGS/$s.log" >&2
  done
  for s in "${OPTIONAL[@]}"; do
    if "$S/$s.sh" status; then state=up; else state='(off)'; fi
    printf '%-10s %-8s %-24s %s\n' "$s" "$state" "$(endpoint "$s")" "$TL_LOGS/$s.log" >&2
  done
  return $all
}
endpoint() {
  case "$1" in
    postgres) echo "127.0.0.1:$TL_PG_PORT" ;;
    kafka) echo "127.0.0.1:$TL_KAFKA_PORT" ;;
    registry) echo "127.0.0.1:$TL_REGISTRY_PORT" ;;
    spark) echo "127.0.0.1:$TL_SPARK_PORT (https)" ;;
    warehouse) echo "127.0.0.1:$TL_WAREHOUSE_PORT (https)" ;;
    phoenix) echo "127.0.0.1:$TL_PHOENIX_PORT (http)" ;;
    clickhouse) echo "127.0.0.1:$TL_CLICKHOUSE_PORT (http), :$TL_CLICKHOUSE_TLS_PORT (https)" ;;
    seaweedfs)  echo "127.0.0.1:$TL_S3_PORT (s3), :$TL_S3_TLS_PORT (s3 https)" ;;
  esac
}
clean() {
  down
  rm -rf "$TL_HOME/postgres" "$TL_HOME/kafka/data" "$TL_HOME/registry/data" "$TL_HOME/spark/work" "$TL_HOME/phoenix/work" "$TL_RUN"
  say "tracelake stack: data removed (downloads and installs kept under $TL_HOME)"
}
"${1:?usage: stack.sh up|down|status|clean}"
