#!/usr/bin/env bash
# Debezium's PostgreSQL connector on one Kafka Connect worker, for the benchmarks that compare it with ours
# (bench/debezium-compare.ts, bench/snapshot-compare.ts). Everything from Maven Central, into .cache/debezium/:
#   Kafka Connect  org.apache.kafka:connect-runtime (+ connect-json, connect-transforms), the stack's Kafka version
#   Debezium       io.debezium:debezium-connector-postgres:<v>:tar.gz:plugin (the connector's plugin archive)
#   Avro           io.apicurio:apicurio-registry-utils-converter, a Connect plugin of its own, writing the Confluent
#                  wire format through the stack's Apicurio registry (native v2 API; why: docs/benchmarks.md)
# install | up | down | status. REST API on 127.0.0.1:$TL_DBZ_CONNECT_PORT; the benchmarks create connectors there.
# Distributed mode (internal topics bench-dbz-connect-*), because Kafka 3.9.2's standalone herder cannot load a
# per-connector converter from plugin.path for a connector created through REST (ClassNotFoundException swallowed
# in StandaloneHerder.recomputeTaskConfigs: the task never starts). JVM flags are Kafka's defaults for Connect
# (connect-distributed.sh, kafka-run-class.sh): -Xms256M -Xmx2G and G1; TL_DBZ_HEAP_OPTS overrides the heap.
source "$(dirname "$0")/../lib.sh"
NAME=debezium
HERE="$TL_ROOT/scripts/bench/debezium"
TL_DEBEZIUM_VERSION="${TL_DEBEZIUM_VERSION:-3.2.3.Final}"          # newest 3.x line built against Kafka 3.9 (3.3+ target Kafka 4)
TL_APICURIO_CONVERTER_VERSION="${TL_APICURIO_CONVERTER_VERSION:-2.6.13.Final}"
TL_DBZ_CONNECT_PORT="${TL_DBZ_CONNECT_PORT:-18083}"
TL_DBZ_HEAP_OPTS="${TL_DBZ_HEAP_OPTS:--Xms256M -Xmx2G}"
# kafka-run-class.sh's default KAFKA_JVM_PERFORMANCE_OPTS
JVM_OPTS="-server -XX:+UseG1GC -XX:MaxGCPauseMillis=20 -XX:InitiatingHeapOccupancyPercent=35 -XX:+ExplicitGCInvokesConcurrent -XX:MaxInlineLevel=15 -Djava.awt.headless=true"
DIR="$TL_HOME/debezium"
LIBS="$DIR/connect-$TL_KAFKA_VERSION"
PLUGINS="$DIR/plugins-$TL_DEBEZIUM_VERSION-$TL_APICURIO_CONVERTER_VERSION"
LOG="$TL_LOGS/debezium.log"
ILOG="$TL_LOGS/debezium-install.log"
REST="http://127.0.0.1:$TL_DBZ_CONNECT_PORT"

install() {
  if [ -f "$LIBS/.complete" ] && [ -f "$PLUGINS/.complete" ]; then return 0; fi
  java_ok; need_mvn
  if [ ! -f "$LIBS/.complete" ]; then
    say "fetching Kafka Connect $TL_KAFKA_VERSION from Maven Central…"
    rm -rf "$LIBS"; mkdir -p "$LIBS"
    mvn_q -f "$HERE/pom.xml" -Dkafka.version="$TL_KAFKA_VERSION" dependency:copy-dependencies \
      -DoutputDirectory="$LIBS" -DincludeScope=runtime >>"$ILOG" 2>&1 \
      || die "download of Kafka Connect $TL_KAFKA_VERSION from Maven Central failed" "$ILOG"
    touch "$LIBS/.complete"
  fi
  say "fetching Debezium $TL_DEBEZIUM_VERSION and the Apicurio converter $TL_APICURIO_CONVERTER_VERSION from Maven Central…"
  rm -rf "$PLUGINS.tmp"; mkdir -p "$PLUGINS.tmp/apicurio-converter"
  local tgz="$TL_M2_REPO/io/debezium/debezium-connector-postgres/$TL_DEBEZIUM_VERSION/debezium-connector-postgres-$TL_DEBEZIUM_VERSION-plugin.tar.gz"
  [ -f "$tgz" ] || mvn_get "io.debezium:debezium-connector-postgres:$TL_DEBEZIUM_VERSION:tar.gz:plugin" "$ILOG"
  tar -xzf "$tgz" -C "$PLUGINS.tmp" || die "could not unpack $tgz" "$ILOG"
  mvn_q -f "$HERE/converter-pom.xml" -Dapicurio.converter.version="$TL_APICURIO_CONVERTER_VERSION" dependency:copy-dependencies \
    -DoutputDirectory="$PLUGINS.tmp/apicurio-converter" -DincludeScope=runtime >>"$ILOG" 2>&1 \
    || die "download of the Apicurio converter $TL_APICURIO_CONVERTER_VERSION from Maven Central failed" "$ILOG"
  touch "$PLUGINS.tmp/.complete"
  rm -rf "$PLUGINS"; mv "$PLUGINS.tmp" "$PLUGINS"
}
config() {
  mkdir -p "$DIR"
  cat > "$DIR/worker.properties" <<PROPS
bootstrap.servers=127.0.0.1:$TL_KAFKA_PORT
listeners=http://127.0.0.1:$TL_DBZ_CONNECT_PORT
plugin.path=$PLUGINS
group.id=bench-dbz-connect
config.storage.topic=bench-dbz-connect-configs
offset.storage.topic=bench-dbz-connect-offsets
status.storage.topic=bench-dbz-connect-status
config.storage.replication.factor=1
offset.storage.replication.factor=1
status.storage.replication.factor=1
key.converter=org.apache.kafka.connect.json.JsonConverter
value.converter=org.apache.kafka.connect.json.JsonConverter
PROPS
}
# ready: the REST API answers, lists Debezium's connector (plugins are scanned before the API starts) and the
# worker has joined its group (GET /connectors answers only then).
ready() { curl -sf "$REST/connector-plugins" | grep -q 'io.debezium.connector.postgresql.PostgresConnector' && curl -sf "$REST/connectors" >/dev/null; }
up() {
  if is_running $NAME && ready; then return 0; fi
  stop_pid $NAME
  install; config
  local java; java="$(java_min 17)"   # Debezium 3 needs Java 17
  ensure_port_free debezium-connect "$TL_DBZ_CONNECT_PORT"
  # shellcheck disable=SC2086 # the option strings are word lists
  start_bg $NAME "$LOG" "$java" $TL_DBZ_HEAP_OPTS $JVM_OPTS -Dlog4j.configuration="file:$HERE/connect-log4j.properties" \
    -cp "$LIBS/*" org.apache.kafka.connect.cli.ConnectDistributed "$DIR/worker.properties"
  wait_until debezium-connect 180 "$LOG" $NAME ready
}
down() { stop_pid $NAME; }
status() { is_running $NAME && ready; }
case "${1:-}" in
  install|up|down|status) "$1" ;;
  *) say "usage: scripts/bench/debezium.sh install|up|down|status"; exit 2 ;;
esac
