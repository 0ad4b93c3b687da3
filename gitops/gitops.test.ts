import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { parse as parseYaml, parseAllDocuments } from 'yaml';
import type { IDeployment } from 'kubernetes-models/apps/v1/Deployment';
import type { IJob } from 'kubernetes-models/batch/v1/Job';
import type { IHorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2/HorizontalPodAutoscaler';
import type { IIngress } from 'kubernetes-models/networking.k8s.io/v1/Ingress';
import type { INetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1/NetworkPolicy';
import type { IPodDisruptionBudget } from 'kubernetes-models/policy/v1/PodDisruptionBudget';
import type { IConfigMap } from 'kubernetes-models/v1/ConfigMap';
import type { IContainer } from 'kubernetes-models/v1/Container';
import type { IPodSpec } from 'kubernetes-models/v1/PodSpec';
import type { IService } from 'kubernetes-models/v1/Service';
import type { IServiceAccount } from 'kubernetes-models/v1/ServiceAccount';
import type { IApplication } from '@kubernetes-models/argo-cd/argoproj.io/v1alpha1/Application';
import type { IAppProject } from '@kubernetes-models/argo-cd/argoproj.io/v1alpha1/AppProject';
import type { IExternalSecret } from '@kubernetes-models/external-secrets/external-secrets.io/v1/ExternalSecret';
import type { IScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import type { ITriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1/TriggerAuthentication';
import platformNames from '../shared/contracts/platform-names.json' with { type: 'json' };
import { ConfigSchema, knownVariables, loadConfig, requireFor, serviceUrlVariables, type Role } from '../shared/config/config.ts';
import {
  findKustomizations,
  hasBinary,
  kustomize,
  parseEnvFile,
  parseObjects,
  repoRoot,
  type RenderedObject,
} from './support/kustomize.ts';
import { modelOf, unknownFields, validateWithModel } from './support/schemas.ts';
import { defaultDistDir, proxiedPrefixes } from '../handlers/console/console-app.ts';

/*
 * The manifests are checked the way they are deployed: every kustomization is built with `kubectl kustomize`
 * (offline) and each object it renders is validated against its kubernetes-models schema, then against
 * platform-names.json, the configuration schema of the services and the rules of the platform.
 */

const kustomizations = findKustomizations('gitops', 'k8s');
/** What Argo CD deploys: not the bases, overlays for other environments or the values component. */
const productionKustomizations = kustomizations.filter(
  (dir) => !dir.includes('/overlays/') && !dir.includes('/environments/') && !dir.endsWith('/base'),
);
const kubectlAvailable = hasBinary('kubectl');
const names = platformNames;
const namespace = names.namespace;
const argocdNamespace = names.addons.argocd.namespace;

interface Workload {
  workload: string;
  /** The argument of `node handlers/main.ts` (the role). */
  role: string;
  port: number;
  serviceAccount: string;
  /** The ECR repository of the image the workload runs (a worker runs its service's image). */
  ecrRepository: string;
  /** The PostgreSQL database it owns and migrates (a service of platform-names.json with `database`). */
  database?: string;
  /**
   * A worker that writes its service's database (platform-names.json workers.<role>.database): that service, whose
   * database settings, Redis and secrets it shares; it runs no migration of its own.
   */
  sharesDatabaseOf?: Role;
  /** Serves HTTP behind the ALB (services and the console); the worker only has health and metrics. */
  http: boolean;
  /** app.kubernetes.io/component of its pods: `api` for the services, `web` for the console. */
  component: 'api' | 'web' | 'worker';
  /** The account.env key of its IRSA role; a front end calls no AWS API and has none. */
  roleArnKey?: string;
}
interface ServiceWorkload extends Workload {
  service: Role;
}

const roleArnKey = (role: string) => `${role.toUpperCase().replaceAll('-', '_')}_ROLE_ARN`;
/**
 * The workloads that call AWS APIs (SQS, DynamoDB): they alone may leave the VPC (on 443), and a worker has an IRSA
 * role only if it is one of them. The release worker is one: its guardrail evaluator reads the analytics table. The
 * console calls none and has none.
 */
const awsCallers = new Set<string>([
  names.services.evaluation.workload,
  names.services.analytics.workload,
  names.workers['analytics-worker'].workload,
  names.workers['release-worker'].workload,
]);
/**
 * The workloads that must reach the internet at large: the webhook worker sends deliveries to the URLs users
 * configure, any public address on TCP 80 and 443. Its policy opens 0.0.0.0/0 on those ports minus the internal
 * ranges below (defence in depth beside its own target guard); no other workload may.
 */
const internetClients = new Set<string>([names.workers['webhook-worker'].workload]);
/** What an internet client's rule leaves out: private, link-local (instance metadata), shared (CGNAT), loopback. */
const internalRanges = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16', '100.64.0.0/10', '127.0.0.0/8'];
/**
 * Workers that share their service's database but not its Redis: the webhook worker's queue is a table of the flags
 * database (KEDA counts its due rows), so it has neither REDIS_URL nor the Redis token.
 */
const withoutRedis = new Set<string>([names.workers['webhook-worker'].workload]);
const serviceWorkloads: ServiceWorkload[] = (Object.keys(names.services) as Role[]).map((role) => {
  const service: { workload: string; port: number; ecrRepository: string; serviceAccount: string; database?: string } =
    names.services[role];
  const { workload, port, serviceAccount, ecrRepository, database } = service;
  return {
    workload,
    role,
    service: role,
    port,
    serviceAccount,
    ecrRepository,
    database,
    http: true,
    component: 'api',
    roleArnKey: roleArnKey(role),
  };
});
const workerWorkloads: Workload[] = Object.entries(names.workers).map(([role, worker]) => {
  const service = worker.imageOf as Role;
  const { workload, port, serviceAccount } = worker;
  return {
    workload,
    role,
    port,
    serviceAccount,
    ecrRepository: names.services[service].ecrRepository,
    sharesDatabaseOf: 'database' in worker ? service : undefined,
    http: false,
    component: 'worker',
    roleArnKey: awsCallers.has(workload) ? roleArnKey(role) : undefined,
  };
});
const frontendWorkloads: Workload[] = Object.entries(names.frontends).map(([role, { workload, port, serviceAccount, ecrRepository }]) => {
  return { workload, role, port, serviceAccount, ecrRepository, http: true, component: 'web' };
});
const workloads = [...serviceWorkloads, ...workerWorkloads, ...frontendWorkloads];
const byName = new Map(workloads.map((w) => [w.workload, w]));
const consoleWorkload = names.frontends.console.workload;

/**
 * Who calls whom inside the cluster: the JWKS on auth; a flag's variants for targeting, a flag's rules for flags; an
 * environment's or a project's existence and a flag's project for auth, targeting and analytics. Evaluation calls
 * nobody (configuration and SDK keys reach it through Redis).
 */
const calls: Record<string, string[]> = {
  [names.services.auth.workload]: [names.services.flags.workload],
  [names.services.flags.workload]: [names.services.auth.workload, names.services.targeting.workload],
  [names.services.targeting.workload]: [names.services.auth.workload, names.services.flags.workload],
  [names.services.evaluation.workload]: [],
  [names.services.analytics.workload]: [names.services.auth.workload, names.services.flags.workload],
  [names.workers['analytics-worker'].workload]: [],
  // Due changes are written to the flags database directly, as the flag-service writes them: no HTTP call.
  [names.workers['release-worker'].workload]: [],
  // Its receivers are on the internet; it reads the events and writes the deliveries in the flags database directly.
  [names.workers['webhook-worker'].workload]: [],
  // The console proxies every API prefix (for whoever reaches it other than through the ALB).
  [consoleWorkload]: serviceWorkloads.map((w) => w.workload),
};
const urlVariable: Record<string, string> = {
  [names.services.auth.workload]: 'AUTH_URL',
  [names.services.flags.workload]: 'FLAGS_URL',
  [names.services.targeting.workload]: 'TARGETING_URL',
  [names.services.evaluation.workload]: 'EVALUATION_URL',
  [names.services.analytics.workload]: 'ANALYTICS_URL',
};
/** Variables that must only ever come from a Secret (ExternalSecret), never from a ConfigMap or a literal. */
const secretVariables = ['AUTH_JWT_PRIVATE_KEY', 'ADMIN_PASSWORD', 'REDIS_PASSWORD', 'PGPASSWORD', 'DATABASE_URL', 'EVENTS_KEY_SALT'];
const pgVariables = ['PGHOST', 'PGPORT', 'PGUSER', 'PGPASSWORD', 'PGDATABASE'];
const allowedVariables = new Set<string>([...knownVariables, ...pgVariables]);

const accountEnvPath = 'gitops/environments/production/account.env';
const account = parseEnvFile(readFileSync(join(repoRoot, accountEnvPath), 'utf8'));
const accountValue = (key: string): string => {
  const value = account.get(key);
  if (value === undefined) throw new Error(`${accountEnvPath} has no ${key}`);
  return value;
};

function rendered(dir: string): RenderedObject[] {
  const result = kustomize(dir);
  if (result.error) throw new Error(`kubectl kustomize ${dir} failed:\n${result.error}`);
  return result.objects;
}
function all(): RenderedObject[] {
  return kustomizations.flatMap((dir) => rendered(dir));
}
function ofKind<T>(objects: RenderedObject[], kind: string): T[] {
  return objects.filter((o) => o.kind === kind) as unknown as T[];
}
function one<T>(objects: RenderedObject[], kind: string, name: string): T {
  const found = objects.filter((o) => o.kind === kind && o.metadata.name === name);
  if (found.length !== 1) throw new Error(`expected one ${kind} ${name}, found ${found.length}`);
  return found[0] as unknown as T;
}
const workloadDir = (workload: string) => `gitops/manifests/${workload}`;
const annotation = (o: { metadata?: { annotations?: Record<string, string> } }, key: string) => o.metadata?.annotations?.[key];
const wave = (o: { metadata?: { annotations?: Record<string, string> } }) => Number(annotation(o, 'argocd.argoproj.io/sync-wave') ?? '0');

/** The pod specs of a workload directory: its Deployment and its migration Job, if any. */
function podSpecs(dir: string): { owner: string; spec: IPodSpec }[] {
  const objects = rendered(dir);
  return [
    ...ofKind<IDeployment>(objects, 'Deployment').map((d) => ({ owner: `Deployment ${d.metadata?.name}`, spec: d.spec!.template.spec! })),
    ...ofKind<IJob>(objects, 'Job').map((j) => ({ owner: `Job ${j.metadata?.name}`, spec: j.spec!.template.spec! })),
  ];
}

/** What a container's environment holds: each variable with where it comes from. */
function environment(dir: string, container: IContainer): Map<string, { from: 'literal' | 'configMap' | 'secret'; value?: string }> {
  const objects = rendered(dir);
  const env = new Map<string, { from: 'literal' | 'configMap' | 'secret'; value?: string }>();
  for (const source of container.envFrom ?? []) {
    if (source.configMapRef) {
      const configMap = one<IConfigMap>(objects, 'ConfigMap', source.configMapRef.name!);
      for (const [key, value] of Object.entries(configMap.data ?? {})) env.set(key, { from: 'configMap', value });
    }
    if (source.secretRef) {
      for (const key of secretKeys(objects, source.secretRef.name!)) env.set(key, { from: 'secret' });
    }
  }
  for (const variable of container.env ?? []) {
    env.set(
      variable.name,
      variable.valueFrom?.secretKeyRef ? { from: 'secret' } : { from: variable.valueFrom ? 'configMap' : 'literal', value: variable.value },
    );
  }
  return env;
}

/** The keys of the Secret an ExternalSecret of the same directory produces (there is no Secret in Git). */
function secretKeys(objects: RenderedObject[], secretName: string): string[] {
  const producers = ofKind<IExternalSecret>(objects, 'ExternalSecret').filter(
    (e) => (e.spec?.target?.name ?? e.metadata?.name) === secretName,
  );
  if (producers.length !== 1)
    throw new Error(`Secret ${secretName} is not produced by exactly one ExternalSecret (found ${producers.length})`);
  const spec = producers[0]!.spec!;
  return [
    ...(spec.data ?? []).map((d) => d.secretKey),
    ...(spec.dataFrom ?? []).flatMap((d) => (d.rewrite ?? []).flatMap((r) => (r.regexp ? [r.regexp.target] : []))),
  ];
}

/** Stand-ins for secret values, shaped as the config schema wants them (the real ones are in Secrets Manager). */
const sampleSecret: Record<string, string> = {
  AUTH_JWT_PRIVATE_KEY: '-----BEGIN PRIVATE KEY-----\nsample\n-----END PRIVATE KEY-----\n',
  ADMIN_EMAIL: 'admin@example.com',
  ADMIN_PASSWORD: 'a-sample-password-long-enough',
  REDIS_PASSWORD: 'sample-redis-token',
  PGUSER: 'sample_admin',
  PGPASSWORD: 'sample-password',
  EVENTS_KEY_SALT: 'sample-salt',
};

function processEnvironment(dir: string, container: IContainer): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [key, { from, value }] of environment(dir, container))
    env[key] = from === 'secret' ? (sampleSecret[key] ?? 'sample-secret') : (value ?? '');
  return env;
}

function mainContainer(dir: string, workload: string): IContainer {
  const deployment = one<IDeployment>(rendered(dir), 'Deployment', workload);
  const container = deployment.spec!.template.spec!.containers.find((c) => c.name === workload);
  if (!container) throw new Error(`Deployment ${workload} has no container named ${workload}`);
  return container;
}

beforeAll(() => {
  if (!kubectlAvailable)
    throw new Error('kubectl is not installed: these checks build every kustomization with `kubectl kustomize` (offline)');
});

describe('kustomizations', () => {
  it('finds the kustomizations of gitops/ and k8s/', () => {
    expect(kustomizations).toEqual(
      expect.arrayContaining([
        'gitops/apps',
        'gitops/manifests/platform',
        'gitops/manifests/ingress',
        'k8s/keda',
        'k8s/keda/overlays/bullmq',
        ...workloads.map((w) => workloadDir(w.workload)),
      ]),
    );
  });

  it.each(kustomizations)('%s builds with kubectl kustomize', (dir) => {
    const result = kustomize(dir);
    expect(result.error, result.error).toBeUndefined();
  });

  it('leaves no account placeholder unreplaced in what production deploys', () => {
    for (const dir of productionKustomizations) {
      for (const object of rendered(dir))
        expect(JSON.stringify(object), `${dir} ${object.kind}/${object.metadata.name}`).not.toContain('set-from-account-values');
    }
  });
});

describe('schemas', () => {
  it('every rendered object has a model and passes its validation', () => {
    const problems: string[] = [];
    for (const dir of kustomizations) {
      for (const object of rendered(dir)) {
        const model = modelOf(object);
        if (!model) {
          problems.push(`${dir}: no model for ${object.apiVersion}/${object.kind}`);
          continue;
        }
        try {
          validateWithModel(model, object);
        } catch (error) {
          problems.push(`${dir} ${object.kind}/${object.metadata.name}: ${(error as Error).message}`);
        }
      }
    }
    expect(problems).toEqual([]);
  });

  it('no rendered object has a field its schema does not know', () => {
    const problems: string[] = [];
    for (const dir of kustomizations) {
      for (const object of rendered(dir)) {
        const model = modelOf(object);
        if (model)
          for (const field of unknownFields(model, object)) problems.push(`${dir} ${object.kind}/${object.metadata.name}: ${field}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('the unknown-field check names misspelled fields at any depth', () => {
    const [deployment] = parseObjects(
      `apiVersion: apps/v1
kind: Deployment
metadata: { name: x, labels: { any-label: ok }, annotations: { any/annotation: ok }, lables: { a: b } }
spec:
  replica: 2
  selector: { matchLabels: { a: b } }
  template:
    metadata: { labels: { a: b } }
    spec:
      containers:
        - name: c
          image: i
          readinessProbe: { httpGet: { path: /readyz, port: 80, pth: /x } }
          securityContext: { readOnlyRootFileSystem: true }
`,
      'inline',
    );
    const model = modelOf(deployment!)!;
    expect(unknownFields(model, deployment!).sort()).toEqual([
      '/metadata/lables',
      '/spec/replica',
      '/spec/template/spec/containers/0/readinessProbe/httpGet/pth',
      '/spec/template/spec/containers/0/securityContext/readOnlyRootFileSystem',
    ]);
  });

  it('the unknown-field check rejects a trigger field KEDA does not have but accepts any trigger metadata key', () => {
    const [scaledObject] = parseObjects(
      `apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: { name: w }
spec:
  scaleTargetRef: { name: w }
  triggers:
    - type: aws-sqs-queue
      metadata: { queueURL: u, anything: goes }
      identityOwner: keda
`,
      'inline',
    );
    expect(unknownFields(modelOf(scaledObject!)!, scaledObject!)).toEqual(['/spec/triggers/0/identityOwner']);
  });

  it('no Secret with data is kept in Git', () => {
    const offenders: string[] = [];
    const scan = (dir: string): void => {
      for (const entry of readdirSync(dir, { withFileTypes: true })) {
        const path = join(dir, entry.name);
        if (entry.isDirectory()) scan(path);
        else if (/\.ya?ml$/.test(entry.name)) {
          for (const document of parseAllDocuments(readFileSync(path, 'utf8'))) {
            const value: unknown = document.toJS();
            if (typeof value === 'object' && value !== null && (value as { kind?: unknown }).kind === 'Secret') offenders.push(path);
          }
        }
      }
    };
    scan(join(repoRoot, 'gitops'));
    scan(join(repoRoot, 'k8s'));
    expect(offenders).toEqual([]);
    expect(
      all()
        .filter((o) => o.kind === 'Secret')
        .map((o) => o.metadata.name),
    ).toEqual([]);
  });
});

describe('account values', () => {
  it('are one file, read by the kustomizations through replacements, every key used', () => {
    const kustomizationTexts = kustomizations.map((dir) => readFileSync(join(repoRoot, dir, 'kustomization.yaml'), 'utf8')).join('\n');
    const unused = [...account.keys()].filter((key) => !kustomizationTexts.includes(`data.${key}`));
    expect(unused).toEqual([]);
  });

  it('hold no secret: no password, token or key, and no credentials in the Redis URL', () => {
    expect([...account.keys()].filter((key) => /PASSWORD|TOKEN|PRIVATE|SALT|_KEY$/.test(key))).toEqual([]);
    expect(new URL(accountValue('REDIS_URL')).password).toBe('');
    expect(new URL(accountValue('REDIS_URL')).username).toBe('');
    expect(new URL(accountValue('REDIS_URL')).protocol).toBe('rediss:');
  });

  it('have the shape of the Terraform outputs they come from, with the names of platform-names.json', () => {
    const region = accountValue('AWS_REGION');
    expect(region).toMatch(/^[a-z]{2}(-[a-z]+)+-\d$/);
    expect(accountValue('ECR_REGISTRY')).toMatch(new RegExp(`^\\d{12}\\.dkr\\.ecr\\.${region}\\.amazonaws\\.com$`));
    expect(accountValue('SQS_QUEUE_URL')).toMatch(
      new RegExp(`^https://sqs\\.${region}\\.amazonaws\\.com/\\d{12}/${names.queues.evaluationEvents}$`),
    );
    expect(accountValue('SQS_DLQ_URL')).toMatch(
      new RegExp(`^https://sqs\\.${region}\\.amazonaws\\.com/\\d{12}/${names.queues.evaluationEventsDeadLetter}$`),
    );
    for (const w of workloads) {
      if (!w.roleArnKey) continue;
      expect(accountValue(w.roleArnKey), w.roleArnKey).toMatch(
        new RegExp(`^arn:aws[a-z-]*:iam::\\d{12}:role/${names.project}-${w.serviceAccount}$`),
      );
    }
    expect([...account.keys()].filter((key) => key.endsWith('_ROLE_ARN')).sort()).toEqual(
      workloads.flatMap((w) => (w.roleArnKey ? [w.roleArnKey] : [])).sort(),
    );
    for (const w of serviceWorkloads.filter((s) => s.database)) {
      expect(accountValue(`${w.service.toUpperCase()}_DB_HOST`)).toMatch(
        new RegExp(`^${names.project}-${w.database}\\.[A-Za-z0-9-]+\\.${region}\\.rds\\.amazonaws\\.com$`),
      );
      expect(accountValue(`${w.service.toUpperCase()}_DB_SECRET_ARN`)).toMatch(
        new RegExp(`^arn:aws[a-z-]*:secretsmanager:${region}:\\d{12}:secret:rds!`),
      );
    }
    expect(accountValue('ACM_CERTIFICATE_ARN')).toMatch(new RegExp(`^arn:aws[a-z-]*:acm:${region}:\\d{12}:certificate/`));
    for (const key of ['VPC_CIDR', 'PUBLIC_SUBNET_CIDR_A', 'PUBLIC_SUBNET_CIDR_B'])
      expect(accountValue(key), key).toMatch(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/);
    expect(accountValue('GIT_REPO_URL')).toMatch(/^(https:\/\/|git@|ssh:\/\/)/);
  });
});

describe('names from platform-names.json', () => {
  it('every service, worker and front end has a manifests directory with its Deployment, ServiceAccount and Argo CD application', () => {
    const applications = ofKind<IApplication>(rendered('gitops/apps'), 'Application');
    for (const w of workloads) {
      const objects = rendered(workloadDir(w.workload));
      one<IDeployment>(objects, 'Deployment', w.workload);
      one<IServiceAccount>(objects, 'ServiceAccount', w.serviceAccount);
      expect(applications.find((a) => a.metadata?.name === w.workload)?.spec?.source?.path, w.workload).toBe(workloadDir(w.workload));
    }
  });

  it('HTTP services and the console have a Service on their port; the worker has none', () => {
    for (const w of workloads) {
      const services = ofKind<IService>(rendered(workloadDir(w.workload)), 'Service');
      if (!w.http) {
        expect(services, w.workload).toEqual([]);
        continue;
      }
      expect(services.map((s) => s.metadata?.name)).toEqual([w.workload]);
      expect(services[0]!.spec?.ports?.map((p) => [p.port, p.targetPort])).toEqual([[w.port, 'http']]);
      expect(services[0]!.spec?.selector).toEqual({ 'app.kubernetes.io/name': w.workload, 'app.kubernetes.io/component': w.component });
    }
  });

  it('containers listen on the port of platform-names.json and run their role', () => {
    for (const w of workloads) {
      const container = mainContainer(workloadDir(w.workload), w.workload);
      expect(
        container.ports?.map((p) => [p.name, p.containerPort]),
        w.workload,
      ).toEqual([['http', w.port]]);
      expect(container.args, w.workload).toEqual([w.role]);
      expect(container.command, w.workload).toBeUndefined();
    }
  });

  it('images are <ECR_REGISTRY>/<ecrRepository>:<tag> and CI can bump them by togglemaster/<workload>', () => {
    for (const w of workloads) {
      const dir = workloadDir(w.workload);
      for (const { owner, spec } of podSpecs(dir)) {
        for (const container of spec.containers) {
          expect(container.image, `${dir} ${owner}`).toMatch(
            new RegExp(`^${accountValue('ECR_REGISTRY').replaceAll('.', '\\.')}/${w.ecrRepository}:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$`),
          );
        }
      }
      const kustomization = parseYaml(readFileSync(join(repoRoot, dir, 'kustomization.yaml'), 'utf8')) as {
        images?: { name: string; newName?: string }[];
      };
      expect(
        kustomization.images?.map((i) => i.name),
        dir,
      ).toEqual([`togglemaster/${w.workload}`]);
      expect(kustomization.images?.[0]?.newName, dir).toMatch(new RegExp(`/${w.ecrRepository}$`));
    }
  });

  it("ServiceAccounts carry the IRSA role Terraform made for them; the console's has none and no token either", () => {
    for (const w of workloads) {
      const serviceAccount = one<IServiceAccount>(rendered(workloadDir(w.workload)), 'ServiceAccount', w.serviceAccount);
      if (w.roleArnKey) {
        expect(annotation(serviceAccount, 'eks.amazonaws.com/role-arn'), w.workload).toMatch(
          new RegExp(`^arn:aws[a-z-]*:iam::\\d{12}:role/${names.project}-${w.serviceAccount}$`),
        );
      } else {
        expect(annotation(serviceAccount, 'eks.amazonaws.com/role-arn'), w.workload).toBeUndefined();
        expect(serviceAccount.automountServiceAccountToken, w.workload).toBe(false);
      }
      for (const { owner, spec } of podSpecs(workloadDir(w.workload))) {
        expect(spec.serviceAccountName, owner).toBe(w.serviceAccount);
        if (!w.roleArnKey) expect(spec.automountServiceAccountToken, owner).toBe(false);
      }
    }
  });

  it('every namespaced object lives in the platform namespace, and Argo CD objects in the argocd namespace', () => {
    const clusterScoped = new Set(['Namespace', 'ClusterSecretStore']);
    for (const dir of kustomizations.filter((d) => d !== 'gitops/apps')) {
      for (const object of rendered(dir)) {
        if (clusterScoped.has(object.kind)) expect(object.metadata.namespace, `${dir} ${object.kind}`).toBeUndefined();
        else expect(object.metadata.namespace, `${dir} ${object.kind}/${object.metadata.name}`).toBe(namespace);
      }
    }
    for (const object of rendered('gitops/apps')) expect(object.metadata.namespace, object.metadata.name).toBe(argocdNamespace);
    expect(one<RenderedObject>(rendered('gitops/manifests/platform'), 'Namespace', namespace).metadata.name).toBe(namespace);
  });
});

describe('configuration of the services', () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  it('every variable a Deployment or Job sets is one the configuration schema knows', () => {
    const unknown: string[] = [];
    for (const w of workloads) {
      const dir = workloadDir(w.workload);
      for (const { owner, spec } of podSpecs(dir)) {
        for (const container of spec.containers) {
          for (const key of environment(dir, container).keys()) if (!allowedVariables.has(key)) unknown.push(`${dir} ${owner}: ${key}`);
        }
      }
    }
    expect(unknown).toEqual([]);
  });

  it('secret variables come only from Secrets made by ExternalSecrets', () => {
    for (const w of workloads) {
      const dir = workloadDir(w.workload);
      for (const { owner, spec } of podSpecs(dir)) {
        for (const container of spec.containers) {
          for (const [key, { from }] of environment(dir, container))
            if (secretVariables.includes(key)) expect(from, `${dir} ${owner}: ${key}`).toBe('secret');
        }
      }
    }
  });

  it.each(serviceWorkloads.map((w) => [w.workload, w] as const))(
    '%s starts in production: loadConfig and requireFor accept its environment',
    (_name, w) => {
      const env = processEnvironment(workloadDir(w.workload), mainContainer(workloadDir(w.workload), w.workload));
      expect(env.NODE_ENV).toBe('production');
      // requireFor reads pg's PGHOST from the process environment itself.
      if (env.PGHOST) vi.stubEnv('PGHOST', env.PGHOST);
      const config = loadConfig(env);
      expect(() => requireFor(config, [w.service])).not.toThrow();
      expect(config.REDIS_URL).toMatch(/^rediss:\/\//);
      expect(config.REDIS_PASSWORD).toBeDefined();
      // Only the ALB's subnets are believed: a client cannot pick its address (the login throttle counts by it).
      expect(config.TRUST_PROXY).toBe(`${accountValue('PUBLIC_SUBNET_CIDR_A')},${accountValue('PUBLIC_SUBNET_CIDR_B')}`);
    },
  );

  it('the console starts in production with no database, no Redis and no secret, in front of the in-cluster services', () => {
    const dir = workloadDir(consoleWorkload);
    const container = mainContainer(dir, consoleWorkload);
    const env = environment(dir, container);
    expect([...env.values()].filter((v) => v.from === 'secret')).toEqual([]);
    expect([...env.keys()].filter((key) => pgVariables.includes(key) || /^(DATABASE_|REDIS_)/.test(key))).toEqual([]);
    const config = loadConfig(processEnvironment(dir, container));
    expect(config.NODE_ENV).toBe('production');
    expect(config.TRUST_PROXY).toBe(`${accountValue('PUBLIC_SUBNET_CIDR_A')},${accountValue('PUBLIC_SUBNET_CIDR_B')}`);
    for (const w of serviceWorkloads)
      expect(config[serviceUrlVariables[w.service]], w.workload).toBe(`http://${w.workload}.${namespace}.svc.cluster.local:${w.port}`);
  });

  it('the services that own a database reach their own RDS database over TLS with the RDS-managed credentials', () => {
    for (const w of serviceWorkloads) {
      const env = environment(workloadDir(w.workload), mainContainer(workloadDir(w.workload), w.workload));
      if (!w.database) {
        expect(
          pgVariables.filter((key) => env.has(key)),
          w.workload,
        ).toEqual([]);
        continue;
      }
      expect(env.get('PGDATABASE')?.value, w.workload).toBe(w.database);
      expect(env.get('PGHOST')?.value, w.workload).toBe(accountValue(`${w.service.toUpperCase()}_DB_HOST`));
      expect(env.get('DATABASE_SSL')?.value, w.workload).toBe('require');
      expect(env.get('PGUSER')?.from).toBe('secret');
      expect(env.get('PGPASSWORD')?.from).toBe('secret');
      const secret = one<IExternalSecret>(rendered(workloadDir(w.workload)), 'ExternalSecret', `${w.workload}-secrets`);
      for (const key of ['PGUSER', 'PGPASSWORD'])
        expect(secret.spec?.data?.find((d) => d.secretKey === key)?.remoteRef.key).toBe(
          accountValue(`${w.service.toUpperCase()}_DB_SECRET_ARN`),
        );
    }
  });

  it.each(workerWorkloads.filter((w) => w.sharesDatabaseOf && !withoutRedis.has(w.workload)).map((w) => [w.workload, w] as const))(
    "%s starts in production on its service's database, Redis, environments and secrets, and migrates nothing",
    (_name, w) => {
      const service = serviceWorkloads.find((s) => s.service === w.sharesDatabaseOf)!;
      const worker = Object.values(names.workers).find((x) => x.workload === w.workload) as { database?: string };
      expect(worker.database, `${w.workload}: platform-names.json database`).toBe(service.database);
      const dir = workloadDir(w.workload);
      const env = environment(dir, mainContainer(dir, w.workload));
      const serviceEnv = environment(workloadDir(service.workload), mainContainer(workloadDir(service.workload), service.workload));
      for (const key of ['PGHOST', 'PGPORT', 'PGDATABASE', 'DATABASE_SSL', 'REDIS_URL'])
        expect(env.get(key), `${w.workload} ${key}`).toEqual(serviceEnv.get(key));
      expect(env.get('PGDATABASE')?.value).toBe(service.database);
      // Same configuration where it matters to the flags it writes: environments, Redis key prefix (both may rest on the
      // schema's defaults, but must rest on the same ones).
      const config = loadConfig(processEnvironment(dir, mainContainer(dir, w.workload)));
      const serviceConfig = loadConfig(
        processEnvironment(workloadDir(service.workload), mainContainer(workloadDir(service.workload), service.workload)),
      );
      expect(config.NODE_ENV).toBe('production');
      expect(config.ENVIRONMENTS).toEqual(serviceConfig.ENVIRONMENTS);
      expect(config.REDIS_KEY_PREFIX).toBe(serviceConfig.REDIS_KEY_PREFIX);
      expect(config.REDIS_URL).toMatch(/^rediss:\/\//);
      // What the service's role requires of its environment (a database and, in production, Redis).
      vi.stubEnv('PGHOST', env.get('PGHOST')?.value ?? '');
      expect(() => requireFor(config, [w.sharesDatabaseOf!])).not.toThrow();
      // The service's secrets, from the same sources: the RDS-managed secret of its database and the Redis token.
      const remote = (workload: string) =>
        new Map(
          (one<IExternalSecret>(rendered(workloadDir(workload)), 'ExternalSecret', `${workload}-secrets`).spec?.data ?? []).map((d) => [
            d.secretKey,
            d.remoteRef,
          ]),
        );
      for (const key of ['PGUSER', 'PGPASSWORD', 'REDIS_PASSWORD']) {
        expect(env.get(key)?.from, `${w.workload} ${key}`).toBe('secret');
        expect(remote(w.workload).get(key), `${w.workload} ${key}`).toEqual(remote(service.workload).get(key));
      }
      expect(remote(w.workload).get('REDIS_PASSWORD')).toEqual({ key: names.secrets.redisAuthToken, property: 'authToken' });
      expect(ofKind<IJob>(rendered(dir), 'Job'), `${w.workload}: ${service.workload}'s migrate Job owns the schema`).toEqual([]);
    },
  );

  it.each(workerWorkloads.filter((w) => w.sharesDatabaseOf && withoutRedis.has(w.workload)).map((w) => [w.workload, w] as const))(
    "%s starts in production on its service's database and credentials alone: no Redis, no AWS, and migrates nothing",
    (_name, w) => {
      const service = serviceWorkloads.find((s) => s.service === w.sharesDatabaseOf)!;
      const worker = Object.values(names.workers).find((x) => x.workload === w.workload) as { database?: string };
      expect(worker.database, `${w.workload}: platform-names.json database`).toBe(service.database);
      const dir = workloadDir(w.workload);
      const env = environment(dir, mainContainer(dir, w.workload));
      const serviceEnv = environment(workloadDir(service.workload), mainContainer(workloadDir(service.workload), service.workload));
      for (const key of ['PGHOST', 'PGPORT', 'PGDATABASE', 'DATABASE_SSL'])
        expect(env.get(key), `${w.workload} ${key}`).toEqual(serviceEnv.get(key));
      expect(env.get('PGDATABASE')?.value).toBe(service.database);
      // Nothing of Redis, the events transport or AWS: the worker uses none of them (and has no IRSA role).
      expect([...env.keys()].filter((key) => /^(REDIS_|AWS_|SQS_|DYNAMODB_|BULLMQ_|EVENTS_)/.test(key))).toEqual([]);
      const config = loadConfig(processEnvironment(dir, mainContainer(dir, w.workload)));
      expect(config.NODE_ENV).toBe('production');
      expect(config.REDIS_URL).toBeUndefined();
      expect(config.EVENTS_TRANSPORT).toBe('off');
      // The service's database credentials, from the same source (the RDS-managed secret of its instance), and only them.
      const remote = (workload: string) =>
        new Map(
          (one<IExternalSecret>(rendered(workloadDir(workload)), 'ExternalSecret', `${workload}-secrets`).spec?.data ?? []).map((d) => [
            d.secretKey,
            d.remoteRef,
          ]),
        );
      for (const key of ['PGUSER', 'PGPASSWORD']) {
        expect(env.get(key)?.from, `${w.workload} ${key}`).toBe('secret');
        expect(remote(w.workload).get(key), `${w.workload} ${key}`).toEqual(remote(service.workload).get(key));
      }
      expect(secretKeys(rendered(dir), `${w.workload}-secrets`).sort()).toEqual(['PGPASSWORD', 'PGUSER']);
      expect(ofKind<IJob>(rendered(dir), 'Job'), `${w.workload}: ${service.workload}'s migrate Job owns the schema`).toEqual([]);
    },
  );

  it('the webhook worker opens no internal network to webhooks, and drains a round of sends within its shutdown timeout', () => {
    const workload = names.workers['webhook-worker'].workload;
    const config = loadConfig(processEnvironment(workloadDir(workload), mainContainer(workloadDir(workload), workload)));
    // Its target guard refuses internal addresses unless WEBHOOK_ALLOWED_NETWORKS opens them; so does its NetworkPolicy.
    expect(config.WEBHOOK_ALLOWED_NETWORKS).toEqual([]);
    // On SIGTERM it finishes the deliveries in hand, each bounded by WEBHOOK_TIMEOUT_MS, then records them.
    expect(config.SHUTDOWN_TIMEOUT_MS).toBeGreaterThan(config.WEBHOOK_TIMEOUT_MS);
  });

  it('the connections to each PostgreSQL instance stay within a quarter of what its instance class allows', () => {
    // db.t3.medium: max_connections = LEAST(DBInstanceClassMemory / 9531392, 5000), about 400. A quarter leaves room for
    // operators' sessions, RDS's own and growth. Counted at the worst moment: every replica at its maximum, plus a
    // rollout's extra pod (maxSurge), plus the migrate Job, plus KEDA's postgresql scalers on that database (pgx's
    // pool: at most max(4, CPUs) connections, one in practice).
    const dbInstanceClass = /variable "db_instance_class"[\s\S]*?default\s*=\s*"([^"]+)"/.exec(
      readFileSync(join(repoRoot, 'infra/variables.tf'), 'utf8'),
    )?.[1];
    expect(dbInstanceClass, 'the budget below assumes this instance class').toBe('db.t3.medium');
    const budget = 100;
    const defaultPool = (ConfigSchema.properties.DATABASE_POOL_MAX as { default?: number }).default ?? 10;
    const keda = rendered('k8s/keda');
    for (const service of serviceWorkloads.filter((s) => s.database)) {
      const parts: string[] = [];
      let total = 0;
      for (const w of workloads.filter((x) => x === service || x.sharesDatabaseOf === service.service)) {
        const dir = workloadDir(w.workload);
        const pool = (container: IContainer) => Number(environment(dir, container).get('DATABASE_POOL_MAX')?.value ?? defaultPool);
        const deployment = one<IDeployment>(rendered(dir), 'Deployment', w.workload);
        const maxReplicas = w.http
          ? one<IHorizontalPodAutoscaler>(rendered(dir), 'HorizontalPodAutoscaler', w.workload).spec.maxReplicas
          : one<IScaledObject>(keda, 'ScaledObject', w.workload).spec.maxReplicaCount!;
        const surge = Number(deployment.spec?.strategy?.rollingUpdate?.maxSurge);
        expect(Number.isInteger(surge), `${w.workload}: maxSurge as a number of pods`).toBe(true);
        const connections = (maxReplicas + surge) * pool(mainContainer(dir, w.workload));
        parts.push(`${w.workload} ${connections}`);
        total += connections;
        for (const job of ofKind<IJob>(rendered(dir), 'Job')) {
          const jobConnections = pool(job.spec!.template.spec!.containers[0]!);
          parts.push(`${job.metadata?.name} ${jobConnections}`);
          total += jobConnections;
        }
      }
      const scalers = ofKind<IScaledObject>(keda, 'ScaledObject')
        .flatMap((s) => s.spec.triggers)
        .filter((t) => t.type === 'postgresql' && t.metadata.dbName === service.database);
      parts.push(`KEDA ${scalers.length * 4}`);
      total += scalers.length * 4;
      expect(total, `${service.database}: ${parts.join(' + ')}`).toBeLessThanOrEqual(budget);
    }
  });

  it('auth gets its signing key and first admin from Secrets Manager', () => {
    const w = byName.get(names.services.auth.workload)!;
    const secret = one<IExternalSecret>(rendered(workloadDir(w.workload)), 'ExternalSecret', `${w.workload}-secrets`);
    const remote = new Map((secret.spec?.data ?? []).map((d) => [d.secretKey, d.remoteRef]));
    expect(remote.get('AUTH_JWT_PRIVATE_KEY')?.key).toBe(names.secrets.jwtSigningKey);
    expect(remote.get('ADMIN_EMAIL')?.key).toBe(names.secrets.adminBootstrap);
    expect(remote.get('ADMIN_PASSWORD')?.key).toBe(names.secrets.adminBootstrap);
  });

  it('every ExternalSecret reads through the platform store, only secrets of platform-names.json or the RDS secrets', () => {
    const allowed = new Set<string>([
      ...Object.values(names.secrets),
      ...[...account.entries()].filter(([key]) => key.endsWith('_DB_SECRET_ARN')).map(([, value]) => value),
    ]);
    for (const dir of kustomizations) {
      for (const secret of ofKind<IExternalSecret>(rendered(dir), 'ExternalSecret')) {
        for (const data of secret.spec?.data ?? []) {
          expect(allowed.has(data.remoteRef.key), `${dir} ${secret.metadata?.name}: ${data.remoteRef.key}`).toBe(true);
          expect(secret.spec?.secretStoreRef).toEqual({ kind: 'ClusterSecretStore', name: 'aws-secrets-manager' });
        }
      }
    }
    expect(names.secrets.redisAuthToken).toBeDefined();
  });

  it('the services reach each other through the in-cluster Services on their ports', () => {
    for (const [caller, callees] of Object.entries(calls)) {
      const env = environment(workloadDir(caller), mainContainer(workloadDir(caller), caller));
      for (const callee of callees) {
        expect(env.get(urlVariable[callee]!)?.value, `${caller} → ${callee}`).toBe(
          `http://${callee}.${namespace}.svc.cluster.local:${byName.get(callee)!.port}`,
        );
      }
    }
  });

  it('evaluation, analytics and the worker carry the SQS transport, the region and the analytics table', () => {
    const eventWorkloads = [
      names.services.evaluation.workload,
      names.services.analytics.workload,
      names.workers['analytics-worker'].workload,
    ];
    for (const workload of eventWorkloads) {
      const env = processEnvironment(workloadDir(workload), mainContainer(workloadDir(workload), workload));
      const config = loadConfig(env);
      expect(config.EVENTS_TRANSPORT, workload).toBe('sqs');
      expect(config.SQS_QUEUE_URL, workload).toBe(accountValue('SQS_QUEUE_URL'));
      expect(config.AWS_REGION, workload).toBe(accountValue('AWS_REGION'));
      expect(config.DYNAMODB_TABLE, workload).toBe(names.dynamodb.analyticsTable);
    }
    const worker = loadConfig(
      processEnvironment(workloadDir('analytics-worker'), mainContainer(workloadDir('analytics-worker'), 'analytics-worker')),
    );
    expect(worker.SQS_DLQ_URL).toBe(accountValue('SQS_DLQ_URL'));
    expect(worker.NODE_ENV).toBe('production');
    const evaluation = environment(
      workloadDir(names.services.evaluation.workload),
      mainContainer(workloadDir(names.services.evaluation.workload), names.services.evaluation.workload),
    );
    expect(evaluation.get('EVENTS_KEY_SALT')?.from).toBe('secret');
  });

  it("the release worker reads the analytics table for its guardrails: the region and the table, on AWS's own endpoint", () => {
    const workload = names.workers['release-worker'].workload;
    const env = processEnvironment(workloadDir(workload), mainContainer(workloadDir(workload), workload));
    // Set explicitly, as for analytics and its worker, not left to the defaults of the configuration schema.
    expect(env.AWS_REGION).toBe(accountValue('AWS_REGION'));
    expect(env.DYNAMODB_TABLE).toBe(names.dynamodb.analyticsTable);
    const config = loadConfig(env);
    expect(config.AWS_ENDPOINT_URL_DYNAMODB).toBeUndefined();
    // It reads DynamoDB only: no queue to send to or consume, so none configured (its IAM role has no SQS action).
    expect(config.EVENTS_TRANSPORT).toBe('off');
    expect(config.SQS_QUEUE_URL).toBeUndefined();
  });
});

describe('pods', () => {
  it('every Deployment probes /healthz for liveness and /readyz for readiness on its port', () => {
    for (const w of workloads) {
      const container = mainContainer(workloadDir(w.workload), w.workload);
      expect(container.livenessProbe?.httpGet, w.workload).toMatchObject({ path: '/healthz', port: 'http' });
      expect(container.readinessProbe?.httpGet, w.workload).toMatchObject({ path: '/readyz', port: 'http' });
    }
  });

  it('every container runs as non-root on a read-only root with no privilege escalation, no capabilities and RuntimeDefault seccomp', () => {
    for (const w of workloads) {
      for (const { owner, spec } of podSpecs(workloadDir(w.workload))) {
        expect(spec.securityContext, owner).toMatchObject({ runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } });
        const tmpVolume = spec.volumes?.find((v) => v.emptyDir !== undefined);
        expect(tmpVolume, `${owner}: an emptyDir for /tmp`).toBeDefined();
        for (const container of [...(spec.initContainers ?? []), ...spec.containers]) {
          expect(container.securityContext, `${owner} ${container.name}`).toMatchObject({
            runAsNonRoot: true,
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ['ALL'] },
            seccompProfile: { type: 'RuntimeDefault' },
          });
          expect(container.securityContext?.privileged, owner).not.toBe(true);
          expect(container.volumeMounts?.find((m) => m.mountPath === '/tmp')?.name, owner).toBe(tmpVolume?.name);
        }
      }
    }
  });

  it('every container requests and limits CPU and memory', () => {
    for (const w of workloads) {
      for (const { owner, spec } of podSpecs(workloadDir(w.workload))) {
        for (const container of spec.containers) {
          for (const bound of ['requests', 'limits'] as const) {
            expect(container.resources?.[bound]?.cpu, `${owner} ${bound}.cpu`).toBeDefined();
            expect(container.resources?.[bound]?.memory, `${owner} ${bound}.memory`).toBeDefined();
          }
        }
      }
    }
  });

  it('the grace period outlasts the preStop sleep plus the drain of SHUTDOWN_TIMEOUT_MS', () => {
    const defaultTimeout = (ConfigSchema.properties.SHUTDOWN_TIMEOUT_MS as { default?: number }).default ?? 0;
    for (const w of workloads) {
      const dir = workloadDir(w.workload);
      const deployment = one<IDeployment>(rendered(dir), 'Deployment', w.workload);
      const container = mainContainer(dir, w.workload);
      const timeout = Number(environment(dir, container).get('SHUTDOWN_TIMEOUT_MS')?.value ?? defaultTimeout);
      const preStop = container.lifecycle?.preStop?.sleep?.seconds ?? 0;
      if (w.http) expect(preStop, `${w.workload}: a preStop sleep lets the ALB deregister first`).toBeGreaterThanOrEqual(5);
      expect(deployment.spec?.template.spec?.terminationGracePeriodSeconds, w.workload).toBeGreaterThan(preStop + timeout / 1000);
    }
  });

  it('pods spread over zones and nodes', () => {
    for (const w of workloads) {
      const keys = one<IDeployment>(
        rendered(workloadDir(w.workload)),
        'Deployment',
        w.workload,
      ).spec?.template.spec?.topologySpreadConstraints?.map((c) => c.topologyKey);
      expect(keys, w.workload).toEqual(expect.arrayContaining(['topology.kubernetes.io/zone', 'kubernetes.io/hostname']));
    }
  });

  it('every workload has a PodDisruptionBudget over its own pods', () => {
    for (const w of workloads) {
      const objects = rendered(workloadDir(w.workload));
      const deployment = one<IDeployment>(objects, 'Deployment', w.workload);
      const pdb = one<IPodDisruptionBudget>(objects, 'PodDisruptionBudget', w.workload);
      expect(pdb.spec?.selector?.matchLabels, w.workload).toEqual(deployment.spec?.selector.matchLabels);
    }
  });
});

