// Static checks of the Terraform in infra/ (root stack) and infra/bootstrap/ (state backend).
// No terraform or tflint binary runs here: the files are parsed with @cdktn/hcl2json (the HCL
// parser of Terraform compiled to WebAssembly) and the checks below work on the JSON form.
// The real `terraform validate`, tflint and trivy run in .github/workflows/infra.yml.
import { describe, it, expect } from 'vitest';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

type Obj = Record<string, unknown>;

// @cdktn/hcl2json ships declarations that carry `/// <reference lib="dom" />`; a static import
// would add browser globals to the type-check of the whole repository (tsconfig lib: es2024).
// A non-literal specifier keeps its declarations out of the program; this is the API we use.
type HclParse = (filename: string, contents: string) => Promise<unknown>;
const hcl2jsonModule: string = '@cdktn/hcl2json';
const { parse: parseHcl } = (await import(hcl2jsonModule)) as { parse: HclParse };

/** Parses HCL (a .tf, .tfvars or .hcl file) into the JSON form Terraform itself uses. */
async function parse(filename: string, contents: string): Promise<Obj> {
  const json = await parseHcl(filename, contents);
  return isObj(json) ? json : {};
}

const infraDir = dirname(fileURLToPath(import.meta.url));
const repoRoot = join(infraDir, '..');
const names = JSON.parse(readFileSync(join(repoRoot, 'shared/contracts/platform-names.json'), 'utf8')) as PlatformNames;

interface PlatformNames {
  project: string;
  namespace: string;
  services: Record<string, { serviceAccount: string; ecrRepository: string; database?: string }>;
  workers: Record<string, { serviceAccount: string }>;
  frontends: Record<string, { serviceAccount: string; ecrRepository: string }>;
  queues: { evaluationEvents: string; evaluationEventsDeadLetter: string };
  dynamodb: {
    analyticsTable: string;
    partitionKey: string;
    sortKey: string;
    ttlAttribute: string;
    globalSecondaryIndexes: { name: string; partitionKey: string; sortKey: string }[];
  };
  secrets: Record<string, string>;
  keda: { namespace: string; operatorServiceAccount: string };
}

// ---------------------------------------------------------------------------------------------
// Loading
// ---------------------------------------------------------------------------------------------

function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** hcl2json represents every block as a list of bodies; take the first (and only) one. */
function body(value: unknown): Obj {
  if (Array.isArray(value)) return body(value[0]);
  return isObj(value) ? value : {};
}

function allStrings(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'string') out.push(value);
  else if (Array.isArray(value)) for (const item of value) allStrings(item, out);
  else if (isObj(value)) for (const item of Object.values(value)) allStrings(item, out);
  return out;
}

interface TfFile {
  path: string; // relative to the repository root
  text: string;
  json: Obj | undefined;
  error: string | undefined;
}

interface TfModule {
  dir: string;
  files: TfFile[];
  variables: Map<string, Obj>;
  locals: Map<string, unknown>;
  modules: Map<string, Obj>;
  resources: Map<string, Map<string, Obj>>; // type -> name -> body
  dataSources: Map<string, Map<string, Obj>>;
  outputs: Map<string, Obj>;
  terraform: Obj[];
}

async function loadFile(absPath: string): Promise<TfFile> {
  const text = readFileSync(absPath, 'utf8');
  const path = relative(repoRoot, absPath);
  try {
    return { path, text, json: await parse(path, text), error: undefined };
  } catch (error) {
    return { path, text, json: undefined, error: String(error) };
  }
}

function buildModule(dir: string, files: TfFile[]): TfModule {
  const model: TfModule = {
    dir,
    files,
    variables: new Map(),
    locals: new Map(),
    modules: new Map(),
    resources: new Map(),
    dataSources: new Map(),
    outputs: new Map(),
    terraform: [],
  };
  const addTyped = (target: Map<string, Map<string, Obj>>, section: unknown): void => {
    if (!isObj(section)) return;
    for (const [type, byName] of Object.entries(section)) {
      if (!isObj(byName)) continue;
      const map = target.get(type) ?? new Map<string, Obj>();
      for (const [name, block] of Object.entries(byName)) map.set(name, body(block));
      target.set(type, map);
    }
  };
  for (const file of files) {
    const json = file.json ?? {};
    for (const [name, block] of Object.entries(isObj(json.variable) ? json.variable : {})) model.variables.set(name, body(block));
    for (const [name, block] of Object.entries(isObj(json.module) ? json.module : {})) model.modules.set(name, body(block));
    for (const [name, block] of Object.entries(isObj(json.output) ? json.output : {})) model.outputs.set(name, body(block));
    for (const block of Array.isArray(json.locals) ? json.locals : []) {
      for (const [name, value] of Object.entries(body(block))) model.locals.set(name, value);
    }
    for (const block of Array.isArray(json.terraform) ? json.terraform : []) model.terraform.push(body(block));
    addTyped(model.resources, json.resource);
    addTyped(model.dataSources, json.data);
  }
  return model;
}

function tfFilesIn(dir: string): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.tf') && statSync(join(dir, name)).isFile())
    .sort()
    .map((name) => join(dir, name));
}

function filesUnder(dir: string, keep: (name: string) => boolean): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === '.terraform' || name === 'node_modules') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...filesUnder(path, keep));
    else if (keep(name)) out.push(path);
  }
  return out.sort();
}

const moduleDirs = { root: infraDir, bootstrap: join(infraDir, 'bootstrap') } as const;
type ModuleKey = keyof typeof moduleDirs;

