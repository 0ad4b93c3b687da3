import type { PGlite } from '@electric-sql/pglite';

interface Pending {
  connection: number;
  message: Uint8Array;
  onData: (data: Uint8Array) => void;
  resolve: (bytes: number) => void;
  reject: (error: unknown) => void;
}

/** Frontend messages after which the session is between batches (when no transaction is open). */
const Sync = 0x53;
const SimpleQuery = 0x51;
const Terminate = 0x58;

/**
 * Hands PGlite's single session to the connections of the all-in-one process one *batch* at a time.
 *
 * pglite-socket's own queue (0.2.17) takes turns per protocol message and keeps a connection's turn only while a
 * transaction is open. An extended-protocol batch (Parse, Bind, Execute, Sync) is no transaction, so two pool
 * connections' batches interleaved on the one session: "bind message supplies 2 parameters, but prepared statement
 * requires 1", or a wrong statement's rows; and a throw inside its loop left the queue stuck for good, so every
 * later query (and a clean shutdown) waited forever (electric-sql/pglite#1046). Here a connection keeps the session
 * until its batch ends (Sync or a simple Query) and its transaction is closed, and a failed message fails only
 * its own caller. Same surface as pglite-socket's queue, so its connection handler runs unchanged on top.
 */
export class PGliteSessionQueue {
  private readonly queue: Pending[] = [];
  private running = false;
  /** The connection in the middle of a batch or a transaction: only its messages may run. */
  private owner: number | null = null;

  private readonly db: PGlite;

  constructor(db: PGlite) {
    this.db = db;
  }

  enqueue(connection: number, message: Uint8Array, onData: (data: Uint8Array) => void): Promise<number> {
    return new Promise((resolve, reject) => {
      this.queue.push({ connection, message, onData, resolve, reject });
      void this.drain();
    });
  }

  getQueueLength(): number {
    return this.queue.length;
  }

  /** A connection went away: its waiting messages fail, and it no longer holds the session. */
  clearQueueForHandler(connection: number): void {
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const pending = this.queue[i]!;
      if (pending.connection !== connection) continue;
      this.queue.splice(i, 1);
      pending.reject(new Error('the connection closed'));
    }
  }

  /** A connection went away in the middle of a transaction or batch: roll back, and let the others go on. */
  async clearTransactionIfNeeded(connection: number): Promise<void> {
    if (this.owner !== connection) return;
    if (this.db.isInTransaction()) await this.db.exec('ROLLBACK');
    this.owner = null;
    void this.drain();
  }

  private next(): Pending | undefined {
    const index = this.owner === null ? 0 : this.queue.findIndex((p) => p.connection === this.owner);
    return index === -1 ? undefined : this.queue.splice(index, 1)[0];
  }

  private async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      for (let pending = this.next(); pending; pending = this.next()) {
        const current = pending;
        let bytes = 0;
        try {
          await this.db.runExclusive(() =>
            this.db.execProtocolRawStream(current.message, {
              onRawData: (data) => {
                bytes += data.length;
                current.onData(data);
              },
            }),
          );
          current.resolve(bytes);
        } catch (error) {
          current.reject(error);
        }
        // A startup message has no type byte (it begins with its length, whose first byte is 0).
        const type = current.message[0];
        const endsBatch = type === Sync || type === SimpleQuery || type === Terminate || type === 0;
        this.owner = endsBatch && !this.db.isInTransaction() ? null : current.connection;
      }
    } finally {
      this.running = false;
    }
  }
}
