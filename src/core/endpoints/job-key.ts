/** The cache key of a generation job: the same plan, endpoint and seed give the same images. */
import { hashString } from '../hash.ts';
import type { GenerationPlan } from '../plan.ts';
import type { EndpointConfig } from './types.ts';

/** Stable JSON: object keys sorted, so that key order in a plan does not change the hash. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .filter((k) => o[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${stableJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

export function jobKey(
  plan: GenerationPlan,
  endpoint: Pick<EndpointConfig, 'kind' | 'baseUrl'>,
  seed: number,
  batchSize = 1,
): string {
  const url = endpoint.baseUrl.trim().replace(/\/+$/, '').toLowerCase();
  return 'job-' + hashString(stableJson({ plan, kind: endpoint.kind, url, seed, batchSize }));
}
