import { describe, expect, it } from 'vitest';
import { TIED_NORMALISED_VALUE, unifiedMetric } from '../../src/core/metrics/unified.ts';

describe('unifiedMetric', () => {
  it('matches a hand-computed case with three runs', () => {
    // fid: min 10, max 30 -> 1 - (v-10)/20: a 1, b 0.5, c 0
    // clip: min 20, max 30 -> a 0, b 1, c 0.5
    // hps: min 0.2, max 0.3 -> a 1, b 0, c 0.5
    // imageReward: min -1, max 1 -> a 0.5, b 1, c 0
    const result = unifiedMetric([
      { run: 'a', fid: 10, clipScore: 20, hpsV2: 0.3, imageReward: 0 },
      { run: 'b', fid: 20, clipScore: 30, hpsV2: 0.2, imageReward: 1 },
      { run: 'c', fid: 30, clipScore: 25, hpsV2: 0.25, imageReward: -1 },
    ]);
    expect(result.runs).toEqual(['a', 'b', 'c']);
    expect(result.unified[0]).toBeCloseTo((1 + 0 + 1 + 0.5) / 4, 12);
    expect(result.unified[1]).toBeCloseTo((0.5 + 1 + 0 + 1) / 4, 12);
    expect(result.unified[2]).toBeCloseTo((0 + 0.5 + 0.5 + 0) / 4, 12);
    const fid = result.metrics.find((m) => m.metric === 'fid')!;
    expect(fid).toMatchObject({ min: 10, max: 30, lowerIsBetter: true, tied: false });
    expect(fid.normalised).toEqual([1, 0.5, 0]);
    const hps = result.metrics.find((m) => m.metric === 'hpsV2')!;
    expect(hps.normalised[0]).toBeCloseTo(1, 12);
    expect(hps.normalised[2]).toBeCloseTo(0.5, 12);
    expect(result.omitted).toEqual([]);
    expect(result.explanation).toMatch(/mean over 4 metric\(s\).*FID enters as 1 − normalised/);
  });

  it('gives every run the tie value on a metric where all runs tie, and says so', () => {
    const result = unifiedMetric([
      { run: 'x', fid: 5, clipScore: 30, hpsV2: 0.2, imageReward: 0.1 },
      { run: 'y', fid: 5, clipScore: 20, hpsV2: 0.2, imageReward: 0.3 },
    ]);
    const fid = result.metrics.find((m) => m.metric === 'fid')!;
    expect(fid.tied).toBe(true);
    expect(fid.normalised).toEqual([TIED_NORMALISED_VALUE, TIED_NORMALISED_VALUE]);
    // x: 0.5 + 1 + 0.5 + 0 ; y: 0.5 + 0 + 0.5 + 1
    expect(result.unified).toEqual([0.5, 0.5]);
    expect(result.explanation).toMatch(/Tied across all runs, so 0.5 for every run: fid, hpsV2/);
  });

  it('a single run ties on everything and gets 0.5', () => {
    const result = unifiedMetric([{ run: 'only', fid: 12, clipScore: 31, hpsV2: 0.27, imageReward: 0.4 }]);
    expect(result.unified).toEqual([0.5]);
    expect(result.metrics.every((m) => m.tied && m.min === m.max)).toBe(true);
  });

  it('leaves out a metric missing for any run, for all runs, and reports which', () => {
    const result = unifiedMetric([
      { run: 'a', fid: 10, clipScore: 20, imageReward: null },
      { run: 'b', fid: 20, clipScore: 30, imageReward: 0.2 },
    ]);
    expect(result.metrics.map((m) => m.metric)).toEqual(['fid', 'clipScore']);
    expect(result.omitted).toEqual([
      { metric: 'hpsV2', missingFor: ['a', 'b'] },
      { metric: 'imageReward', missingFor: ['a'] },
    ]);
    expect(result.unified).toEqual([0.5, 0.5]); // a: 1 + 0, b: 0 + 1
    expect(result.explanation).toMatch(/imageReward left out: missing for a\./);
  });

  it('has no value when no metric is available for every run', () => {
    const result = unifiedMetric([
      { run: 'a', fid: 1 },
      { run: 'b', clipScore: 2 },
    ]);
    expect(result.unified).toEqual([null, null]);
    expect(result.explanation).toMatch(/no Unified value/);
  });

  it('rejects empty input, duplicate runs and non-finite scores', () => {
    expect(() => unifiedMetric([])).toThrow(/no runs/);
    expect(() => unifiedMetric([{ run: 'a' }, { run: 'a' }])).toThrow(/run "a" appears twice/);
    expect(() => unifiedMetric([{ run: 'a', fid: Number.NaN }])).toThrow(/run "a" has a non-finite fid/);
  });
});
