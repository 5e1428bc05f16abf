/**
 * Fréchet Inception Distance between two sets of image features, in Float64, pure TypeScript.
 *
 * FID = ||mu1 - mu2||² + Tr(S1 + S2 - 2 (S1^½ S2 S1^½)^½)
 *
 * The matrix square roots come from symmetric eigendecompositions (Householder tridiagonalisation + implicit QL),
 * which stay real and stable where scipy's general `sqrtm(S1·S2)` can return complex noise: S1^½ S2 S1^½ is
 * symmetric positive semi-definite and similar to S1·S2, so Tr((S1^½ S2 S1^½)^½) = Σ √λᵢ(S1^½ S2 S1^½).
 * Eigenvalues that round-off pushes slightly below zero are clamped to zero.
 */

/** n feature vectors of dimension d, row-major. */
export interface FeatureSet {
  count: number;
  dim: number;
  data: Float64Array;
}

export interface FeatureStatistics {
  count: number;
  dim: number;
  mean: Float64Array;
  /** d×d, row-major, unbiased (divides by n - 1) like numpy's `np.cov(rowvar=False)` used by pytorch-fid. */
  covariance: Float64Array;
}

export interface FidResult {
  distance: number;
  /** ||mu1 - mu2||² */
  meanTerm: number;
  /** Tr(S1 + S2 - 2 (S1^½ S2 S1^½)^½) */
  covarianceTerm: number;
  /** False when either set is too small for the covariance to be estimated well; `warnings` says why. */
  meaningful: boolean;
  warnings: string[];
}

/**
 * Below this many images per set FID is reported but flagged: the covariance estimate is dominated by sampling
 * noise and the value is strongly biased upwards (the usual advice is thousands of images for 2048-d features).
 */
export const FID_MIN_MEANINGFUL_COUNT = 50;

export function featureSetFromRows(rows: ArrayLike<number>[]): FeatureSet {
  const first = rows[0];
  if (first === undefined) throw new Error('featureSetFromRows: no feature vectors given');
  const dim = first.length;
  if (dim === 0) throw new Error('featureSetFromRows: feature vectors are empty');
  const data = new Float64Array(rows.length * dim);
  rows.forEach((row, i) => {
    if (row.length !== dim) {
      throw new Error(`featureSetFromRows: vector ${i} has ${row.length} values, expected ${dim} like vector 0`);
    }
    for (let j = 0; j < dim; j++) {
      const value = row[j] as number;
      if (!Number.isFinite(value))
        throw new Error(`featureSetFromRows: vector ${i} value ${j} is not finite (${value})`);
      data[i * dim + j] = value;
    }
  });
  return { count: rows.length, dim, data };
}

export function featureStatistics(set: FeatureSet): FeatureStatistics {
  const { count: n, dim: d, data } = set;
  if (data.length !== n * d) throw new Error(`featureStatistics: data has ${data.length} values, expected ${n}×${d}`);
  if (n < 2) throw new Error(`featureStatistics: a covariance needs at least 2 feature vectors, got ${n}`);
  const mean = new Float64Array(d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) mean[j]! += data[i * d + j]!;
  for (let j = 0; j < d; j++) mean[j]! /= n;
  const centred = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) centred[i * d + j] = data[i * d + j]! - mean[j]!;
  const covariance = new Float64Array(d * d);
  for (let i = 0; i < n; i++) {
    const row = i * d;
    for (let a = 0; a < d; a++) {
      const xa = centred[row + a]!;
      if (xa === 0) continue;
      const out = a * d;
      for (let b = a; b < d; b++) covariance[out + b]! += xa * centred[row + b]!;
    }
  }
  for (let a = 0; a < d; a++) {
    for (let b = a; b < d; b++) {
      const value = covariance[a * d + b]! / (n - 1);
      covariance[a * d + b] = value;
      covariance[b * d + a] = value;
    }
  }
  return { count: n, dim: d, mean, covariance };
}

export interface SymmetricEigen {
  /** Ascending. */
  values: Float64Array;
  /** Column k (vectors[i*d + k]) is the unit eigenvector of values[k]; absent when only values were asked for. */
  vectors: Float64Array | null;
}

/**
 * Eigendecomposition of a real symmetric d×d matrix (row-major; only symmetry is assumed, the input is not changed):
 * Householder reduction to tridiagonal form, then the implicit QL algorithm with Wilkinson-style shifts.
 * O(d³); with `wantVectors = false` the vector accumulation is skipped, which is several times cheaper.
 */
