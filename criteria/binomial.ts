/** P(X >= k) for X ~ Binomial(n, p), summed in log space so n in the millions stays exact enough. */
export function binomialUpperTail(n: number, k: number, p: number): number {
  if (k <= 0) return 1;
  if (k > n) return 0;
  if (p <= 0) return 0;
  if (p >= 1) return 1;
  const lp = Math.log(p);
  const lq = Math.log1p(-p);
  // log C(n, k) via a running sum of logs (k is at most n; O(n) once).
  let logC = 0;
  for (let i = 1; i <= k; i++) logC += Math.log(n - k + i) - Math.log(i);
  let logTerm = logC + k * lp + (n - k) * lq;
  let sum = 0;
  for (let i = k; i <= n; i++) {
    sum += Math.exp(logTerm);
    // C(n, i+1) = C(n, i) * (n - i) / (i + 1)
    logTerm += Math.log(n - i) - Math.log(i + 1) + lp - lq;
  }
  return Math.min(1, sum);
}

/**
 * Probability that, when N picks are split fairly among k workloads, the busiest one gets at least `max`
 * of them: bounded above by k · P(Bin(N, 1/k) ≥ max) (union bound; exact when max > N/2).
 * For a monopoly (max = N) that is k^(1−N): 2^-9 ≈ 0.002 for N = 10, k = 2.
 */
export function fairSplitExtremeProbability(picks: number, max: number, k: number): number {
  if (k <= 1 || picks === 0) return 1;
  return Math.min(1, k * binomialUpperTail(picks, max, 1 / k));
}
