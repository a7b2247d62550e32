// Smoke: register + look up an Avro schema in the registry (Confluent API) and encode/decode in the
// Confluent wire format (0x00, 4-byte schema id, Avro body) with the client the product uses. The serializer
// is given the topic strategy itself: by default it first asks GET /associations/…, an endpoint Apicurio 3.3
// lacks, whose 404 Apicurio now and then never sends — with no request timeout, this test once waited 30
// minutes for it (Apicurio's idle timeout). The client gets a request timeout for the same reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SchemaRegistryClient } from '@confluentinc/schemaregistry/dist/schemaregistry-client.js';
import { AvroSerializer, AvroDeserializer } from '@confluentinc/schemaregistry/dist/serde/avro.js';
import { SerdeType, TopicNameStrategy } from '@confluentinc/schemaregistry/dist/serde/serde.js';
import { stack, uniqueName } from '../../support/stack.ts';

const v1 = {
  type: 'record', name: 'Span', namespace: 'tracelake.smoke',
  fields: [
    { name: 'span_id', type: 'string' },
    { name: 'tokens', type: ['null', 'long'], default: null },
  ],
};

test('register, look up, and round-trip a record in Confluent wire format; BACKWARD is enforced', async () => {
  const topic = uniqueName('smoke.registry');
  const subject = `${topic}-value`;
  const client = new SchemaRegistryClient({ baseURLs: [stack().registryUrl], createAxiosDefaults: { timeout: 10_000 } });

  const id = await client.register(subject, { schemaType: 'AVRO', schema: JSON.stringify(v1) });
  assert.ok(Number.isInteger(id) && id > 0);
  assert.equal(await client.getId(subject, { schemaType: 'AVRO', schema: JSON.stringify(v1) }), id);
  const latest = await client.getLatestSchemaMetadata(subject);
  assert.equal(latest.id, id);
  assert.equal(latest.version, 1);

  const ser = new AvroSerializer(client, SerdeType.VALUE, {
    useLatestVersion: true, autoRegisterSchemas: false, subjectNameStrategy: TopicNameStrategy,
  });
  const record = { span_id: 'abc-☃', tokens: 2 ** 40 };
  const bytes = await ser.serialize(topic, record);
  assert.equal(bytes[0], 0, 'magic byte');
  assert.equal(bytes.readInt32BE(1), id, 'schema id after the magic byte');

  const de = new AvroDeserializer(client, SerdeType.VALUE, { subjectNameStrategy: TopicNameStrategy });
  assert.deepEqual({ ...(await de.deserialize(topic, bytes)) }, record);

  // a new optional field with a default is a BACKWARD-compatible evolution
  const v2 = { ...v1, fields: [...v1.fields, { name: 'model', type: ['null', 'string'], default: null }] };
  const id2 = await client.register(subject, { schemaType: 'AVRO', schema: JSON.stringify(v2) });
  assert.notEqual(id2, id);
  // a new required field without a default is not: the registry must refuse it (HTTP 409)
  const bad = { ...v1, fields: [...v1.fields, { name: 'required_field', type: 'string' }] };
  await assert.rejects(
    client.register(subject, { schemaType: 'AVRO', schema: JSON.stringify(bad) }),
    (err: { status?: number; message?: string }) => err.status === 409 || /409|incompatible/i.test(String(err.message)),
  );
});
