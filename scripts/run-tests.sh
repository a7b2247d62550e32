#!/usr/bin/env bash
# Runs test files with Node's test runner (one file at a time: integration tests share the stack) and
# ends with the summary line "N passed, N failed[, N skipped]". Exit status is the runner's.
set -uo pipefail
out="$(mktemp)"
node --test --test-concurrency=1 --test-reporter=spec "$@" 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
count() { sed -n "s/^ℹ $1 \([0-9]*\)$/\1/p" "$out" | tail -n 1; }
printf '%s passed, %s failed, %s skipped\n' "$(count pass)" "$(count fail)" "$(count skipped)"
rm -f "$out"
exit "$rc"
