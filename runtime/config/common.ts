// Configuration both services share: the REST/metrics endpoint, the declarative state, and what to do on
// failure. Part of each service's schema (and so of docs/configuration.md and the Helm values schema).
import { z } from 'zod';

export function httpSchema(defaultPort: number) {
  return z.strictObject({
    host: z.string().default('0.0.0.0').describe('address the REST API, health checks and /metrics listen on'),
    port: z.number().int().min(0).max(65535).default(defaultPort).describe('port of the REST API, health checks and /metrics; 0 picks a free port (logged)'),
    token: z.string().min(16, 'use a token of at least 16 characters').optional()
      .describe('bearer token the mutating endpoints require (pause, resume, stop, restart, offsets, snapshot); prefer ${env:NAME} or ${file:/path}'),
  }).prefault({}).describe('REST API (Kafka Connect style), /healthz, /readyz and Prometheus /metrics');
}

export const lifecycleSchema = {
  state: z.enum(['running', 'paused', 'stopped']).default('running')
    .describe('state to start in (like Strimzi spec.state): paused holds the pipeline without releasing it; stopped releases every resource but keeps serving REST'),
  failurePolicy: z.enum(['stay', 'exit']).default('stay')
    .describe('on a non-retriable failure: stay FAILED (REST shows the trace; POST /restart) like Kafka Connect, or exit 1 for the orchestrator to restart'),
};

/**
 * The schema registry section: where it is, and how long one request may take. Every request is bounded:
 * a response that never comes (a registry that lost it, a connection dropped without a close) ends as a
 * retriable error after requestTimeoutMs and is retried, instead of waiting for the server's idle timeout.
 */
export const registryFields = {
  url: z.string().regex(/^https?:\/\/[^\s/]+/, 'an http(s) URL of a Confluent-compatible registry API, e.g. http://registry:8081').describe('schema registry (Confluent API; for Apicurio …/apis/ccompat/v7)'),
  requestTimeoutMs: z.number().int().positive().default(10_000)
    .describe('longest wait for one registry response; a request that times out is retried (3 times, with jittered backoff), then the service reports REGISTRY_UNAVAILABLE'),
};
