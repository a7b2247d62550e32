// The Helm chart (deploy/helm/tracelake): helm lint, helm template with the default and the full values, the
// rendered manifests against Kubernetes' JSON schemas (kubeconform -strict, Kubernetes 1.25 and 1.37), the
// values schema refusing bad values, and the rendered service configs accepted by the services' own schemas.
// No cluster is involved: nothing here is applied to Kubernetes.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connectorConfigSchema, parseConnectorConfig } from '../../../connector/src/config.ts';
import { parseSinkConfig } from '../../../sink/src/config.ts';
import {
  CHART, FULL_VALUES, deployTools, helmTemplate, kubeconform, parseManifests, renderNotes, run, validateServiceMonitor,
  type DeployTools, type Manifest,
} from './tools.ts';

let tools: DeployTools;
before(() => {
  tools = deployTools();
});

const ok = (r: { status: number; stdout: string; stderr: string }, what: string) =>
  assert.equal(r.status, 0, `${what} failed:\n${r.stderr}\n${r.stdout.slice(-3000)}`);

async function render(args: string[] = []): Promise<{ text: string; manifests: Manifest[] }> {
  const r = helmTemplate(tools, args);
  ok(r, `helm template ${args.join(' ')}`);
  return { text: r.stdout, manifests: await parseManifests(tools, r.stdout) };
}
const find = (ms: Manifest[], kind: string, name: string) => {
  const m = ms.find((x) => x.kind === kind && x.metadata.name === name);
  assert.ok(m, `${kind} ${name} is rendered (have ${ms.map((x) => `${x.kind}/${x.metadata.name}`).join(', ')})`);
  return m;
};
const configOf = (ms: Manifest[], name: string) => JSON.parse(find(ms, 'ConfigMap', name).data['config.json']);
const container = (d: Manifest) => d.spec.template.spec.containers[0];

function conforms(text: string) {
  for (const version of Object.keys(tools.k8sSchemas)) {
    const r = kubeconform(tools, version, text);
    ok(r, `kubeconform (Kubernetes ${version})`);
    assert.match(r.stdout, /Invalid: 0, Errors: 0/, r.stdout);
  }
}

test('helm lint --strict passes with the default and with the full values', () => {
  ok(run(tools.helm, ['lint', '--strict', CHART]), 'helm lint (defaults)');
  ok(run(tools.helm, ['lint', '--strict', CHART, '-f', FULL_VALUES]), 'helm lint (full values)');
});

test('default values: connector and sink, one replica each, valid Kubernetes objects, hardened pods', async () => {
  const { text, manifests } = await render();
  conforms(text);
  assert.deepEqual(manifests.map((m) => m.kind).sort(),
    ['ConfigMap', 'ConfigMap', 'Deployment', 'Deployment', 'Service', 'Service', 'ServiceAccount']);
  for (const component of ['connector', 'sink'] as const) {
    const port = component === 'connector' ? 8083 : 8084;
    const d = find(manifests, 'Deployment', `tl-tracelake-${component}`);
    assert.equal(d.spec.replicas, 1);
    const c = container(d);
    assert.deepEqual(c.args, [component, '--config', '/etc/tracelake/config.json']);
    assert.equal(c.image, 'tracelake:0.1.0');
    assert.deepEqual(c.ports, [{ name: 'http', containerPort: port, protocol: 'TCP' }]);
    assert.deepEqual(c.livenessProbe.httpGet, { path: '/healthz', port: 'http' });
    assert.deepEqual(c.readinessProbe.httpGet, { path: '/readyz', port: 'http' });
    assert.deepEqual(c.securityContext, { allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ['ALL'] } });
    const pod = d.spec.template.spec;
    assert.equal(pod.securityContext.runAsNonRoot, true);
    assert.equal(pod.securityContext.seccompProfile.type, 'RuntimeDefault');
    assert.equal(pod.automountServiceAccountToken, false);
    assert.ok(c.volumeMounts.some((m: any) => m.mountPath === '/tmp'), 'a writable /tmp');
    assert.ok(pod.volumes.some((v: any) => v.name === 'tmp' && v.emptyDir), '/tmp is an emptyDir');
    assert.match(d.spec.template.metadata.annotations['checksum/config'], /^[0-9a-f]{64}$/);
    const config = configOf(manifests, `tl-tracelake-${component}`);
    assert.deepEqual(config.http, { host: '0.0.0.0', port });
    assert.equal(config.state, 'running');
    const svc = find(manifests, 'Service', `tl-tracelake-${component}`);
    assert.equal(svc.spec.ports[0].port, port);
    assert.equal(svc.spec.publishNotReadyAddresses, true, 'a FAILED (unready) pod stays reachable for /status and /restart');
  }
  // the new pod first: it stands by until the old one releases the slot (or keeps failing while the old one streams)
  for (const name of ['tl-tracelake-connector', 'tl-tracelake-sink']) {
    assert.deepEqual(find(manifests, 'Deployment', name).spec.strategy, { type: 'RollingUpdate', rollingUpdate: { maxSurge: 1, maxUnavailable: 0 } });
  }
  // the secret reaches the connector as an environment variable its config refers to
  assert.equal(configOf(manifests, 'tl-tracelake-connector').source.url, '${env:POSTGRES_URL}');
  assert.deepEqual(container(find(manifests, 'Deployment', 'tl-tracelake-connector')).env.find((e: any) => e.name === 'POSTGRES_URL'),
    { name: 'POSTGRES_URL', valueFrom: { secretKeyRef: { name: 'tracelake', key: 'source-url' } } });
});

