/**
 * The baseline: a bare fastify server (the product's fastify, no plugins, no logging, no hooks) answering a small JSON
 * object, run in its own process like the services. What it serves is the practical limit of one Node process on
 * this machine for a request of that shape.
 *
 *   GET  /baseline    → {"key":"bench-flag-0","value":"treatment","variant":"treatment","reason":"SPLIT"}
 *   POST /baseline    → the same, after parsing a JSON body (the shape of a one-flag evaluation request)
 */
import Fastify from 'fastify';

const answer = { key: 'bench-flag-0', value: 'treatment', variant: 'treatment', reason: 'SPLIT' };
const app = Fastify({ logger: false });
app.get('/baseline', async () => answer);
app.post('/baseline', async () => answer);
app.get('/readyz', async () => ({ status: 'ok' }));
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT ?? '0') });
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
