/**
 * Weights are percentages with at most three decimals: 100,000 buckets, one per thousandth of a percent. Plain
 * constants in a module of their own: the engine (and the in-process provider that bundles it) reads them without
 * the API schemas.
 */
export const weightScale = 1000;
export const bucketCount = 100 * weightScale;
