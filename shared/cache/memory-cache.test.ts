import { createMemoryCache } from './memory-cache.ts';
import { cacheContract } from './cache.contract.ts';

cacheContract('in-process cache', async () => ({ cache: createMemoryCache(), cleanup: async () => {} }));
