/** Tick positions for a linear axis: a 1-2-5 step giving about `target` ticks over [begin, end). */
export function niceTicks(begin: number, end: number, target: number): { step: number; ticks: number[] } {
  const span = end - begin;
  if (!(span > 0) || target < 1) return { step: 0, ticks: [] };
  const raw = span / target;
  const pow = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw)!;
  const ticks: number[] = [];
  for (let t = Math.ceil(begin / step) * step; t < end; t += step) ticks.push(t);
  return { step, ticks };
}

const UNITS: [number, string][] = [
  [1e9, 's'],
  [1e6, 'ms'],
  [1e3, 'µs'],
  [1, 'ns'],
];

/** A tick label for `ns` that tells neighbouring ticks `stepNs` apart: the largest unit with ≤ 3 decimals. */
export function formatTick(ns: number, stepNs: number): string {
  const [u, name] = UNITS.find(([u]) => stepNs / u >= 0.001) ?? UNITS[UNITS.length - 1]!;
  const decimals = Math.max(0, Math.ceil(-Math.log10(stepNs / u) - 1e-9));
  return `${(ns / u).toFixed(Math.min(decimals, 3))} ${name}`;
}
