// Pure statistics of a benchmark's samples: median, nearest-rank percentiles, min–max.

const finite = (xs) => xs.filter((x) => typeof x === 'number' && Number.isFinite(x));

export function sorted(xs) {
  return [...finite(xs)].sort((a, b) => a - b);
}

/** The median; the mean of the two middle samples when there is an even number of them. */
export function median(xs) {
  const s = sorted(xs);
  if (s.length === 0) return null;
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

/** Nearest-rank percentile (p in 0..100): the smallest sample with at least p % of the samples at or below it. */
export function percentile(xs, p) {
  const s = sorted(xs);
  if (s.length === 0) return null;
  if (p <= 0) return s[0];
  const rank = Math.ceil((p / 100) * s.length);
  return s[Math.min(s.length, rank) - 1];
}

export function mean(xs) {
  const s = finite(xs);
  return s.length === 0 ? null : s.reduce((a, b) => a + b, 0) / s.length;
}

/**
 * Median, p95, p99, min and max of the samples. Percentiles only where they mean something
 * (`percentiles: false` for a handful of whole-run figures such as rates): null otherwise.
 */
export function summarize(xs, { percentiles = true } = {}) {
  const s = sorted(xs);
  if (s.length === 0) return { n: 0, median: null, p95: null, p99: null, min: null, max: null, mean: null };
  return {
    n: s.length,
    median: median(s),
    p95: percentiles ? percentile(s, 95) : null,
    p99: percentiles ? percentile(s, 99) : null,
    min: s[0],
    max: s.at(-1),
    mean: mean(s),
  };
}

/** a / b, or null when either is missing or b is zero. */
export function ratio(a, b) {
  if (typeof a !== 'number' || typeof b !== 'number' || !Number.isFinite(a) || !Number.isFinite(b) || b === 0) return null;
  return a / b;
}

/** Multiplies every figure of a summary (e.g. seconds → ms); null stays null. */
export function scale(summary, factor) {
  const out = { ...summary };
  for (const k of ['median', 'p95', 'p99', 'min', 'max', 'mean']) out[k] = typeof summary[k] === 'number' ? summary[k] * factor : summary[k];
  return out;
}