const loaded: Record<ModuleKey, TfModule> = {
  root: buildModule(moduleDirs.root, await Promise.all(tfFilesIn(moduleDirs.root).map(loadFile))),
  bootstrap: buildModule(moduleDirs.bootstrap, await Promise.all(tfFilesIn(moduleDirs.bootstrap).map(loadFile))),
};
const root = loaded.root;
const bootstrap = loaded.bootstrap;
const allTfFiles = [...root.files, ...bootstrap.files];

/** Every file of infra/ a person could paste a secret into (sources, examples, lint config). */
const allInfraTextFiles = filesUnder(infraDir, (name) => /\.(tf|tfvars|hcl|example)$/.test(name) || name === '.tflint.hcl');

// ---------------------------------------------------------------------------------------------
// Checks (pure functions returning a list of problems, so the checker itself can be tested)
// ---------------------------------------------------------------------------------------------

/** Terraform expressions as hcl2json writes them: strings holding "${...}". */
function expressions(model: TfModule): { file: string; text: string }[] {
  const out: { file: string; text: string }[] = [];
  for (const file of model.files) {
    for (const text of allStrings(file.json)) if (text.includes('${')) out.push({ file: file.path, text });
  }
  return out;
}

const RE = {
  variable: /(?<![\w.])var\.([A-Za-z_][\w-]*)/g,
  local: /(?<![\w.])local\.([A-Za-z_][\w-]*)/g,
  module: /(?<![\w.])module\.([A-Za-z_][\w-]*)/g,
  data: /(?<![\w.])data\.([A-Za-z_][\w-]*)\.([A-Za-z_][\w-]*)/g,
  resource: /(?<![\w.])((?:aws|helm|random|tls|kubernetes)_[a-z0-9_]+)\.([A-Za-z_][\w-]*)/g,
};

function undeclaredReferences(model: TfModule): string[] {
  const problems: string[] = [];
  for (const { file, text } of expressions(model)) {
    for (const [, name = ''] of text.matchAll(RE.variable)) {
      if (!model.variables.has(name)) problems.push(`${file}: var.${name} is not declared`);
    }
    for (const [, name = ''] of text.matchAll(RE.local)) {
      if (!model.locals.has(name)) problems.push(`${file}: local.${name} is not defined`);
    }
    for (const [, name = ''] of text.matchAll(RE.module)) {
      if (!model.modules.has(name)) problems.push(`${file}: module.${name} is not declared`);
    }
    for (const [, type = '', name = ''] of text.matchAll(RE.data)) {
      if (!model.dataSources.get(type)?.has(name)) problems.push(`${file}: data.${type}.${name} is not declared`);
    }
    for (const [, type = '', name = ''] of text.matchAll(RE.resource)) {
      if (!model.resources.get(type)?.has(name)) problems.push(`${file}: ${type}.${name} is not declared`);
    }
  }
  return [...new Set(problems)];
}

function unusedDeclarations(model: TfModule): string[] {
  const used = { variable: new Set<string>(), local: new Set<string>(), data: new Set<string>() };
  for (const { text } of expressions(model)) {
    for (const [, name = ''] of text.matchAll(RE.variable)) used.variable.add(name);
    for (const [, name = ''] of text.matchAll(RE.local)) used.local.add(name);
    for (const [, type = '', name = ''] of text.matchAll(RE.data)) used.data.add(`${type}.${name}`);
  }
  return [
    ...[...model.variables.keys()].filter((name) => !used.variable.has(name)).map((name) => `variable "${name}" is never used`),
    ...[...model.locals.keys()].filter((name) => !used.local.has(name)).map((name) => `local.${name} is never used`),
    ...[...model.dataSources].flatMap(([type, byName]) =>
      [...byName.keys()].filter((name) => !used.data.has(`${type}.${name}`)).map((name) => `data.${type}.${name} is never used`),
    ),
  ];
}

function unpinnedRegistryModules(model: TfModule): string[] {
  const problems: string[] = [];
  for (const [name, block] of model.modules) {
    const source = typeof block.source === 'string' ? block.source : '';
    if (source.startsWith('./') || source.startsWith('../')) continue;
    const version = block.version;
    if (typeof version !== 'string' || !/^\d+\.\d+\.\d+$/.test(version)) {
      problems.push(`module.${name} (${source}) must pin an exact version, has ${JSON.stringify(version)}`);
    }
  }
  return problems;
}

function unpinnedTerraform(model: TfModule): string[] {
  const problems: string[] = [];
  const requiredVersion = model.terraform.map((block) => block.required_version).find((value) => typeof value === 'string');
  if (requiredVersion === undefined) problems.push(`${model.dir}: terraform.required_version is missing`);
  const providers = model.terraform
    .flatMap((block): unknown[] => (Array.isArray(block.required_providers) ? (block.required_providers as unknown[]) : []))
    .map(body);
  if (providers.length === 0) problems.push(`${model.dir}: required_providers is missing`);
  for (const block of providers) {
    for (const [name, spec] of Object.entries(block)) {
      const version = isObj(spec) ? spec.version : undefined;
      if (typeof version !== 'string' || !/^(~>\s*)?\d+\.\d+(\.\d+)?$/.test(version)) {
        problems.push(`provider ${name} must be pinned with an exact or ~> version, has ${JSON.stringify(version)}`);
      }
    }
  }
  return problems;
}

const SECRET_KEY = /(^|_)(password|passwd|secret_string|auth_token|access_key|secret_key|private_key|token)$/i;