test('full values: standby connector, three sinks, PDBs, ServiceMonitor, secrets, state paused', async () => {
  const { text, manifests } = await render(['-f', FULL_VALUES]);
  conforms(text);
  const connector = find(manifests, 'Deployment', 'cdc-connector');
  const sink = find(manifests, 'Deployment', 'cdc-sink');
  assert.equal(connector.spec.replicas, 2);
  assert.equal(connector.spec.strategy.type, 'RollingUpdate');
  assert.equal(connector.spec.template.spec.affinity.podAntiAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].podAffinityTerm.topologyKey,
    'kubernetes.io/hostname', 'the standby prefers another node');
  assert.equal(sink.spec.replicas, 3);
  assert.ok(sink.spec.template.spec.affinity.nodeAffinity, 'a given affinity replaces the default one');
  for (const name of ['cdc-connector', 'cdc-sink']) {
    assert.equal(find(manifests, 'PodDisruptionBudget', name).spec.maxUnavailable, 1);
    assert.equal(configOf(manifests, name).state, 'paused');
  }
  const connectorConfig = configOf(manifests, 'cdc-connector');
  assert.deepEqual(connectorConfig.http, { host: '0.0.0.0', port: 9083, token: '${env:TRACELAKE_HTTP_TOKEN}' });
  assert.equal(container(connector).ports[0].containerPort, 9083);

  // secrets: by key from existingSecret, from a named Secret, envFrom, and files
  const sinkEnv = container(sink).env;
  assert.deepEqual(sinkEnv.find((e: any) => e.name === 'DATABRICKS_TOKEN').valueFrom.secretKeyRef, { name: 'tracelake-credentials', key: 'databricks-token' });
  assert.deepEqual(sinkEnv.find((e: any) => e.name === 'TRACELAKE_HTTP_TOKEN').valueFrom.secretKeyRef, { name: 'tracelake-rest', key: 'token' });
  assert.deepEqual(container(sink).envFrom, [{ secretRef: { name: 'databricks-connection' } }]);
  assert.deepEqual(container(connector).volumeMounts.find((m: any) => m.name === 'secret-pg-password'),
    { name: 'secret-pg-password', mountPath: '/etc/tracelake/secrets/pg-password', readOnly: true });
  assert.match(connectorConfig.source.url, /\$\{file:\/etc\/tracelake\/secrets\/pg-password\/password\}/);
  assert.equal(container(connector).env.find((e: any) => e.name === 'TRACELAKE_LOG_LEVEL').value, 'debug');

  const sm = find(manifests, 'ServiceMonitor', 'cdc');
  await validateServiceMonitor(tools, sm);
  assert.deepEqual(sm.spec.endpoints, [{ port: 'http', path: '/metrics', interval: '15s', scrapeTimeout: '5s' }]);
  assert.equal(sm.metadata.labels.release, 'prometheus');
  assert.deepEqual(sm.spec.namespaceSelector.matchNames, ['observability']);
  // both Services carry the labels the ServiceMonitor selects, with the port it names
  for (const name of ['cdc-connector', 'cdc-sink']) {
    const svc = find(manifests, 'Service', name);
    for (const [k, v] of Object.entries(sm.spec.selector.matchLabels)) assert.equal(svc.metadata.labels[k], v);
    assert.equal(svc.spec.ports[0].name, 'http');
  }
});

