import http from 'node:http';
import https from 'node:https';
import { signatureHeader, signatureOf } from './signature.ts';
import { TargetRefused, hostOf, type TargetGuard } from './target-guard.ts';
import type { AttemptResult, ClaimedDelivery } from './webhook-dispatch.ts';

/** What of a receiver's answer is kept in the log: enough to read an error page's first line, no more. */
const keptAnswerBytes = 512;

/**
 * One attempt at a delivery: a signed POST of its payload, through the target guard's lookup (the socket opens only to
 * an address it checked), no redirects followed (a redirect could point anywhere), a deadline for the whole exchange.
 * Never throws: whatever happens is the attempt's result.
 */
export async function sendDelivery(
  delivery: ClaimedDelivery,
  options: { guard: TargetGuard; timeoutMs: number; userAgent: string },
): Promise<AttemptResult> {
  const started = performance.now();
  const at = new Date();
  const result = (statusCode: number | null, error: string | null): AttemptResult => ({
    at,
    statusCode,
    error,
    durationMs: Math.round(performance.now() - started),
  });
  let url: URL;
  try {
    url = new URL(delivery.target.url);
  } catch {
    return result(null, 'The webhook’s URL is not valid');
  }
  const refused = options.guard.checkUrl(url);
  if (refused) return result(null, refused.message);

  const body = JSON.stringify(delivery.payload);
  const headers = {
    'content-type': 'application/json',
    'user-agent': options.userAgent,
    'togglemaster-event-id': delivery.eventId,
    'togglemaster-event-type': delivery.eventType,
    'togglemaster-delivery': String(delivery.id),
    [signatureHeader.toLowerCase()]: signatureOf(delivery.target.secret, Math.floor(at.getTime() / 1000), body),
  };
  return new Promise<AttemptResult>((resolve) => {
    const request = (url.protocol === 'https:' ? https : http).request(
      url,
      {
        method: 'POST',
        headers,
        lookup: (hostname, lookupOptions, callback) => options.guard.lookup(hostname, lookupOptions, callback),
        timeout: options.timeoutMs,
        servername: hostOf(url),
      },
      (response) => {
        const kept: Buffer[] = [];
        let size = 0;
        response.on('data', (chunk: Buffer) => {
          if (size < keptAnswerBytes) kept.push(chunk.subarray(0, keptAnswerBytes - size));
          size += chunk.length;
        });
        response.on('end', () => {
          const status = response.statusCode ?? 0;
          const ok = status >= 200 && status < 300;
          const said = Buffer.concat(kept).toString('utf8').trim();
          resolve(result(status, ok ? null : `The receiver answered ${status}${said ? `: ${said}` : ''}`));
        });
        response.on('error', (error) => resolve(result(response.statusCode ?? null, `The answer broke off: ${error.message}`)));
      },
    );
    const deadline = setTimeout(() => request.destroy(new Error(`no answer within ${options.timeoutMs} ms`)), options.timeoutMs);
    request.on('close', () => clearTimeout(deadline));
    request.on('timeout', () => request.destroy(new Error(`no answer within ${options.timeoutMs} ms`)));
    request.on('error', (error: NodeJS.ErrnoException) => resolve(result(null, describeFailure(error))));
    request.end(body);
  });
}

function describeFailure(error: NodeJS.ErrnoException): string {
  if (error instanceof TargetRefused) return error.message;
  switch (error.code) {
    case 'ECONNREFUSED':
      return 'The receiver refused the connection';
    case 'ENOTFOUND':
      return 'The host does not resolve';
    case 'ECONNRESET':
      return 'The receiver closed the connection';
    default:
      return error.message;
  }
}
