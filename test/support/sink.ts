// Running the real sink in-process against the local stack.
import { Sink } from '../../sink/src/sink.ts';
import { parseSinkConfig, type SinkConfigInput } from '../../sink/src/config.ts';
import { stack } from './stack.ts';
import { testLog } from './connector.ts';
import { sleep } from './wait.ts';

export function sinkConfig(topicPrefix: string, overrides: Partial<SinkConfigInput> = {}): SinkConfigInput {
  const w = stack().warehouse;
  return {
    kafka: { brokers: stack().kafkaBrokers, groupId: `${topicPrefix}-sink`, topicPrefix, topicRefreshMs: 1000 },
    registry: { url: stack().registryUrl },
    warehouse: { host: w.host, port: w.port, path: w.path, token: w.token, caCertFile: w.caFile, schema: topicPrefix },
    batching: { maxWaitMs: 500 },
    ...overrides,
  };
}

export async function startSink(input: SinkConfigInput): Promise<{ sink: Sink; done: Promise<void> }> {
  const cfg = parseSinkConfig(input);
  const sink = new Sink(cfg, testLog);
  const done = sink.run();
  done.catch(() => undefined);
  for (let i = 0; i < 600 && sink.status !== 'RUNNING'; i++) {
    if (sink.status === 'FAILED') await done;
    await sleep(50);
  }
  if (sink.status !== 'RUNNING') throw new Error(`sink did not start (status ${sink.status})`);
  return { sink, done };
}
