// Decoding with the sink's poison-record policy: a record that cannot be decoded (not an envelope, a schema the
// registry does not have) stops the sink naming it — or, with errors.tolerance all, goes to the dead-letter
// topic and is skipped. A registry that does not answer is not the record's fault: that error goes up as is.
import type { ConsumedRecord } from '../consume/change-consumer.ts';
import type { DeadLetterQueue } from '../dead-letter-queue.ts';
import type { EventDecoder } from './event-decoder.ts';
import type { TableEvent } from './table-event.ts';
import { TracelakeError } from '../../../schemas/src/errors.ts';

export class CheckedDecoder {
  private readonly decoder: EventDecoder;
  private readonly deadLetters: DeadLetterQueue | undefined;

  constructor(decoder: EventDecoder, deadLetters: DeadLetterQueue | undefined) {
    this.decoder = decoder;
    this.deadLetters = deadLetters;
  }

  /** The record's event; null for a tombstone or a record sent to the dead-letter topic. */
  async decode(topic: string, partition: number, m: ConsumedRecord): Promise<TableEvent | null> {
    try {
      return await this.decoder.decode(topic, partition, m);
    } catch (err) {
      const e = err as Partial<TracelakeError> & Error;
      if (e.retriable) throw err; // registry unreachable: not the record's fault
      if (!this.deadLetters) {
        throw new TracelakeError(`poison record at ${topic}[${partition}]@${m.offset}: ${e.message}`, {
          code: 'POISON_RECORD', cause: err,
          remedy: 'inspect the record; set errors.tolerance: all with errors.deadLetterTopic to route such records aside and go on',
        });
      }
      await this.deadLetters.send({ topic, partition, offset: m.offset, raw: { key: m.key, value: m.value } }, 'VALUE_CONVERTER', e);
      return null;
    }
  }
}
