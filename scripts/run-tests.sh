#!/usr/bin/env bash
# Runs test files with Node's test runner (one file at a time: integration tests share the stack) and
# ends with the slowest ten tests and the summary line "N passed, N failed[, N skipped]" (a test cancelled
# by a timeout counts as failed). Exit status is the runner's.
#
# No test may hang: a test (its hooks included) that runs longer than TEST_TIMEOUT_MS (default 5 min, well
# under CI's budget; a test may declare a longer timeout of its own) fails with its name, and a test file
# whose tests are done exits even if something it opened still holds the event loop (--test-force-exit).
set -uo pipefail
out="$(mktemp)"; timings="$(mktemp)"
node --test --test-concurrency=1 --test-timeout="${TEST_TIMEOUT_MS:-300000}" --test-force-exit \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter="$(cd "$(dirname "$0")" && pwd)/test-timings.ts" --test-reporter-destination="$timings" \
  "$@" 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
count() { local n; n="$(sed -n "s/^ℹ $1 \([0-9]*\)$/\1/p" "$out" | tail -n 1)"; echo "${n:-0}"; }
echo; cat "$timings"
printf '%s passed, %s failed, %s skipped\n' "$(count pass)" "$(( $(count fail) + $(count cancelled) ))" "$(count skipped)"
rm -f "$out" "$timings"
exit "$rc"