describe('autoscaling', () => {
  it('no Deployment sets replicas: an HPA scales each HTTP service, KEDA the worker', () => {
    const scaledObjects = ofKind<IScaledObject>(rendered('k8s/keda'), 'ScaledObject');
    for (const w of workloads) {
      const objects = rendered(workloadDir(w.workload));
      expect(one<IDeployment>(objects, 'Deployment', w.workload).spec?.replicas, w.workload).toBeUndefined();
      const hpas = ofKind<IHorizontalPodAutoscaler>(objects, 'HorizontalPodAutoscaler');
      if (w.http) {
        expect(
          hpas.map((h) => h.spec?.scaleTargetRef),
          w.workload,
        ).toEqual([{ apiVersion: 'apps/v1', kind: 'Deployment', name: w.workload }]);
        expect(hpas[0]!.spec?.minReplicas, w.workload).toBeGreaterThanOrEqual(2);
      } else {
        expect(hpas, w.workload).toEqual([]);
        expect(scaledObjects.map((s) => s.spec.scaleTargetRef.name)).toContain(w.workload);
      }
    }
  });

  const nodeMaxSize = () =>
    Number(/variable "node_max_size"[\s\S]*?default\s*=\s*(\d+)/.exec(readFileSync(join(repoRoot, 'infra/variables.tf'), 'utf8'))?.[1]);

  it('the ScaledObject scales an existing Deployment on the evaluation-events queue with the KEDA operator identity', () => {
    const objects = rendered('k8s/keda');
    const deployments = new Set(
      workloads.flatMap((w) => ofKind<IDeployment>(rendered(workloadDir(w.workload)), 'Deployment').map((d) => d.metadata?.name)),
    );
    const scaledObject = one<IScaledObject>(objects, 'ScaledObject', names.workers['analytics-worker'].workload);
    expect(scaledObject.spec.scaleTargetRef.kind ?? 'Deployment').toBe('Deployment');
    expect(deployments.has(scaledObject.spec.scaleTargetRef.name)).toBe(true);
    expect(scaledObject.spec.minReplicaCount).toBe(0);
    expect(scaledObject.spec.maxReplicaCount).toBeGreaterThan(0);
    expect(scaledObject.spec.maxReplicaCount).toBeLessThanOrEqual(nodeMaxSize());
    const [trigger] = scaledObject.spec.triggers;
    expect(scaledObject.spec.triggers).toHaveLength(1);
    expect(trigger!.type).toBe('aws-sqs-queue');
    expect(trigger!.metadata.queueURL).toBe(accountValue('SQS_QUEUE_URL'));
    expect(trigger!.metadata.queueURL).toMatch(new RegExp(`/${names.queues.evaluationEvents}$`));
    expect(trigger!.metadata.awsRegion).toBe(accountValue('AWS_REGION'));
    expect(Number(trigger!.metadata.queueLength)).toBeGreaterThan(0);
    expect(Number(trigger!.metadata.activationQueueLength)).toBeGreaterThanOrEqual(0);
    const auth = one<ITriggerAuthentication>(objects, 'TriggerAuthentication', trigger!.authenticationRef!.name);
    expect(auth.spec.podIdentity).toEqual({ provider: 'aws', identityOwner: 'keda' });
    expect(scaledObject.spec.fallback?.replicas).toBeGreaterThanOrEqual(1);
  });

  it('the release worker always runs (2 replicas at least) and scales on the BullMQ wait list of its queue in ElastiCache', () => {
    const objects = rendered('k8s/keda');
    const workload = names.workers['release-worker'].workload;
    const scaledObject = one<IScaledObject>(objects, 'ScaledObject', workload);
    expect(scaledObject.spec.scaleTargetRef.kind ?? 'Deployment').toBe('Deployment');
    expect(scaledObject.spec.scaleTargetRef.name).toBe(workload);
    one<IDeployment>(rendered(workloadDir(workload)), 'Deployment', workload);
    expect(scaledObject.spec.minReplicaCount).toBe(2);
    expect(scaledObject.spec.maxReplicaCount).toBe(4);
    expect(scaledObject.spec.maxReplicaCount).toBeLessThanOrEqual(nodeMaxSize());
    // A scaler that cannot read Redis holds the minimum, never less.
    expect(scaledObject.spec.fallback?.replicas).toBeGreaterThanOrEqual(scaledObject.spec.minReplicaCount!);
    const redis = new URL(accountValue('REDIS_URL'));
    expect(scaledObject.spec.triggers.map((t) => [t.type, t.metadata.listName, t.metadata.address, t.metadata.enableTLS])).toEqual([
      ['redis', `bull:${names.queues.releaseSchedules}:wait`, `${redis.hostname}:${redis.port}`, 'true'],
    ]);
    expect(Number(scaledObject.spec.triggers[0]!.metadata.listLength)).toBeGreaterThan(0);
    // The Redis token: the worker's own Secret, made by its ExternalSecret from the Redis auth-token secret.
    const auth = one<ITriggerAuthentication>(objects, 'TriggerAuthentication', scaledObject.spec.triggers[0]!.authenticationRef!.name);
    expect(auth.spec.secretTargetRef).toEqual([{ parameter: 'password', name: `${workload}-secrets`, key: 'REDIS_PASSWORD' }]);
    expect(secretKeys(rendered(workloadDir(workload)), `${workload}-secrets`)).toContain('REDIS_PASSWORD');
    expect(auth.spec.podIdentity).toBeUndefined();
  });

  it('the webhook worker always runs (1 replica at least) and scales on the due rows of its deliveries table', () => {
    const objects = rendered('k8s/keda');
    const workload = names.workers['webhook-worker'].workload;
    const scaledObject = one<IScaledObject>(objects, 'ScaledObject', workload);
    expect(scaledObject.spec.scaleTargetRef.kind ?? 'Deployment').toBe('Deployment');
    expect(scaledObject.spec.scaleTargetRef.name).toBe(workload);
    one<IDeployment>(rendered(workloadDir(workload)), 'Deployment', workload);
    // Never 0: the worker fans the events out into deliveries itself, so with no replica nothing would become due.
    expect(scaledObject.spec.minReplicaCount).toBe(1);
    expect(scaledObject.spec.maxReplicaCount).toBe(4);
    expect(scaledObject.spec.maxReplicaCount).toBeLessThanOrEqual(nodeMaxSize());
    // A scaler that cannot count keeps what runs, never less than the minimum.
    expect(scaledObject.spec.fallback?.replicas).toBeGreaterThanOrEqual(scaledObject.spec.minReplicaCount!);
    expect(scaledObject.spec.fallback?.behavior).toBe('currentReplicasIfHigher');
    // KEDA's postgresql scaler on the worker's own database, over TLS as the worker connects.
    const env = environment(workloadDir(workload), mainContainer(workloadDir(workload), workload));
    expect(
      scaledObject.spec.triggers.map((t) => [t.type, t.metadata.host, t.metadata.port, t.metadata.dbName, t.metadata.sslmode]),
    ).toEqual([
      ['postgresql', env.get('PGHOST')?.value, env.get('PGPORT')?.value, env.get('PGDATABASE')?.value, env.get('DATABASE_SSL')?.value],
    ]);
    expect(env.get('PGHOST')?.value).toBe(accountValue('FLAGS_DB_HOST'));
    const [trigger] = scaledObject.spec.triggers;
    // The deliveries the worker can send now, as its own claim takes them (claimed ones have their next attempt moved
    // past their lease; those behind a failing one of their lane, or of a paused webhook, are not work yet).
    expect(trigger!.metadata.query?.replace(/\s+/g, ' ').trim()).toBe(
      "select count(*) from flags.webhook_deliveries d join flags.webhooks w on w.id = d.webhook_id where d.status = 'pending' and d.next_attempt_at <= now() and w.enabled and not exists (select 1 from flags.webhook_deliveries e where e.webhook_id = d.webhook_id and e.flag_key = d.flag_key and e.status = 'pending' and e.id < d.id)",
    );
    expect(Number(trigger!.metadata.targetQueryValue)).toBeGreaterThan(0);
    expect(Number(trigger!.metadata.activationTargetQueryValue)).toBeGreaterThanOrEqual(0);
    // The table and columns the query counts are the ones the flags migrations create.
    const migrations = readdirSync(join(repoRoot, 'handlers/flags/migrations'))
      .filter((file) => file.endsWith('.ts'))
      .map((file) => readFileSync(join(repoRoot, 'handlers/flags/migrations', file), 'utf8'))
      .find((text) => text.includes(".createTable('webhook_deliveries')"));
    expect(migrations, 'a flags migration creates webhook_deliveries').toBeDefined();
    for (const column of ['status', 'next_attempt_at']) expect(migrations).toContain(`.addColumn('${column}'`);
    // No credential in the ScaledObject: user and password come from the worker's own Secret (its ExternalSecret).
    expect(Object.keys(trigger!.metadata).filter((key) => /password|connection/i.test(key))).toEqual([]);
    const auth = one<ITriggerAuthentication>(objects, 'TriggerAuthentication', trigger!.authenticationRef!.name);
    expect(auth.spec.secretTargetRef).toEqual([
      { parameter: 'userName', name: `${workload}-secrets`, key: 'PGUSER' },
      { parameter: 'password', name: `${workload}-secrets`, key: 'PGPASSWORD' },
    ]);
    expect(secretKeys(rendered(workloadDir(workload)), `${workload}-secrets`)).toEqual(expect.arrayContaining(['PGUSER', 'PGPASSWORD']));
    expect(auth.spec.podIdentity).toBeUndefined();
  });

  it("the BullMQ overlay watches BullMQ's wait list of the configured queue with the redis scaler", () => {
    const objects = rendered('k8s/keda/overlays/bullmq');
    const queue = (ConfigSchema.properties.BULLMQ_QUEUE as { default?: string }).default;
    const scaledObject = one<IScaledObject>(objects, 'ScaledObject', names.workers['analytics-worker'].workload);
    expect(scaledObject.spec.triggers.map((t) => [t.type, t.metadata.listName])).toEqual([['redis', `bull:${queue}:wait`]]);
    const auth = one<ITriggerAuthentication>(objects, 'TriggerAuthentication', scaledObject.spec.triggers[0]!.authenticationRef!.name);
    expect(auth.spec.secretTargetRef?.map((s) => s.parameter)).toEqual(['password']);
    // The release worker keeps its trigger, on the same Redis as the analytics worker's; no AWS identity is left.
    const release = one<IScaledObject>(objects, 'ScaledObject', names.workers['release-worker'].workload);
    expect(release.spec.triggers.map((t) => [t.type, t.metadata.listName, t.metadata.address, t.metadata.enableTLS])).toEqual([
      [
        'redis',
        `bull:${names.queues.releaseSchedules}:wait`,
        scaledObject.spec.triggers[0]!.metadata.address,
        scaledObject.spec.triggers[0]!.metadata.enableTLS,
      ],
    ]);
    // The webhook worker keeps its postgresql trigger, pointed at an in-cluster PostgreSQL instead of RDS.
    const webhook = one<IScaledObject>(objects, 'ScaledObject', names.workers['webhook-worker'].workload);
    expect(webhook.spec.triggers.map((t) => [t.type, t.metadata.dbName])).toEqual([['postgresql', 'flags']]);
    expect(webhook.spec.triggers[0]!.metadata.host).not.toBe(accountValue('FLAGS_DB_HOST'));
    expect(
      ofKind<ITriggerAuthentication>(objects, 'TriggerAuthentication')
        .map((a) => a.metadata?.name)
        .sort(),
    ).toEqual(
      [auth.metadata?.name, release.spec.triggers[0]!.authenticationRef!.name, webhook.spec.triggers[0]!.authenticationRef!.name].sort(),
    );
    expect(JSON.stringify(objects)).not.toContain('set-from-account-values');
  });
});

