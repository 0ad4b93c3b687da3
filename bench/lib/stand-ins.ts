/** Starts the SQS and DynamoDB stand-ins, each in its own process (bench/stand-ins/), and reads their endpoints. */
import path from 'node:path';
import { baseEnvironment, repoRoot, startNode, type Child } from './processes.ts';

export interface SqsStandIn {
  child: Child;
  endpoint: string;
  queueUrl: string;
  deadLetterUrl: string;
  /** Drops every message held (between runs whose events nobody consumes). */
  clear(): Promise<void>;
  depth(): Promise<Record<string, number>>;
  /** While paused, ReceiveMessage answers no messages: consumers wait, warm, while the queue fills. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** With `receiveAsAws`: long polls under way wait (take nothing) until release. */
  hold(): Promise<void>;
  release(): Promise<void>;
  /** The stand-in's own request log: per action, requests, what AWS bills (64 KiB chunks) and bytes. */
  requests(): Promise<Record<string, SqsActionLog>>;
  resetRequests(): Promise<void>;
}

export interface SqsActionLog {
  requests: number;
  billed: number;
  requestBytes: number;
  responseBytes: number;
}

export interface DynamoOperationLog {
  requests: number;
  writeUnits: number;
  readUnits: number;
  indexWriteUnits: number;
}

export interface DynamoStandIn {
  child: Child;
  endpoint: string;
  /** The counting proxy's log: per operation, requests and the write and read units AWS would bill. */
  units(): Promise<Record<string, DynamoOperationLog>>;
  resetUnits(): Promise<void>;
}

function announced<T>(name: string, script: string, env: Record<string, string> = {}): Promise<{ child: Child; value: T }> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const child = startNode(name, path.join(repoRoot, 'bench', 'stand-ins', script), [], {
      env: { ...baseEnvironment(), ...env },
      onStdoutLine: (line) => {
        if (settled || !line.startsWith('{')) return;
        settled = true;
        resolve({ child, value: JSON.parse(line) as T });
      },
    });
    void child.exited.then((code) => {
      if (!settled) reject(new Error(`${name} exited with ${code} before it was ready:\n${child.tail()}`));
    });
  });
}

/** `receiveAsAws`: a long poll answers as soon as a message is there, as on AWS (sqs-server.ts). */
export async function startSqsStandIn(name = 'sqs', visibilityTimeoutSeconds = 60, receiveAsAws = false): Promise<SqsStandIn> {
  const { child, value } = await announced<{ endpoint: string; queueUrl: string; deadLetterUrl: string }>(name, 'sqs-server.ts', {
    SQS_VISIBILITY_TIMEOUT: String(visibilityTimeoutSeconds),
    SQS_RECEIVE_AS_AWS: receiveAsAws ? '1' : '0',
  });
  return {
    child,
    ...value,
    async clear() {
      await (await fetch(`${value.endpoint}/__bench/clear`, { method: 'POST' })).arrayBuffer();
    },
    async pause() {
      await (await fetch(`${value.endpoint}/__bench/pause`, { method: 'POST' })).arrayBuffer();
    },
    async resume() {
      await (await fetch(`${value.endpoint}/__bench/resume`, { method: 'POST' })).arrayBuffer();
    },
    async depth() {
      return (await (await fetch(`${value.endpoint}/__bench/depth`)).json()) as Record<string, number>;
    },
    async hold() {
      await (await fetch(`${value.endpoint}/__bench/hold`, { method: 'POST' })).arrayBuffer();
    },
    async release() {
      await (await fetch(`${value.endpoint}/__bench/release`, { method: 'POST' })).arrayBuffer();
    },
    async requests() {
      return (await (await fetch(`${value.endpoint}/__bench/requests`)).json()) as Record<string, SqsActionLog>;
    },
    async resetRequests() {
      await (await fetch(`${value.endpoint}/__bench/requests/reset`, { method: 'POST' })).arrayBuffer();
    },
  };
}

export async function startDynamoStandIn(name = 'dynamodb'): Promise<DynamoStandIn> {
  const { child, value } = await announced<{ endpoint: string }>(name, 'dynamo-server.ts');
  return {
    child,
    endpoint: value.endpoint,
    async units() {
      return (await (await fetch(`${value.endpoint}/__bench/units`)).json()) as Record<string, DynamoOperationLog>;
    },
    async resetUnits() {
      await (await fetch(`${value.endpoint}/__bench/units/reset`, { method: 'POST' })).arrayBuffer();
    },
  };
}
