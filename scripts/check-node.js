/* global process, console, URL */
// Runs before `npm install`, `npm start` and the other npm scripts that load TypeScript: on an older Node they crash
// with ERR_UNKNOWN_FILE_EXTENSION ".ts", which does not say what is wrong. So this file is plain JavaScript, in
// syntax any Node that runs npm understands, and it says it.
import { readFileSync } from 'node:fs';

const engines = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).engines || {};
const required = Number((/(\d+)/.exec(engines.node || '') || [])[1] || 24);
// The version to judge; the override lets a test check an old version without installing an old Node.
const version = process.env.TOGGLEMASTER_PRETEND_NODE_VERSION || process.version;
const major = Number((/^v?(\d+)/.exec(version) || [])[1]);

if (!(major >= required)) {
  console.error(
    `\nToggleMaster needs Node.js ${required} or newer (you have ${version}).\n` +
      `Install Node.js ${required} (https://nodejs.org/en/download, or \`nvm install ${required}\`), then run the command again.\n`,
  );
  process.exit(1);
}