function secretLiterals(files: { path: string; text: string; json?: Obj | undefined }[]): string[] {
  const problems: string[] = [];
  const walk = (value: unknown, path: string, where: string): void => {
    if (Array.isArray(value)) value.forEach((item, index) => walk(item, `${path}[${index}]`, where));
    else if (isObj(value)) {
      for (const [key, item] of Object.entries(value)) {
        if (SECRET_KEY.test(key) && typeof item === 'string' && item !== '' && !item.startsWith('${')) {
          problems.push(`${where}: ${path}.${key} is a literal secret`);
        }
        walk(item, `${path}.${key}`, where);
      }
    }
  };
  for (const file of files) {
    if (file.json) walk(file.json, '', file.path);
    if (/AKIA[0-9A-Z]{16}/.test(file.text)) problems.push(`${file.path}: contains an AWS access key id`);
    if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(file.text)) problems.push(`${file.path}: contains a private key`);
    for (const line of file.text.split('\n')) {
      if (/^\s*#/.test(line)) continue;
      if (/\b(password|auth_token|secret_string)\s*=\s*"[^"$]+"/i.test(line)) problems.push(`${file.path}: literal secret: ${line.trim()}`);
    }
  }
  return problems;
}

/** The ECR repository of every image: each service's and each front end's (workers run their service's image). */
function imageRepositories(): string[] {
  return [...Object.values(names.services), ...Object.values(names.frontends)].map((image) => image.ecrRepository);
}

