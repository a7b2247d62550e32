// The tables a source emits: each one's topic exists, its key and value schemas are registered, and the encoder
// knows it by a small ref. Registered again unchanged, a table keeps its ref; a schema change makes a new one.
import type { Encoder } from './encode/encoder.ts';
import type { KafkaPublisher } from './kafka/publisher.ts';
import { keySchema, topicName, valueSchema, type TableSchema } from '../schemas/src/envelope.ts';
import type { SchemaRegistry } from '../schemas/src/registry.ts';
import type { RegisteredSchema } from '../schemas/src/wire-format.ts';

/** A table as a source registers it: its schema, and the plain description its record decoder rebuilds it from. */
export interface TableRegistration {
  schema: TableSchema;
  description: unknown;
}

export interface EmittedTable {
  /** how the encoder knows this table (a schema change makes a new one) */
  ref: number;
  /** schema.table */
  name: string;
  schema: TableSchema;
  topic: string;
  key: RegisteredSchema;
  value: RegisteredSchema;
}

export class TableRegistry {
  private readonly topicPrefix: string;
  private readonly registry: Pick<SchemaRegistry, 'register'>;
  private readonly publisher: Pick<KafkaPublisher, 'ensureTopics'>;
  private readonly encoder: Pick<Encoder, 'define'>;
  private readonly byRef = new Map<number, EmittedTable>();
  private readonly byIdentity = new Map<string, EmittedTable>();
  private nextRef = 1;

  constructor(topicPrefix: string, registry: Pick<SchemaRegistry, 'register'>, publisher: Pick<KafkaPublisher, 'ensureTopics'>, encoder: Pick<Encoder, 'define'>) {
    this.topicPrefix = topicPrefix;
    this.registry = registry;
    this.publisher = publisher;
    this.encoder = encoder;
  }

  /** The table the encoder knows by `ref`. */
  get(ref: number): EmittedTable {
    const t = this.byRef.get(ref);
    if (!t) throw new Error(`table ref ${ref} was never registered`);
    return t;
  }

  /**
   * Every table's topic is created (all in one request, plus `extraTopics`) and its schemas registered before
   * the first row is read: a sink starting alongside finds all change topics at once — one subscription, no
   * resubscription as topics appear one by one — and can prepare its tables from the registered schemas.
   */
  async declare(tables: TableRegistration[], extraTopics: string[] = []): Promise<EmittedTable[]> {
    await this.publisher.ensureTopics([...tables.map((t) => this.topicOf(t.schema)), ...extraTopics]);
    const out: EmittedTable[] = [];
    for (const t of tables) out.push(await this.register(t));
    return out;
  }

  /** A table's topic exists and its schemas are registered; the encoder knows it. */
  async register(reg: TableRegistration): Promise<EmittedTable> {
    const { schema } = reg;
    const topic = this.topicOf(schema);
    await this.publisher.ensureTopics([topic]);
    const keyAvro = keySchema(this.topicPrefix, schema);
    const valueAvro = valueSchema(this.topicPrefix, schema);
    const key = await this.registry.register(`${topic}-key`, keyAvro);
    const value = await this.registry.register(`${topic}-value`, valueAvro);
    const identity = JSON.stringify([reg.description, key.id, value.id]);
    let t = this.byIdentity.get(identity);
    if (!t) {
      t = { ref: this.nextRef++, name: `${schema.schema}.${schema.table}`, schema, topic, key, value };
      this.byIdentity.set(identity, t);
      this.byRef.set(t.ref, t);
      this.encoder.define({ ref: t.ref, description: reg.description, keyId: key.id, keySchema: keyAvro, valueId: value.id, valueSchema: valueAvro });
    }
    return t;
  }

  private topicOf(schema: TableSchema): string {
    return topicName(this.topicPrefix, schema.schema, schema.table);
  }
}
