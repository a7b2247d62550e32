// Avro in the Confluent Schema Registry wire format: 0x00, the 4-byte big-endian schema id, the Avro body.
// Registration and lookup go through @confluentinc/schemaregistry's REST client; encoding and decoding use
// avsc directly with bigint longs (the client's own serde infers schemas and is ~10x slower, see
// shared notes), with types cached per schema id.
import { SchemaRegistryClient } from '@confluentinc/schemaregistry/dist/schemaregistry-client.js';
import { avroType, type AvroSchema, type AvroType } from './avro/types.ts';
import { TracelakeError } from './errors.ts';

export const MAGIC_BYTE = 0;

export interface RegisteredSchema {
  id: number;
  type: AvroType;
}

export interface WriterSchema {
  type: AvroType;
  /** the schema as registered, with tracelake's field attributes */
  schema: AvroSchema;
}

export class SchemaRegistry {
  readonly client: SchemaRegistryClient;
  private readonly bySubject = new Map<string, Map<string, RegisteredSchema>>();
  private readonly byId = new Map<number, Promise<WriterSchema>>();

  constructor(baseUrl: string) {
    this.client = new SchemaRegistryClient({ baseURLs: [baseUrl], maxRetries: 3, retriesWaitMs: 200, retriesMaxWaitMs: 2000 });
  }

  /** Registers (or finds) `schema` under `subject`; the registry enforces the subject's compatibility. */
  async register(subject: string, schema: AvroSchema): Promise<RegisteredSchema> {
    const text = JSON.stringify(schema);
    const cached = this.bySubject.get(subject)?.get(text);
    if (cached) return cached;
    let id: number;
    try {
      id = await this.client.register(subject, { schemaType: 'AVRO', schema: text });
    } catch (err) {
      throw registryError(err, subject);
    }
    const registered = { id, type: avroType(schema) };
    if (!this.bySubject.has(subject)) this.bySubject.set(subject, new Map());
    this.bySubject.get(subject)!.set(text, registered);
    this.byId.set(id, Promise.resolve({ type: registered.type, schema }));
    return registered;
  }

  /** The writer schema of a schema id (fetched once). */
  writerSchema(id: number): Promise<WriterSchema> {
    let t = this.byId.get(id);
    if (!t) {
      t = this.client.getBySubjectAndId('', id).then(
        (info) => {
          const schema = JSON.parse(info.schema) as AvroSchema;
          return { type: avroType(schema), schema };
        },
        (err: unknown) => {
          this.byId.delete(id);
          throw registryError(err, `schema id ${id}`);
        },
      );
      this.byId.set(id, t);
    }
    return t;
  }
}

/** Where messages are encoded before being copied out at their size (grows to the largest message seen). */
let scratch = Buffer.allocUnsafe(64 * 1024);

/**
 * The value in the wire format: magic byte, schema id, Avro body. Encoded into a scratch buffer, then copied
 * into one buffer of the exact size (pooled for small messages: no zero-fill) — `toBuffer` would allocate a
 * zero-filled body and copy it once more.
 */
export function encodeWire(schema: RegisteredSchema, value: unknown): Buffer {
  let end = writeWire(schema, value, scratch, 0);
  if (end < 0) {
    scratch = Buffer.allocUnsafe(Math.max(scratch.length * 2, scratch.length - end));
    end = writeWire(schema, value, scratch, 0);
  }
  const out = Buffer.allocUnsafe(end);
  scratch.copy(out, 0, 0, end);
  return out;
}

/**
 * Writes `value` in the wire format into `buf` at `pos`; returns where it ends, or, when it does not fit, minus the
 * number of bytes missing (avsc's convention).
 */
export function writeWire(schema: RegisteredSchema, value: unknown, buf: Buffer, pos: number): number {
  const end = schema.type.encode(value, buf, pos + 5);
  if (end < 0) return end;
  buf.writeUInt8(MAGIC_BYTE, pos);
  buf.writeInt32BE(schema.id, pos + 1);
  return end;
}

/** The schema id of a wire-format message, or an error saying why the bytes are not one. */
export function wireSchemaId(buf: Buffer): number {
  if (buf.length < 5 || buf.readUInt8(0) !== MAGIC_BYTE) {
    throw new TracelakeError('message is not in Schema Registry wire format (no magic byte 0 + schema id)', {
      code: 'NOT_WIRE_FORMAT', remedy: 'only tracelake/Debezium Avro producers should write to these topics',
    });
  }
  return buf.readInt32BE(1);
}

export async function decodeWire(registry: SchemaRegistry, buf: Buffer): Promise<{ id: number; value: unknown; writer: WriterSchema }> {
  const id = wireSchemaId(buf);
  const writer = await registry.writerSchema(id);
  try {
    return { id, value: writer.type.fromBuffer(buf.subarray(5)), writer };
  } catch (err) {
    throw new TracelakeError(`Avro body does not decode with schema id ${id}: ${(err as Error).message}`, {
      code: 'AVRO_DECODE_FAILED', remedy: 'the message is corrupt or was written with another schema; it goes to the dead-letter topic', cause: err,
    });
  }
}

function registryError(err: unknown, what: string): TracelakeError {
  const status = (err as { status?: number }).status;
  const message = (err as Error).message ?? String(err);
  if (status === 409) {
    return new TracelakeError(`schema change for ${what} is incompatible with the registered versions: ${message}`, {
      code: 'INCOMPATIBLE_SCHEMA', cause: err,
      remedy: 'the column change cannot be read by consumers of earlier versions (e.g. a type narrowing); revert it, or move the table to a new topic prefix and re-snapshot',
    });
  }
  if (status === 404) {
    return new TracelakeError(`schema registry has no ${what}: ${message}`, {
      code: 'SCHEMA_NOT_FOUND', cause: err, remedy: 'the registry lost schemas or the topic was written elsewhere; check the registry storage',
    });
  }
  return new TracelakeError(`schema registry request for ${what} failed: ${message}`, {
    code: 'REGISTRY_UNAVAILABLE', retriable: true, cause: err, remedy: 'check that the schema registry is reachable (registry.url)',
  });
}
