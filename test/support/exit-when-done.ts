// Loaded (--import, scripts/run-tests.sh) into every test file's process: once all of the file's tests are done,
// the process ends even if something a test opened still holds the event loop — two seconds later, so that the
// runner has handed the parent every result first. (--test-force-exit exits at once, and Node's runner then
// sometimes loses the reports of a file's last tests: the summary counted 28 of 30 in 2 of 15 runs of one
// file; nodejs/node#64833.) Not in the runner's own process, nor in a test's worker threads (which inherit
// the flag): only a test file's main thread has NODE_TEST_CONTEXT set and is the main thread.
import { isMainThread } from 'node:worker_threads';

if (isMainThread && process.env.NODE_TEST_CONTEXT) {
  const { after } = await import('node:test');
  after(() => {
    setTimeout(() => process.exit(), 2000).unref();
  });
}
