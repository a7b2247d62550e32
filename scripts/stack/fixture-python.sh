#!/usr/bin/env bash
# A Python with pyarrow for the tests' export-file writers (test/fixtures/export-files/write_exports.py): the
# object-storage tests write their Parquet, CSV and gzip JSONL files with real writers. Not a service.
#   install | python (prints the interpreter's path, installing first)
source "$(dirname "$0")/../lib.sh"
VENV="$TL_HOME/fixture-python/venv-pyarrow-$TL_PYARROW_VERSION"
LOG="$TL_LOGS/fixture-python-install.log"

install() {
  [ -f "$VENV/.complete" ] && return 0
  need python3 "python3 is missing: apt-get install -y python3 python3-venv"
  say "installing pyarrow $TL_PYARROW_VERSION from PyPI (the tests' Parquet writer)…"
  rm -rf "$VENV"
  { python3 -m venv "$VENV" && "$VENV/bin/pip" install -q "pyarrow==$TL_PYARROW_VERSION" && "$VENV/bin/python" -c 'import pyarrow.parquet'; } >>"$LOG" 2>&1 \
    || die "pip install pyarrow==$TL_PYARROW_VERSION failed (python3 -m venv needs python3-venv)" "$LOG"
  touch "$VENV/.complete"
}
python() { install; printf '%s\n' "$VENV/bin/python"; }
cmd="${1:?usage: fixture-python.sh install|python}"
"$cmd"
