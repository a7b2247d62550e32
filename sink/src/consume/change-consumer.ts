// The sink's Kafka side, on @platformatic/kafka: the consumer group on the change topics of the prefix, offsets
// committed only when the sink says so, new topics added to the running consumer as they appear (a stream of
// their own on the same member: no flush, no new consumer), a stable member identity when configured (a
// restarted replica takes its partitions back at once), and a consumer that lost its brokers started again with
// backoff. Heartbeats run in the client's background, MERGEs or not. What the sink does with the records is its
// own (ConsumerHooks).
import { Admin, Consumer, MessagesStreamFallbackModes, MessagesStreamModes, type BaseOptions, type MessagesStream } from '@platformatic/kafka';
import type { Logger } from 'pino';
import type { SinkConfig } from '../config.ts';
import { kafkaOptions } from '../../../runtime/kafka.ts';
import { kafkaUnreachable } from '../../../runtime/kafka-errors.ts';
import { groupLag } from '../../../runtime/kafka-offsets.ts';
import { bounded, deadline } from '../../../runtime/bounded.ts';
import { TracelakeError } from '../../../schemas/src/errors.ts';
import { Backoff, sleep } from '../../../runtime/retry.ts';
import { changeTopicMatcher } from '../../../schemas/src/envelope.ts';

/** A record as the sink reads it, whatever the client. */
export interface ConsumedRecord {
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
}

export interface FetchedBatch {
  topic: string;
  partition: number;
  messages: ConsumedRecord[];
  /** false once the consumer that fetched it was replaced (its records are read again from the committed offsets) */
  current(): boolean;
}

export interface ConsumerHooks {
  /** records of one partition, in offset order */
  batch(b: FetchedBatch): Promise<void>;
  /** the consumer is replaced (lost brokers): drop what was consumed and not committed, it is read again */
  revoked(): Promise<void>;
  /** the change topics, at start and whenever new ones appear */
  topicsFound(topics: string[]): void;
  /** a failure the consumer does not recover from itself */
  failed(err: Error): void;
  stopping(): boolean;
  paused(): boolean;
}

type KafkaSettings = SinkConfig['kafka'];
type Stream = MessagesStream<Buffer, Buffer, Buffer, Buffer>;

/**
 * What one fetch brings at most, in all and per partition (Kafka's fetch.max.bytes, max.partition.fetch.bytes).
 * A record batch larger than these still comes, alone (KIP-74): they bound memory, not the record size. The
 * client decodes a whole fetch at once, so they bound the sink's heap: with 100 MiB a 1M-row backlog ran a
 * 256 MB heap out of memory (bench/burst.ts).
 */
const FETCH_MAX_BYTES = 4 << 20;
const FETCH_MAX_PARTITION_BYTES = 1 << 20;
/** Records the client's stream holds ready (its own default: 1,024); the sink collects its batches from them. */
const STREAM_HIGH_WATER_MARK = 256;
/** An offset commit that has not been answered by then is given up (the batch is replayed, which changes nothing). */
const COMMIT_TIMEOUT_MS = 30_000;
/** No record handed over for this long while the group is behind: the consumer is started again (a bounded wait). */
const STALL_MS = 60_000;

export class ChangeConsumer {
  private readonly cfg: KafkaSettings;
  private readonly log: Logger;
  private readonly hooks: ConsumerHooks;
  private readonly base: BaseOptions;
  private readonly isChangeTopic: (topic: string) => boolean;
  private consumer: Consumer | undefined;
  private streams: Stream[] = [];
  private admin: Admin | undefined;
  private refresher: NodeJS.Timeout | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  /** when the last record was handed over (or the consumer started) */
  private handedAt = Date.now();
  /** the subscribed change topics */
  topics: string[] = [];
  /** the consumer is being replaced (lost brokers): a batch merged meanwhile must not commit */
  restarting = false;

  constructor(cfg: KafkaSettings, log: Logger, hooks: ConsumerHooks) {
    this.cfg = cfg;
    this.log = log;
    this.hooks = hooks;
    this.base = kafkaOptions(cfg, 'tracelake-sink');
    this.isChangeTopic = changeTopicMatcher(cfg.topicPrefix);
  }

  /** Waits for the first change topics, subscribes, and starts consuming (retrying while no broker answers). */
  async start(): Promise<void> {
    this.topics = await this.untilKafka('list the change topics', () => this.waitForTopics());
    this.hooks.topicsFound(this.topics);
    await this.untilKafka('start the consumer', async () => {
      try {
        await this.startConsumer();
      } catch (err) {
        await this.closeConsumer();
        throw err;
      }
    });
    this.refresher = setInterval(() => void this.refreshTopics().catch((err: unknown) => {
      this.log.warn({ err }, 'topic refresh failed');
      if (kafkaUnreachable(err)) this.hooks.failed(err as Error);
    }), this.cfg.topicRefreshMs);
    this.watchdog = setInterval(() => void this.checkStall().catch(() => undefined), STALL_MS / 4);
  }

