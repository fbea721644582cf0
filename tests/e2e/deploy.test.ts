import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { loadConfig, parseConfig } from '@airlock/config';

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
const chart = `${repoRoot}deploy/helm/airlock`;
const composeFile = `${repoRoot}deploy/compose.yaml`;

interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; annotations?: Record<string, string> };
  spec?: Record<string, unknown>;
  data?: Record<string, string>;
  automountServiceAccountToken?: boolean;
}
interface Container {
  name: string;
  args: string[];
  env?: { name: string; value?: string; valueFrom?: { secretKeyRef?: { name: string; key: string } } }[];
  ports?: { name: string; containerPort: number }[];
  livenessProbe?: Record<string, unknown>;
  readinessProbe?: Record<string, unknown>;
  securityContext?: Record<string, unknown>;
}
type PodSpec = { containers: Container[]; serviceAccountName: string; terminationGracePeriodSeconds: number; securityContext: Record<string, unknown> };

/**
 * deploy/ checked with the real tools, offline: the Helm chart linted (values against values.schema.json) and rendered
 * by helm itself, every rendered object validated against the Kubernetes API schema (kubernetes-models' validators for
 * types, required fields and enums; its TypeScript interfaces for unknown fields), the Airlock configuration it renders
 * parsed by Airlock's own schema; the Compose file by docker-compose's own validation, its haproxy.cfg by `haproxy -c`. Not checked here:
 * building the image (no Docker daemon) and applying to a cluster.
 */