describe('network policies', () => {
  const policyOf = (workload: string) => one<INetworkPolicy>(rendered(workloadDir(workload)), 'NetworkPolicy', workload);
  const peersTo = (policy: INetworkPolicy) =>
    (policy.spec?.egress ?? []).flatMap((rule) =>
      (rule.to ?? []).flatMap((peer) =>
        peer.podSelector?.matchLabels?.['app.kubernetes.io/name']
          ? [[peer.podSelector.matchLabels['app.kubernetes.io/name'], rule.ports?.map((p) => p.port)] as const]
          : [],
      ),
    );

  it('the namespace denies everything by default', () => {
    const deny = one<INetworkPolicy>(rendered('gitops/manifests/platform'), 'NetworkPolicy', 'default-deny');
    expect(deny.spec).toEqual({ podSelector: {}, policyTypes: ['Ingress', 'Egress'] });
  });

  it('every workload has a policy over its pods with ingress and egress, each rule bound to ports', () => {
    for (const w of workloads) {
      const policy = policyOf(w.workload);
      expect(policy.spec?.podSelector?.matchLabels, w.workload).toEqual({ 'app.kubernetes.io/name': w.workload });
      expect(policy.spec?.policyTypes, w.workload).toEqual(['Ingress', 'Egress']);
      for (const rule of [...(policy.spec?.ingress ?? []), ...(policy.spec?.egress ?? [])])
        expect(rule.ports?.length, `${w.workload}: a rule without ports allows every port`).toBeGreaterThan(0);
      for (const rule of policy.spec?.ingress ?? []) for (const port of rule.ports ?? []) expect(port.port, w.workload).toBe(w.port);
    }
  });

  it('each service reaches exactly the services it calls, and they admit it', () => {
    for (const [caller, callees] of Object.entries(calls)) {
      expect(
        peersTo(policyOf(caller))
          .map(([name]) => name)
          .sort(),
        caller,
      ).toEqual([...callees].sort());
      for (const callee of callees) {
        expect(peersTo(policyOf(caller)).find(([name]) => name === callee)?.[1], `${caller} → ${callee}`).toEqual([
          byName.get(callee)!.port,
        ]);
        const admitted = (policyOf(callee).spec?.ingress ?? []).flatMap((rule) =>
          (rule.from ?? []).flatMap((peer) => peer.podSelector?.matchExpressions?.flatMap((e) => e.values ?? []) ?? []),
        );
        expect(admitted, `${callee} admits ${caller}`).toContain(caller);
      }
    }
    // And nobody else: a service admits exactly the workloads that call it.
    for (const callee of Object.keys(calls)) {
      const admitted = (policyOf(callee).spec?.ingress ?? []).flatMap((rule) =>
        (rule.from ?? []).flatMap((peer) => peer.podSelector?.matchExpressions?.flatMap((e) => e.values ?? []) ?? []),
      );
      const callers = Object.entries(calls)
        .filter(([, callees]) => callees.includes(callee))
        .map(([caller]) => caller);
      expect([...admitted].sort(), `who ${callee} admits`).toEqual(callers.sort());
    }
  });

  it('the ALB sources are the public subnets; PostgreSQL and Redis are reached in the VPC only, never by the console', () => {
    for (const w of workloads.filter((x) => x.http)) {
      const policy = policyOf(w.workload);
      expect(
        policy.spec?.ingress?.[0]?.from?.map((p) => p.ipBlock?.cidr),
        w.workload,
      ).toEqual([accountValue('PUBLIC_SUBNET_CIDR_A'), accountValue('PUBLIC_SUBNET_CIDR_B')]);
      const datastore = policy.spec?.egress?.find((rule) => rule.ports?.some((p) => p.port === 5432 || p.port === 6379));
      if (w.component === 'web') {
        expect(datastore, w.workload).toBeUndefined();
        continue;
      }
      expect(
        datastore?.to?.map((p) => p.ipBlock?.cidr),
        w.workload,
      ).toEqual([accountValue('VPC_CIDR')]);
      expect(
        datastore?.ports?.map((p) => p.port),
        w.workload,
      ).toEqual(w.database ? [5432, 6379] : [6379]);
    }
  });

  it('the workers admit only metrics scrapes; one that shares a database reaches PostgreSQL (and Redis, if it uses it) in the VPC only', () => {
    const monitoring = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'monitoring' } } };
    for (const w of workerWorkloads) {
      const policy = policyOf(w.workload);
      expect(
        policy.spec?.ingress?.map((rule) => rule.from),
        w.workload,
      ).toEqual([[monitoring]]);
      const datastore = (policy.spec?.egress ?? []).filter((rule) => rule.ports?.some((p) => p.port === 5432 || p.port === 6379));
      expect(
        datastore.map((rule) => [rule.to?.map((p) => p.ipBlock?.cidr), rule.ports?.map((p) => p.port)]),
        w.workload,
      ).toEqual(w.sharesDatabaseOf ? [[[accountValue('VPC_CIDR')], withoutRedis.has(w.workload) ? [5432] : [5432, 6379]]] : []);
      // DNS, the datastores, AWS over 443 for those that call it, the internet for the webhook worker: nothing else.
      expect(policy.spec?.egress, w.workload).toHaveLength(
        1 + datastore.length + (awsCallers.has(w.workload) ? 1 : 0) + (internetClients.has(w.workload) ? 1 : 0),
      );
    }
  });

  it('only the workloads that call AWS APIs may leave the VPC, on 443; the webhook worker on 80 and 443, to public addresses only', () => {
    for (const w of workloads) {
      const open = (policyOf(w.workload).spec?.egress ?? []).filter((rule) => rule.to?.some((p) => p.ipBlock?.cidr === '0.0.0.0/0'));
      expect(
        open.map((rule) => rule.ports?.map((p) => p.port)),
        w.workload,
      ).toEqual([...(awsCallers.has(w.workload) ? [[443]] : []), ...(internetClients.has(w.workload) ? [[80, 443]] : [])]);
      for (const rule of open) {
        expect(rule.to, `${w.workload}: one peer in a rule that leaves the VPC`).toHaveLength(1);
        const except = rule.to?.[0]?.ipBlock?.except ?? [];
        if (rule.ports?.some((p) => p.port === 80))
          // Defence in depth beside the worker's target guard: no user's webhook URL reaches the VPC, metadata or loopback.
          expect([...except].sort(), w.workload).toEqual([...internalRanges].sort());
        else expect(except, w.workload).toEqual([]);
      }
    }
  });

  it("the webhook worker's internet rule leaves out the VPC of account.env and the instance metadata address", () => {
    const toNumber = (address: string) => address.split('.').reduce((n, octet) => n * 256 + Number(octet), 0);
    const contains = (outer: string, inner: string) => {
      const [outerAddress = '', outerBits = '0'] = outer.split('/');
      const [innerAddress = '', innerBits = '32'] = inner.split('/');
      if (Number(innerBits) < Number(outerBits)) return false;
      const size = 2 ** (32 - Number(outerBits));
      return Math.floor(toNumber(innerAddress) / size) === Math.floor(toNumber(outerAddress) / size);
    };
    expect(contains('10.0.0.0/8', '10.0.0.0/16')).toBe(true);
    expect(contains('10.0.0.0/8', '11.0.0.0/16')).toBe(false);
    expect(contains('10.0.0.0/16', '10.0.0.0/8')).toBe(false);
    for (const workload of internetClients) {
      const internet = (policyOf(workload).spec?.egress ?? []).find((rule) => rule.ports?.some((p) => p.port === 80));
      const except = internet?.to?.[0]?.ipBlock?.except ?? [];
      for (const target of [accountValue('VPC_CIDR'), '169.254.169.254/32', '127.0.0.1/32'])
        expect(
          except.some((range) => contains(range, target)),
          `${workload}: ${target} is left out`,
        ).toBe(true);
    }
  });
});