test('a connector that fails when the slot is busy is replaced old-pod-first (Recreate)', async () => {
  const { manifests } = await render(['--set', 'connector.config.source.slot.whenBusy=fail']);
  assert.deepEqual(find(manifests, 'Deployment', 'tl-tracelake-connector').spec.strategy, { type: 'Recreate' });
});

test('a changed state or config rolls the pods (checksum annotation); unrelated values do not', async () => {
  const checksum = async (args: string[]) =>
    find((await render(args)).manifests, 'Deployment', 'tl-tracelake-connector').spec.template.metadata.annotations['checksum/config'];
  const base = await checksum([]);
  assert.notEqual(await checksum(['--set', 'connector.state=stopped']), base);
  assert.notEqual(await checksum(['--set', 'connector.config.kafka.partitions=6']), base);
  assert.equal(await checksum(['--set', 'connector.resources.limits.memory=2Gi']), base);
});

// What the pods' environment and secret files would hold, for the references the rendered configs use.
const secretValues: Record<string, string> = {
  POSTGRES_URL: 'postgres://tracelake:pw@db:5432/phoenix',
  DATABRICKS_HOST: 'adb-1.azuredatabricks.net',
  DATABRICKS_HTTP_PATH: '/sql/1.0/warehouses/abc',
  DATABRICKS_TOKEN: 'dapi0123456789abcdef',
  TRACELAKE_HTTP_TOKEN: 'a-rest-token-of-32-characters-ok',
  '/etc/tracelake/secrets/pg-password/password': 'pw',
};

/**
 * Each reference in a rendered config must be satisfiable in its pod: ${env:NAME} by an env entry (or an envFrom
 * Secret), ${file:/path} by a mounted Secret. Returns the config with the references replaced.
 */
function resolveInPod(config: unknown, deployment: Manifest): unknown {
  const c = container(deployment);
  const envNames = new Set((c.env ?? []).map((e: any) => e.name));
  const mounts: string[] = (c.volumeMounts ?? []).filter((m: any) => m.name.startsWith('secret-')).map((m: any) => `${m.mountPath}/`);
  return JSON.parse(JSON.stringify(config).replace(/\$\{(env|file):([^}]+)\}/g, (_, kind: string, ref: string) => {
    if (kind === 'env') assert.ok(envNames.has(ref) || c.envFrom, `\${env:${ref}} has an environment variable in ${deployment.metadata.name}`);
    else assert.ok(mounts.some((m) => ref.startsWith(m)), `\${file:${ref}} is in a mounted Secret of ${deployment.metadata.name}`);
    assert.ok(ref in secretValues, `the test knows a value for ${ref}`);
    return secretValues[ref]!;
  }));
}

test('the rendered configs are accepted by the services\' config schemas, every reference satisfiable', async (t) => {
  if (!('http' in connectorConfigSchema.shape)) {
    t.skip('the config schemas have no http/state keys yet (the chart writes them)');
    return;
  }
  for (const [args, prefix] of [[[], 'tl-tracelake'], [['-f', FULL_VALUES], 'cdc']] as const) {
    const { manifests } = await render([...args]);
    const config = (component: string) =>
      resolveInPod(configOf(manifests, `${prefix}-${component}`), find(manifests, 'Deployment', `${prefix}-${component}`));
    const c = parseConnectorConfig(config('connector'));
    const s = parseSinkConfig(config('sink'));
    assert.equal(c.state, args.length ? 'paused' : 'running');
    assert.equal(c.http.port, args.length ? 9083 : 8083);
    assert.equal(s.http.port, 8084);
  }
});

