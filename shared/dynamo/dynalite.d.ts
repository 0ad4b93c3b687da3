// dynalite ships no type declarations; this is the part of its API we use (an http.Server factory).
declare module 'dynalite' {
  import type { Server } from 'node:http';
  export default function dynalite(options?: {
    createTableMs?: number;
    deleteTableMs?: number;
    updateTableMs?: number;
    path?: string;
  }): Server;
}

// Its item size by AWS's rules (attribute names + values), as it bills capacity: the benchmark's counting proxy uses it.
declare module 'dynalite/db/index.js' {
  export function itemSize(item: Record<string, unknown>): number;
}