describe('Argo CD', () => {
  const applications = () => ofKind<IApplication>(rendered('gitops/apps'), 'Application');
  const app = (name: string) => one<IApplication>(rendered('gitops/apps'), 'Application', name);

  it("every application's path exists in the repository and is a kustomization", () => {
    for (const application of applications()) {
      const path = application.spec?.source?.path ?? '';
      expect(existsSync(join(repoRoot, path, 'kustomization.yaml')), `${application.metadata?.name}: ${path}`).toBe(true);
      expect(kustomizations).toContain(path);
    }
  });

  it('every kustomization that belongs to production is synced by an application', () => {
    const paths = new Set(applications().map((a) => a.spec?.source?.path));
    expect(productionKustomizations.filter((dir) => !paths.has(dir))).toEqual([]);
  });

  it('applications sync automatically with prune and self-heal, from the repository of account.env', () => {
    for (const application of applications()) {
      expect(application.spec?.syncPolicy?.automated, application.metadata?.name).toMatchObject({ prune: true, selfHeal: true });
      expect(application.spec?.source?.repoURL, application.metadata?.name).toBe(accountValue('GIT_REPO_URL'));
      expect(application.spec?.destination.server).toBe('https://kubernetes.default.svc');
    }
    const project = one<IAppProject>(rendered('gitops/apps'), 'AppProject', 'togglemaster');
    expect(project.spec?.sourceRepos).toEqual([accountValue('GIT_REPO_URL')]);
    expect(project.spec?.destinations).toEqual([{ server: 'https://kubernetes.default.svc', namespace }]);
  });

  it('Deployments scaled by an HPA or KEDA are left out of the replica diff, and syncs respect it', () => {
    for (const w of workloads) {
      const application = app(w.workload);
      expect(application.spec?.ignoreDifferences, w.workload).toContainEqual({
        group: 'apps',
        kind: 'Deployment',
        name: w.workload,
        jsonPointers: ['/spec/replicas'],
      });
      expect(application.spec?.syncPolicy?.syncOptions, w.workload).toContain('RespectIgnoreDifferences=true');
      expect(application.spec?.destination.namespace).toBe(namespace);
    }
  });

  it('sync waves: the namespace first, then the workloads, then the scalers and the ALB', () => {
    const platform = wave(app('togglemaster-platform'));
    const workloadWaves = workloads.map((w) => wave(app(w.workload)));
    expect(Math.max(...workloadWaves)).toBeGreaterThan(platform);
    expect(wave(app('togglemaster-keda'))).toBeGreaterThan(Math.max(...workloadWaves));
    expect(wave(app('togglemaster-ingress'))).toBeGreaterThan(Math.max(...workloadWaves));
    expect(app('togglemaster-keda').spec?.source?.path).toBe('k8s/keda');
    expect(wave(one<IAppProject>(rendered('gitops/apps'), 'AppProject', 'togglemaster'))).toBeLessThan(platform);
  });

  it('inside each workload: service account, config and secrets, then migrations, then the workload, then its HPA', () => {
    for (const w of workloads) {
      const objects = rendered(workloadDir(w.workload));
      const deployment = one<IDeployment>(objects, 'Deployment', w.workload);
      for (const object of objects.filter((o) =>
        ['ServiceAccount', 'ConfigMap', 'ExternalSecret', 'NetworkPolicy', 'Password'].includes(o.kind),
      )) {
        expect(wave(object), `${w.workload} ${object.kind}`).toBeLessThan(wave(deployment));
      }
      const jobs = ofKind<IJob>(objects, 'Job');
      if (w.database) {
        expect(jobs.map((j) => j.metadata?.name)).toEqual([`${w.workload}-migrate`]);
        const job = jobs[0]!;
        expect(annotation(job, 'argocd.argoproj.io/hook')).toBe('Sync');
        expect(annotation(job, 'argocd.argoproj.io/hook-delete-policy')).toBe('BeforeHookCreation');
        expect(wave(job)).toBeGreaterThan(wave(one<IServiceAccount>(objects, 'ServiceAccount', w.serviceAccount)));
        expect(wave(job)).toBeLessThan(wave(deployment));
        expect(job.spec?.template.spec?.containers.map((c) => c.args)).toEqual([['migrate', w.role]]);
        expect(job.spec?.template.spec?.restartPolicy).toBe('Never');
      } else {
        expect(jobs, w.workload).toEqual([]);
      }
      for (const hpa of ofKind<IHorizontalPodAutoscaler>(objects, 'HorizontalPodAutoscaler'))
        expect(wave(hpa)).toBeGreaterThan(wave(deployment));
    }
  });
});

