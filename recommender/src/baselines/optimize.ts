/** Small numerical helpers for the probability models (BG/NBD, Gamma-Gamma): log-gamma and Nelder–Mead. */

// Module bindings, not `Math.` in the loops: jest runs tests in a vm context, where each read of a global (`Math`, `Number`)
// goes through the context's interceptor, and the BG/NBD fits ran 25× slower there than under node.
const { abs, ceil, cos, log, max, min, PI, sin } = Math;
const { isFinite: isFiniteNumber, isInteger, POSITIVE_INFINITY } = Number;

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9: about 15 significant digits); reflection below 0.5. */
export function lnGamma(x: number): number {
  if (x < 0.5) return log(PI / abs(sin(PI * x))) - lnGamma(1 - x);
  const z = x - 1;
  let s = LANCZOS[0];
  for (let i = 1; i < 9; i++) s += LANCZOS[i] / (z + i);
  const t = z + 7.5;
  return 0.5 * log(2 * PI) + (z + 0.5) * log(t) - t + log(s);
}

/**
 * ln Γ(x + k) − ln Γ(x) for x > 0, k ≥ 0, without the cancellation of two large log-gammas when x is huge
 * (the BG/NBD's b reaches 10⁵ on real data) for small integer k: a sum of logs; else the difference.
 */
export function lnGammaRatio(x: number, k: number): number {
  // Summing logs is exact but costs k logs; beyond a few terms the difference of log-gammas loses only ~1e-16·lnΓ(x),
  // about 1e-10 at x = 10⁶, far below what the likelihood or the optimiser can see.
  if (isInteger(k) && k <= 8) {
    let s = 0;
    for (let i = 0; i < k; i++) s += log(x + i);
    return s;
  }
  return lnGamma(x + k) - lnGamma(x);
}

export interface NelderMeadResult {
  x: number[];
  value: number;
  iterations: number;
}

/**
 * Minimises f by Nelder–Mead (standard coefficients), restarted from the best point until a restart no longer
 * improves: a plain simplex can stall on the long, flat ridges of these likelihoods.
 */
export function nelderMead(
  f: (x: number[]) => number,
  start: number[],
  options: { step?: number; maxIterations?: number; tolerance?: number; restarts?: number } = {},
): NelderMeadResult {
  const { step = 0.5, maxIterations = 4000, tolerance = 1e-10, restarts = 6 } = options;
  let best = { x: start.slice(), value: f(start), iterations: 0 };
  for (let round = 0; round <= restarts; round++) {
    const r = simplex(f, best.x, step, maxIterations, tolerance);
    const improved = best.value - r.value;
    best = { x: r.x, value: r.value, iterations: best.iterations + r.iterations };
    if (round > 0 && improved < tolerance * (1 + abs(best.value))) break;
  }
  return best;
}

function simplex(f: (x: number[]) => number, start: number[], step: number, maxIterations: number, tolerance: number): NelderMeadResult {
  const n = start.length;
  const value = (x: number[]) => {
    const v = f(x);
    return isFiniteNumber(v) ? v : POSITIVE_INFINITY;
  };
  let pts: { x: number[]; v: number }[] = [{ x: start.slice(), v: value(start) }];
  for (let i = 0; i < n; i++) {
    const x = start.slice();
    x[i] += step;
    pts.push({ x, v: value(x) });
  }
  let it = 0;
  for (; it < maxIterations; it++) {
    pts.sort((a, b) => a.v - b.v);
    const spread = abs(pts[n].v - pts[0].v);
    if (spread <= tolerance * (1 + abs(pts[0].v))) {
      let size = 0;
      for (let i = 1; i <= n; i++) for (let d = 0; d < n; d++) size = max(size, abs(pts[i].x[d] - pts[0].x[d]));
      if (size < 1e-7) break;
    }
    const centroid = new Array<number>(n).fill(0);
    for (let i = 0; i < n; i++) for (let d = 0; d < n; d++) centroid[d] += pts[i].x[d] / n;
    const along = (t: number) => centroid.map((c, d) => c + t * (pts[n].x[d] - c));
    const xr = along(-1);
    const vr = value(xr);
    if (vr < pts[0].v) {
      const xe = along(-2);
      const ve = value(xe);
      pts[n] = ve < vr ? { x: xe, v: ve } : { x: xr, v: vr };
    } else if (vr < pts[n - 1].v) {
      pts[n] = { x: xr, v: vr };
    } else {
      const xc = vr < pts[n].v ? along(-0.5) : along(0.5);
      const vc = value(xc);
      if (vc < min(vr, pts[n].v)) pts[n] = { x: xc, v: vc };
      else {
        pts = pts.map((p, i) => {
          if (i === 0) return p;
          const x = p.x.map((v, d) => pts[0].x[d] + 0.5 * (v - pts[0].x[d]));
          return { x, v: value(x) };
        });
      }
    }
  }
  pts.sort((a, b) => a.v - b.v);
  return { x: pts[0].x, value: pts[0].v, iterations: it };
}

/** Gauss–Legendre nodes and weights on [−1, 1] (Newton on the Legendre recurrence). */
export function gaussLegendre(n: number): { nodes: Float64Array; weights: Float64Array } {
  const nodes = new Float64Array(n);
  const weights = new Float64Array(n);
  for (let i = 0; i < ceil(n / 2); i++) {
    let x = cos((PI * (i + 0.75)) / (n + 0.5));
    let dp = 0;
    for (let iter = 0; iter < 100; iter++) {
      let p0 = 1;
      let p1 = x;
      for (let k = 2; k <= n; k++) [p0, p1] = [p1, ((2 * k - 1) * x * p1 - (k - 1) * p0) / k];
      dp = (n * (x * p1 - p0)) / (x * x - 1);
      const dx = p1 / dp;
      x -= dx;
      if (abs(dx) < 1e-15) break;
    }
    nodes[i] = -x;
    nodes[n - 1 - i] = x;
    weights[i] = weights[n - 1 - i] = 2 / ((1 - x * x) * dp * dp);
  }
  return { nodes, weights };
}
