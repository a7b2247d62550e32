// The sink's Kafka side: the consumer group on the change topics of the prefix, offsets committed only when
// the sink says so, new topics picked up as they appear, and a consumer that lost its brokers started again
// with backoff. What the sink does with the records is its own (ConsumerHooks).
import type { Admin, Consumer, Kafka } from 'kafkajs';
import type { Logger } from 'pino';
import type { SinkConfig } from '../config.ts';
import { kafkaClient } from '../../../runtime/kafka.ts';
import { kafkaUnreachable } from '../../../runtime/kafka-errors.ts';
import { Backoff, sleep } from '../../../runtime/retry.ts';
import { changeTopicMatcher } from '../../../schemas/src/envelope.ts';
import type { TracelakeError } from '../../../schemas/src/errors.ts';

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
  /** the record at `offset` is taken: it is not handed over again by this consumer */
  resolve(offset: string): void;
  /** false once the consumer stops or the batch's partition was reassigned: leave the rest unresolved */
  current(): boolean;
}

export interface ConsumerHooks {
  /** one fetched batch of one partition, in offset order */
  batch(b: FetchedBatch): Promise<void>;
  /** partitions may move to another member (a rebalance, a restart): drop what was consumed and not committed */
  revoked(): Promise<void>;
  /** new topics are about to be subscribed: merge and commit what is buffered first */
  beforeResubscribe(): Promise<void>;
  /** the change topics, at start and whenever new ones appear */
  topicsFound(topics: string[]): void;
  /** a failure the consumer does not recover from itself */
  failed(err: Error): void;
  stopping(): boolean;
  paused(): boolean;
}

type KafkaSettings = SinkConfig['kafka'];

export class ChangeConsumer {
  private readonly cfg: KafkaSettings;
  private readonly log: Logger;
  private readonly hooks: ConsumerHooks;
  private readonly kafka: Kafka;
  private readonly isChangeTopic: (topic: string) => boolean;
  private consumer: Consumer | undefined;
  private admin: Admin | undefined;
  private refresher: NodeJS.Timeout | undefined;
  /** the subscribed change topics */
  topics: string[] = [];
  /** the consumer is being replaced (new topics, lost brokers): a batch merged meanwhile must not commit */
  restarting = false;
  /** keeps the group membership alive during long work (the current batch's heartbeat) */
  heartbeat: () => Promise<void> = async () => undefined;

