// The sink as a hosted service: its worker, metrics, offsets (the consumer group's) and config validation.
import { Admin } from '@platformatic/kafka';
import { kafkaOptions } from '../../runtime/kafka.ts';
import { committedOffsets, topicRanges } from '../../runtime/kafka-offsets.ts';
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
  const withAdmin = async <T>(fn: (admin: Admin) => Promise<T>): Promise<T> => {
    const admin = new Admin(kafkaOptions(cfg.kafka, 'tracelake-admin'));
    try {
      return await fn(admin);
    } finally {
      await admin.close().catch(() => undefined);
    }
  };
  const changeTopics = (topics: string[]) => topics.filter(changeTopicMatcher(cfg.kafka.topicPrefix)).sort();
  const groupExists = async (admin: Admin) => (await admin.listGroups()).has(groupId);
  const assertEmptyGroup = async (admin: Admin) => {
    if (!(await groupExists(admin))) return;
    const g = (await admin.describeGroups({ groups: [groupId] })).get(groupId);
    if (g && g.members.size > 0) throw new ConflictError(`consumer group ${groupId} still has ${g.members.size} member(s)`, 'stop every sink instance of this group first');
  };
  return {
    component: 'sink', type: 'sink', http: cfg.http,
    lifecycle: { state: cfg.state, failurePolicy: cfg.failurePolicy }, metrics,
    createWorker: () => new Sink(cfg, log, sinkMetrics),

    offsets: () => withAdmin(async (admin) => {
      const topics = changeTopics(await admin.listTopics());
      const [ranges, committed] = await Promise.all([topicRanges(admin, topics), committedOffsets(admin, groupId, topics)]);
      const out: Array<{ topic: string; partition: number; offset: string | null; end: string; lag: number }> = [];
      for (const [topic, partitions] of ranges) {
        for (const p of partitions) {
          const c = committed.get(topic)?.get(p.partition);
          out.push({ topic, partition: p.partition, offset: c === undefined ? null : String(c), end: String(p.high), lag: Number(p.high - (c ?? p.low)) });
        }
      }
      return { group: groupId, offsets: out };
    }),

    resetOffsets: (change) => withAdmin(async (admin) => {
      await assertEmptyGroup(admin);
      if (change === undefined) {
        // DELETE: forget the group's offsets; the next start re-reads every change topic from the
        // beginning (MERGEs are idempotent: the tables end up the same)
        if (await groupExists(admin)) await admin.deleteGroups({ groups: [groupId] });
        log.warn({ groupId }, 'offsets reset: the next start re-reads the change topics from the beginning');
        return { group: groupId, reset: true, next: 'start (PUT /resume) re-reads every change topic from its beginning' };
      }
      const offsets = (change as OffsetChange).offsets;
      if (!Array.isArray(offsets) || offsets.some((o) => typeof o?.topic !== 'string' || !Number.isInteger(o.partition) || !/^\d+$/.test(String(o.offset)))) {
        throw new HttpError(400, 'send { "offsets": [{ "topic": …, "partition": 0, "offset": "42" }] }');
      }
      await admin.alterConsumerGroupOffsets({
        groupId,
        topics: [...new Set(offsets.map((o) => o.topic))].map((name) => ({
          name, partitionOffsets: offsets.filter((o) => o.topic === name).map((o) => ({ partition: o.partition, offset: BigInt(o.offset) })),
        })),
      });
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
