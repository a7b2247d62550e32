#!/usr/bin/env bash
# Runs test files with Node's test runner (one file at a time: integration tests share the stack) and
# ends with the slowest ten tests and the summary line "N passed, N failed[, N skipped]" (a test cancelled
# by a timeout counts as failed). Exit status is the runner's.
#
# No test may hang: a test (its hooks included) that runs longer than TEST_TIMEOUT_MS (default 5 min, well
# under CI's budget; a test may declare a longer timeout of its own) fails with its name, and a test file
# whose tests are done exits even if something it opened still holds the event loop, once its results are
# reported (test/support/exit-when-done.ts, in place of --test-force-exit, which can lose the last reports).
set -uo pipefail
out="$(mktemp)"; timings="$(mktemp)"

# A test file's process that prints nothing for TEST_STALL_S (default 11 min: longer than any test's timeout)
# is stuck outside any test — seen once: a unit-test file hung in exit after its tests passed, and the run
# would have waited for ever. It is ended; the runner reports that file as failed, by name, and goes on.
watch_stalls() {
  local stall="${TEST_STALL_S:-660}" runner age p file
  while sleep 15 </dev/null >/dev/null 2>&1; do # (sleep holds no pipe of the run open)
    runner="$(pgrep -f -- "--test-reporter-destination=$timings" | head -n 1)" || continue
    age=$(( $(date +%s) - $(stat -c %Y "$out") ))
    [ "$age" -ge "$stall" ] || continue
    for p in $(pgrep -P "$runner"); do
      file="$(tr '\0' '\n' < "/proc/$p/cmdline" 2>/dev/null | grep '\.test\.ts$' | tail -n 1)"
      echo "run-tests: no test output for ${age} s: ending the stuck test process $p (${file:-?})" >&2
      kill -TERM "$p" 2>/dev/null
    done
    touch "$out"
  done
}
watch_stalls & watcher=$!
node --import "$(cd "$(dirname "$0")/.." && pwd)/test/support/exit-when-done.ts" \
  --test --test-concurrency=1 --test-timeout="${TEST_TIMEOUT_MS:-300000}" \
  --test-reporter=spec --test-reporter-destination=stdout \
  --test-reporter="$(cd "$(dirname "$0")" && pwd)/test-timings.ts" --test-reporter-destination="$timings" \
  "$@" 2>&1 | tee "$out"
rc=${PIPESTATUS[0]}
kill "$watcher" 2>/dev/null
count() { local n; n="$(sed -n "s/^ℹ $1 \([0-9]*\)$/\1/p" "$out" | tail -n 1)"; echo "${n:-0}"; }
echo; cat "$timings"
printf '%s passed, %s failed, %s skipped\n' "$(count pass)" "$(( $(count fail) + $(count cancelled) ))" "$(count skipped)"
rm -f "$out" "$timings"
exit "$rc"
