/**
 * The DynamoDB stand-in of SERVICES.md (`dynalite`, in memory) in a process of its own. Prints one JSON line
 * ({ endpoint }) when ready and stops on SIGTERM. The table is created by the benchmark, as
 * shared/dynamo/analytics-table.ts does.
 *
 * In front of dynalite, a counting proxy keeps a request log of what AWS would bill, per operation: requests, write
 * units and read units. It asks dynalite for them (`ReturnConsumedCapacity: TOTAL`, injected into every request and
 * taken out of the answer when the client did not ask): dynalite computes them as AWS does — the item's size by
 * AWS's rules (attribute names + values), a write ceil(KB) per item put or deleted (the larger of the old and new
 * item, which only the database knows), a Query ceil(4 KB) of everything it read, halved when eventually consistent.
 * What dynalite leaves out, the proxy adds: a write to a global secondary index (every put of an item with a `gsi1pk`
 * writes the index too, projection ALL: the same size again), a Query that read nothing (AWS bills at least one
 * read unit, half when eventually consistent), and a conditional write refused (AWS bills it; dynalite answers an
 * error without units). `GET /__bench/units` answers the log, `POST /__bench/units/reset` empties it.
 */
import { createServer, request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { crc32 } from 'node:zlib';
import dynalite from 'dynalite';
import { itemSize } from 'dynalite/db/index.js';
import platformNames from '../../shared/contracts/platform-names.json' with { type: 'json' };

type Item = Record<string, unknown>;
interface OperationLog {
  requests: number;
  writeUnits: number;
  readUnits: number;
  /** Of writeUnits: the index's share (added by this proxy). */
  indexWriteUnits: number;
}

// createTableMs 0: with dynalite's default, a write right after CreateTable fails.
const database = dynalite({ createTableMs: 0 });
await new Promise<void>((resolve) => database.listen(0, '127.0.0.1', resolve));
const databasePort = (database.address() as AddressInfo).port;

const indexKey = platformNames.dynamodb.globalSecondaryIndexes[0]?.partitionKey ?? 'gsi1pk';
const kb = (item: Item) => Math.max(1, Math.ceil(itemSize(item) / 1024));
let log = new Map<string, OperationLog>();

function account(operation: string, sent: Item, answer: Item, status: number): void {
  const entry = log.get(operation) ?? { requests: 0, writeUnits: 0, readUnits: 0, indexWriteUnits: 0 };
  entry.requests += 1;
  const consumed = answer.ConsumedCapacity as { CapacityUnits?: number } | { CapacityUnits?: number }[] | undefined;
  const units = [consumed ?? []].flat().reduce((n, c) => n + (c.CapacityUnits ?? 0), 0);
  const written: Item[] = [];
  if (operation === 'PutItem') written.push(sent.Item as Item);
  if (operation === 'BatchWriteItem') {
    const unprocessed = new Set(
      Object.values((answer.UnprocessedItems ?? {}) as Record<string, Item[]>)
        .flat()
        .map((r) => JSON.stringify(r)),
    );
    for (const requests of Object.values(sent.RequestItems as Record<string, Item[]>))
      for (const request of requests)
        if (request.PutRequest && !unprocessed.has(JSON.stringify(request))) written.push((request.PutRequest as { Item: Item }).Item);
  }
  const indexUnits = written.filter((item) => item[indexKey] !== undefined).reduce((n, item) => n + kb(item), 0);
  if (status >= 400) {
    // A refused conditional write is billed (at least a unit); other errors (throttling, validation) are not.
    if (typeof answer.__type === 'string' && answer.__type.endsWith('ConditionalCheckFailedException'))
      entry.writeUnits += operation === 'PutItem' ? kb(sent.Item as Item) : 1;
  } else if (operation === 'Query' || operation === 'GetItem' || operation === 'Scan')
    entry.readUnits += Math.max(units, sent.ConsistentRead ? 1 : 0.5);
  else if (operation === 'PutItem' || operation === 'DeleteItem' || operation === 'BatchWriteItem' || operation === 'UpdateItem') {
    entry.writeUnits += units + indexUnits;
    entry.indexWriteUnits += indexUnits;
  }
  log.set(operation, entry);
}

const server = createServer((request, response) => {
  if (request.url === '/__bench/units') {
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify(Object.fromEntries(log)));
    return;
  }
  if (request.url === '/__bench/units/reset') {
    log = new Map();
    response.end('{}');
    return;
  }
  const chunks: Buffer[] = [];
  request.on('data', (chunk: Buffer) => chunks.push(chunk));
  request.on('end', () => {
    const operation = String(request.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
    let sent: Item = {};
    let body = Buffer.concat(chunks);
    const asked = (() => {
      try {
        sent = JSON.parse(body.toString('utf8')) as Item;
        return sent.ReturnConsumedCapacity !== undefined && sent.ReturnConsumedCapacity !== 'NONE';
      } catch {
        return true; // not JSON: passed on untouched
      }
    })();
    if (!asked) body = Buffer.from(JSON.stringify({ ...sent, ReturnConsumedCapacity: 'TOTAL' }));
    const headers = { ...request.headers, 'content-length': String(body.length) };
    // The SDK signs its requests; dynalite does not check signatures, so a changed body passes.
    const upstream = httpRequest(
      { host: '127.0.0.1', port: databasePort, method: request.method, path: request.url, headers },
      (answer) => {
        const parts: Buffer[] = [];
        answer.on('data', (part: Buffer) => parts.push(part));
        answer.on('end', () => {
          let text = Buffer.concat(parts);
          try {
            const parsed = JSON.parse(text.toString('utf8')) as Item;
            if (operation) account(operation, sent, parsed, answer.statusCode ?? 200);
            if (!asked && parsed.ConsumedCapacity !== undefined) {
              delete parsed.ConsumedCapacity;
              text = Buffer.from(JSON.stringify(parsed));
            }
          } catch {
            // not JSON: passed on as it is
          }
          const { 'content-length': _length, ...rest } = answer.headers;
          response.writeHead(answer.statusCode ?? 200, {
            ...rest,
            'content-length': String(text.length),
            'x-amz-crc32': String(crc32(text)),
          });
          response.end(text);
        });
      },
    );
    upstream.on('error', (error) => {
      response.statusCode = 502;
      response.end(String(error));
    });
    upstream.end(body);
  });
});
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address() as AddressInfo;
process.stdout.write(`${JSON.stringify({ endpoint: `http://127.0.0.1:${port}` })}\n`);
process.once('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => database.close(() => process.exit(0)));
});
