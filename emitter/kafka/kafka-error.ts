// A kafkajs failure as the connector reports it: a code and a remedy (credentials, TLS, message size), anything
// else a retriable KAFKA_UNAVAILABLE. Used by the publisher and the state topic.
import { TracelakeError } from '../../schemas/src/errors.ts';

/** `what` names the request in the message of the catch-all case. */
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
