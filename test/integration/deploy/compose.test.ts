// deploy/compose/compose.yaml without a Docker engine (none on this machine): loaded by compose-go — the
// library Docker Compose loads files with (the Compose Specification schema, interpolation, depends_on) — and
// what it resolves checked against the repository: the build's Dockerfile, the mounted config files, and
// those configs accepted by the services' own schemas once their references are filled from the environment
// compose gives each container. Not shown here: that the images pull, start and work together.
import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { connectorConfigSchema, parseConnectorConfig } from '../../../connector/src/config.ts';
import { parseSinkConfig } from '../../../sink/src/config.ts';
import { ROOT, deployTools, run, type DeployTools } from './tools.ts';

const COMPOSE = `${ROOT}deploy/compose/compose.yaml`;
// a Databricks workspace as a user would export it (no real one is contacted)
const databricks = { DATABRICKS_HOST: 'adb-1234567890123456.7.azuredatabricks.net', DATABRICKS_HTTP_PATH: '/sql/1.0/warehouses/0123456789abcdef', DATABRICKS_TOKEN: 'dapi0123456789abcdef' };

let tools: DeployTools;
let project: any;
before(() => {
  tools = deployTools();
  const r = run(tools.composeCheck, [COMPOSE], undefined, { PATH: process.env.PATH ?? '', ...databricks });
  assert.equal(r.status, 0, `compose-go refused the file: ${r.stderr}`);
  project = JSON.parse(r.stdout);
});

test('compose-go loads the file: the services of an all-in-one, each dependency known', () => {
  assert.deepEqual(Object.keys(project.services).sort(), ['connector', 'kafka', 'phoenix', 'postgres', 'registry', 'registry-init', 'sink']);
  for (const [name, s] of Object.entries<any>(project.services)) {
    for (const dep of Object.keys(s.depends_on ?? {})) assert.ok(project.services[dep], `${name} depends on ${dep}, a service of the file`);
    assert.ok(s.image, `${name} names an image`);
  }
  assert.ok(project.services.postgres.command.includes('wal_level=logical'), 'Postgres runs with wal_level=logical');
  assert.equal(project.services.connector.depends_on['registry-init'].condition, 'service_completed_successfully');
});

test('the tracelake services: one image built from deploy/docker/Dockerfile, run read-only as the chart runs them', () => {
  const { connector, sink } = project.services;
  assert.equal(connector.build.context, ROOT.replace(/\/$/, ''));
  assert.ok(existsSync(`${connector.build.context}/${connector.build.dockerfile}`), 'the Dockerfile exists');
  assert.equal(sink.image, connector.image, 'the sink runs the image the connector service builds');
  for (const [name, s] of [['connector', connector], ['sink', sink]] as const) {
    assert.deepEqual(s.command, [name, '--config', '/etc/tracelake/config.json']);
    assert.equal(s.read_only, true);
    assert.deepEqual(s.tmpfs, ['/tmp']);
    assert.deepEqual(s.cap_drop, ['ALL']);
    const config = s.volumes.find((v: any) => v.target === '/etc/tracelake/config.json');
    assert.ok(config && existsSync(config.source), `${name}: its config file ${config?.source} exists`);
    assert.equal(config.read_only, true);
    assert.equal(s.ports[0].target, name === 'connector' ? 8083 : 8084);
  }
});

/** The config a container reads: the mounted file with its ${env:…} references filled from the container's environment. */
function containerConfig(name: 'connector' | 'sink'): unknown {
  const s = project.services[name];
  const file = s.volumes.find((v: any) => v.target === '/etc/tracelake/config.json').source;
  return JSON.parse(readFileSync(file, 'utf8').replace(/\$\{env:([^}]+)\}/g, (_, ref: string) => {
    const v = s.environment[ref];
    assert.ok(typeof v === 'string' && v, `${name}: \${env:${ref}} is set in its compose environment`);
    return v;
  }));
}

test('the mounted configs are valid for the services and point at the compose services', () => {
  const c = parseConnectorConfig(containerConfig('connector'));
  const s = parseSinkConfig(containerConfig('sink'));
  const kafka = project.services.kafka.environment.KAFKA_ADVERTISED_LISTENERS as string;
  for (const broker of [...c.kafka.brokers, ...s.kafka.brokers]) assert.ok(kafka.includes(`//${broker}`), `${broker} is an advertised Kafka listener`);
  assert.equal(c.registry.url, s.registry.url);
  assert.match(c.registry.url, /^http:\/\/registry:8080\//);
  assert.match(c.source.url ?? '', /@postgres:5432\/phoenix$/);
  assert.equal(c.source.platform, 'phoenix');
  assert.equal(s.platform, 'phoenix');
  assert.equal(s.warehouse.host, databricks.DATABRICKS_HOST);
  assert.equal(c.kafka.topicPrefix, s.kafka.topicPrefix, 'the sink reads the topics the connector writes');
  if ('http' in connectorConfigSchema.shape) {
    assert.equal((c as any).http.port, 8083, 'the published port is the connector\'s REST port');
    assert.equal((s as any).http.port, 8084);
  }
});

test('without the Databricks variables the file still loads; the sink alone lacks them', () => {
  const r = run(tools.composeCheck, [COMPOSE], undefined, { PATH: process.env.PATH ?? '' });
  assert.equal(r.status, 0, r.stderr);
  const env = JSON.parse(r.stdout).services.sink.environment;
  assert.equal(env.DATABRICKS_TOKEN ?? null, null, 'unset, so the sink stops at start naming ${env:DATABRICKS_TOKEN}');
});

test('compose-go does validate: an unknown service key is refused', () => {
  const dir = mkdtempSync(`${tmpdir()}/tracelake-compose-`);
  try {
    writeFileSync(`${dir}/compose.yaml`, readFileSync(COMPOSE, 'utf8').replace('    read_only: true\n', '    read_only: true\n    readonly_rootfs: true\n'));
    const r = run(tools.composeCheck, [`${dir}/compose.yaml`], undefined, { PATH: process.env.PATH ?? '' });
    assert.notEqual(r.status, 0);
    assert.match(r.stderr, /readonly_rootfs/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
