import type { Redis } from 'ioredis';
import type { SdkKeyRecord, UserAccess } from '../contracts/access-model.ts';
import type { FlagDocument } from '../contracts/flag-model.ts';
import type { Rule, Segment } from '../contracts/targeting-model.ts';
import type { Logger } from '../logging/logger.ts';
import { logConnectionErrors } from '../runtime/connection-errors.ts';
import type { ConfigCache } from './config-cache.ts';
import { parsePublishedChange, type PublishedChange } from './config-change.ts';

const parse = <T>(text: string | null): T | undefined => (text === null ? undefined : (JSON.parse(text) as T));

/**
 * The configuration cache in Redis. Keys (under the client's prefix):
 *   cfg:flag:<key>            the flag document          cfg:flags      set of flag keys
 *   cfg:rules:<env>:<flag>    the flag's rules in <env>   cfg:segments   set of segment keys
 *   cfg:segment:<key>         the segment                 cfg:seeded:<owner>  written after a full seed
 *   cfg:sdkkey:<id>           an SDK key's record          cfg:sdkkeys    set of SDK key ids
 *   cfg:user:<id>             a user's access              cfg:users      set of user ids
 * Changes are published on the channel <prefix>cfg:changes (channels do not take the key prefix by themselves).
 */
export function createRedisConfigCache(redis: Redis, options: { keyPrefix: string; logger: Logger }): ConfigCache {
  const { logger } = options;
  const channel = `${options.keyPrefix}cfg:changes`;
  const subscribers = new Set<Redis>();

  /** Every entry of a set-indexed kind (or just those of `ids`) that exists. */
  async function entries<T>(index: string, prefix: string, ids: string[] | undefined): Promise<T[]> {
    const wanted = ids ?? (await redis.smembers(index));
    if (wanted.length === 0) return [];
    return (await redis.mget(wanted.map((id) => `${prefix}${id}`))).flatMap((text) => parse<T>(text) ?? []);
  }

  return {
    async putFlag(flag) {
      await redis.multi().set(`cfg:flag:${flag.key}`, JSON.stringify(flag)).sadd('cfg:flags', flag.key).exec();
    },
    async removeFlag(key) {
      await redis.multi().del(`cfg:flag:${key}`).srem('cfg:flags', key).exec();
    },
    async putRules(environment, flagKey, rules) {
      await redis.set(`cfg:rules:${environment}:${flagKey}`, JSON.stringify(rules));
    },
    async putSegment(segment) {
      await redis.multi().set(`cfg:segment:${segment.key}`, JSON.stringify(segment)).sadd('cfg:segments', segment.key).exec();
    },
    async removeSegment(key) {
      await redis.multi().del(`cfg:segment:${key}`).srem('cfg:segments', key).exec();
    },
    async putSdkKey(key) {
      await redis.multi().set(`cfg:sdkkey:${key.id}`, JSON.stringify(key)).sadd('cfg:sdkkeys', key.id).exec();
    },
    async removeSdkKey(id) {
      await redis.multi().del(`cfg:sdkkey:${id}`).srem('cfg:sdkkeys', id).exec();
    },
    async putUserAccess(user) {
      await redis.multi().set(`cfg:user:${user.id}`, JSON.stringify(user)).sadd('cfg:users', user.id).exec();
    },
    async removeUserAccess(id) {
      await redis.multi().del(`cfg:user:${id}`).srem('cfg:users', id).exec();
    },
    async markSeeded(owner) {
      await redis.set(`cfg:seeded:${owner}`, new Date().toISOString());
    },
    async isSeeded(owner) {
      return (await redis.exists(`cfg:seeded:${owner}`)) === 1;
    },
    async flagKeys() {
      return redis.smembers('cfg:flags');
    },
    async getFlags(keys) {
      if (keys.length === 0) return [];
      return (await redis.mget(keys.map((k) => `cfg:flag:${k}`))).map((text) => parse<FlagDocument>(text));
    },
    async getRules(environment, flagKeys) {
      if (flagKeys.length === 0) return [];
      return (await redis.mget(flagKeys.map((k) => `cfg:rules:${environment}:${k}`))).map((text) => parse<Rule[]>(text) ?? []);
    },
    getSegments: () => entries<Segment>('cfg:segments', 'cfg:segment:', undefined),
    getSdkKeys: (ids) => entries<SdkKeyRecord>('cfg:sdkkeys', 'cfg:sdkkey:', ids),
    getUsersAccess: (ids) => entries<UserAccess>('cfg:users', 'cfg:user:', ids),
    async getSegment(key) {
      return parse<Segment>(await redis.get(`cfg:segment:${key}`));
    },
    async publish(change) {
      await redis.publish(channel, JSON.stringify(change));
    },
    async subscribe(onChange, onResync) {
      // A subscribed connection can run no other command: it gets a connection of its own.
      const connection = redis.duplicate({ keyPrefix: '', enableOfflineQueue: true, maxRetriesPerRequest: null });
      subscribers.add(connection);
      let connectedBefore = false;
      connection.on('ready', () => {
        // Every (re)connection subscribes again; after a break, messages may have been missed.
        connection.subscribe(channel).then(
          () => {
            if (connectedBefore) onResync();
            connectedBefore = true;
          },
          // The connection broke again before it subscribed: its next 'ready' tries again.
          (error: unknown) => logger.warn({ err: error }, 'could not subscribe to configuration changes; retrying on reconnection'),
        );
      });
      logConnectionErrors(connection, logger, 'redis configuration changes subscription');
      connection.on('message', (from: string, message: string) => {
        if (from !== channel) return;
        let change: PublishedChange;
        try {
          change = parsePublishedChange(JSON.parse(message));
        } catch (error) {
          // Not a change this version knows (a newer publisher's, or garbage): not ours to act on.
          logger.warn({ err: error }, 'ignored an unreadable configuration change message');
          return;
        }
        onChange(change);
      });
      return async () => {
        subscribers.delete(connection);
        await connection.quit().catch(() => connection.disconnect());
      };
    },
    async ping() {
      await redis.ping();
    },
    async close() {
      await Promise.all([...subscribers].map((connection) => connection.quit().catch(() => connection.disconnect())));
      subscribers.clear();
    },
  };
}
