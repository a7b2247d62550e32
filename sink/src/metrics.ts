// The sink's Prometheus metrics (names in docs/operations.md), after Kafka Connect's sink task metrics
// and kafka_consumergroup_lag. Counters live across restarts of the pipeline inside one process; the
// consumer lag is read from Kafka when scraped.
import { Counter, Gauge, Histogram, Summary, type Registry } from 'prom-client';

export class SinkMetrics {
  readonly eventsConsumed: Counter;
  readonly batches: Counter;
  readonly rowsMerged: Counter<'table'>;
  readonly mergeSeconds: Histogram<'table'>;
  readonly batchSeconds: Histogram;
  readonly freshness: Summary;
  readonly deadLettered: Counter;
  readonly retries: Counter;
  readonly errors: Counter<'code'>;
  readonly buffered: Gauge;
  readonly lastCommitAt: Gauge;
  /** set by the running pipeline: per-topic lag of the consumer group, read before each scrape */
  lagReader: (() => Promise<Map<string, number>>) | undefined;
  private readonly consumerLag: Gauge<'topic'>;

  /** Sets the consumer-lag gauge from one reading (before each scrape). */
  async refreshLag(): Promise<void> {
    const lag = await this.lagReader?.();
    if (!lag) return;
    this.consumerLag.reset();
    for (const [topic, n] of lag) this.consumerLag.set({ topic }, n);
  }

  constructor(registry: Registry) {
    const registers = [registry];
    const p = 'tracelake_sink_';
    this.eventsConsumed = new Counter({ name: `${p}events_consumed_total`, help: 'change events read from Kafka', registers });
    this.batches = new Counter({ name: `${p}batches_total`, help: 'batches merged into Delta and committed to Kafka', registers });
    this.rowsMerged = new Counter({ name: `${p}rows_merged_total`, help: 'rows written by MERGE (after folding per key), by source table', labelNames: ['table'], registers });
    this.mergeSeconds = new Histogram({
      name: `${p}merge_duration_seconds`, help: 'time to MERGE one table\'s part of a batch (all its statements)', labelNames: ['table'], registers,
      buckets: [0.25, 0.5, 1, 2, 4, 8, 16, 32, 64, 128],
    });
    this.batchSeconds = new Histogram({
      name: `${p}batch_duration_seconds`, help: 'time from a batch\'s flush to its Kafka offset commit', registers, buckets: [0.5, 1, 2, 4, 8, 16, 32, 64, 128],
    });
    this.freshness = new Summary({
      name: `${p}freshness_seconds`, help: 'commit in Postgres → row committed in Delta, per merged row (streamed changes only); quantiles over the last minute',
      percentiles: [0.5, 0.95, 0.99], maxAgeSeconds: 60, ageBuckets: 6, registers,
    });
    this.deadLettered = new Counter({ name: `${p}dead_letter_records_total`, help: 'records sent to the dead-letter topic', registers });
    this.retries = new Counter({ name: `${p}warehouse_retries_total`, help: 'warehouse calls retried because it was unavailable', registers });
    this.errors = new Counter({ name: `${p}errors_total`, help: 'failures by error code', labelNames: ['code'], registers });
    this.buffered = new Gauge({ name: `${p}buffered_events`, help: 'events consumed and waiting for the next MERGE', registers });
    this.lastCommitAt = new Gauge({ name: `${p}last_commit_timestamp_seconds`, help: 'when offsets were last committed after a MERGE (Unix time)', registers });
    this.consumerLag = new Gauge({
      name: `${p}consumer_lag`, help: 'records in the change topics not yet committed by the sink\'s consumer group (kafka_consumergroup_lag), by topic',
      labelNames: ['topic'], registers,
    });
  }
}
