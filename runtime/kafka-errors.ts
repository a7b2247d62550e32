// How tracelake tells Kafka client failures apart (one classifier for Kafka, unit-tested): a typed error with a
// code and a remedy for what the publisher and the state topic report, whether a consumer crash was the brokers
// going away, and whether an offset commit was refused because the group moved on.
import { TracelakeError } from '../schemas/src/errors.ts';

/** A client failure as the connector reports it: credentials, TLS, message size, else a retriable KAFKA_UNAVAILABLE. `what` names the request in the message of the catch-all case. */
export function kafkaError(err: unknown, what = 'Kafka request'): TracelakeError {
  if (err instanceof TracelakeError) return err;
  const e = { message: allMessages(err) };
  if (hasCode(err, 'PLT_KFK_AUTHENTICATION') || hasApiId(err, 'SASL_AUTHENTICATION_FAILED') || /SASL|authentication failed|Authentication/i.test(e.message)) {
    return new TracelakeError(`Kafka refused the connector's credentials: ${e.message}`, {
      code: 'KAFKA_AUTH', cause: err, remedy: 'check kafka.sasl (mechanism, username, password) and that the listener at kafka.brokers expects SASL',
    });
  }
  if (/certificate|SSL|TLS|self.signed/i.test(e.message)) {
    return new TracelakeError(`TLS to Kafka failed: ${e.message}`, {
      code: 'KAFKA_TLS', cause: err, remedy: 'check kafka.ssl.caFile (the CA that signed the brokers\' certificates) and that kafka.brokers names hosts in them',
    });
  }
  const tooLarge = hasApiId(err, 'MESSAGE_TOO_LARGE') || hasApiId(err, 'RECORD_LIST_TOO_LARGE') || /too large/i.test(e.message);
  if (tooLarge) {
    return new TracelakeError(`Kafka refused a message as too large: ${e.message}`, {
      code: 'KAFKA_MESSAGE_TOO_LARGE', cause: err,
      remedy: "raise the topic's max.message.bytes and the broker's message.max.bytes, or exclude the large column",
    });
  }
  return new TracelakeError(`${what} failed: ${e.message || String(err)}`, {
    code: 'KAFKA_UNAVAILABLE', retriable: true, cause: err, remedy: 'check that the Kafka brokers (kafka.brokers) are reachable',
  });
}

/** No broker answered (as opposed to a record or an authorization problem): worth starting again once Kafka is back. */
export function kafkaUnreachable(err: unknown): boolean {
  return some(err, (e) => e.code === 'PLT_KFK_NETWORK' || e.code === 'PLT_KFK_TIMEOUT' || BROKER_STARTING.has(e.apiId ?? '')
    || /Connection error|ECONNREFUSED|ECONNRESET|ETIMEDOUT|Connection timeout|broker not found|Closed connection|Cannot connect/i.test(e.message ?? ''));
}

/** What a broker answers while it (or its group coordinator) is starting or moving: it is coming back. */
const BROKER_STARTING = new Set(['COORDINATOR_LOAD_IN_PROGRESS', 'COORDINATOR_NOT_AVAILABLE', 'NOT_COORDINATOR', 'LEADER_NOT_AVAILABLE', 'NOT_LEADER_OR_FOLLOWER', 'REQUEST_TIMED_OUT', 'NETWORK_EXCEPTION']);

interface ErrorLike {
  name?: string;
  message?: string;
  code?: string;
  /** @platformatic/kafka: the broker's error name, e.g. MESSAGE_TOO_LARGE */
  apiId?: string;
  cause?: unknown;
  /** @platformatic/kafka MultipleErrors / AggregateError */
  errors?: unknown[];
}

/** Whether `test` holds for the error or any error it wraps (cause, AggregateError's errors), a few levels deep. */
function some(err: unknown, test: (e: ErrorLike) => boolean, depth = 0): boolean {
  const e = err as ErrorLike | undefined;
  if (!e || typeof e !== 'object' || depth > 5) return false;
  if (test(e)) return true;
  if (some(e.cause, test, depth + 1)) return true;
  return Array.isArray(e.errors) && e.errors.some((x) => some(x, test, depth + 1));
}

const hasApiId = (err: unknown, id: string) => some(err, (e) => e.apiId === id);
const hasCode = (err: unknown, code: string) => some(err, (e) => e.code === code);

/** The messages of the error and those it wraps: the one that names the cause is often inside. */
function allMessages(err: unknown): string {
  const out: string[] = [];
  some(err, (e) => { if (e.message && !out.includes(e.message)) out.push(e.message); return false; });
  return out.join(': ') || String(err);
}

/** A commit refused because this member's group generation is over (evicted, or a rebalance started). */
export function lostGeneration(err: unknown): boolean {
  const types = ['UNKNOWN_MEMBER_ID', 'REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION', 'FENCED_INSTANCE_ID'];
  return some(err, (e) => types.includes(e.apiId ?? '')
    || /coordinator is not aware of this member|group is rebalancing|generation/i.test(e.message ?? ''));
}

/** A topic creation refused because the topic exists (another instance was first). */
export function alreadyExists(err: unknown): boolean {
  const e = err as ErrorLike;
  return e?.apiId === 'TOPIC_ALREADY_EXISTS' || (Array.isArray(e?.errors) && e.errors.length > 0 && e.errors.every(alreadyExists));
}
