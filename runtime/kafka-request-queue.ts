// kafkajs' per-connection RequestQueue re-arms a check of its pending requests at the end of every check, whether
// anything is pending or not, and with no throttle in force the delay it computes is negative (-1 − now), which
// Node runs after 1 ms: every connection that has had a response wakes the event loop ~1,000 times a second for
// nothing, and Node 24 prints a TimeoutNegativeWarning for it (kafkajs issues #1704 and #1751, fixes unmerged).
// An idle producer and admin cost 4.3% of a core here; 0.2% without the loop. The fix: with nothing pending, no
// check is scheduled — a request that cannot be sent at once is queued by push(), which schedules one itself, and
// each response or timeout checks the queue again. Installed only when kafkajs' queue has the fields it relies on
// and behaves so on a sample queue. Import this before anything that uses kafkajs connections.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

interface Queue {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  scheduleCheckPendingRequests(): void;
  destroy(): void;
}
type QueueClass = { prototype: Queue } & (new (options: Record<string, unknown>) => Queue);

const quietLogger = { debug() {}, info() {}, warn() {}, error() {} };

/** Whether `schedule` leaves a queue with nothing pending alone and still schedules a check for a pending request. */
function behaves(RequestQueue: QueueClass, schedule: (this: Queue) => void): boolean {
  const q = new RequestQueue({ clientId: 'check', broker: 'check', requestTimeout: 30_000, enforceRequestTimeout: false, logger: quietLogger });
  try {
    if (!Array.isArray(q.pending) || q.throttledUntil !== -1 || q.throttleCheckTimeoutId !== null) return false;
    schedule.call(q);
    if (q.throttleCheckTimeoutId !== null) return false;
    q.pending.push({});
    schedule.call(q);
    return q.throttleCheckTimeoutId !== null;
  } finally {
    q.pending.length = 0;
    q.destroy();
  }
}

function install(): boolean {
  try {
    const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as QueueClass;
    const own = RequestQueue.prototype.scheduleCheckPendingRequests;
    if (typeof own !== 'function') return false;
    const quiet = function (this: Queue): void {
      if (this.pending.length === 0) return;
      own.call(this);
    };
    if (!behaves(RequestQueue, quiet)) return false;
    RequestQueue.prototype.scheduleCheckPendingRequests = quiet;
    return true;
  } catch {
    return false;
  }
}

/** true when kafkajs connections no longer poll an empty request queue every millisecond */
export const quietRequestQueues: boolean = install();
