// postinstall: build the web console so `npm install && npm start` serves it. Where the console's sources or build
// tools are absent (the production images install the runtime dependencies only), there is nothing to build.
import { execSync } from 'node:child_process';
import { existsSync } from 'node:fs';

if (existsSync('web/package.json') && existsSync('node_modules/vite/package.json')) {
  execSync('npm run build:web', { stdio: 'inherit' });
} else {
  console.log('console not built here (no web/ or no build tools); run `npm run build:web` where it is needed');
}
