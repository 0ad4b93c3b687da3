import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const script = fileURLToPath(new URL('./check-node.js', import.meta.url));

/** Runs the check as npm would, under this Node, judging the version it is told to pretend to be. */
async function check(pretend?: string): Promise<{ code: number; stderr: string }> {
  const env = { ...process.env, TOGGLEMASTER_PRETEND_NODE_VERSION: pretend ?? '' };
  try {
    const { stderr } = await promisify(execFile)(process.execPath, [script], { env });
    return { code: 0, stderr };
  } catch (error) {
    const failed = error as { code: number; stderr: string };
    return { code: failed.code, stderr: failed.stderr };
  }
}

describe('the Node.js version check before npm install and npm start', () => {
  it('stops an older Node with a sentence saying which version is needed and which one is there', async () => {
    for (const old of ['v20.20.2', 'v22.18.0']) {
      const { code, stderr } = await check(old);
      expect(code).toBe(1);
      expect(stderr).toContain(`ToggleMaster needs Node.js 24 or newer (you have ${old})`);
    }
  });

  it('lets Node 24 and newer through without a word', async () => {
    for (const version of [undefined, 'v24.0.0', 'v25.1.0']) expect(await check(version)).toEqual({ code: 0, stderr: '' });
  });
});
