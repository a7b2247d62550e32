// The sink as a hosted service: its worker, metrics, offsets (the consumer group's) and config validation.
import type { Kafka } from 'kafkajs';
import { kafkaClient } from '../../runtime/kafka.ts';
import { changeTopicMatcher } from '../../schemas/src/envelope.ts';
import type { Logger } from 'pino';
import { sinkConfigSchema, type SinkConfig } from './config.ts';
import { Sink } from './sink.ts';
import { SinkMetrics } from './metrics.ts';
import { sinkChecks } from './preflight.ts';
import { serviceMetrics } from '../../runtime/metrics.ts';
import { configProblems } from '../../runtime/config/parse.ts';
import type { HostedService } from '../../runtime/service-host.ts';
import { ConflictError } from '../../runtime/supervisor.ts';
import { HttpError } from '../../runtime/rest/server.ts';

interface OffsetChange {
  offsets: Array<{ topic: string; partition: number; offset: string | number }>;
}

export function sinkService(cfg: SinkConfig, log: Logger): HostedService<Sink> {
  const metrics = serviceMetrics('sink');
  const sinkMetrics = new SinkMetrics(metrics.registry);
  metrics.beforeScrape.push(() => sinkMetrics.refreshLag());
  const groupId = cfg.kafka.groupId;
  const withAdmin = async <T>(fn: (admin: ReturnType<Kafka['admin']>) => Promise<T>): Promise<T> => {
    const admin = kafkaClient(cfg.kafka, 'tracelake-admin').admin();
    await admin.connect();
    try {
      return await fn(admin);
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  };
  const changeTopics = (topics: string[]) => topics.filter(changeTopicMatcher(cfg.kafka.topicPrefix)).sort();
  const assertEmptyGroup = async (admin: ReturnType<Kafka['admin']>) => {
    const { groups: [g] } = await admin.describeGroups([groupId]);
    if (g && g.members.length > 0) throw new ConflictError(`consumer group ${groupId} still has ${g.members.length} member(s)`, 'stop every sink instance of this group first');
  };
  return {
    component: 'sink', type: 'sink', http: cfg.http,
    lifecycle: { state: cfg.state, failurePolicy: cfg.failurePolicy }, metrics,
    createWorker: () => new Sink(cfg, log, sinkMetrics),

    offsets: () => withAdmin(async (admin) => {
      const topics = changeTopics(await admin.listTopics());
      const committed = topics.length > 0 ? await admin.fetchOffsets({ groupId, topics }) : [];
      const out: Array<{ topic: string; partition: number; offset: string | null; end: string; lag: number }> = [];
      for (const { topic, partitions } of committed) {
        const ends = await admin.fetchTopicOffsets(topic);
        for (const e of ends) {
          const c = partitions.find((p) => p.partition === e.partition)?.offset ?? '-1';
          out.push({ topic, partition: e.partition, offset: c === '-1' ? null : c, end: e.high, lag: Number(e.high) - (c === '-1' ? Number(e.low) : Number(c)) });
        }
      }
      return { group: groupId, offsets: out };
    }),

    resetOffsets: (change) => withAdmin(async (admin) => {
      await assertEmptyGroup(admin);
      if (change === undefined) {
        // DELETE: forget the group's offsets; the next start re-reads every change topic from the
        // beginning (MERGEs are idempotent: the tables end up the same)
        const { groups } = await admin.listGroups();
        if (groups.some((g) => g.groupId === groupId)) await admin.deleteGroups([groupId]);
        log.warn({ groupId }, 'offsets reset: the next start re-reads the change topics from the beginning');
        return { group: groupId, reset: true, next: 'start (PUT /resume) re-reads every change topic from its beginning' };
      }
      const offsets = (change as OffsetChange).offsets;
      if (!Array.isArray(offsets) || offsets.some((o) => typeof o?.topic !== 'string' || !Number.isInteger(o.partition) || !/^\d+$/.test(String(o.offset)))) {
        throw new HttpError(400, 'send { "offsets": [{ "topic": …, "partition": 0, "offset": "42" }] }');
      }
      for (const topic of new Set(offsets.map((o) => o.topic))) {
        await admin.setOffsets({ groupId, topic, partitions: offsets.filter((o) => o.topic === topic).map((o) => ({ partition: o.partition, offset: String(o.offset) })) });
      }
      log.warn({ groupId, offsets }, 'offsets changed by request');
      return { group: groupId, offsets };
    }),

    validate: async (raw, withChecks) => {
      const errors = configProblems(sinkConfigSchema, raw);
      const checks = errors.length === 0 && withChecks ? await sinkChecks(sinkConfigSchema.parse(raw)) : [];
      return { valid: errors.length === 0 && checks.every((c) => c.ok), errors, checks };
    },
  };
}