  /**
   * A consumer that hands nothing over for STALL_MS while its group is behind (seen once after a member was
   * killed during a rebalance) is started again from the committed offsets: never wait for ever.
   */
  private async checkStall(): Promise<void> {
    if (this.restarting || this.hooks.stopping() || this.hooks.paused() || Date.now() - this.handedAt < STALL_MS) return;
    const behind = await this.lag().then((l) => [...l.values()].reduce((a, b) => a + b, 0), (err: unknown) => {
      this.log.warn({ err: (err as Error).message }, 'consumer lag unknown while no record was handed over');
      return 1; // unknown: assume behind (a restart replays from the committed offsets, which changes nothing)
    });
    if (behind === 0 || this.restarting || Date.now() - this.handedAt < STALL_MS) {
      this.handedAt = Date.now();
      return;
    }
    void this.restartLater(new TracelakeError(`the consumer handed no record over for ${STALL_MS / 1000} s while ${behind} were waiting`, {
      code: 'CONSUMER_STALLED', retriable: true, remedy: 'none needed: the consumer is started again from the committed offsets; report it if it repeats',
    }));
  }

  /** Commits offsets; one not answered within COMMIT_TIMEOUT_MS fails with COMMIT_TIMEOUT (the batch is then replayed). */
  async commit(offsets: Array<{ topic: string; partition: number; offset: string }>): Promise<void> {
    // leader epoch unknown (-1): the broker then does not fence the commit by epoch
    await deadline(this.consumer!.commit({ offsets: offsets.map((o) => ({ topic: o.topic, partition: o.partition, offset: BigInt(o.offset), leaderEpoch: -1 })) }),
      COMMIT_TIMEOUT_MS, () => new TracelakeError(`an offset commit got no answer within ${COMMIT_TIMEOUT_MS / 1000} s`, {
        code: 'COMMIT_TIMEOUT', retriable: true, remedy: 'none needed: the batch is replayed from the committed offsets (idempotent)',
      }));
  }

  /** Stops reading; the group is left on close(). */
  async stop(): Promise<void> {
    clearInterval(this.refresher);
    clearInterval(this.watchdog);
    await Promise.all(this.streams.map((s) => s.close().catch(() => undefined)));
  }

  async close(): Promise<void> {
    clearInterval(this.refresher);
    clearInterval(this.watchdog);
    await this.closeConsumer();
    await this.admin?.close().catch(() => undefined);
  }

  /** Per topic: records after the group's committed offsets (from the start where none is committed). */
  async lag(): Promise<Map<string, number>> {
    if (!this.admin || this.topics.length === 0) return new Map();
    return groupLag(this.admin, this.cfg.groupId, this.topics);
  }

  /**
   * Kafka went away for longer than the client retries (a broker restart): start the consumer again with
   * backoff instead of failing, as a Kafka Connect worker would. What was consumed and not committed is
   * read again.
   */
  async restartLater(err: Error): Promise<void> {
    if (this.restarting) return;
    this.restarting = true;
    try {
      await this.closeConsumer();
      await this.hooks.revoked();
      const backoff = new Backoff({ baseDelayMs: 2000, maxDelayMs: 30_000 });
      while (!this.hooks.stopping()) {
        const delay = backoff.next();
        this.log.warn({ err: err.message, code: (err as Partial<TracelakeError>).code, retryInMs: delay }, 'Kafka or the schema registry unreachable: restarting the consumer; uncommitted events are read again');
        await backoff.wait(delay, this.hooks.stopping);
        if (this.hooks.stopping()) return;
        try {
          await this.startConsumer();
          this.log.info('consumer restarted');
          return;
        } catch (e) {
          err = e as Error;
          await this.closeConsumer();
        }
      }
    } finally {
      this.restarting = false;
    }
  }

  /** Retries `fn` while no Kafka broker answers (a sink started during a broker restart waits for it). */
  private async untilKafka<T>(what: string, fn: () => Promise<T>): Promise<T> {
    const backoff = new Backoff({ baseDelayMs: 1000, maxDelayMs: 30_000 });
    for (;;) {
      try {
        return await fn();
      } catch (err) {
        if (!kafkaUnreachable(err) || this.hooks.stopping()) throw err;
        await this.admin?.close().catch(() => undefined);
        this.admin = undefined; // a fresh admin client on the next try
        const delay = backoff.next();
        this.log.warn({ what, err: (err as Error).message, retryInMs: delay }, 'Kafka unreachable; retrying');
        await backoff.wait(delay, this.hooks.stopping);
      }
    }
  }

