// Generates deploy/helm/tracelake/values.schema.json: the chart's Kubernetes values (written here) with the
// connector's and the sink's config schemas embedded under connector.config and sink.config, converted from
// the services' zod schemas (connector/src/config.ts, sink/src/config.ts). `node scripts/gen-helm-schema.ts`
// rewrites the file; a unit test fails when the committed file differs from what the code says.
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { connectorConfigSchema } from '../connector/src/config.ts';
import { sinkConfigSchema } from '../sink/src/config.ts';

type Json = { [k: string]: unknown };

export const valuesSchemaPath = fileURLToPath(new URL('../deploy/helm/tracelake/values.schema.json', import.meta.url));

/** A string that holds a `${env:NAME}` or `${file:/path}` reference, resolved by the service at start. */
export const referencePattern = '\\$\\{(env|file):[^}]+\\}';

/**
 * The JSON schema of a service config as the chart's values may write it: the zod schema's input side, where
 * every string field also accepts a string containing a reference (its real value is only known at start,
 * where the service validates it), and without the keys the chart sets itself (`state`, http.host, http.port).
 */
export function configValuesSchema(schema: z.ZodType): Json {
  const { $schema: _, ...json } = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'throw' }) as Json;
  if (JSON.stringify(json).includes('"$ref"')) {
    throw new Error('the config schema converts with $ref (a reused or recursive zod schema): embed its $defs before using it here');
  }
  const props = json.properties as Record<string, Json> | undefined;
  if (props) {
    delete props.state;
    const http = props.http?.properties as Record<string, Json> | undefined;
    if (http) {
      delete http.host;
      delete http.port;
    }
  }
  return allowReferences(json) as Json;
}

/** Every string-typed schema node becomes "that, or any string holding a reference". Property names are keys, not values. */
function allowReferences(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(allowReferences);
  if (!node || typeof node !== 'object') return node;
  const out: Json = {};
  for (const [k, v] of Object.entries(node as Json)) out[k] = k === 'propertyNames' ? v : allowReferences(v);
  if (out.type !== 'string') return out;
  const { description, default: dflt, ...rest } = out;
  return {
    ...(description === undefined ? {} : { description }),
    ...(dflt === undefined ? {} : { default: dflt }),
    anyOf: [rest, { type: 'string', pattern: referencePattern, description: 'a ${env:NAME} / ${file:/path} reference' }],
  };
}