export function symmetricEigen(matrix: Float64Array, d: number, wantVectors = true): SymmetricEigen {
  if (matrix.length !== d * d)
    throw new Error(`symmetricEigen: matrix has ${matrix.length} values, expected ${d}×${d}`);
  // z is the working copy; after tridiagonalisation it holds the orthogonal transform when vectors are wanted.
  const z = Float64Array.from(matrix);
  const diag = new Float64Array(d);
  const off = new Float64Array(d);
  householderTridiagonalise(z, d, diag, off, wantVectors);
  // The QL rotations combine two eigenvector columns at a time; transposed, those are contiguous rows.
  const zT = wantVectors ? transpose(z, d) : null;
  tridiagonalQl(diag, off, zT, d);
  const order = Array.from({ length: d }, (_, i) => i).sort((a, b) => diag[a]! - diag[b]!);
  const values = Float64Array.from(order, (k) => diag[k]!);
  if (!zT) return { values, vectors: null };
  const vectors = new Float64Array(d * d);
  for (let k = 0; k < d; k++) {
    const row = order[k]! * d;
    for (let i = 0; i < d; i++) vectors[i * d + k] = zT[row + i]!;
  }
  return { values, vectors };
}

/**
 * Reduces the symmetric matrix in `a` to tridiagonal form Qᵀ A Q: `diag` gets the diagonal, `off[i]` the
 * sub-diagonal element (i, i-1) with off[0] = 0; `a` is overwritten with Q when `accumulate` is set.
 */
function householderTridiagonalise(
  a: Float64Array,
  n: number,
  diag: Float64Array,
  off: Float64Array,
  accumulate: boolean,
): void {
  for (let i = n - 1; i > 0; i--) {
    const l = i - 1;
    let h = 0;
    if (l > 0) {
      let scale = 0;
      for (let k = 0; k <= l; k++) scale += Math.abs(a[i * n + k]!);
      if (scale === 0) {
        off[i] = a[i * n + l]!;
      } else {
        for (let k = 0; k <= l; k++) {
          a[i * n + k]! /= scale;
          h += a[i * n + k]! * a[i * n + k]!;
        }
        let f = a[i * n + l]!;
        const g = f >= 0 ? -Math.sqrt(h) : Math.sqrt(h);
        off[i] = scale * g;
        h -= f * g;
        a[i * n + l] = f - g;
        f = 0;
        for (let j = 0; j <= l; j++) {
          if (accumulate) a[j * n + i] = a[i * n + j]! / h;
          let gj = 0;
          for (let k = 0; k <= j; k++) gj += a[j * n + k]! * a[i * n + k]!;
          for (let k = j + 1; k <= l; k++) gj += a[k * n + j]! * a[i * n + k]!;
          off[j] = gj / h;
          f += off[j]! * a[i * n + j]!;
        }
        const hh = f / (h + h);
        for (let j = 0; j <= l; j++) {
          const fj = a[i * n + j]!;
          const gj = off[j]! - hh * fj;
          off[j] = gj;
          for (let k = 0; k <= j; k++) a[j * n + k]! -= fj * off[k]! + gj * a[i * n + k]!;
        }
      }
    } else {
      off[i] = a[i * n + l]!;
    }
    diag[i] = h;
  }
  diag[0] = 0;
  off[0] = 0;
  for (let i = 0; i < n; i++) {
    if (accumulate) {
      const l = i - 1;
      if (diag[i] !== 0 && l >= 0) {
        // g = a[i, 0..l] · A[0..l, 0..l], then A[k, j] -= g[j] · a[k, i]; loops ordered for row-contiguous access.
        const g = new Float64Array(l + 1);
        for (let k = 0; k <= l; k++) {
          const aik = a[i * n + k]!;
          if (aik === 0) continue;
          for (let j = 0; j <= l; j++) g[j]! += aik * a[k * n + j]!;
        }
        for (let k = 0; k <= l; k++) {
          const aki = a[k * n + i]!;
          if (aki === 0) continue;
          for (let j = 0; j <= l; j++) a[k * n + j]! -= g[j]! * aki;
        }
      }
      diag[i] = a[i * n + i]!;
      a[i * n + i] = 1;
      for (let j = 0; j <= l; j++) {
        a[j * n + i] = 0;
        a[i * n + j] = 0;
      }
    } else {
      diag[i] = a[i * n + i]!;
    }
  }
}

function transpose(m: Float64Array, d: number): Float64Array {
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) out[j * d + i] = m[i * d + j]!;
  return out;
}

/**
 * Eigenvalues (into `diag`) and optionally eigenvectors (rotations applied to the rows of `zT`, the transposed
 * transform) of a symmetric tridiagonal matrix by the implicit QL algorithm.
 */
