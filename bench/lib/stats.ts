// Summary statistics for latency samples. Percentiles use the nearest-rank
// method: every reported value is one that was actually observed, which keeps
// small samples honest (p99 of 20 runs is the slowest run, not an interpolation).

export interface Summary {
  readonly n: number;
  readonly min: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
}

/** Nearest-rank percentile (0 < p <= 100) of the samples; NaN when there are none. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1] ?? Number.NaN;
}

export function summarize(samples: readonly number[]): Summary {
  const n = samples.length;
  const sum = samples.reduce((a, b) => a + b, 0);
  return {
    n,
    min: n === 0 ? Number.NaN : Math.min(...samples),
    p50: percentile(samples, 50),
    p90: percentile(samples, 90),
    p99: percentile(samples, 99),
    max: n === 0 ? Number.NaN : Math.max(...samples),
    mean: n === 0 ? Number.NaN : sum / n,
  };
}

/** Median, used for "steady" figures over several runs. */
export function median(samples: readonly number[]): number {
  return percentile(samples, 50);
}