describe('deploy/: the Helm chart, the Compose stack and the image definition', () => {
  let helm: string;

  beforeAll(async () => {
    helm = (await run('bash', [`${repoRoot}scripts/fetch-helm.sh`], { cwd: repoRoot })).stdout.trim();
  }, 120_000);

  async function render(...set: string[]): Promise<K8sObject[]> {
    const { stdout } = await run(helm, ['template', 'prod', chart, '--namespace', 'airlock', ...set.flatMap((value) => ['--set', value])], { maxBuffer: 16 * 1024 * 1024 });
    return parseAllDocuments(stdout)
      .map((document) => document.toJS() as K8sObject | null)
      .filter((object): object is K8sObject => object !== null);
  }

  async function validateAgainstKubernetesSchema(objects: K8sObject[]): Promise<void> {
    for (const object of objects) {
      const module = (await import(/* @vite-ignore */ `kubernetes-models/${object.apiVersion}/${object.kind}`)) as Record<string, new (data: unknown) => { validate(): void }>;
      const Model = module[object.kind]!;
      expect(() => new Model(object).validate(), `${object.kind} ${object.metadata.name}`).not.toThrow();
    }
  }

  /**
   * Unknown fields, which the validators above let pass: each object becomes a TypeScript literal typed with its
   * kubernetes-models interface (IDeployment, IService…), and tsc's excess-property check names any field the
   * Kubernetes API does not define, at any depth. Resolves to tsc's complaints ('' when there are none).
   */
  async function unknownFields(objects: K8sObject[]): Promise<string> {
    const dir = await mkdtemp(join(repoRoot, 'node_modules/.cache/airlock-k8s-'));
    const lines = objects.map(
      (object, index) =>
        `import type { I${object.kind} as T${index} } from 'kubernetes-models/${object.apiVersion}/${object.kind}';\nexport const object${index}: T${index} = ${JSON.stringify(object)};`,
    );
    try {
      await writeFile(join(dir, 'rendered.ts'), `${lines.join('\n')}\n`);
      const tsc = join(repoRoot, 'node_modules/typescript/bin/tsc');
      const args = ['--noEmit', '--strict', '--skipLibCheck', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', join(dir, 'rendered.ts')];
      return await run(process.execPath, [tsc, ...args], { cwd: dir }).then(
        () => '',
        (error: { stdout: string }) => error.stdout,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  const named = (objects: K8sObject[], kind: string) => new Map(objects.filter((object) => object.kind === kind).map((object) => [object.metadata.name, object]));
  const podSpec = (deployment: K8sObject) => (deployment.spec as { template: { spec: PodSpec } }).template.spec;

  it('lints clean (values checked against values.schema.json), and the schema refuses a misspelt value', async () => {
    await run(helm, ['lint', '--strict', chart]);
    const refused = await run(helm, ['lint', '--strict', chart, '--set', 'services.edge.replica=3']).catch((error: { stdout: string }) => error);
    expect((refused as { stdout: string }).stdout).toContain("additional properties 'replica' not allowed");
    const clash = await run(helm, ['lint', '--strict', chart, '--set', 'operations.port=4566']).catch((error: { stdout: string }) => error);
    expect((clash as { stdout: string }).stdout).toContain("at '/operations/port'");
  });

  it('renders a Deployment, Service, ServiceAccount, PodDisruptionBudget and NetworkPolicy per service and an HPA for the edges, all valid Kubernetes objects', async () => {
    const objects = await render('workloadIdentity.credentialVending.roleArn=arn:aws:iam::123456789012:role/airlock-vending');
    await validateAgainstKubernetesSchema(objects);
    expect(await unknownFields(objects)).toBe('');
    // The field check does catch a misspelt field, deep inside a pod template.
    const misspelt = structuredClone(objects.find((object) => object.kind === 'Deployment')!);
    (podSpec(misspelt).containers[0] as unknown as Record<string, unknown>).readinesProbe = {};
    expect(await unknownFields([misspelt])).toContain(`'"readinesProbe"' does not exist in type 'IContainer'`);
    const components = ['edge', 'policy', 'approval', 'credential-vending', 'masking', 'recorder'];
    for (const kind of ['Deployment', 'Service', 'ServiceAccount', 'PodDisruptionBudget', 'NetworkPolicy']) {
      expect([...named(objects, kind).keys()].sort(), kind).toEqual(components.map((name) => `prod-airlock-${name}`).sort());
    }
    expect([...named(objects, 'HorizontalPodAutoscaler').keys()]).toEqual(['prod-airlock-edge']);
    // Secrets by reference only: the chart renders none.
    expect(objects.filter((object) => object.kind === 'Secret')).toEqual([]);

    const deployments = named(objects, 'Deployment');
    for (const name of components) {
      const spec = podSpec(deployments.get(`prod-airlock-${name}`)!);
      const [container] = spec.containers;
      expect(container!.args).toEqual(['serve', name, '--config', '/etc/airlock/airlock.yaml']);
      expect(container!.livenessProbe).toBeDefined();
      expect(container!.readinessProbe).toBeDefined();
      expect(spec.securityContext).toMatchObject({ runAsNonRoot: true });
      expect(container!.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
      // The grace covers the drain (lifecycle.drainSeconds 30) and the edge's preStop pause.
      expect(spec.terminationGracePeriodSeconds).toBeGreaterThan(30);
      for (const variable of container!.env ?? []) expect(variable.value, `${name}: ${variable.name} is a reference`).toBeUndefined();
      expect(spec.serviceAccountName).toBe(`prod-airlock-${name}`);
    }
    const edge = podSpec(deployments.get('prod-airlock-edge')!).containers[0]!;
    // The kubelet probes the edge's operations listener; its Service carries the agents' port alone.
    expect(edge.ports).toEqual([expect.objectContaining({ name: 'http', containerPort: 4566 }), expect.objectContaining({ name: 'ops', containerPort: 4567 })]);
    expect(edge.readinessProbe).toMatchObject({ httpGet: { path: '/_airlock/ready', port: 'ops' } });
    expect(edge.livenessProbe).toMatchObject({ httpGet: { path: '/_airlock/health', port: 'ops' } });
    expect((named(objects, 'Service').get('prod-airlock-edge')!.spec as { ports: { name: string }[] }).ports.map((port) => port.name)).toEqual(['http']);
    // Prometheus finds every process's metrics on the operations port by the pods' annotations.
    const scrape = (name: string) => (deployments.get(`prod-airlock-${name}`)!.spec as { template: { metadata: { annotations: Record<string, string> } } }).template.metadata.annotations;
    expect(scrape('edge')).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '4567', 'prometheus.io/path': '/_airlock/metrics' });
    expect(scrape('policy')).toMatchObject({ 'prometheus.io/scrape': 'true', 'prometheus.io/port': '4567', 'prometheus.io/path': '/metrics' });
    expect(edge.env?.find((variable) => variable.name === 'AIRLOCK_SESSION_KEYS')?.valueFrom?.secretKeyRef).toEqual({ name: 'airlock-session-keys', key: 'AIRLOCK_SESSION_KEYS' });
    const policy = podSpec(deployments.get('prod-airlock-policy')!).containers[0]!;
    expect(policy.readinessProbe).toMatchObject({ grpc: { port: 7001, service: 'readiness' } });
    expect(policy.livenessProbe).toMatchObject({ grpc: { port: 7001, service: 'liveness' } });
    // Only the edge holds the session keys.
    expect(policy.env?.map((variable) => variable.name)).not.toContain('AIRLOCK_SESSION_KEYS');

    // Workload identity: IRSA annotates credential vending's ServiceAccount with its role, and nobody else's.
    const accounts = named(objects, 'ServiceAccount');
    expect(accounts.get('prod-airlock-credential-vending')!.metadata.annotations).toEqual({ 'eks.amazonaws.com/role-arn': 'arn:aws:iam::123456789012:role/airlock-vending' });
    expect(accounts.get('prod-airlock-policy')!.metadata.annotations).toBeUndefined();

    // Back ends take connections from the edges only.
    const policyIngress = (named(objects, 'NetworkPolicy').get('prod-airlock-policy')!.spec as { ingress: { from: unknown[] }[] }).ingress;
    expect(policyIngress[0]!.from).toEqual([{ podSelector: { matchLabels: { 'app.kubernetes.io/name': 'airlock', 'app.kubernetes.io/instance': 'prod', 'app.kubernetes.io/component': 'edge' } } }]);

    // The configuration the chart renders is a valid Airlock configuration, pointing each service at its Service.
    const config = parseConfig(parseYaml(named(objects, 'ConfigMap').get('prod-airlock-config')!.data!['airlock.yaml']!), 'the rendered airlock.yaml');
    expect(config.services.policy).toEqual({ listen: '0.0.0.0:7001', address: 'prod-airlock-policy:7001', metricsListen: '0.0.0.0:4567' });
    expect(config.edge.listen).toBe('0.0.0.0:4566');
    expect(config.edge.opsListen).toBe('0.0.0.0:4567');
  }, 60_000);

  it('renders the other shapes valid too: Pod Identity, fixed edge replicas, the Slack bot, own policies, certificate volumes, no NetworkPolicies', async () => {
    const objects = await render(
      'workloadIdentity.provider=podIdentity',
      'workloadIdentity.recorder.roleArn=arn:aws:iam::123456789012:role/recorder',
      'services.edge.autoscaling.enabled=false',
      'services.edge.replicas=3',
      'services.slackBot.enabled=true',
      'secrets.slack.name=airlock-slack',
      'policies.configMap=airlock-policies',
      'networkPolicy.enabled=false',
      'extraVolumes[0].name=certs',
      'extraVolumes[0].secret.secretName=airlock-mtls',
      'extraVolumeMounts[0].name=certs',
      'extraVolumeMounts[0].mountPath=/etc/airlock/tls',
    );
    await validateAgainstKubernetesSchema(objects);
    expect(await unknownFields(objects)).toBe('');
    expect(named(objects, 'HorizontalPodAutoscaler').size).toBe(0);
    expect(named(objects, 'NetworkPolicy').size).toBe(0);
    expect((named(objects, 'Deployment').get('prod-airlock-edge')!.spec as { replicas: number }).replicas).toBe(3);
    expect(named(objects, 'Deployment').has('prod-airlock-slack-bot')).toBe(true);
    expect(podSpec(named(objects, 'Deployment').get('prod-airlock-policy')!).containers[0]).toMatchObject({
      volumeMounts: expect.arrayContaining([{ name: 'certs', mountPath: '/etc/airlock/tls' }]),
    });
    // Pod Identity binds the role by association in EKS, not by annotation.
    expect(named(objects, 'ServiceAccount').get('prod-airlock-recorder')!.metadata.annotations).toBeUndefined();
  }, 60_000);

  it('refuses to render edges without session keys', async () => {
    const refused = await render('secrets.sessionKeys.name=').catch((error: { stderr: string }) => error);
    expect((refused as { stderr: string }).stderr).toContain('secrets.sessionKeys.name: the edges need session signing keys');
  });

  it('has a Compose stack docker-compose accepts, with a 3-node NATS cluster, two edges behind haproxy and a valid Airlock configuration', async () => {
    const env = { ...process.env, AIRLOCK_SESSION_KEYS: 'k1:AAAA', REDIS_PASSWORD: 'not-a-real-one', AIRLOCK_ISSUER: 'https://idp.example.com' };
    await run('docker-compose', ['-f', composeFile, 'config', '-q'], { env });
    const { stdout } = await run('docker-compose', ['-f', composeFile, 'config'], { env });
    const services = (parseYaml(stdout) as { services: Record<string, { command?: string[]; environment?: Record<string, string>; healthcheck?: { test: string[] } }> })
      .services;
    expect(Object.keys(services).sort()).toEqual(
      ['approval', 'credential-vending', 'edge-1', 'edge-2', 'haproxy', 'masking', 'moto', 'nats-1', 'nats-2', 'nats-3', 'policy', 'recorder', 'redis'].sort(),
    );
    for (const name of ['nats-1', 'nats-2', 'nats-3']) expect(services[name]!.command).toContain('--routes');
    expect(services['edge-1']!.command).toEqual(['serve', 'edge', '--config', '/etc/airlock/airlock.yaml']);
    // Each edge's container checks its operations listener, which the configuration keeps on loopback.
    expect(services['edge-1']!.healthcheck?.test).toContain('http://127.0.0.1:4567/_airlock/ready');
    // Secrets come only from the environment of docker compose: the file names the variable, the rendered stack its value.
    expect(await readFile(composeFile, 'utf8')).toContain('${REDIS_PASSWORD:?');
    expect(services.redis!.environment?.REDIS_PASSWORD).toBe('not-a-real-one');

    const config = await loadConfig(`${repoRoot}deploy/compose/airlock.yaml`, env);
    expect(config.edge.opsListen).toBe('127.0.0.1:4567');
    expect(config.drivers.bus).toEqual({ kind: 'nats', servers: ['nats://nats-1:4222', 'nats://nats-2:4222', 'nats://nats-3:4222'] });
    await run('haproxy', ['-c', '-f', `${repoRoot}deploy/compose/haproxy.cfg`]);
    // The standalone example is valid too.
    await loadConfig(`${repoRoot}deploy/airlock.distributed.yaml`, { REDIS_PASSWORD: 'x' });
  }, 60_000);

  it('builds one non-root image whose argument is the service, from sources the build context holds', async () => {
    const dockerfile = await readFile(`${repoRoot}deploy/Dockerfile`, 'utf8');
    expect(dockerfile).toMatch(/^USER 1000:1000$/m);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "\/app\/cli\/dist\/main\.js"\]$/m);
    expect(dockerfile).toMatch(/^CMD \["serve", "edge", /m);
    expect(dockerfile).toMatch(/^EXPOSE 4566 .*\b4567\b/m);
    const ignored = (await readFile(`${repoRoot}deploy/Dockerfile.dockerignore`, 'utf8')).split('\n').filter((line) => line && !line.startsWith('#'));
    for (const [, source] of dockerfile.matchAll(/^COPY (?!--from)(\S+)/gm)) {
      const first = source!.split('/')[0]!;
      await expect(readFile(`${repoRoot}${source}`).catch((error: NodeJS.ErrnoException) => (error.code === 'EISDIR' ? 'dir' : Promise.reject(error)))).resolves.toBeDefined();
      expect(ignored, `${source} is sent to the build`).not.toContain(first);
    }
  });
});
