// How both services reach Kafka: brokers plus optional TLS and SASL, one schema (part of each service's
// kafka section), and the options every client they create starts from. The client is @platformatic/kafka
// (maintained, pure JavaScript, no native build; the choice and its numbers: docs/benchmarks.md, "Kafka client").
import { readFileSync } from 'node:fs';
import type { BaseOptions } from '@platformatic/kafka';
import { z } from 'zod';

export const kafkaConnectionFields = {
  brokers: z.array(z.string()).min(1).describe('bootstrap brokers, host:port'),
  ssl: z.union([
    z.boolean(),
    z.strictObject({
      caFile: z.string().optional().describe('PEM CA bundle to trust (default: the system CAs)'),
      certFile: z.string().optional().describe('client certificate (PEM) for mutual TLS'),
      keyFile: z.string().optional().describe('client key (PEM) for mutual TLS'),
      rejectUnauthorized: z.boolean().default(true).describe('verify the brokers\' certificates (never turn off in production)'),
    }),
  ]).default(false).describe('TLS to the brokers: true (system CAs) or the files to use'),
  sasl: z.strictObject({
    mechanism: z.enum(['plain', 'scram-sha-256', 'scram-sha-512']),
    username: z.string().min(1),
    password: z.string().min(1).describe('prefer ${env:NAME} or ${file:/path}'),
  }).optional().describe('SASL authentication (with ssl for anything but a private network)'),
};

const connectionSchema = z.strictObject(kafkaConnectionFields);
export type KafkaConnection = z.output<typeof connectionSchema>;

/** The @platformatic/kafka options of a connection: brokers, TLS, SASL (files read now). */
export function kafkaOptions(k: KafkaConnection, clientId: string): BaseOptions {
  const out: BaseOptions = { clientId, bootstrapBrokers: k.brokers };
  if (k.ssl === true) out.tls = {};
  else if (k.ssl) {
    out.tls = {
      rejectUnauthorized: k.ssl.rejectUnauthorized,
      ...(k.ssl.caFile ? { ca: [readFileSync(k.ssl.caFile, 'utf8')] } : {}),
      ...(k.ssl.certFile ? { cert: readFileSync(k.ssl.certFile, 'utf8') } : {}),
      ...(k.ssl.keyFile ? { key: readFileSync(k.ssl.keyFile, 'utf8') } : {}),
    };
  }
  if (k.sasl) out.sasl = { mechanism: SASL_MECHANISMS[k.sasl.mechanism], username: k.sasl.username, password: k.sasl.password };
  return out;
}

const SASL_MECHANISMS = { plain: 'PLAIN', 'scram-sha-256': 'SCRAM-SHA-256', 'scram-sha-512': 'SCRAM-SHA-512' } as const;
