import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import type { FastifyReply } from 'fastify';

/**
 * Negotiated compression of the large answers (OFREP bulk, the in-process SDKs' configuration): brotli or gzip by
 * the request's Accept-Encoding (RFC 9110 §12.5.3), only above a size where it pays, with `Vary: Accept-Encoding`.
 *
 * Levels are chosen for CPU, not ratio (bench/README.md, "http"): brotli quality 1 compresses a 7 KB bulk answer
 * in about half the time of gzip level 1, to about the same size; quality 4+ costs 4–6× more for ~10% fewer bytes.
 *
 * ETags (RFC 9110 §8.8.3): a compressed representation is not byte-for-byte the identity one, so its ETag is the
 * same opaque tag made weak (`W/"…"`). If-None-Match compares weakly (§13.1.2), so a client holding either form
 * gets its 304 whatever encoding it asks for now.
 */
export type ContentCoding = 'br' | 'gzip';

/** Below this many bytes (UTF-16 code units of the JSON, close enough) an answer is sent as it is. */
export const compressionThreshold = 1024;

const brotliOptions = { params: { [constants.BROTLI_PARAM_QUALITY]: 1, [constants.BROTLI_PARAM_MODE]: constants.BROTLI_MODE_TEXT } };
const gzipOptions = { level: 1 };

/**
 * The coding to answer with: the acceptable one with the highest q, brotli before gzip on a tie (smaller, and
 * cheaper at these levels); none when neither is acceptable (`q=0`) or the header is absent.
 */
export function negotiateCoding(acceptEncoding: string | string[] | undefined): ContentCoding | undefined {
  if (acceptEncoding === undefined) return undefined;
  const header = Array.isArray(acceptEncoding) ? acceptEncoding.join(',') : acceptEncoding;
  let br = -1;
  let gzip = -1;
  let any = -1;
  for (const item of header.split(',')) {
    const [rawName = '', ...parameters] = item.split(';');
    const name = rawName.trim().toLowerCase();
    let q = 1;
    for (const parameter of parameters) {
      const [key, value] = parameter.split('=');
      if (key?.trim().toLowerCase() === 'q') q = Number(value?.trim() ?? '1');
    }
    if (!Number.isFinite(q)) continue;
    if (name === 'br') br = q;
    else if (name === 'gzip' || name === 'x-gzip') gzip = q;
    else if (name === '*') any = q;
  }
  // `*` stands for any coding not named in the header.
  if (br < 0) br = any;
  if (gzip < 0) gzip = any;
  if (br <= 0 && gzip <= 0) return undefined;
  return br >= gzip ? 'br' : 'gzip';
}

/** The coding this answer is sent with: one was negotiated and the body is large enough for it to pay. */
export function codingFor(acceptEncoding: string | string[] | undefined, bodyLength: number): ContentCoding | undefined {
  return bodyLength >= compressionThreshold ? negotiateCoding(acceptEncoding) : undefined;
}

/** The ETag of the representation sent with that coding: the identity tag, made weak when compressed. */
export function etagFor(etag: string, coding: ContentCoding | undefined): string {
  return coding === undefined || etag.startsWith('W/') ? etag : `W/${etag}`;
}

export function compress(body: string, coding: ContentCoding): Buffer {
  return coding === 'br' ? brotliCompressSync(body, brotliOptions) : gzipSync(body, gzipOptions);
}

/**
 * Compressed bodies by (coding, ETag), bounded in bytes, least recently used out first. An ETag that is a hash of the
 * body names its bytes exactly, so a hit is the same answer compressed before: for the clients that share an answer
 * (the same flags for the same kind of context), compression is paid once per answer, not per request.
 */
export function createCompressedBodies(maxBytes: number) {
  const bodies = new Map<string, Buffer>();
  let bytes = 0;
  return {
    get(coding: ContentCoding, etag: string, body: () => string): Buffer {
      const key = coding + etag;
      const known = bodies.get(key);
      if (known !== undefined) {
        // Map order is insertion order: re-inserting marks it the most recently used.
        bodies.delete(key);
        bodies.set(key, known);
        return known;
      }
      const made = compress(body(), coding);
      if (made.length <= maxBytes) {
        bodies.set(key, made);
        bytes += made.length;
        for (const [oldest, buffer] of bodies) {
          if (bytes <= maxBytes) break;
          bodies.delete(oldest);
          bytes -= buffer.length;
        }
      }
      return made;
    },
    get bytes() {
      return bytes;
    },
    get size() {
      return bodies.size;
    },
  };
}
export type CompressedBodies = ReturnType<typeof createCompressedBodies>;

/** Adds a field to Vary, keeping what is there (CORS may have put Origin). */
export function varyOn(reply: FastifyReply, field: string): void {
  const current = reply.getHeader('vary');
  if (current === undefined || current === '') {
    void reply.header('vary', field);
    return;
  }
  const list = String(current);
  if (
    !list
      .toLowerCase()
      .split(/\s*,\s*/)
      .includes(field.toLowerCase())
  )
    void reply.header('vary', `${list}, ${field}`);
}

/**
 * Sends a JSON answer with its ETag, compressed when negotiated and large enough; or a 304 when If-None-Match names
 * that ETag (`notModified`). The answer varies by Accept-Encoding either way.
 */
export function sendJson(
  reply: FastifyReply,
  options: {
    acceptEncoding: string | string[] | undefined;
    etag: string;
    body: string;
    notModified: boolean;
    compressed: Pick<CompressedBodies, 'get'>;
  },
): FastifyReply {
  const coding = codingFor(options.acceptEncoding, options.body.length);
  const etag = etagFor(options.etag, coding);
  varyOn(reply, 'Accept-Encoding');
  void reply.header('etag', etag);
  if (options.notModified) return reply.code(304).send();
  void reply.type('application/json');
  if (coding === undefined) return reply.send(options.body);
  return reply.header('content-encoding', coding).send(options.compressed.get(coding, options.etag, () => options.body));
}