  constructor(kafka: Kafka, cfg: KafkaSettings, log: Logger, hooks: ConsumerHooks) {
    this.kafka = kafka;
    this.cfg = cfg;
    this.log = log;
    this.hooks = hooks;
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
        await this.consumer?.disconnect().catch(() => undefined);
        throw err;
      }
    });
    this.refresher = setInterval(() => void this.refreshTopics().catch((err: unknown) => {
      this.log.warn({ err }, 'topic refresh failed');
      // the consumer may have been stopped for the resubscription: restarted when Kafka is the cause
      if (kafkaUnreachable(err)) this.hooks.failed(err as Error);
    }), this.cfg.topicRefreshMs);
  }

  commit(offsets: Array<{ topic: string; partition: number; offset: string }>): Promise<void> {
    return this.consumer!.commitOffsets(offsets);
  }

  pause(): void {
    try {
      if (this.consumer && this.topics.length > 0) this.consumer.pause(this.topics.map((topic) => ({ topic })));
    } catch {
      // not running yet: startConsumer pauses it once it runs
    }
  }

  resume(): void {
    try {
      if (this.consumer && this.topics.length > 0) this.consumer.resume(this.topics.map((topic) => ({ topic })));
    } catch {
      // not running yet: it starts unpaused
    }
  }

  /** Stops fetching and leaves the group's work loop (the group is left on close()). */
  async stop(): Promise<void> {
    await this.consumer?.stop().catch(() => undefined);
  }

  async close(): Promise<void> {
    clearInterval(this.refresher);
    await this.consumer?.disconnect();
    await this.admin?.disconnect().catch(() => undefined);
  }

  /** Per topic: records after the group's committed offsets (from the start where none is committed). */
  async lag(): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    if (!this.admin || this.topics.length === 0) return out;
    const committed = await this.admin.fetchOffsets({ groupId: this.cfg.groupId, topics: this.topics });
    for (const { topic, partitions } of committed) {
      const ends = await this.admin.fetchTopicOffsets(topic);
      let lag = 0;
      for (const e of ends) {
        const c = Number(partitions.find((p) => p.partition === e.partition)?.offset ?? -1);
        lag += Number(e.high) - (c >= 0 ? c : Number(e.low));
      }
      out.set(topic, lag);
    }
    return out;
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
      await this.consumer?.disconnect().catch(() => undefined);
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
          await this.consumer?.disconnect().catch(() => undefined);
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
        await this.admin?.disconnect().catch(() => undefined);
        this.admin = undefined; // a fresh admin client on the next try
        const delay = backoff.next();
        this.log.warn({ what, err: (err as Error).message, retryInMs: delay }, 'Kafka unreachable; retrying');
        await backoff.wait(delay, this.hooks.stopping);
      }
    }
  }

  private async matchingTopics(): Promise<string[]> {
    if (!this.admin) {
      this.admin = this.kafka.admin();
      await this.admin.connect();
    }
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
   * kafkajs resolves subscriptions once, so topics created later (a table's first event, a new table)
   * are picked up by merging what is buffered, then restarting the consumer with the longer list.
   */
  private async refreshTopics(): Promise<void> {
    if (this.hooks.stopping() || this.restarting) return;
    const now = await this.matchingTopics();
    if (now.every((t) => this.topics.includes(t))) return;
    this.restarting = true;
    try {
      this.log.info({ added: now.filter((t) => !this.topics.includes(t)) }, 'new change topics; resubscribing');
      await this.hooks.beforeResubscribe();
      await this.consumer?.disconnect();
      await this.hooks.revoked(); // consumed after the flush, not committed: replayed
      this.topics = now;
      this.hooks.topicsFound(now);
      if (!this.hooks.stopping()) await this.startConsumer();
    } finally {
      this.restarting = false;
    }
  }

  private async startConsumer(): Promise<void> {
    // maxWaitTimeInMs: the Java consumer's fetch.max.wait.ms (kafkajs waits 5 s). A broker answers one connection's
    // requests in order, and kafkajs sends offset commits and heartbeats on the connection an idle fetch is
    // waiting on: each commit waited up to 5 s behind it
    const consumer = this.kafka.consumer({
      groupId: this.cfg.groupId, sessionTimeout: this.cfg.sessionTimeoutMs, heartbeatInterval: 3000, maxWaitTimeInMs: 500,
    });
    this.consumer = consumer;
    consumer.on(consumer.events.REBALANCING, () => {
      // uncommitted work of revoked partitions is replayed by their next owner: drop it here
      void this.hooks.revoked();
    });
    consumer.on(consumer.events.CRASH, (e) => {
      if (!e.payload.restart) this.hooks.failed(e.payload.error); // else kafkajs restarts it
    });
    await consumer.connect();
    await consumer.subscribe({ topics: this.topics, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: 1,
      eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
        this.heartbeat = heartbeat;
        await this.hooks.batch({
          topic: batch.topic, partition: batch.partition, messages: batch.messages,
          resolve: resolveOffset, current: () => isRunning() && !isStale(),
        });
      },
    });
    if (this.hooks.paused() || this.hooks.stopping()) this.pause(); // kafkajs pauses only a running consumer
  }
}

/** A kafkajs client for the sink's cluster. */
export function sinkKafka(cfg: KafkaSettings): Kafka {
  return kafkaClient(cfg, 'tracelake-sink');
}
