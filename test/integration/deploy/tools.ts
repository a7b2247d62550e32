// The chart checks' tools (scripts/deploy/tools.sh: helm, kubeconform, Kubernetes schemas, npm helpers) and
// small wrappers around them.
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
export const CHART = `${ROOT}deploy/helm/tracelake`;
export const FULL_VALUES = `${CHART}/ci/full-values.yaml`;

export interface DeployTools {
  helm: string;
  kubeconform: string;
  /** kubeconform schema directories by Kubernetes version ("1.25.0" …) */
  k8sSchemas: Record<string, string>;
  nodeModules: string;
  /** loads a compose file with compose-go and prints the resolved project as JSON */
  composeCheck: string;
}

/** Installs (first time) and locates the tools; tools.sh prints NAME=value lines. */
export function deployTools(): DeployTools {
  const out = execFileSync(`${ROOT}scripts/deploy/tools.sh`, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  const vars = Object.fromEntries(out.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
  const k8sSchemas = Object.fromEntries(Object.entries(vars).filter(([k]) => k.startsWith('K8S_SCHEMAS_'))
    .map(([k, v]) => [k.slice('K8S_SCHEMAS_'.length).replaceAll('_', '.'), v]));
  return { helm: vars.HELM!, kubeconform: vars.KUBECONFORM!, k8sSchemas, nodeModules: vars.DEPLOY_NODE_MODULES!, composeCheck: vars.COMPOSE_CHECK! };
}

export interface Run { status: number; stdout: string; stderr: string }

export function run(cmd: string, args: string[], input?: string, env?: Record<string, string>): Run {
  const r = spawnSync(cmd, args, { encoding: 'utf8', input, cwd: ROOT, maxBuffer: 64 * 1024 * 1024, ...(env ? { env } : {}) });
  if (r.error) throw r.error;
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** `helm template` of the chart; args are further flags (-f, --set …). */
export function helmTemplate(tools: DeployTools, args: string[] = [], chart = CHART): Run {
  return run(tools.helm, ['template', 'tl', chart, '--namespace', 'observability', ...args]);
}

/** kubeconform -strict against the bundled schemas of one Kubernetes version; ServiceMonitor is checked apart. */
export function kubeconform(tools: DeployTools, k8sVersion: string, manifests: string): Run {
  const dir = tools.k8sSchemas[k8sVersion];
  if (!dir) throw new Error(`no Kubernetes ${k8sVersion} schemas from tools.sh`);
  return run(tools.kubeconform, ['-strict', '-summary', '-output', 'text', '-skip', 'ServiceMonitor',
    '-schema-location', `${dir}/{{ .ResourceKind }}{{ .KindSuffix }}.json`, '-'], manifests);
}

export type Manifest = { apiVersion: string; kind: string; metadata: { name: string; [k: string]: any }; [k: string]: any };

export async function parseManifests(tools: DeployTools, text: string): Promise<Manifest[]> {
  const yaml = await import(pathToFileURL(`${tools.nodeModules}/yaml/dist/index.js`).href);
  return yaml.parseAllDocuments(text).map((d: any) => d.toJS()).filter((m: unknown) => m);
}

/** Validates ServiceMonitors with the prometheus-operator models' validator (generated from the operator's API types). */
export async function validateServiceMonitor(tools: DeployTools, manifest: Manifest): Promise<void> {
  const mod = await import(pathToFileURL(`${tools.nodeModules}/@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor.js`).href);
  new mod.ServiceMonitor(manifest).validate();
}

/**
 * NOTES.txt as `helm install` would print it, without a cluster: `helm template` skips NOTES.txt, so a copy of
 * the chart renders it through tpl into a manifest.
 */
export async function renderNotes(tools: DeployTools, args: string[] = []): Promise<string> {
  const dir = mkdtempSync(`${tmpdir()}/tracelake-chart-`);
  try {
    cpSync(CHART, `${dir}/tracelake`, { recursive: true });
    renameSync(`${dir}/tracelake/templates/NOTES.txt`, `${dir}/tracelake/notes.txt`);
    writeFileSync(`${dir}/tracelake/templates/notes.yaml`, 'kind: Notes\ntext: {{ tpl (.Files.Get "notes.txt") . | toJson }}\n');
    const r = helmTemplate(tools, ['--show-only', 'templates/notes.yaml', ...args], `${dir}/tracelake`);
    if (r.status !== 0) throw new Error(`rendering NOTES.txt failed: ${r.stderr}`);
    return (await parseManifests(tools, r.stdout))[0]!.text as string;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