function tridiagonalQl(diag: Float64Array, off: Float64Array, zT: Float64Array | null, n: number): void {
  for (let i = 1; i < n; i++) off[i - 1] = off[i]!;
  if (n > 0) off[n - 1] = 0;
  for (let l = 0; l < n; l++) {
    let iterations = 0;
    for (;;) {
      let m = l;
      for (; m < n - 1; m++) {
        const dd = Math.abs(diag[m]!) + Math.abs(diag[m + 1]!);
        if (Math.abs(off[m]!) <= Number.EPSILON * dd) break;
      }
      if (m === l) break;
      if (++iterations > 60)
        throw new Error('symmetricEigen: QL iteration did not converge (matrix not symmetric or not finite?)');
      let g = (diag[l + 1]! - diag[l]!) / (2 * off[l]!);
      let r = Math.hypot(g, 1);
      g = diag[m]! - diag[l]! + off[l]! / (g + (g >= 0 ? r : -r));
      let s = 1;
      let c = 1;
      let p = 0;
      let i = m - 1;
      for (; i >= l; i--) {
        let f = s * off[i]!;
        const b = c * off[i]!;
        r = Math.hypot(f, g);
        off[i + 1] = r;
        if (r === 0) {
          diag[i + 1]! -= p;
          off[m] = 0;
          break;
        }
        s = f / r;
        c = g / r;
        g = diag[i + 1]! - p;
        r = (diag[i]! - g) * s + 2 * c * b;
        p = s * r;
        diag[i + 1] = g + p;
        g = c * r - b;
        if (zT) {
          const upper = (i + 1) * n;
          const lower = i * n;
          for (let k = 0; k < n; k++) {
            f = zT[upper + k]!;
            zT[upper + k] = s * zT[lower + k]! + c * f;
            zT[lower + k] = c * zT[lower + k]! - s * f;
          }
        }
      }
      if (r === 0 && i >= l) continue;
      diag[l]! -= p;
      off[l] = g;
      off[m] = 0;
    }
  }
}

/** Principal square root of a symmetric positive semi-definite matrix; negative round-off eigenvalues become 0. */
export function symmetricSqrt(matrix: Float64Array, d: number): Float64Array {
  const { values, vectors } = symmetricEigen(matrix, d, true);
  const v = vectors as Float64Array;
  const roots = Float64Array.from(values, (x) => Math.sqrt(Math.max(x, 0)));
  // V diag(√λ) Vᵀ, built as (V·diag(√λ)) Vᵀ.
  const scaled = new Float64Array(d * d);
  for (let i = 0; i < d; i++) for (let k = 0; k < d; k++) scaled[i * d + k] = v[i * d + k]! * roots[k]!;
  return multiplyTransposed(scaled, v, d);
}

/** A · Bᵀ for d×d row-major matrices. */
function multiplyTransposed(a: Float64Array, b: Float64Array, d: number): Float64Array {
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let j = 0; j < d; j++) {
      let sum = 0;
      for (let k = 0; k < d; k++) sum += a[i * d + k]! * b[j * d + k]!;
      out[i * d + j] = sum;
    }
  }
  return out;
}

/** A · B for d×d row-major matrices. */
function multiply(a: Float64Array, b: Float64Array, d: number): Float64Array {
  const out = new Float64Array(d * d);
  for (let i = 0; i < d; i++) {
    for (let k = 0; k < d; k++) {
      const aik = a[i * d + k]!;
      if (aik === 0) continue;
      for (let j = 0; j < d; j++) out[i * d + j]! += aik * b[k * d + j]!;
    }
  }
  return out;
}

export function frechetDistance(first: FeatureStatistics, second: FeatureStatistics): FidResult {
  if (first.dim !== second.dim) {
    throw new Error(
      `frechetDistance: feature dimensions differ (${first.dim} vs ${second.dim}); use one feature extractor for both sets`,
    );
  }
  const d = first.dim;
  let meanTerm = 0;
  for (let j = 0; j < d; j++) meanTerm += (first.mean[j]! - second.mean[j]!) ** 2;

  const rootFirst = symmetricSqrt(first.covariance, d);
  const product = multiply(multiply(rootFirst, second.covariance, d), rootFirst, d);
  // Symmetrise away round-off before the second eigendecomposition.
  for (let i = 0; i < d; i++) {
    for (let j = i + 1; j < d; j++) {
      const value = (product[i * d + j]! + product[j * d + i]!) / 2;
      product[i * d + j] = value;
      product[j * d + i] = value;
    }
  }
  const { values } = symmetricEigen(product, d, false);
  let traceRoot = 0;
  for (const value of values) traceRoot += Math.sqrt(Math.max(value, 0));
  let traceSum = 0;
  for (let j = 0; j < d; j++) traceSum += first.covariance[j * d + j]! + second.covariance[j * d + j]!;
  // Tiny negative results are round-off of a true 0 (identical sets).
  const covarianceTerm = Math.max(traceSum - 2 * traceRoot, 0);

  const warnings: string[] = [];
  for (const [name, stats] of [
    ['first', first],
    ['second', second],
  ] as const) {
    if (stats.count <= d) {
      warnings.push(
        `the ${name} set has ${stats.count} images for ${d}-d features: its covariance is singular (rank ≤ ${stats.count - 1}), so FID is only a rough indication`,
      );
    } else if (stats.count < FID_MIN_MEANINGFUL_COUNT) {
      warnings.push(
        `the ${name} set has only ${stats.count} images (< ${FID_MIN_MEANINGFUL_COUNT}): FID is strongly biased upwards at this size`,
      );
    }
  }
  return { distance: meanTerm + covarianceTerm, meanTerm, covarianceTerm, meaningful: warnings.length === 0, warnings };
}

/** FID between two feature sets (one row per image). */
export function fid(first: FeatureSet, second: FeatureSet): FidResult {
  return frechetDistance(featureStatistics(first), featureStatistics(second));
}
