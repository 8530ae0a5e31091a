// hyperfine's statistics and warnings for one series of times (seconds).

export interface Statistics {
  mean: number;
  /** Sample standard deviation; null with fewer than two times. */
  stddev: number | null;
  median: number;
  min: number;
  max: number;
}

export function statistics(times: readonly number[]): Statistics {
  if (times.length === 0) throw new RangeError('no times');
  const sorted = [...times].sort((a, b) => a - b);
  const n = sorted.length;
  const mean = sorted.reduce((a, b) => a + b, 0) / n;
  const stddev = n < 2 ? null : Math.sqrt(sorted.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  const median = n % 2 === 1 ? sorted[n >> 1] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
  return { mean, stddev, median, min: sorted[0], max: sorted[n - 1] };
}

/** hyperfine's threshold on the modified Z-score (Iglewicz and Hoaglin's 3.5 is for normal data; timings are not). */
const OUTLIER_THRESHOLD = 14;

/** Modified Z-scores: 0.6745 (x - median) / MAD; all zero when the MAD is. */
export function modifiedZScores(times: readonly number[]): number[] {
  const { median } = statistics(times);
  const mad = statistics(times.map((t) => Math.abs(t - median))).median;
  return times.map((t) => (mad === 0 ? 0 : (0.6745 * (t - median)) / mad));
}

export type Warning = 'slow-first-run' | 'outliers';

/** As hyperfine: a first run far slower than the rest, else outliers anywhere. */
export function warnings(times: readonly number[]): Warning[] {
  if (times.length < 3) return [];
  const scores = modifiedZScores(times);
  if (scores[0] > OUTLIER_THRESHOLD) return ['slow-first-run'];
  return scores.some((s) => Math.abs(s) > OUTLIER_THRESHOLD) ? ['outliers'] : [];
}

export const WARNING_TEXT: Record<Warning, string> = {
  'slow-first-run':
    'The first run of this series was significantly slower than the rest. Caches (files, the page cache, a ' +
    "server's warm children) may not have been filled until after it: consider --warmup.",
  outliers:
    'Statistical outliers were detected. Consider re-running on a quiet system without interference from other ' +
    'programs; --warmup may help.',
};

/** The ratio a/b with its propagated standard deviation (hyperfine's "Relative" column). */
export function relative(a: Statistics, b: Statistics): { ratio: number; stddev: number | null } {
  const ratio = a.mean / b.mean;
  if (a.stddev === null || b.stddev === null) return { ratio, stddev: null };
  return { ratio, stddev: ratio * Math.sqrt((a.stddev / a.mean) ** 2 + (b.stddev / b.mean) ** 2) };
}
