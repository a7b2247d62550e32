// The Confluent Schema Registry: registration and lookup through @confluentinc/schemaregistry's REST client,
// writer schemas cached per id, and decoding of wire-format messages (the format itself: wire-format.ts).
// Encoding and decoding use avsc directly with bigint longs (the client's own serde infers schemas and is ~10x
// slower, see shared notes).
import { SchemaRegistryClient } from '@confluentinc/schemaregistry/dist/schemaregistry-client.js';
import { avroType, type AvroSchema, type AvroType } from './avro/types.ts';
import { TracelakeError } from './errors.ts';
import { wireSchemaId, type RegisteredSchema } from './wire-format.ts';

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
