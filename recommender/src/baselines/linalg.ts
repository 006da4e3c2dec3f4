/** Σ_{k=from}^{to-1} a[ai+k]·b[bi+k], four accumulators so that V8 keeps the pipeline full. */
function dot(a: Float64Array, ai: number, b: Float64Array, bi: number, from: number, to: number): number {
  let s0 = 0;
  let s1 = 0;
  let s2 = 0;
  let s3 = 0;
  let k = from;
  for (; k + 3 < to; k += 4) {
    s0 += a[ai + k] * b[bi + k];
    s1 += a[ai + k + 1] * b[bi + k + 1];
    s2 += a[ai + k + 2] * b[bi + k + 2];
    s3 += a[ai + k + 3] * b[bi + k + 3];
  }
  for (; k < to; k++) s0 += a[ai + k] * b[bi + k];
  return s0 + s1 + s2 + s3;
}

/**
 * Inverse of a symmetric positive-definite n × n matrix (row-major Float64Array, full storage), in float64:
 * Cholesky G = LLᵀ, V = L⁻ᵀ (upper), G⁻¹ = VVᵀ. Every step is a dot product of two contiguous rows; 2n³/3
 * multiply-adds in all. Returns a new full symmetric matrix; `g` is left unchanged.
 */
export function spdInverse(g: Float64Array, n: number): Float64Array {
  const l = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let j = 0; j <= i; j++) {
      const rj = j * n;
      const s = g[ri + j] - dot(l, ri, l, rj, 0, j);
      if (j === i) {
        if (!(s > 0)) throw new Error(`matrix is not positive definite (pivot ${i})`);
        l[ri + i] = Math.sqrt(s);
      } else l[ri + j] = s / l[rj + j];
    }
  }
  // V = (L⁻¹)ᵀ, so V[j, i] = L⁻¹[i, j] = −(Σ_{k=j}^{i−1} L[i,k]·V[j,k]) / L[i,i], and V[i, i] = 1 / L[i,i].
  const v = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    const inv = 1 / l[ri + i];
    for (let j = 0; j < i; j++) v[j * n + i] = -dot(l, ri, v, j * n, j, i) * inv;
    v[ri + i] = inv;
  }
  // P[i, j] = Σ_{k ≥ max(i, j)} V[i,k]·V[j,k].
  const p = l;
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let j = 0; j <= i; j++) {
      const x = dot(v, ri, v, j * n, i, n);
      p[ri + j] = x;
      p[j * n + i] = x;
    }
  }
  return p;
}
