// Everything a source sends through, opened together for one run of a source and closed together: the schema
// registry, the Kafka publisher, the state store, the encoder (with the source's record decoder) and the
// emitter over them, its metrics wired to the connector's.
import type { Logger } from 'pino';
import { Emitter, type EmitObserver } from './emitter.ts';
import { createEncoder, type Encoder } from './encode/encoder.ts';
import { KafkaPublisher } from './kafka/publisher.ts';
import { StateStore, type ConnectorState } from './kafka/state-store.ts';
import type { SourceContext } from './encode/change-event.ts';
import type { ConnectorConfig } from '../connector/src/config.ts';
import type { ConnectorMetrics } from '../connector/src/metrics.ts';
import { SchemaRegistry } from '../schemas/src/registry.ts';

export type EmitterConfig = Pick<ConnectorConfig, 'kafka' | 'registry' | 'batching' | 'limits' | 'encoder'>;

/** What a source says about itself when it opens its session. */
export interface SessionSpec<P> {
  /** the envelope's source block: connector kind and database */
  source: Omit<SourceContext, 'name'>;
  /** the module (URL) of the source's record decoder (emitter/encode/change-record.ts) */
  decoder: string;
  /** the tables (schema.table) it captures: those whose oversize choice is dead-letter are told to the encoder */
  tables: string[];
  onDurable: (position: P) => Promise<void>;
  onFailure: (err: Error) => void;
  drain?: () => void;
  /** the durable position as a number for the metrics gauge (omit when positions are not numbers) */
  positionGauge?: (position: P) => number;
}

export interface EmitterSession<P, S = ConnectorState> {
  emitter: Emitter<P>;
  /** the source's own state (what it has taken), in the state topic */
  state: StateStore<S>;
  /** where rows past the size ceiling go */
  deadLetterTopic: string;
  /** tables (schema.table) whose rows past the ceiling are dead-lettered */
  deadLetterTables: string[];
  /**
   * Sends a JSON record to the dead-letter topic after everything emitted before it is in Kafka (a source's
   * input it cannot read, e.g. a bad export file): resolves once Kafka has it.
   */
  deadLetter(key: string, record: Record<string, unknown>): Promise<void>;
  close(): Promise<void>;
}

export async function openEmitterSession<P, S = ConnectorState>(cfg: EmitterConfig, spec: SessionSpec<P>, log: Logger, metrics?: ConnectorMetrics): Promise<EmitterSession<P, S>> {
  const { kafka } = cfg;
  const deadLetterTopic = cfg.limits.deadLetterTopic ?? `${kafka.topicPrefix}.dead-letter`;
  const deadLetterTables = [...new Set([...spec.tables, ...Object.keys(cfg.limits.tables)])]
    .filter((t) => (cfg.limits.tables[t]?.oversize ?? cfg.limits.oversize) === 'dead-letter');
  const publisher = new KafkaPublisher({
    connection: kafka, clientId: 'tracelake-connector', partitions: kafka.partitions,
    replicationFactor: kafka.replicationFactor, topicConfig: kafka.topicConfig,
    maxMessageBytes: kafka.maxMessageBytes, compression: kafka.compression,
  });
  let encoder: Encoder | undefined;
  const state = new StateStore<S>(kafka, kafka.stateTopic);
  try {
    await publisher.connect();
    encoder = await createEncoder(
      {
        source: { ...spec.source, name: kafka.topicPrefix }, tombstonesOnDelete: kafka.tombstonesOnDelete,
        limits: { ...cfg.limits, deadLetter: deadLetterTables }, decoder: spec.decoder,
      },
      { workerThread: cfg.encoder.workerThread },
    );
  } catch (err) {
    await publisher.disconnect();
    await state.close();
    throw err;
  }
  const emitter = new Emitter<P>(
    {
      topicPrefix: kafka.topicPrefix, maxBatchMessages: cfg.batching.maxMessages, maxBatchBytes: cfg.batching.maxBytes,
      lingerMs: cfg.batching.lingerMs, deadLetterTopic,
    },
    {
      registry: new SchemaRegistry(cfg.registry.url, cfg.registry), publisher, encoder,
      onDurable: spec.onDurable, onFailure: spec.onFailure, drain: spec.drain,
      observer: metrics && metricsObserver(metrics, log, deadLetterTopic, spec.positionGauge),
    },
  );
  const opened = encoder;
  return {
    emitter, state, deadLetterTopic, deadLetterTables,
    async deadLetter(key, record) {
      await emitter.flush();
      emitter.throwIfFailed();
      await publisher.send([{ topic: deadLetterTopic, key: Buffer.from(key), value: Buffer.from(JSON.stringify(record)) }]);
    },
    async close() {
      emitter.close();
      await opened.close();
      await publisher.disconnect();
      await state.close();
    },
  };
}

function metricsObserver<P>(m: ConnectorMetrics, log: Logger, deadLetterTopic: string, gauge?: (p: P) => number): EmitObserver<P> {
  return {
    event: (table, op) => m.countEvent(table, op),
    acked: (messages, commitTimeUs, durable) => {
      m.batchesSent.inc();
      m.messagesSent.inc(messages);
      if (durable !== null && gauge) m.durableLsn.set(gauge(durable));
      m.lastEventAt.set(Date.now() / 1000);
      if (commitTimeUs !== null) m.behindSource.observe(Math.max(0, Date.now() - Number(commitTimeUs / 1000n)));
    },
    inFlight: (n) => m.inFlight.set(n),
    backpressure: () => m.backpressureWaits.inc(),
    deadLettered: (table) => {
      m.errors.inc({ code: 'ROW_TOO_LARGE' });
      log.warn({ table, topic: deadLetterTopic }, 'a row past the size ceiling was sent to the dead-letter topic instead of its change');
    },
  };
}