test('the values schema refuses bad values, naming the field', async () => {
  const refused = (args: string[], re: RegExp) => {
    const r = helmTemplate(tools, args);
    assert.notEqual(r.status, 0, `helm template ${args.join(' ')} should fail`);
    assert.match(r.stderr, re);
  };
  refused(['--set', 'connector.config.source.slots=x'], /at '\/connector\/config\/source': additional properties 'slots' not allowed/);
  refused(['--set', 'sink.config.warehouse.tokn=x'], /at '\/sink\/config\/warehouse': additional properties 'tokn' not allowed/);
  refused(['--set-string', 'sink.replicas=2'], /at '\/sink\/replicas': got string, want integer/);
  refused(['--set', 'sink.replicas=1.5'], /at '\/sink\/replicas'/);
  refused(['--set', 'connector.replicas=3'], /at '\/connector\/replicas'/);
  refused(['--set', 'connector.state=pausd'], /at '\/connector\/state'/);
  refused(['--set', 'connector.config.source.url=mysql://db/x'], /at '\/connector\/config\/source\/url'/);
  refused(['--set', 'connector.config.kafka.partitions=three'], /at '\/connector\/config\/kafka\/partitions'/);
  // keys the chart owns: state and http.port come from connector.state / connector.port
  refused(['--set', 'connector.config.state=paused'], /at '\/connector\/config': additional properties 'state' not allowed/);
  refused(['--set', 'sink.config.http.port=9000'], /at '\/sink\/config\/http': additional properties 'port' not allowed/);
  // …and what a schema cannot say, the templates check
  refused(['--set', 'sink.replicas=4'], /sink\.replicas is 4 but the change topics have 3 partitions/);
  refused(['--set', 'connector.enabled=false', '--set', 'sink.partitions=2', '--set', 'sink.replicas=3'], /sink\.replicas is 3 but the change topics have 2 partitions/);
  refused(['--set', 'connector.replicas=2', '--set', 'connector.config.source.slot.whenBusy=fail'], /whenBusy: wait/);
  // a default secretEnv entry is dropped with null (Helm merges the user's map with the defaults)
  const dropped = await render(['--set', 'connector.secretEnv.POSTGRES_URL=null', '--set', 'connector.config.source.url=postgres://db/x']);
  const env = container(find(dropped.manifests, 'Deployment', 'tl-tracelake-connector')).env;
  assert.deepEqual(env.map((e: any) => e.name), ['TRACELAKE_LOG_LEVEL']);
  // a reference stands for any string
  ok(helmTemplate(tools, ['--set', 'connector.config.source.url=${env:PG_URL}']), 'a ${env:…} reference as the URL');
  ok(helmTemplate(tools, ['--set', 'sink.replicas=3']), 'sink replicas = partitions');
});

test('kubeconform really checks: a misspelled field in a rendered Deployment is an error', async () => {
  const { text } = await render();
  const r = kubeconform(tools, '1.37.0', text.replace('readOnlyRootFilesystem', 'readOnlyRootFileSystem'));
  assert.notEqual(r.status, 0);
  assert.match(r.stdout, /additional properties 'readOnlyRootFileSystem' not allowed/);
});

test('NOTES.txt renders and names the Secrets the pods read', async () => {
  const notes = await renderNotes(tools);
  assert.match(notes, /connector: \$\{env:POSTGRES_URL\} ← Secret tracelake, key source-url/);
  const full = await renderNotes(tools, ['-f', FULL_VALUES]);
  assert.match(full, /sink: \$\{env:TRACELAKE_HTTP_TOKEN\} ← Secret tracelake-rest, key token/);
  assert.match(full, /the other stands by/);
});
