/**
 * The streams baseline: a bare node:http server (no framework, no logging) that holds every GET open as a
 * text/event-stream, with the first lines the evaluation service writes. What one open stream costs it is what a
 * socket and an HTTP response cost a Node process on this machine: the floor under the evaluation service's figure.
 */
import http from 'node:http';

const open = new Set<http.ServerResponse>();
const server = http.createServer((request, response) => {
  if (request.url === '/readyz') return void response.writeHead(200, { 'content-type': 'application/json' }).end('{"status":"ok"}');
  response.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache, no-transform' });
  response.write('retry: 2000\nid: 0\n\n');
  open.add(response);
  response.on('close', () => open.delete(response));
});
server.listen(Number(process.env.PORT ?? '0'), '127.0.0.1');
process.once('SIGTERM', () => {
  for (const response of open) response.end();
  server.close(() => process.exit(0));
});