/**
 * The Service the ALB sends a request path to, with the rules ordered as the AWS Load Balancer Controller orders
 * them (v2.4.3 and later): Exact paths first, then Prefix paths, longest first; a Prefix path matches itself and
 * anything under it. Undefined: no rule matches (the ALB answers 404).
 */
function albBackend(routes: (string | number | undefined)[][], requestPath: string): string | undefined {
  const exact = routes.filter(([, type]) => type === 'Exact');
  const prefix = routes.filter(([, type]) => type === 'Prefix').sort((a, b) => String(b[0]).length - String(a[0]).length);
  const matches = ([path, type]: (string | number | undefined)[]) => {
    const p = String(path);
    return type === 'Exact' ? requestPath === p : requestPath === p || requestPath.startsWith(p.endsWith('/') ? p : `${p}/`);
  };
  return [...exact, ...prefix].find(matches)?.[2] as string | undefined;
}

describe('ingress', () => {
  const routesOf = (ingress: IIngress) =>
    (ingress.spec?.rules ?? []).flatMap(
      (rule) => rule.http?.paths.map((p) => [p.path, p.pathType, p.backend.service?.name, p.backend.service?.port?.number]) ?? [],
    );

  it('the internet-facing ALB routes the public prefixes to their services over HTTPS', () => {
    const ingress = one<IIngress>(rendered('gitops/manifests/ingress'), 'Ingress', 'togglemaster');
    expect(ingress.spec?.ingressClassName).toBe('alb');
    expect(annotation(ingress, 'alb.ingress.kubernetes.io/scheme')).toBe('internet-facing');
    expect(annotation(ingress, 'alb.ingress.kubernetes.io/target-type')).toBe('ip');
    expect(annotation(ingress, 'alb.ingress.kubernetes.io/certificate-arn')).toBe(accountValue('ACM_CERTIFICATE_ARN'));
    expect(annotation(ingress, 'alb.ingress.kubernetes.io/ssl-redirect')).toBe('443');
    const s = names.services;
    const c = names.frontends.console;
    expect(routesOf(ingress)).toEqual([
      ['/auth', 'Prefix', s.auth.workload, s.auth.port],
      ['/flags', 'Prefix', s.flags.workload, s.flags.port],
      ['/webhooks', 'Prefix', s.flags.workload, s.flags.port],
      ['/targeting', 'Prefix', s.targeting.workload, s.targeting.port],
      ['/evaluate', 'Prefix', s.evaluation.workload, s.evaluation.port],
      ['/ofrep', 'Prefix', s.evaluation.workload, s.evaluation.port],
      ['/analytics', 'Prefix', s.analytics.workload, s.analytics.port],
      ['/console', 'Prefix', c.workload, c.port],
      ['/', 'Exact', c.workload, c.port],
    ]);
  });

  it("sends the console's pages and / to the console, every API prefix the console proxies straight to its service, and nothing else anywhere", () => {
    const routes = routesOf(one<IIngress>(rendered('gitops/manifests/ingress'), 'Ingress', 'togglemaster'));
    for (const path of ['/', '/console', '/console/', '/console/flags/new-checkout/targeting', '/console/assets/index-abc123.js'])
      expect(albBackend(routes, path), path).toBe(consoleWorkload);
    for (const { prefix, upstream } of proxiedPrefixes) {
      for (const path of [prefix, `${prefix}/`, `${prefix}/v1/anything`])
        expect(albBackend(routes, path), path).toBe(names.services[upstream].workload);
    }
    for (const path of ['/metrics', '/healthz', '/readyz', '/docs/auth', '/flagsx', '/consolex', '/anything'])
      expect(albBackend(routes, path), path).toBeUndefined();
    // The check itself: a catch-all Prefix "/" would also take /metrics to the console.
    expect(albBackend([...routes, ['/', 'Prefix', consoleWorkload, 8080]], '/metrics')).toBe(consoleWorkload);
    expect(
      albBackend(
        [
          ['/', 'Prefix', consoleWorkload, 8080],
          ['/flags', 'Prefix', 'flag-service', 8002],
        ],
        '/flags/x',
      ),
    ).toBe('flag-service');
  });
});

