#!/usr/bin/env bash
# Apicurio Registry 3.x (Maven Central), used through its Confluent-compatible API, storage in an H2
# file under the stack's data dir (schema ids survive restarts, like Confluent's _schemas topic).
# Default compatibility BACKWARD, as Confluent Schema Registry's. up | down | status
source "$(dirname "$0")/../lib.sh"
NAME=registry
V="$TL_APICURIO_VERSION"
DIR="$TL_HOME/registry"; APP="$DIR/app-$V"; DATA="$DIR/data"; LOG="$TL_LOGS/registry.log"
URL="http://127.0.0.1:$TL_REGISTRY_PORT/apis/ccompat/v7"

install() {
  [ -f "$APP/quarkus-run.jar" ] && return 0
  need_mvn
  local tgz="$TL_M2_REPO/io/apicurio/apicurio-registry-app/$V/apicurio-registry-app-$V-all.tar.gz"
  if [ ! -f "$tgz" ]; then
    say "fetching Apicurio Registry $V from Maven Central…"
    mvn_get "io.apicurio:apicurio-registry-app:$V:tar.gz:all" "$TL_LOGS/registry-install.log"
  fi
  rm -rf "$APP.tmp"; mkdir -p "$APP.tmp"
  tar -xzf "$tgz" -C "$APP.tmp" || die "could not unpack $tgz" "$TL_LOGS/registry-install.log"
  mv "$APP.tmp" "$APP"
}
ready() { curl -sf "$URL/subjects" >/dev/null; }
up() {
  if is_running $NAME && ready; then return 0; fi
  stop_pid $NAME
  install
  local java; java="$(java_min 21)"   # Apicurio 3.3 is built for Java 21
  ensure_port_free registry "$TL_REGISTRY_PORT"
  mkdir -p "$DATA"
  start_bg $NAME "$LOG" "$java" -Xms128m -Xmx512m \
    -Dquarkus.http.host=127.0.0.1 -Dquarkus.http.port="$TL_REGISTRY_PORT" \
    -Dquarkus.management.host=127.0.0.1 -Dquarkus.management.port="$TL_REGISTRY_MGMT_PORT" \
    -Dapicurio.datasource.url="jdbc:h2:file:$DATA/registry" \
    -Dapicurio.storage.snapshot.location="$DATA" \
    -jar "$APP/quarkus-run.jar"
  wait_until registry 120 "$LOG" $NAME ready
  curl -sf -X PUT -H 'Content-Type: application/json' -d '{"compatibility":"BACKWARD"}' "$URL/config" >/dev/null \
    || die "registry: could not set default compatibility to BACKWARD" "$LOG"
}
down() { stop_pid $NAME; }
status() { is_running $NAME && ready; }
"${1:?usage: registry.sh install|up|down|status}"
