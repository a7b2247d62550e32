// How both services reach Kafka: brokers plus optional TLS and SASL, one schema (part of each service's
// kafka section), and the options every client they create starts from — @platformatic/kafka (the producers and
// admin clients), and kafkajs for the sink's consumer group until it moves too (docs/benchmarks.md, "Kafka client").
import { readFileSync } from 'node:fs';
import type { BaseOptions } from '@platformatic/kafka';
import './kafka-request-queue.ts'; // kafkajs connections stop polling an empty request queue every millisecond
import './kafka-compression.ts'; // zstd for kafkajs, from node:zlib
import { Kafka, logLevel, type KafkaConfig, type SASLOptions } from 'kafkajs';
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

/** The kafkajs TLS and SASL settings of a connection (files read now). */
export function kafkaSecurity(k: Pick<KafkaConnection, 'ssl' | 'sasl'>): Pick<KafkaConfig, 'ssl' | 'sasl'> {
  const out: Pick<KafkaConfig, 'ssl' | 'sasl'> = {};
  if (k.ssl === true) out.ssl = true;
  else if (k.ssl) {
    out.ssl = {
      rejectUnauthorized: k.ssl.rejectUnauthorized,
      ...(k.ssl.caFile ? { ca: [readFileSync(k.ssl.caFile, 'utf8')] } : {}),
      ...(k.ssl.certFile ? { cert: readFileSync(k.ssl.certFile, 'utf8') } : {}),
      ...(k.ssl.keyFile ? { key: readFileSync(k.ssl.keyFile, 'utf8') } : {}),
    };
  }
  if (k.sasl) out.sasl = { mechanism: k.sasl.mechanism, username: k.sasl.username, password: k.sasl.password } as SASLOptions;
  return out;
}

/** A kafkajs client for `k`; library logging off (errors reach us through the calls). */
export function kafkaClient(k: KafkaConnection, clientId: string, extra: Partial<KafkaConfig> = {}): Kafka {
  return new Kafka({ clientId, brokers: k.brokers, logLevel: logLevel.NOTHING, ...kafkaSecurity(k), ...extra });
}

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