describe('scripts', () => {
  const scripts = [
    'gitops/argocd/install.sh',
    ...readdirSync(join(repoRoot, 'scripts'))
      .filter((f) => f.endsWith('.sh'))
      .map((f) => `scripts/${f}`),
  ];

  const shellcheck = hasBinary('shellcheck');
  it.skipIf(!shellcheck)(
    `shellcheck passes on install.sh and scripts/*.sh${shellcheck ? '' : ' (SKIPPED: shellcheck is not installed here; CI installs it)'}`,
    () => {
      const run = spawnSync('shellcheck', ['--external-sources', ...scripts], { cwd: repoRoot, encoding: 'utf8' });
      expect(run.stdout + run.stderr).toBe('');
      expect(run.status).toBe(0);
    },
  );

  it('the scripts are bash with strict mode', () => {
    for (const script of scripts) {
      const text = readFileSync(join(repoRoot, script), 'utf8');
      expect(text.startsWith('#!/usr/bin/env bash\n'), script).toBe(true);
      expect(text, script).toMatch(/^set -euo pipefail$/m);
    }
  });

  it('install.sh pins an exact Argo CD release', () => {
    expect(readFileSync(join(repoRoot, 'gitops/argocd/install.sh'), 'utf8')).toMatch(
      /^ARGOCD_VERSION="\$\{ARGOCD_VERSION:-v\d+\.\d+\.\d+\}"$/m,
    );
  });

  it('gitops-manager.sh knows every workload and application', () => {
    const text = readFileSync(join(repoRoot, 'scripts/gitops-manager.sh'), 'utf8');
    const list = /^WORKLOADS=\(([^)]*)\)$/m.exec(text)?.[1]?.trim().split(/\s+/);
    expect(list?.sort()).toEqual(workloads.map((w) => w.workload).sort());
    expect(text).toContain(`NAMESPACE="${namespace}"`);
    expect(text).toContain(`ARGOCD_NAMESPACE="\${ARGOCD_NAMESPACE:-${argocdNamespace}}"`);
  });
});

