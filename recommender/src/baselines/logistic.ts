/**
 * L2-regularised logistic regression, minimising C·Σ wᵢ·loglossᵢ + ½‖w‖² with the intercept unpenalised (as
 * scikit-learn's LogisticRegression(C) with sample_weight; every wᵢ is 1 unless `sampleWeight` is given), solved by
 * Newton's method: exact for a handful of features.
 */
export function fitLogistic(x: number[][], y: ArrayLike<number>, c = 1, maxIter = 100, sampleWeight?: ArrayLike<number>): { weights: number[]; intercept: number } {
  const d = x[0]?.length ?? 0;
  const theta = new Array<number>(d + 1).fill(0); // [intercept, ...weights]
  for (let iter = 0; iter < maxIter; iter++) {
    const grad = new Array<number>(d + 1).fill(0);
    const hess = Array.from({ length: d + 1 }, () => new Array<number>(d + 1).fill(0));
    x.forEach((row, i) => {
      const z = theta[0] + row.reduce((s, v, k) => s + v * theta[k + 1], 0);
      const p = 1 / (1 + Math.exp(-z));
      const cw = c * (sampleWeight ? sampleWeight[i] : 1);
      const r = cw * (p - y[i]);
      const w = cw * p * (1 - p);
      const xi = [1, ...row];
      for (let a = 0; a <= d; a++) {
        grad[a] += r * xi[a];
        for (let b = 0; b <= d; b++) hess[a][b] += w * xi[a] * xi[b];
      }
    });
    for (let a = 1; a <= d; a++) {
      grad[a] += theta[a];
      hess[a][a] += 1;
    }
    const step = solve(hess, grad);
    let size = 0;
    for (let a = 0; a <= d; a++) {
      theta[a] -= step[a];
      size = Math.max(size, Math.abs(step[a]));
    }
    if (size < 1e-10) break;
  }
  return { intercept: theta[0], weights: theta.slice(1) };
}

/** Gaussian elimination with partial pivoting on a small dense system. */
function solve(a: number[][], b: number[]): number[] {
  const n = b.length;
  const m = a.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < n; c++) {
    let p = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(m[r][c]) > Math.abs(m[p][c])) p = r;
    [m[c], m[p]] = [m[p], m[c]];
    for (let r = c + 1; r < n; r++) {
      const f = m[r][c] / m[c][c];
      for (let k = c; k <= n; k++) m[r][k] -= f * m[c][k];
    }
  }
  const out = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) {
    let s = m[r][n];
    for (let k = r + 1; k < n; k++) s -= m[r][k] * out[k];
    out[r] = s / m[r][r];
  }
  return out;
}

export function sigmoid(z: number): number {
  return 1 / (1 + Math.exp(-z));
}
