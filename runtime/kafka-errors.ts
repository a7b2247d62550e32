// How tracelake tells Kafka client failures apart (one classifier for Kafka, unit-tested): a typed error with a
// code and a remedy for what the publisher and the state topic report, whether a consumer crash was the brokers
// going away, and whether an offset commit was refused because the group moved on.
import { TracelakeError } from '../schemas/src/errors.ts';

/** A client failure as the connector reports it: credentials, TLS, message size, else a retriable KAFKA_UNAVAILABLE. `what` names the request in the message of the catch-all case. */
export function kafkaError(err: unknown, what = 'Kafka request'): TracelakeError {
  if (err instanceof TracelakeError) return err;
  const e = err as { message?: string; type?: string; retriable?: boolean };
  if (e.type === 'SASL_AUTHENTICATION_FAILED' || /SASL|authentication failed|Authentication/i.test(e.message ?? '')) {
    return new TracelakeError(`Kafka refused the connector's credentials: ${e.message}`, {
      code: 'KAFKA_AUTH', cause: err, remedy: 'check kafka.sasl (mechanism, username, password) and that the listener at kafka.brokers expects SASL',
    });
  }
  if (/certificate|SSL|TLS|self.signed/i.test(e.message ?? '')) {
    return new TracelakeError(`TLS to Kafka failed: ${e.message}`, {
      code: 'KAFKA_TLS', cause: err, remedy: 'check kafka.ssl.caFile (the CA that signed the brokers\' certificates) and that kafka.brokers names hosts in them',
    });
  }
  const tooLarge = e.type === 'MESSAGE_TOO_LARGE' || /too large/i.test(e.message ?? '');
  if (tooLarge) {
    return new TracelakeError(`Kafka refused a message as too large: ${e.message}`, {
      code: 'KAFKA_MESSAGE_TOO_LARGE', cause: err,
      remedy: "raise the topic's max.message.bytes and the broker's message.max.bytes, or exclude the large column",
    });
  }
  return new TracelakeError(`${what} failed: ${e.message ?? String(err)}`, {
    code: 'KAFKA_UNAVAILABLE', retriable: true, cause: err, remedy: 'check that the Kafka brokers (kafka.brokers) are reachable',
  });
}

/** No broker answered (as opposed to a record or an authorization problem): worth starting again once Kafka is back. */
export function kafkaUnreachable(err: unknown): boolean {
  for (let e = err as { name?: string; message?: string; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (e.name === 'KafkaJSConnectionError' || e.name === 'KafkaJSNumberOfRetriesExceeded' || e.name === 'KafkaJSBrokerNotFound'
      || /Connection error|ECONNREFUSED|ECONNRESET|ETIMEDOUT|Connection timeout|broker not found|Closed connection/i.test(e.message ?? '')) return true;
  }
  return false;
}

/** A commit refused because this member's group generation is over (evicted, or a rebalance started). */
export function lostGeneration(err: unknown): boolean {
  const types = ['UNKNOWN_MEMBER_ID', 'REBALANCE_IN_PROGRESS', 'ILLEGAL_GENERATION', 'FENCED_INSTANCE_ID'];
  const e = err as { type?: string; cause?: { type?: string }; message?: string };
  return types.includes(e.type ?? '') || types.includes(e.cause?.type ?? '')
    || /coordinator is not aware of this member|group is rebalancing|generation/i.test(e.message ?? '');
}