interface DockerStage {
  name: string;
  /** Its instructions, continuation lines joined, comments left out. */
  instructions: string[];
}

/** The stages of a Dockerfile, in order (the last one is the image). */
function dockerStages(dockerfile: string): DockerStage[] {
  const instructions = dockerfile
    .replace(/\\\n/g, ' ')
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.trimStart().startsWith('#'));
  const stages: DockerStage[] = [];
  for (const line of instructions) {
    const from = /^FROM\s+\S+(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) stages.push({ name: from[1] ?? String(stages.length), instructions: [] });
    else stages.at(-1)?.instructions.push(line);
  }
  return stages;
}

/**
 * What would make the service images carry or build the console, or the console image miss it: the web console is
 * built (with dev dependencies) only when ROLE=console, in a stage of its own that makes an empty web/dist for any
 * other role; the image takes only web/dist from that stage and its node_modules only from the --omit=dev install.
 */
function consoleBuildProblems(dockerfile: string): string[] {
  const problems: string[] = [];
  const stages = dockerStages(dockerfile);
  const image = stages.at(-1);
  const byName = new Map(stages.map((stage) => [stage.name, stage]));
  const runs = (stage: DockerStage | undefined) => (stage?.instructions ?? []).filter((line) => /^RUN\s/.test(line));
  const onlyForConsole = /if \[ "\$\{ROLE\}" = "console" \]; then [^;]*(?:;[^;]*)*?; fi/g;
  const web = stages.find((stage) => runs(stage).some((line) => line.includes('npm run build:web')));
  if (!web || web === image) return ['no stage of its own runs `npm run build:web`'];
  for (const line of runs(web)) {
    if (/\bnpm\b/.test(line.replace(onlyForConsole, '')))
      problems.push(`stage ${web.name}: npm runs for every role, not only ROLE=console: ${line}`);
  }
  if (!runs(web).some((line) => /mkdir -p web\/dist/.test(line.replace(onlyForConsole, ''))))
    problems.push(`stage ${web.name}: makes no web/dist for the other roles`);
  if (!runs(web).some((line) => /npm ci(?! [^;&]*--omit=dev)/.test(line)))
    problems.push(`stage ${web.name}: builds without the dev dependencies (npm ci)`);
  for (const line of runs(image)) if (/\bnpm\b/.test(line)) problems.push(`the image runs npm itself: ${line}`);
  for (const line of image?.instructions.filter((l) => /^COPY\s+--from=/.test(l)) ?? []) {
    const [, from = '', source = ''] = /^COPY\s+--from=(\S+)\s+(\S+)/.exec(line) ?? [];
    const stage = byName.get(from);
    if (source === '/app/node_modules') {
      if (!runs(stage).some((run) => /npm ci --omit=dev/.test(run)))
        problems.push(`the image takes node_modules from stage ${from}, which does not install with --omit=dev`);
    } else if (stage === web) {
      if (source !== '/app/web/dist')
        problems.push(`the image takes ${source} from the console build stage (only /app/web/dist may leave it)`);
    }
  }
  if (!image?.instructions.some((line) => new RegExp(`^COPY\\s+--from=${web.name}\\s+/app/web/dist\\s`).test(line)))
    problems.push('the image does not take web/dist from the console build stage');
  return problems;
}