/** Names that must only come from platform-names.json (never typed into a .tf file). */
function literalContractNames(files: TfFile[]): string[] {
  const forbidden = [
    names.dynamodb.analyticsTable,
    names.queues.evaluationEvents,
    names.queues.evaluationEventsDeadLetter,
    ...imageRepositories(),
    ...Object.values(names.secrets),
  ];
  const problems: string[] = [];
  for (const file of files) {
    for (const literal of forbidden) if (file.text.includes(literal)) problems.push(`${file.path}: contains "${literal}"`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------
// Helpers for the resource checks
// ---------------------------------------------------------------------------------------------

function modulesBySource(model: TfModule, source: string): [string, Obj][] {
  return [...model.modules].filter(([, block]) => block.source === source);
}

function onlyModule(model: TfModule, source: string): Obj {
  const found = modulesBySource(model, source);
  expect(
    found.map(([name]) => name),
    `exactly one module from ${source}`,
  ).toHaveLength(1);
  return found[0]?.[1] ?? {};
}

/** A literal, or the default of the variable when the value is exactly "${var.name}". */
function resolve(model: TfModule, value: unknown): unknown {
  if (typeof value === 'string') {
    const match = /^\$\{var\.([\w-]+)\}$/.exec(value);
    if (match?.[1] !== undefined) return model.variables.get(match[1])?.default;
  }
  if (Array.isArray(value)) return value.map((item) => resolve(model, item));
  return value;
}

function iamActions(value: unknown): string[] {
  return allStrings(value).filter((text) => /^[a-z0-9-]+:[A-Za-z*]+$/.test(text));
}

function outputKeys(model: TfModule, output: string): string[] {
  const value = model.outputs.get(output)?.value;
  return isObj(value) ? Object.keys(value).sort() : [];
}

const IRSA_SOURCE = 'terraform-aws-modules/iam/aws//modules/iam-role-for-service-accounts';

function irsaSubjects(model: TfModule): Map<string, string[]> {
  const subjects = new Map<string, string[]>();
  for (const [name, block] of modulesBySource(model, IRSA_SOURCE)) {
    subjects.set(
      name,
      allStrings(block.oidc_providers).filter((text) => text.includes(':') && !text.startsWith('${module.')),
    );
  }
  return subjects;
}

function irsaModuleFor(model: TfModule, namespaceRef: string, serviceAccountRef: string): string | undefined {
  const expected = `\${${namespaceRef}}:\${${serviceAccountRef}}`;
  for (const [name, subjects] of irsaSubjects(model)) if (subjects.includes(expected)) return name;
  return undefined;
}

/**
 * Workers that call no AWS API, and so get no IRSA role: the webhook worker reads and writes the flags database
 * (credentials from External Secrets) and sends to the internet, nothing else.
 */
const workersWithoutAws = new Set(['webhook-worker']);

/**
 * The service accounts that get an IRSA role: every service's and every worker's that calls an AWS API: the
 * analytics worker SQS and DynamoDB, the release worker DynamoDB (its guardrail evaluator reads the analytics table).
 * The front ends and the webhook worker call none (checked below).
 */
const workloadKeys = [...Object.keys(names.services), ...Object.keys(names.workers).filter((key) => !workersWithoutAws.has(key))].sort();

function serviceAccountRef(key: string): string {
  if (key in names.services)
    return /^[A-Za-z_]\w*$/.test(key) ? `local.names.services.${key}.serviceAccount` : `local.names.services["${key}"].serviceAccount`;
  return /^[A-Za-z_]\w*$/.test(key) ? `local.names.workers.${key}.serviceAccount` : `local.names.workers["${key}"].serviceAccount`;
}

// ---------------------------------------------------------------------------------------------
// Tests
// ---------------------------------------------------------------------------------------------

describe('Terraform syntax', () => {
  it.each(allTfFiles.map((file) => [file.path, file] as const))('parses %s as HCL', (_path, file) => {
    expect(file.error).toBeUndefined();
  });

  it('finds the root and bootstrap modules with their .tf files', () => {
    expect(root.files.length).toBeGreaterThan(5);
    expect(bootstrap.files.length).toBeGreaterThan(1);
  });
});

describe.each(Object.keys(loaded) as ModuleKey[])('module infra/%s', (key) => {
  const model = loaded[key];

  it('declares every variable, local, module, resource and data source it references', () => {
    expect(undeclaredReferences(model)).toEqual([]);
  });

  it('uses every variable, local and data source it declares', () => {
    expect(unusedDeclarations(model)).toEqual([]);
  });

  it('pins required_version and every provider', () => {
    expect(unpinnedTerraform(model)).toEqual([]);
  });

  it('pins every registry module to an exact version', () => {
    expect(unpinnedRegistryModules(model)).toEqual([]);
  });

  it('reads the names from shared/contracts/platform-names.json', () => {
    const namesLocal = model.locals.get('names');
    expect(namesLocal).toMatch(/^\$\{jsondecode\(file\("\$\{path\.module\}\/(\.\.\/)+shared\/contracts\/platform-names\.json"\)\)\}$/);
  });
});

describe('the reference checker', () => {
  it('reports an undeclared variable, an undefined local and unknown modules, resources and data sources', async () => {
    const file = await loadFile(join(infraDir, 'bootstrap', 'variables.tf'));
    const broken = await parse(
      'broken.tf',
      `
      variable "declared" {}
      locals { known = var.declared }
      resource "aws_s3_bucket" "ok" { bucket = "\${local.known}-\${var.missing}-\${local.unknown}" }
      output "x" { value = [module.nowhere.id, aws_sqs_queue.nowhere.arn, data.aws_caller_identity.nowhere.account_id, aws_s3_bucket.ok.arn] }
      `,
    );
    const model = buildModule('synthetic', [{ path: 'broken.tf', text: '', json: broken, error: undefined }]);
    expect(file.error).toBeUndefined();
    expect(undeclaredReferences(model).sort()).toEqual([
      'broken.tf: aws_sqs_queue.nowhere is not declared',
      'broken.tf: data.aws_caller_identity.nowhere is not declared',
      'broken.tf: local.unknown is not defined',
      'broken.tf: module.nowhere is not declared',
      'broken.tf: var.missing is not declared',
    ]);
  });

  it('reports unpinned modules and providers and literal secrets', async () => {
    const text = `
      terraform {
        required_providers {
          aws = { source = "hashicorp/aws" }
        }
      }
      module "vpc" { source = "terraform-aws-modules/vpc/aws" }
      resource "aws_db_instance" "db" { password = "hunter2hunter2" }
    `;
    const json = await parse('broken.tf', text);
    const model = buildModule('synthetic', [{ path: 'broken.tf', text, json, error: undefined }]);
    expect(unpinnedRegistryModules(model)).toHaveLength(1);
    expect(unpinnedTerraform(model)).toHaveLength(2);
    expect(secretLiterals([{ path: 'broken.tf', text, json }]).length).toBeGreaterThan(0);
    expect(secretLiterals([{ path: 'k.tf', text: `# ${'AKIA'}ABCDEFGHIJKLMNOP\n` }])).toEqual(['k.tf: contains an AWS access key id']);
  });
});

describe('platform-names.json contract used by Terraform', () => {
  it('names the analytics table keys, its index and its TTL attribute', () => {
    expect(names.dynamodb).toMatchObject({ partitionKey: 'pk', sortKey: 'sk', ttlAttribute: 'expiresAt' });
    expect(names.dynamodb.globalSecondaryIndexes).toEqual([{ name: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' }]);
  });

  it('has three services that own a database and six images: the five services and the console', () => {
    expect(Object.values(names.services).filter((service) => service.database !== undefined)).toHaveLength(3);
    expect(new Set(imageRepositories()).size).toBe(6);
    expect(names.frontends.console?.ecrRepository).toBe(`${names.project}/console`);
  });

  it('never appears as a literal table, queue, repository or secret name in a .tf file', () => {
    expect(literalContractNames(allTfFiles)).toEqual([]);
  });

  it('derives databases from the services map, and repositories from the services and front ends', () => {
    expect(root.locals.get('databases')).toMatch(/local\.names\.services.*\.database/);
    expect(root.locals.get('ecr_repositories')).toMatch(/merge\(local\.names\.services, local\.names\.frontends\).*\.ecrRepository/);
    expect(root.locals.get('app_secrets')).toBe('${local.names.secrets}');
  });
});

describe('network', () => {
  it('builds a 10.0.0.0/16 VPC with two public and two private subnets, an internet gateway and NAT', () => {
    const vpc = onlyModule(root, 'terraform-aws-modules/vpc/aws');
    expect(resolve(root, vpc.cidr)).toBe('10.0.0.0/16');
    expect(resolve(root, vpc.public_subnets)).toHaveLength(2);
    expect(resolve(root, vpc.private_subnets)).toHaveLength(2);
    expect(vpc.azs).toMatch(/slice\(.*, 0, 2\)/);
    expect(vpc.enable_nat_gateway).toBe(true);
    expect(vpc.create_igw).toBe(true);
  });

  it('lets the nodes out to the internet: the webhook worker sends deliveries to any public address on 80 and 443', () => {
    // The private subnets route to the NAT gateway (above); the EKS module's node security group allows all egress
    // through its recommended rules, which stay on. The worker's NetworkPolicy narrows it to 80/443, public only.
    const eks = onlyModule(root, 'terraform-aws-modules/eks/aws');
    expect(eks.node_security_group_enable_recommended_rules ?? true).toBe(true);
    expect(eks.create_node_security_group ?? true).toBe(true);
    expect(eks).not.toHaveProperty('node_security_group_id');
    // Receivers that allowlist senders need the NAT gateways' addresses.
    expect(root.outputs.get('nat_public_ips')?.value).toBe('${module.vpc.nat_public_ips}');
  });
});

describe('EKS', () => {
  const eks = onlyModule(root, 'terraform-aws-modules/eks/aws');

  it('has a managed node group of t3.medium, min 1, max 4, desired 2', () => {
    const groups = Object.values(isObj(eks.eks_managed_node_groups) ? eks.eks_managed_node_groups : {}).map(body);
    expect(groups).toHaveLength(1);
    const group = groups[0] ?? {};
    expect(resolve(root, group.instance_types)).toEqual(['t3.medium']);
    expect(resolve(root, group.min_size)).toBe(1);
    expect(resolve(root, group.max_size)).toBe(4);
    expect(resolve(root, group.desired_size)).toBe(2);
  });

  it('creates the OIDC provider for IRSA and installs the core add-ons', () => {
    expect(eks.enable_irsa).toBe(true);
    expect(Object.keys(isObj(eks.addons) ? eks.addons : {})).toEqual(expect.arrayContaining(['coredns', 'kube-proxy', 'vpc-cni']));
    expect(resolve(root, eks.kubernetes_version)).toMatch(/^1\.\d+$/);
  });

  it('runs in the private subnets and restricts the public endpoint to given CIDRs', () => {
    expect(eks.subnet_ids).toBe('${module.vpc.private_subnets}');
    expect(eks.endpoint_public_access_cidrs).toBe('${var.cluster_endpoint_public_access_cidrs}');
    expect(root.variables.get('cluster_endpoint_public_access_cidrs')?.default).toBeUndefined();
  });
});

describe('PostgreSQL (RDS)', () => {
  const rds = onlyModule(root, 'terraform-aws-modules/rds/aws');

  it('creates one instance per database owner (auth, flags, targeting)', () => {
    expect(rds.for_each).toBe('${local.databases}');
    expect(rds.engine).toBe('postgres');
  });

  it('keeps the master password in Secrets Manager, encrypts, stays private and keeps backups', () => {
    expect(rds.manage_master_user_password).toBe(true);
    expect(rds.storage_encrypted).toBe(true);
    expect(rds.publicly_accessible).toBe(false);
    expect(rds.subnet_ids).toBe('${module.vpc.private_subnets}');
    expect(resolve(root, rds.backup_retention_period)).toBeGreaterThan(0);
    expect(rds).not.toHaveProperty('password');
  });

  it('makes deletion protection and the final snapshot configurable, protected by default', () => {
    expect(rds.deletion_protection).toBe('${var.deletion_protection}');
    expect(resolve(root, rds.deletion_protection)).toBe(true);
    expect(resolve(root, rds.skip_final_snapshot)).toBe(false);
  });
});

describe('Redis (ElastiCache)', () => {
  const redis = onlyModule(root, 'terraform-aws-modules/elasticache/aws');

  it('encrypts in transit and at rest and authenticates with a generated token', () => {
    expect(redis.transit_encryption_enabled).toBe(true);
    expect(redis.at_rest_encryption_enabled).toBe(true);
    expect(redis.auth_token).toMatch(/^\$\{random_password\.\w+\.result\}$/);
    expect(root.resources.get('random_password')?.size).toBeGreaterThan(0);
    expect(redis.subnet_ids).toBe('${module.vpc.private_subnets}');
  });

  it('stores the token in Secrets Manager', () => {
    const versions = [...(root.resources.get('aws_secretsmanager_secret_version')?.values() ?? [])];
    expect(versions.some((version) => JSON.stringify(version).includes('random_password.'))).toBe(true);
  });
});

describe('DynamoDB', () => {
  const table = onlyModule(root, 'terraform-aws-modules/dynamodb-table/aws');

  it('creates the analytics table on demand with TTL and point-in-time recovery', () => {
    expect(table.name).toMatch(/^\$\{local\.(names\.dynamodb|analytics_table)\.analyticsTable\}$/);
    expect(table.billing_mode).toBe('PAY_PER_REQUEST');
    expect(table.ttl_enabled).toBe(true);
    expect(table.ttl_attribute_name).toMatch(/\.ttlAttribute\}$/);
    expect(table.point_in_time_recovery_enabled).toBe(true);
    expect(table.server_side_encryption_enabled).toBe(true);
  });

  it('takes the keys and the global secondary index from platform-names.json with projection ALL', () => {
    expect(table.hash_key).toMatch(/\.partitionKey\}$/);
    expect(table.range_key).toMatch(/\.sortKey\}$/);
    const indexes = JSON.stringify(table.global_secondary_indexes);
    expect(indexes).toContain('globalSecondaryIndexes');
    expect(indexes).toContain('projection_type = \\"ALL\\"');
  });
});

describe('SQS', () => {
  const sqs = onlyModule(root, 'terraform-aws-modules/sqs/aws');

  it('creates the evaluation-events queue with a dead-letter queue after 5 receives', () => {
    expect(sqs.name).toBe('${local.names.queues.evaluationEvents}');
    expect(sqs.create_dlq).toBe(true);
    expect(sqs.dlq_name).toBe('${local.names.queues.evaluationEventsDeadLetter}');
    expect(sqs.redrive_policy).toEqual({ maxReceiveCount: 5 });
  });

  it('encrypts both queues server-side', () => {
    expect(sqs.sqs_managed_sse_enabled).toBe(true);
    expect(sqs.dlq_sqs_managed_sse_enabled).toBe(true);
  });
});

describe('ECR', () => {
  const ecr = onlyModule(root, 'terraform-aws-modules/ecr/aws');

  it('creates one repository per service with scan on push, immutable tags and a lifecycle policy', () => {
    expect(ecr.for_each).toBe('${local.ecr_repositories}');
    expect(ecr.repository_image_scan_on_push).toBe(true);
    expect(ecr.repository_image_tag_mutability).toBe('IMMUTABLE');
    expect(ecr.create_lifecycle_policy).toBe(true);
    expect(ecr.repository_lifecycle_policy).toMatch(/jsonencode\(/);
  });
});

describe('IAM least privilege', () => {
  it.each(workloadKeys)('gives service account %s its own IRSA role trusted for <namespace>:<serviceAccount>', (key) => {
    expect(irsaModuleFor(root, 'local.names.namespace', serviceAccountRef(key))).toBeDefined();
  });

  it('gives the KEDA operator an IRSA role limited to sqs:GetQueueAttributes on the queue', () => {
    const name = irsaModuleFor(root, 'local.names.keda.namespace', 'local.names.keda.operatorServiceAccount');
    expect(name).toBeDefined();
    const block = root.modules.get(name ?? '') ?? {};
    expect(iamActions(block.permissions)).toEqual(['sqs:GetQueueAttributes']);
    expect(JSON.stringify(block.permissions)).toContain('module.sqs_evaluation_events.queue_arn');
  });

  it('gives IRSA roles to External Secrets and the AWS Load Balancer Controller', () => {
    expect(irsaModuleFor(root, 'local.addons.externalSecrets.namespace', 'local.addons.externalSecrets.serviceAccount')).toBeDefined();
    expect(
      irsaModuleFor(root, 'local.addons.awsLoadBalancerController.namespace', 'local.addons.awsLoadBalancerController.serviceAccount'),
    ).toBeDefined();
    expect(root.locals.get('addons')).toBe('${local.names.addons}');
  });

  it('trusts exactly one service account per IRSA role', () => {
    for (const [name, subjects] of irsaSubjects(root)) expect(subjects, name).toHaveLength(1);
  });

  it('gives the webhook worker no IRSA role: it calls no AWS API', () => {
    const subjects = [...irsaSubjects(root).values()].flat().join('\n');
    for (const key of workersWithoutAws) {
      expect(Object.keys(names.workers)).toContain(key);
      expect(irsaModuleFor(root, 'local.names.namespace', serviceAccountRef(key))).toBeUndefined();
      expect(subjects).not.toContain(key);
      expect(outputKeys(root, 'service_account_role_arns')).not.toContain(key);
    }
  });

  it('gives the front ends no IRSA role: the console calls no AWS API', () => {
    const subjects = [...irsaSubjects(root).values()].flat().join('\n');
    expect(Object.keys(names.frontends).length).toBeGreaterThan(0);
    for (const key of Object.keys(names.frontends)) expect(subjects).not.toContain(`frontends.${key}`);
    expect(subjects).not.toContain('local.names.frontends');
  });

  it('lets evaluation only send to and resolve the queue', () => {
    const block = root.modules.get(irsaModuleFor(root, 'local.names.namespace', serviceAccountRef('evaluation')) ?? '') ?? {};
    expect(iamActions(block.permissions).sort()).toEqual(['sqs:GetQueueUrl', 'sqs:SendMessage']);
    expect(allStrings(block.permissions).filter((text) => text.startsWith('${'))).toEqual(['${module.sqs_evaluation_events.queue_arn}']);
  });

  it('lets analytics only read the table', () => {
    const block = root.modules.get(irsaModuleFor(root, 'local.names.namespace', serviceAccountRef('analytics')) ?? '') ?? {};
    expect(iamActions(block.permissions).sort()).toEqual([
      'dynamodb:BatchGetItem',
      'dynamodb:DescribeTable',
      'dynamodb:GetItem',
      'dynamodb:Query',
    ]);
  });

  it('lets the analytics worker consume the queue and read/write the table, nothing more', () => {
    const block = root.modules.get(irsaModuleFor(root, 'local.names.namespace', serviceAccountRef('analytics-worker')) ?? '') ?? {};
    const allowed = new Set([
      'sqs:ReceiveMessage',
      'sqs:DeleteMessage',
      'sqs:ChangeMessageVisibility',
      'sqs:GetQueueAttributes',
      'dynamodb:GetItem',
      'dynamodb:BatchGetItem',
      'dynamodb:Query',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
      'dynamodb:BatchWriteItem',
      'dynamodb:ConditionCheckItem',
      'dynamodb:DescribeTable',
      'sqs:SendMessage',
    ]);
    const actions = iamActions(block.permissions);
    // SendMessage only to the dead-letter queue, never to the events queue itself.
    expect(allStrings(block.permissions)).toContain('${module.sqs_evaluation_events.dead_letter_queue_arn}');
    expect(actions.filter((action) => !allowed.has(action))).toEqual([]);
    expect(actions).toEqual(
      expect.arrayContaining(['sqs:ReceiveMessage', 'sqs:DeleteMessage', 'sqs:ChangeMessageVisibility', 'dynamodb:PutItem']),
    );
  });

  it('lets the release worker only query and describe the analytics table itself: no index, no write, no secret', () => {
    const block = root.modules.get(irsaModuleFor(root, 'local.names.namespace', serviceAccountRef('release-worker')) ?? '') ?? {};
    expect(iamActions(block.permissions).sort()).toEqual(['dynamodb:DescribeTable', 'dynamodb:Query']);
    expect(allStrings(block.permissions).filter((text) => text.startsWith('${'))).toEqual([
      '${module.dynamodb_analytics.dynamodb_table_arn}',
    ]);
  });

  it.each(['auth', 'flags', 'targeting'])('lets %s read only its own secrets', (key) => {
    const block = root.modules.get(irsaModuleFor(root, 'local.names.namespace', serviceAccountRef(key)) ?? '') ?? {};
    expect(iamActions(block.permissions).sort()).toEqual(['secretsmanager:DescribeSecret', 'secretsmanager:GetSecretValue']);
    const resources = allStrings(block.permissions).filter((text) => text.startsWith('${'));
    expect(resources).toContain(`\${module.rds["${key}"].db_instance_master_user_secret_arn}`);
    for (const other of ['auth', 'flags', 'targeting'].filter((name) => name !== key)) {
      expect(resources).not.toContain(`\${module.rds["${other}"].db_instance_master_user_secret_arn}`);
    }
    expect(resources.some((text) => text.includes('*'))).toBe(false);
  });

  it('uses no wildcard action in any IRSA permission', () => {
    for (const [name, block] of modulesBySource(root, IRSA_SOURCE)) {
      expect(
        iamActions(block.permissions).filter((action) => action.includes('*')),
        name,
      ).toEqual([]);
    }
  });

  it('lets External Secrets read the project secrets and the RDS-managed secrets only', () => {
    const name = irsaModuleFor(root, 'local.addons.externalSecrets.namespace', 'local.addons.externalSecrets.serviceAccount') ?? '';
    const block = root.modules.get(name) ?? {};
    expect(
      iamActions(block.permissions).every((action) => action.startsWith('secretsmanager:') && !action.startsWith('secretsmanager:Put')),
    ).toBe(true);
    const text = JSON.stringify(block.permissions);
    expect(text).toContain('local.project_secrets_arn_pattern');
    expect(text).toContain('db_instance_master_user_secret_arn');
    expect(root.locals.get('project_secrets_arn_pattern')).toMatch(/secret:\$\{local\.project\}\/\*$/);
  });
});

describe('GitHub Actions OIDC role', () => {
  const roles = modulesBySource(root, 'terraform-aws-modules/iam/aws//modules/iam-role');
  const role = roles.find(([, block]) => block.enable_github_oidc === true)?.[1] ?? {};

  it('trusts only the main branch of var.github_repository', () => {
    expect(role.oidc_subjects).toEqual(['repo:${var.github_repository}:ref:refs/heads/main']);
    expect(role).not.toHaveProperty('oidc_wildcard_subjects');
    expect(root.variables.has('github_repository')).toBe(true);
  });

  it('may get an ECR token and push to the repositories of module.ecr (one per image), nothing else', () => {
    const statements = Object.values(isObj(role.inline_policy_permissions) ? role.inline_policy_permissions : {}).map(body);
    const token = statements.filter((statement) => iamActions(statement.actions).includes('ecr:GetAuthorizationToken'));
    expect(token).toHaveLength(1);
    expect(iamActions(token[0]?.actions)).toEqual(['ecr:GetAuthorizationToken']);
    expect(token[0]?.resources).toEqual(['*']);
    const push = statements.filter((statement) => !iamActions(statement.actions).includes('ecr:GetAuthorizationToken'));
    expect(push).toHaveLength(1);
    expect(iamActions(push[0]?.actions).sort()).toEqual([
      'ecr:BatchCheckLayerAvailability',
      'ecr:BatchGetImage',
      'ecr:CompleteLayerUpload',
      'ecr:InitiateLayerUpload',
      'ecr:PutImage',
      'ecr:UploadLayerPart',
    ]);
    expect(push[0]?.resources).toMatch(/^\$\{\[for \w+ in module\.ecr : \w+\.repository_arn\]\}$/);
  });
});

describe('cluster add-ons', () => {
  const releases = root.resources.get('helm_release') ?? new Map<string, Obj>();

  it('installs KEDA, Argo CD, the AWS Load Balancer Controller and External Secrets with pinned charts', () => {
    const charts = [...releases.values()].map((release) => release.chart).sort();
    expect(charts).toEqual(['argo-cd', 'aws-load-balancer-controller', 'external-secrets', 'keda']);
    for (const [name, release] of releases) expect(release.version, name).toMatch(/^\d+\.\d+\.\d+$/);
  });

  it('keeps every add-on in addons.tf', () => {
    const addonsFile = root.files.find((file) => file.path.endsWith('infra/addons.tf'));
    const inAddons = Object.keys(body(isObj(addonsFile?.json?.resource) ? addonsFile.json.resource.helm_release : {}));
    expect(inAddons.sort()).toEqual([...releases.keys()].sort());
  });

  it('takes every add-on namespace from platform-names.json', () => {
    for (const [name, release] of releases) expect(release.namespace, name).toMatch(/^\$\{local\.(names|addons)\./);
  });

  it('annotates the add-on service accounts with their IRSA roles', () => {
    const values = JSON.stringify([...releases.values()].map((release) => release.values));
    expect(values).toContain('module.irsa_aws_load_balancer_controller.arn');
    expect(values).toContain('module.irsa_external_secrets.arn');
    expect(values).toContain('module.irsa_keda_operator.arn');
  });
});

describe('outputs', () => {
  it.each([
    'evaluation_events_queue_url',
    'evaluation_events_queue_arn',
    'evaluation_events_dlq_url',
    'analytics_table_name',
    'ecr_repository_urls',
    'service_account_role_arns',
    'keda_operator_role_arn',
    'external_secrets_role_arn',
    'aws_load_balancer_controller_role_arn',
    'github_actions_role_arn',
    'rds_endpoints',
    'rds_master_user_secret_arns',
    'redis_primary_endpoint',
    'redis_auth_token_secret_arn',
    'cluster_name',
    'cluster_endpoint',
    'nat_public_ips',
  ])('exports %s', (name) => {
    expect(root.outputs.has(name)).toBe(true);
    expect(root.outputs.get(name)?.description).toBeTruthy();
  });

  it('exports a role ARN for every workload of platform-names.json', () => {
    expect(outputKeys(root, 'service_account_role_arns')).toEqual(workloadKeys);
  });
});

describe('state backend', () => {
  it('uses the S3 backend with a partial configuration', () => {
    const backend = root.terraform.map((block) => block.backend).find(isObj);
    expect(Object.keys(backend ?? {})).toEqual(['s3']);
  });

  it('documents an example backend configuration with the S3 native lock file', async () => {
    const text = readFileSync(join(infraDir, 'backend.hcl.example'), 'utf8');
    const json = await parse('backend.hcl', text);
    expect(json).toMatchObject({ use_lockfile: true, encrypt: true });
    expect(Object.keys(json).sort()).toEqual(['bucket', 'encrypt', 'key', 'kms_key_id', 'region', 'use_lockfile']);
  });

  it('bootstraps a versioned, KMS-encrypted, private state bucket', () => {
    const resources = bootstrap.resources;
    expect(resources.get('aws_s3_bucket')?.size).toBe(1);
    const versioning = [...(resources.get('aws_s3_bucket_versioning')?.values() ?? [])][0] ?? {};
    expect(body(versioning.versioning_configuration).status).toBe('Enabled');
    const encryption = JSON.stringify([...(resources.get('aws_s3_bucket_server_side_encryption_configuration')?.values() ?? [])]);
    expect(encryption).toContain('aws:kms');
    const block = [...(resources.get('aws_s3_bucket_public_access_block')?.values() ?? [])][0] ?? {};
    expect(block).toMatchObject({
      block_public_acls: true,
      block_public_policy: true,
      ignore_public_acls: true,
      restrict_public_buckets: true,
    });
    expect(resources.get('aws_kms_key')?.values().next().value).toMatchObject({ enable_key_rotation: true });
  });
});

describe('secrets', () => {
  it('has no secret literal or AWS access key in any infra file', async () => {
    const files = await Promise.all(
      allInfraTextFiles.map(async (path) => {
        const loadedFile = path.endsWith('.tf') ? allTfFiles.find((file) => join(repoRoot, file.path) === path) : await loadFile(path);
        return { path: relative(repoRoot, path), text: readFileSync(path, 'utf8'), json: loadedFile?.json };
      }),
    );
    expect(files.length).toBeGreaterThan(allTfFiles.length);
    expect(secretLiterals(files)).toEqual([]);
  });

  it('declares every variable set in the example tfvars files', async () => {
    for (const [model, example] of [
      [root, join(infraDir, 'terraform.tfvars.example')],
      [bootstrap, join(infraDir, 'bootstrap', 'bootstrap.tfvars.example')],
    ] as const) {
      const json = await parse('example.tfvars', readFileSync(example, 'utf8'));
      expect(
        Object.keys(json).filter((name) => !model.variables.has(name)),
        example,
      ).toEqual([]);
    }
  });
});

describe('infra workflow (.github/workflows/infra.yml)', () => {
  const workflowText = readFileSync(join(repoRoot, '.github/workflows/infra.yml'), 'utf8');
  const workflow = body(parseYaml(workflowText));
  const jobs = Object.values(isObj(workflow.jobs) ? workflow.jobs : {}).map(body);
  const steps = jobs.flatMap((job) => (Array.isArray(job.steps) ? (job.steps as unknown[]) : []).map(body));
  const runs = steps.map((step) => step.run).filter((run): run is string => typeof run === 'string');

  it('runs on changes to infra/ and to platform-names.json, with read-only permissions', () => {
    const on = body(workflow.on);
    for (const trigger of ['pull_request', 'push']) {
      expect(body(on[trigger]).paths).toEqual(expect.arrayContaining(['infra/**', 'shared/contracts/platform-names.json']));
    }
    expect(workflow.permissions).toEqual({ contents: 'read' });
  });

  it('pins every action to a full commit SHA with its version in a comment', () => {
    const uses = workflowText.split('\n').filter((line) => /^\s*(- )?uses:/.test(line));
    expect(uses.length).toBeGreaterThan(0);
    for (const line of uses) expect(line).toMatch(/uses: [\w.-]+\/[\w.-]+@[0-9a-f]{40}\s+# v\d+\.\d+\.\d+$/);
  });

  it('never interpolates github.event into a run script', () => {
    expect(runs.filter((run) => run.includes('${{'))).toEqual([]);
  });

  it('checks formatting, validates both modules, lints and scans for HIGH/CRITICAL misconfigurations', () => {
    expect(runs).toContain('terraform fmt -check -recursive -diff infra');
    expect(runs.filter((run) => run.startsWith('terraform init -backend=false'))).not.toHaveLength(0);
    expect(runs).toContain('terraform validate -no-color');
    expect(JSON.stringify(workflow.jobs)).toContain('infra/bootstrap');
    expect(runs.some((run) => run.startsWith('tflint --recursive'))).toBe(true);
    const trivy = steps.find((step) => typeof step.uses === 'string' && step.uses.startsWith('aquasecurity/trivy-action@'));
    expect(body(trivy?.with)).toMatchObject({ 'scan-type': 'config', severity: 'HIGH,CRITICAL', 'exit-code': '1' });
  });
});
