import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const root = fileURLToPath(new URL('.', import.meta.url));

// The console is served under /console/ by handlers/console/console-app.ts, which also proxies the API prefixes;
// `npm run dev --workspace web` does the same against a running all-in-one process (PORT_OFFSET as it was started).
const offset = Number(process.env.PORT_OFFSET ?? 0);
const service = (port: number) => `http://127.0.0.1:${port + offset}`;

export default defineConfig({
  root,
  base: '/console/',
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    // No inline scripts or styles: the server's Content-Security-Policy allows files from this origin only.
    assetsInlineLimit: 0,
  },
  server: {
    proxy: {
      '/auth': service(8001),
      '/flags': service(8002),
      '/webhooks': service(8002),
      '/targeting': service(8003),
      '/evaluate': service(8004),
      '/ofrep': service(8004),
      '/analytics': service(8005),
    },
  },
});
