/**
 * Latency percentiles by linear interpolation between closest ranks (the "R-7" / NumPy default
 * definition): for sorted values v[0..n-1], the p-th percentile is at fractional index (n-1)·p/100.
 * Ties need no special case: equal values interpolate to themselves.
 */

/** The p-th percentile (0 <= p <= 100) of `values`, or null when there are none or one is not finite. */
export function percentile(values: readonly number[], p: number): number | null {
  if (!(p >= 0 && p <= 100)) throw new RangeError(`percentile must be from 0 to 100, got ${p}`);
  if (values.length === 0 || values.some((v) => !Number.isFinite(v))) return null;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = ((sorted.length - 1) * p) / 100;
  const lo = Math.floor(rank);
  const hi = Math.ceil(rank);
  const low = sorted[lo]!;
  const high = sorted[hi]!;
  return low + (high - low) * (rank - lo);
}

export interface LatencySummary {
  p50: number | null;
  p95: number | null;
  mean: number | null;
}

export function summariseLatency(ms: readonly number[]): LatencySummary {
  const finite = ms.filter((v) => Number.isFinite(v));
  return {
    p50: percentile(finite, 50),
    p95: percentile(finite, 95),
    mean: finite.length === 0 ? null : finite.reduce((a, b) => a + b, 0) / finite.length,
  };
}
