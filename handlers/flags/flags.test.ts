import { createFlagStore } from './flags-app.ts';
import { flagsApiContract } from './flags-api.contract.ts';

flagsApiContract('flags API on the in-memory store', async () => {
  const store = createFlagStore();
  return {
    store,
    snapshot: async () => ({ flags: await store.list({ limit: 1000 }), edges: await store.prerequisiteEdges() }),
    close: async () => {},
  };
});
