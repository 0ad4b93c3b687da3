/**
 * The DynamoDB stand-in of SERVICES.md (`dynalite`, in memory) in a process of its own. Prints one JSON line
 * ({ endpoint }) when ready and stops on SIGTERM. The table is created by the benchmark, as
 * shared/dynamo/analytics-table.ts does.
 */
import type { AddressInfo } from 'node:net';
import dynalite from 'dynalite';

// createTableMs 0: with dynalite's default, a write right after CreateTable fails.
const server = dynalite({ createTableMs: 0 });
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as AddressInfo;
process.stdout.write(`${JSON.stringify({ endpoint: `http://127.0.0.1:${port}` })}\n`);
process.once('SIGTERM', () => server.close(() => process.exit(0)));
