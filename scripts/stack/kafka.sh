#!/usr/bin/env bash
# Apache Kafka, single-node KRaft (broker+controller in one JVM), jars from Maven Central. up | down | status
source "$(dirname "$0")/../lib.sh"
NAME=kafka
HERE="$TL_ROOT/scripts/stack/kafka"
DIR="$TL_HOME/kafka"; LIBS="$DIR/libs-$TL_KAFKA_VERSION"; DATA="$DIR/data"; LOG="$TL_LOGS/kafka.log"
LOG4J="-Dlog4j.configuration=file:$HERE/log4j.properties"

install() {
  [ -f "$LIBS/.complete" ] && return 0
  java_ok; need_mvn
  rm -rf "$LIBS"; mkdir -p "$LIBS"
  say "fetching Kafka $TL_KAFKA_VERSION jars from Maven Central…"
  mvn_q -f "$HERE/pom.xml" -Dkafka.version="$TL_KAFKA_VERSION" dependency:copy-dependencies \
    -DoutputDirectory="$LIBS" -DincludeScope=runtime >>"$TL_LOGS/kafka-install.log" 2>&1 \
    || die "download of Kafka $TL_KAFKA_VERSION from Maven Central failed" "$TL_LOGS/kafka-install.log"
  touch "$LIBS/.complete"
}
config() {
  mkdir -p "$DATA"
  cat > "$DIR/server.properties" <<PROPS
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$TL_KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$TL_KAFKA_PORT,CONTROLLER://127.0.0.1:$TL_KAFKA_CONTROLLER_PORT,SASL_SSL://127.0.0.1:$TL_KAFKA_SASL_SSL_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$TL_KAFKA_PORT,SASL_SSL://127.0.0.1:$TL_KAFKA_SASL_SSL_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL
sasl.enabled.mechanisms=PLAIN
listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_$TL_KAFKA_SASL_USER="$TL_KAFKA_SASL_PASSWORD";
listener.name.sasl_ssl.ssl.keystore.type=PKCS12
listener.name.sasl_ssl.ssl.keystore.location=$TL_TLS_DIR/local.p12
listener.name.sasl_ssl.ssl.keystore.password=tracelake-local
log.dirs=$DATA
num.partitions=1
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=true
PROPS
}
# ready: the broker logged the end of its start-up (the log is rotated at each start), takes connections, and —
# once consumer groups exist — its group coordinator has loaded them: after a restart that took ~5 s more than the
# start-up line, and a consumer group joined in between failed (seen in the short chaos run).
ready() {
  grep -q 'Kafka Server started' "$LOG" && port_open "$TL_KAFKA_PORT" \
    && { [ ! -d "$DATA/__consumer_offsets-0" ] || grep -q 'Finished loading offsets and group metadata' "$LOG"; }
}
up() {
  if is_running $NAME && port_open "$TL_KAFKA_PORT"; then return 0; fi
  stop_pid $NAME   # a recorded but dead or half-started broker
  install; java_ok; ensure_tls; config
  ensure_port_free kafka "$TL_KAFKA_PORT"; ensure_port_free kafka-controller "$TL_KAFKA_CONTROLLER_PORT"
  ensure_port_free kafka-sasl-ssl "$TL_KAFKA_SASL_SSL_PORT"
  if [ ! -f "$DATA/meta.properties" ]; then
    java $LOG4J -cp "$LIBS/*" kafka.tools.StorageTool format -t "$(java $LOG4J -cp "$LIBS/*" kafka.tools.StorageTool random-uuid | tail -n 1)" \
      -c "$DIR/server.properties" --ignore-formatted >>"$LOG" 2>&1 || die "kafka storage format failed" "$LOG"
  fi
  start_bg $NAME "$LOG" java -Xms256m -Xmx768m -XX:+UseG1GC -Djava.awt.headless=true $LOG4J \
    -cp "$LIBS/*" kafka.Kafka "$DIR/server.properties"
  wait_until kafka 120 "$LOG" $NAME ready
}
down() { stop_pid $NAME; }
status() { is_running $NAME && port_open "$TL_KAFKA_PORT"; }
"${1:?usage: kafka.sh install|up|down|status}"