describe('image', () => {
  const dockerfile = readFileSync(join(repoRoot, 'Dockerfile'), 'utf8');
  const instructions = dockerfile.split('\n').filter((line) => line.trim() !== '' && !line.trimStart().startsWith('#'));

  it('builds from Node 24 pinned by digest, with production dependencies only in the image', () => {
    const froms = instructions.filter((line) => /^FROM\s/i.test(line));
    expect(froms.length).toBeGreaterThanOrEqual(2);
    const args = new Map<string, string>();
    for (const line of instructions) {
      const arg = /^ARG\s+(\w+)=(\S+)/.exec(line);
      if (arg) args.set(arg[1]!, arg[2]!);
    }
    for (const from of froms) {
      const reference = from.split(/\s+/)[1]!;
      const image = reference.replace(/^\$\{?(\w+)\}?$/, (_match, name: string) => args.get(name) ?? reference);
      expect(image, from).toMatch(/^node:24\.\d+\.\d+[-\w.]*@sha256:[0-9a-f]{64}$/);
    }
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).not.toMatch(/^\s*HEALTHCHECK/im);
  });

  it('runs as a non-root user and takes its role from the ROLE build argument', () => {
    expect(instructions.some((line) => /^ARG ROLE\b/.test(line))).toBe(true);
    const users = instructions.filter((line) => /^USER\s/.test(line));
    expect(users.at(-1)).toMatch(/^USER\s+(node|[1-9]\d*)(:\d+)?$/);
    // The image runs the roles' bundle (docs/adr/0014-bundled-roles.md), built in a stage of its own and copied in.
    expect(dockerfile).toMatch(/^RUN npm run build:roles\b/m);
    expect(dockerfile).toMatch(/^COPY --from=build[^\n]*dist\/server/m);
    expect(instructions.find((line) => line.startsWith('ENTRYPOINT'))).toContain('exec node dist/server/main.js');
    for (const folder of ['handlers/', 'shared/', 'package.json'])
      expect(dockerfile, folder).toMatch(new RegExp(`COPY[^\\n]*${folder.replace('.', '\\.')}`));
  });

  it('builds the web console into the console image only: other roles neither build nor carry it', () => {
    expect(consoleBuildProblems(dockerfile)).toEqual([]);
    const broken = (from: string | RegExp, to: string) => {
      const text = dockerfile.replace(from, to);
      expect(text, `the mutation ${String(from)} must change the Dockerfile`).not.toBe(dockerfile);
      return consoleBuildProblems(text).join('\n');
    };
    expect(broken(/if \[ "\$\{ROLE\}" = "console" \]; then (npm run build:web[^;]*); fi/, '$1')).toMatch(/npm runs for every role/);
    expect(broken(/if \[ "\$\{ROLE\}" = "console" \]; then (npm ci[^;]*); fi/, '$1')).toMatch(/npm runs for every role/);
    expect(broken('mkdir -p web/dist && ', '')).toMatch(/makes no web\/dist/);
    expect(broken('COPY --from=web /app/web/dist ./web/dist/', 'COPY --from=web /app/node_modules ./node_modules')).toMatch(
      /does not install with --omit=dev|does not take web\/dist/,
    );
    expect(broken('COPY --from=web /app/web/dist ./web/dist/', 'COPY --from=web /app ./')).toMatch(/only \/app\/web\/dist may leave it/);
  });

  it('the console image serves web/dist where the console server looks for it', () => {
    expect(relative(repoRoot, defaultDistDir)).toBe('web/dist');
    expect(dockerfile).toMatch(/^WORKDIR \/app$/m);
    expect(dockerfile).toMatch(/^COPY --from=\S+ \/app\/web\/dist \.\/web\/dist\/$/m);
  });

  it('.dockerignore keeps tests, local state, secrets and a local web/dist out of the build context', () => {
    const ignore = readFileSync(join(repoRoot, '.dockerignore'), 'utf8');
    for (const pattern of ['**/*.test.ts', '.git', 'node_modules', '.env', 'web/dist/']) expect(ignore, pattern).toContain(pattern);
    // The console stage's sources, and the root tsconfig.json that web/'s projects extend, are in the context.
    for (const pattern of ['!web/', '!tsconfig.json']) expect(ignore.split('\n'), pattern).toContain(pattern);
  });
});
