import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  featureSetFromRows,
  featureStatistics,
  fid,
  symmetricEigen,
  symmetricSqrt,
  type FeatureSet,
} from '../../src/core/metrics/fid.ts';
import { mulberry32 } from '../../src/core/random.ts';

function randomSet(count: number, dim: number, seed: number): FeatureSet {
  const next = mulberry32(seed); // seeded: the same set on every run
  // Correlated features: x = z · L for a random L, so the covariance is not diagonal.
  const mix = Array.from({ length: dim * dim }, () => next() - 0.5);
  const data = new Float64Array(count * dim);
  for (let i = 0; i < count; i++) {
    const z = Array.from({ length: dim }, () => next() * 2 - 1);
    for (let j = 0; j < dim; j++) {
      let sum = 0;
      for (let k = 0; k < dim; k++) sum += z[k]! * mix[k * dim + j]!;
      data[i * dim + j] = sum;
    }
  }
  return { count, dim, data };
}

function symmetric(d: number, seed: number): Float64Array {
  const next = mulberry32(seed); // seeded: the same set on every run
  const m = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = i; j < d; j++) {
      const v = next() * 2 - 1;
      m[i * d + j] = v;
      m[j * d + i] = v;
    }
  }
  return m;
}

describe('symmetricEigen', () => {
  it('reconstructs A = V Λ Vᵀ with orthonormal V, ascending values', () => {
    for (const d of [1, 2, 5, 17]) {
      const a = symmetric(d, d);
      const { values, vectors } = symmetricEigen(a, d);
      const v = vectors!;
      for (let k = 1; k < d; k++) expect(values[k]!).toBeGreaterThanOrEqual(values[k - 1]!);
      for (let i = 0; i < d; i++) {
        for (let j = 0; j < d; j++) {
          let rebuilt = 0;
          let gram = 0;
          for (let k = 0; k < d; k++) {
            rebuilt += v[i * d + k]! * values[k]! * v[j * d + k]!;
            gram += v[k * d + i]! * v[k * d + j]!;
          }
          expect(rebuilt).toBeCloseTo(a[i * d + j]!, 10);
          expect(gram).toBeCloseTo(i === j ? 1 : 0, 10);
        }
      }
    }
  });

  it('gives the same values with and without vectors, and handles a diagonal matrix', () => {
    const a = symmetric(9, 3);
    expect(Array.from(symmetricEigen(a, 9, false).values)).toEqual(Array.from(symmetricEigen(a, 9, true).values));
    const diag = new Float64Array([3, 0, 0, 0, -1, 0, 0, 0, 2]);
    expect(Array.from(symmetricEigen(diag, 3).values)).toEqual([-1, 2, 3]);
  });

  it('square root of a PSD matrix squares back, and clamps round-off negatives of a singular one', () => {
    const set = randomSet(4, 6, 11); // rank ≤ 3 covariance in 6-d: singular
    const { covariance } = featureStatistics(set);
    const root = symmetricSqrt(covariance, 6);
    for (let i = 0; i < 6; i++) {
      for (let j = 0; j < 6; j++) {
        let sq = 0;
        for (let k = 0; k < 6; k++) sq += root[i * 6 + k]! * root[k * 6 + j]!;
        expect(sq).toBeCloseTo(covariance[i * 6 + j]!, 9);
      }
    }
    expect(root.every(Number.isFinite)).toBe(true);
  });
});

describe('fid', () => {
  it('is 0 for a set against itself', () => {
    const set = randomSet(200, 16, 1);
    const result = fid(set, set);
    expect(result.distance).toBeGreaterThanOrEqual(0);
    expect(result.distance).toBeLessThan(1e-9);
    expect(result.meaningful).toBe(true);
  });

  it('equals |mu1 - mu2|² for a shifted copy of one set', () => {
    const set = randomSet(120, 12, 2);
    const shift = Array.from({ length: 12 }, (_, j) => (j % 3) - 0.7 * j);
    const shifted = { ...set, data: set.data.map((x, i) => x + shift[i % 12]!) };
    const expected = shift.reduce((s, x) => s + x * x, 0);
    const result = fid(set, shifted);
    expect(result.distance).toBeCloseTo(expected, 8);
    expect(result.covarianceTerm).toBeLessThan(1e-8);
  });

  it('is symmetric and positive for different sets', () => {
    const a = randomSet(100, 8, 5);
    const b = randomSet(100, 8, 6);
    const ab = fid(a, b).distance;
    expect(ab).toBeGreaterThan(0.01);
    expect(fid(b, a).distance).toBeCloseTo(ab, 9);
  });

  it('flags sets too small to be meaningful but still returns a finite value', () => {
    const small = fid(randomSet(10, 16, 7), randomSet(30, 16, 8));
    expect(Number.isFinite(small.distance)).toBe(true);
    expect(small.meaningful).toBe(false);
    expect(small.warnings.join(' ')).toMatch(/first set has 10 images for 16-d features: its covariance is singular/);
    expect(small.warnings.join(' ')).toMatch(/second set has only 30 images/);
  });

  it('rejects bad input with specific errors', () => {
    expect(() => fid(randomSet(1, 4, 1), randomSet(5, 4, 2))).toThrow(/at least 2 feature vectors, got 1/);
    expect(() => fid(randomSet(5, 4, 1), randomSet(5, 3, 2))).toThrow(/dimensions differ \(4 vs 3\)/);
    expect(() => featureSetFromRows([[1, 2], [3]])).toThrow(/vector 1 has 1 values, expected 2/);
    expect(() => featureSetFromRows([[1, Number.NaN]])).toThrow(/not finite/);
    expect(() => featureSetFromRows([])).toThrow(/no feature vectors/);
  });
});

const referencePath = path.resolve(import.meta.dirname, '../fixtures/scorers/fid-reference.json');
interface FidReference {
  cases: { name: string; first: number[][]; second: number[][]; fid: number; mean_term: number }[];
}

describe.skipIf(!existsSync(referencePath))(
  'fid against the numpy/scipy reference (scripts/fixtures/build_scorer_fixtures.py)',
  () => {
    const reference = JSON.parse(readFileSync(referencePath, 'utf8')) as FidReference;
    for (const c of reference.cases) {
      it(`matches scipy on "${c.name}"`, () => {
        const result = fid(featureSetFromRows(c.first), featureSetFromRows(c.second));
        expect(result.meanTerm).toBeCloseTo(c.mean_term, 9);
        expect(Math.abs(result.distance - c.fid)).toBeLessThan(1e-6 * Math.max(1, c.fid));
      });
    }
  },
);
