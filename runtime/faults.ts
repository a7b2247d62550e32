// Named crash points for fault-injection tests: TRACELAKE_FAULTS="after-kafka-ack:3" makes the process
// kill itself with SIGKILL the third time it passes `fault('after-kafka-ack')`. Unset (production), each
// call is one property lookup.
const spec = new Map<string, number>(
  (process.env.TRACELAKE_FAULTS ?? '').split(',').filter(Boolean).map((p) => {
    const [name, n] = p.split(':');
    return [name!, Number(n ?? 1)];
  }),
);

export function fault(point: string): void {
  const left = spec.get(point);
  if (left === undefined) return;
  if (left <= 1) process.kill(process.pid, 'SIGKILL');
  spec.set(point, left - 1);
}
