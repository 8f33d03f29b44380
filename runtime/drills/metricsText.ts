/**
 * Reads samples out of the Prometheus text format that `/metrics` serves.
 * Only what probes need — `name{labels} value` lines — hand-written because
 * the parser the tests use (parse-prometheus-text-format) is a dev dependency
 * and does not split labelled histograms.
 */

export interface Sample { name: string; labels: Record<string, string>; value: number }

const LINE = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_]\w*)="((?:[^"\\]|\\.)*)"/g;

export function parseSamples(text: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = LINE.exec(line);
    if (!m) continue;
    const labels: Record<string, string> = {};
    if (m[2]) for (const l of m[2].matchAll(LABEL)) labels[l[1]] = l[2].replace(/\\n/g, '\n').replace(/\\"/g, '"').replace(/\\\\/g, '\\');
    const value = m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]);
    out.push({ name: m[1], labels, value });
  }
  return out;
}

export type Aggregate = 'sum' | 'max' | 'min' | 'count';

/** Aggregates the samples of `name` whose labels include `labels`; undefined when none match. */
export function metricValue(samples: Sample[], name: string, labels: Record<string, string> = {}, aggregate: Aggregate = 'sum'): number | undefined {
  const hit = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (!hit.length) return aggregate === 'count' || aggregate === 'sum' ? 0 : undefined;
  const values = hit.map((s) => s.value);
  switch (aggregate) {
    case 'count':
      return values.length;
    case 'max':
      return Math.max(...values);
    case 'min':
      return Math.min(...values);
    default:
      return values.reduce((a, b) => a + b, 0);
  }
}