  private async matchingTopics(): Promise<string[]> {
    this.admin ??= new Admin(this.base);
    return (await this.admin.listTopics()).filter(this.isChangeTopic).sort();
  }

  private async waitForTopics(): Promise<string[]> {
    for (;;) {
      const topics = await this.matchingTopics();
      if (topics.length > 0 || this.hooks.stopping()) return topics;
      this.log.info({ prefix: this.cfg.topicPrefix }, 'no change topics yet; waiting');
      await sleep(Math.min(this.cfg.topicRefreshMs, 2000));
    }
  }

  /**
   * The client subscribes to a list, not a pattern, so topics created later (a new table) are looked for on a
   * timer; new ones get a stream of their own on the running consumer (the group rebalances once to assign them).
   */
  private async refreshTopics(): Promise<void> {
    if (this.hooks.stopping() || this.restarting || !this.consumer) return;
    const added = (await this.matchingTopics()).filter((t) => !this.topics.includes(t));
    if (added.length === 0) return;
    this.log.info({ added }, 'new change topics; subscribing');
    this.topics = [...this.topics, ...added].sort();
    this.hooks.topicsFound(this.topics);
    await this.openStream(this.consumer, added);
  }

  private async startConsumer(): Promise<void> {
    // maxWaitTime: the Java consumer's fetch.max.wait.ms; groupInstanceId: static membership (KIP-345)
    const consumer = new Consumer({
      ...this.base, groupId: this.cfg.groupId, sessionTimeout: this.cfg.sessionTimeoutMs, heartbeatInterval: 3000,
      maxWaitTime: 500, maxBytes: FETCH_MAX_BYTES, maxBytesPerPartition: FETCH_MAX_PARTITION_BYTES, retries: 3, retryDelay: 500,
      ...(this.cfg.groupInstanceId ? { groupInstanceId: this.cfg.groupInstanceId } : {}),
    });
    this.consumer = consumer;
    this.streams = [];
    this.handedAt = Date.now();
    // A rebalance drops nothing here: the client's stream goes on from where it was or from the committed offsets,
    // and a record it handed over is not handed over again. Dropping collected records at a rebalance lost rows
    // (the short chaos run, seed 2002617584: a member killed during a rebalance, the group at the topics' end, rows
    // missing in Delta). Records of a partition that moved are merged (idempotent) and their offsets committed; the
    // new owner's own commits follow.
    await this.openStream(consumer, this.topics);
  }

  private async openStream(consumer: Consumer, topics: string[]): Promise<void> {
    const stream = await consumer.consume({
      topics, mode: MessagesStreamModes.COMMITTED, fallbackMode: MessagesStreamFallbackModes.EARLIEST, autocommit: false,
      maxBytes: FETCH_MAX_BYTES, maxBytesPerPartition: FETCH_MAX_PARTITION_BYTES, highWaterMark: STREAM_HIGH_WATER_MARK,
    }) as Stream;
    this.streams.push(stream);
    stream.on('error', (err: Error) => { if (this.consumer === consumer && !this.hooks.stopping()) this.hooks.failed(err); });
    void this.read(consumer, stream).catch((err: unknown) => { if (this.consumer === consumer && !this.hooks.stopping()) this.hooks.failed(err as Error); });
  }

  /** Hands the stream's records over one partition run at a time, waiting while the sink is paused. */
  private async read(consumer: Consumer, stream: Stream): Promise<void> {
    for await (const m of stream) {
      while (this.hooks.paused() && !this.hooks.stopping() && this.consumer === consumer) await sleep(100);
      if (this.hooks.stopping() || this.consumer !== consumer) break;
      this.handedAt = Date.now();
      await this.hooks.batch({
        topic: m.topic, partition: m.partition, messages: [{ offset: String(m.offset), key: m.key ?? null, value: m.value ?? null }],
        current: () => this.consumer === consumer,
      });
    }
  }

  private async closeConsumer(): Promise<void> {
    const consumer = this.consumer;
    this.consumer = undefined;
    const streams = this.streams;
    this.streams = [];
    // bounded: a client stuck in a rebalance must not hold the restart
    await bounded(Promise.all(streams.map((s) => s.close().catch(() => undefined))), 10_000);
    await bounded(consumer?.close(true), 10_000);
  }
}
