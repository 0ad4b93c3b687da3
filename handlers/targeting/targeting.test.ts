import { createTargetingStore } from './targeting-app.ts';
import { targetingApiContract } from './targeting-api.contract.ts';

targetingApiContract('targeting API on the in-memory store', async () => {
  const store = createTargetingStore();
  return {
    store,
    snapshot: async () => ({ rules: await store.listRules({}), segments: await store.listSegments() }),
    close: async () => {},
  };
});
