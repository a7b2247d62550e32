#!/usr/bin/env bash
# A Python with pyarrow for the tests' export-file writers (test/fixtures/export-files/write_exports.py): the
# object-storage tests write their Parquet, CSV and gzip JSONL files with real writers. Not a service.
#   install | python (prints the interpreter's path, installing first)
source "$(dirname "$0")/../lib.sh"
VENV="$TL_HOME/fixture-python/venv-pyarrow-$TL_PYARROW_VERSION"
LOG="$TL_LOGS/fixture-python-install.log"

install() {
  pip_venv "$VENV" "$LOG" "pyarrow $TL_PYARROW_VERSION (the tests' Parquet writer)" "python -c 'import pyarrow.parquet'" "pyarrow==$TL_PYARROW_VERSION"
}
python() { install; printf '%s\n' "$VENV/bin/python"; }
cmd="${1:?usage: fixture-python.sh install|python}"
"$cmd"