// --- the Kubernetes side of the values ------------------------------------------------------------------------
const str = (description?: string): Json => ({ type: 'string', ...(description ? { description } : {}) });
const obj = (properties: Record<string, Json>, extra: Json = {}): Json => ({ type: 'object', properties, additionalProperties: false, ...extra });
const anyObject = (description: string): Json => ({ type: 'object', description });
const k8sName = { type: 'string', pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$', maxLength: 253 };
const secretName = { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$', maxLength: 56, description: 'a Secret name (used in a volume name, so no dots)' };
const envName = '^[A-Za-z_][A-Za-z0-9_]*$';
const probe = obj({
  initialDelaySeconds: { type: 'integer', minimum: 0 },
  periodSeconds: { type: 'integer', minimum: 1 },
  timeoutSeconds: { type: 'integer', minimum: 1 },
  failureThreshold: { type: 'integer', minimum: 1 },
  successThreshold: { type: 'integer', minimum: 1 },
}, { description: 'probe timing (the chart sets the HTTP GET on the service port)' });

function workload(component: 'connector' | 'sink', config: Json, replicas: Json, extra: Record<string, Json> = {}): Json {
  return obj({
    enabled: { type: 'boolean' },
    replicas,
    ...extra,
    state: { enum: ['running', 'paused', 'stopped'], description: 'declarative state, written into the config as `state`' },
    port: { type: 'integer', minimum: 1, maximum: 65535, description: 'REST API, /healthz, /readyz and /metrics port (config http.port)' },
    logLevel: { enum: ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'], description: 'TRACELAKE_LOG_LEVEL' },
    config: { ...config, description: `the ${component}'s config file (${component}/src/config.ts); strings may hold \${env:NAME} / \${file:/path} references` },
    secretEnv: {
      type: 'object',
      description: 'environment variables from Secrets: NAME: key in existingSecret, or NAME: {secretName, key}',
      propertyNames: { pattern: envName },
      additionalProperties: { anyOf: [{ type: 'string', minLength: 1 }, obj({ secretName: k8sName, key: { type: 'string', minLength: 1 } }, { required: ['secretName', 'key'] })] },
    },
    envFromSecrets: { type: 'array', items: k8sName, description: 'Secrets whose every key becomes an environment variable' },
    secretFiles: { type: 'array', items: secretName, description: 'Secrets mounted under /etc/tracelake/secrets/<name>/<key>' },
    env: { type: 'array', items: { type: 'object', required: ['name'], properties: { name: { type: 'string', pattern: envName } } }, description: 'further Kubernetes EnvVar objects' },
    resources: anyObject('Kubernetes ResourceRequirements'),
    podDisruptionBudget: obj({ enabled: { type: 'boolean' } }, { description: 'maxUnavailable 1, rendered with 2+ replicas' }),
    service: obj({ type: { enum: ['ClusterIP', 'NodePort', 'LoadBalancer'] }, annotations: { type: 'object', additionalProperties: { type: 'string' } } }),
    livenessProbe: probe,
    readinessProbe: probe,
    terminationGracePeriodSeconds: { type: 'integer', minimum: 0, description: 'time to drain after SIGTERM' },
    podAnnotations: { type: 'object', additionalProperties: { type: 'string' } },
    podLabels: { type: 'object', additionalProperties: { type: 'string' } },
    nodeSelector: { type: 'object', additionalProperties: { type: 'string' } },
    tolerations: { type: 'array', items: { type: 'object' } },
    affinity: anyObject('Kubernetes Affinity (default with 2+ replicas: prefer different nodes)'),
  }, { required: ['enabled', 'replicas', 'state', 'port', 'config'] });
}

export function valuesSchema(): Json {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    title: 'tracelake Helm chart values',
    description: 'Generated by scripts/gen-helm-schema.ts from the services\' config schemas; do not edit by hand.',
    ...obj({
      nameOverride: str(),
      fullnameOverride: str(),
      image: obj({ repository: { type: 'string', minLength: 1 }, tag: str('defaults to the chart appVersion'), pullPolicy: { enum: ['Always', 'IfNotPresent', 'Never'] } }),
      imagePullSecrets: { type: 'array', items: obj({ name: k8sName }, { required: ['name'] }) },
      existingSecret: str('the Secret that secretEnv entries given as a key read from (created by you)'),
      serviceAccount: obj({ create: { type: 'boolean' }, name: str(), annotations: { type: 'object', additionalProperties: { type: 'string' } } }),
      podSecurityContext: anyObject('Kubernetes PodSecurityContext for both services'),
      securityContext: anyObject('Kubernetes SecurityContext of the containers'),
      serviceMonitor: obj({
        enabled: { type: 'boolean' },
        interval: { type: 'string', pattern: '^[0-9]+(ms|s|m|h)$' },
        scrapeTimeout: { type: 'string', pattern: '^[0-9]+(ms|s|m|h)$' },
        labels: { type: 'object', additionalProperties: { type: 'string' } },
      }),
      connector: workload('connector', configValuesSchema(connectorConfigSchema),
        { type: 'integer', minimum: 0, maximum: 2, description: '1, or 2 for a hot standby that waits for the replication slot' }),
      sink: workload('sink', configValuesSchema(sinkConfigSchema),
        { type: 'integer', minimum: 0, description: 'consumer group members: at most the change topics\' partitions' },
        { partitions: { type: 'integer', minimum: 1, description: 'partitions of the change topics, for the replicas check when the connector is not in this release' } }),
    }),
  };
}

export function valuesSchemaText(): string {
  return `${JSON.stringify(valuesSchema(), null, 2)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(valuesSchemaPath, valuesSchemaText());
}
