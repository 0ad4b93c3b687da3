import type { Redis } from 'ioredis';
import type { FlagDocument } from '../contracts/flag-model.ts';
import type { Rule, Segment } from '../contracts/targeting-model.ts';
import type { ConfigCache, ConfigChange } from './config-cache.ts';

const parse = <T>(text: string | null): T | undefined => (text === null ? undefined : (JSON.parse(text) as T));

/**
 * The configuration cache in Redis. Keys (under the client's prefix):
 *   cfg:flag:<key>            the flag document          cfg:flags      set of flag keys
 *   cfg:rules:<env>:<flag>    the flag's rules in <env>   cfg:segments   set of segment keys
 *   cfg:segment:<key>         the segment                 cfg:seeded:<owner>  written after a full seed
 * Changes are published on the channel <prefix>cfg:changes (channels do not take the key prefix by themselves).
 */
export function createRedisConfigCache(redis: Redis, options: { keyPrefix: string }): ConfigCache {
  const channel = `${options.keyPrefix}cfg:changes`;
  let subscriber: Redis | undefined;

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
    async getSegments() {
      const keys = await redis.smembers('cfg:segments');
      if (keys.length === 0) return [];
      return (await redis.mget(keys.map((k) => `cfg:segment:${k}`))).flatMap((text) => parse<Segment>(text) ?? []);
    },
    async getSegment(key) {
      return parse<Segment>(await redis.get(`cfg:segment:${key}`));
    },
    async publish(change) {
      await redis.publish(channel, JSON.stringify(change));
    },
    async subscribe(onChange, onResync) {
      // A subscribed connection can run no other command: it gets a connection of its own.
      const connection = redis.duplicate({ keyPrefix: '', enableOfflineQueue: true, maxRetriesPerRequest: null });
      subscriber = connection;
      let connectedBefore = false;
      connection.on('ready', () => {
        // Every (re)connection subscribes again; after a break, messages may have been missed.
        void connection.subscribe(channel).then(() => {
          if (connectedBefore) onResync();
          connectedBefore = true;
        });
      });
      connection.on('error', () => {});
      connection.on('message', (from: string, message: string) => {
        if (from !== channel) return;
        try {
          onChange(JSON.parse(message) as ConfigChange);
        } catch {
          // A message we cannot read is not ours to act on.
        }
      });
      return async () => {
        await connection.quit().catch(() => connection.disconnect());
      };
    },
    async ping() {
      await redis.ping();
    },
    async close() {
      await subscriber?.quit().catch(() => subscriber?.disconnect());
    },
  };
}
